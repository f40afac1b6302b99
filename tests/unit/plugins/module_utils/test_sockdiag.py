# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket
import struct

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import procfs, sockdiag

TCP6_HEADER = ("  sl  local_address                         remote_address                        st tx_queue "
               "rx_queue tr tm->when retrnsmt   uid  timeout inode\n")


def test_proc_fallback_counts_states_listeners_and_ephemeral_ports(fixture_tree):
    proc_path, _sys_path = fixture_tree("linux-5.15-busy")
    summary = sockdiag.summarize_proc(proc_path, [61000, 61099])
    assert summary["source"] == "proc"
    assert summary["total"] == 67
    assert summary["states"]["ESTABLISHED"] == 60
    assert summary["states"]["TIME_WAIT"] == 5
    assert summary["states"]["LISTEN"] == 2
    assert sum(summary["states"].values()) == summary["total"]
    assert summary["listeners"] == [
        {"family": "inet", "address": "0.0.0.0", "port": 443, "backlog": None, "queue": 0x1001},
        {"family": "inet", "address": "0.0.0.0", "port": 80, "backlog": None, "queue": 3},
    ]
    assert summary["local_ports_in_ephemeral_range"] == 60


def test_proc_fallback_caps_listeners_and_parses_tcp6(tmp_path):
    os.makedirs(str(tmp_path / "net"))
    (tmp_path / "net" / "tcp").write_text(u"header\n")
    (tmp_path / "net" / "tcp6").write_text(TCP6_HEADER + (
        "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
        "00000000:00000002 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
        "   1: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n"
        "   2: 00000000000000000000000001000000:8000 00000000000000000000000001000000:1F90 01 "
        "00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n"))
    summary = sockdiag.summarize_proc(str(tmp_path), [32768, 60999], listeners_max=1)
    assert summary["states"]["LISTEN"] == 2
    assert summary["states"]["ESTABLISHED"] == 1
    assert summary["listeners"] == [{"family": "inet6", "address": "::1", "port": 8080, "backlog": None,
                                     "queue": 2}]
    assert summary["listening_ports"] == [8080, 8081]  # complete although listeners_max cut the list
    assert summary["local_ports_in_ephemeral_range"] == 1


def test_proc_fallback_without_files(tmp_path):
    assert sockdiag.summarize_proc(str(tmp_path), [32768, 60999])["source"] == "unavailable"


def _netlink_works():
    try:
        sockdiag.summarize_netlink([32768, 60999])
        return True
    except OSError:
        return False


@pytest.fixture
def loopback_listener():
    """A listener on 127.0.0.1 with backlog 7 and three connections waiting in its accept queue:
    yields (its port, the clients' local ports)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(7)
    port = server.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for attempt in range(3)]
    try:
        yield port, sorted(client.getsockname()[1] for client in clients)
    finally:
        for client in clients:
            client.close()
        server.close()


@pytest.mark.skipif(not _netlink_works(), reason="NETLINK_SOCK_DIAG unavailable here")
def test_netlink_sees_a_listener_with_its_backlog_queue_and_connections(loopback_listener):
    port = loopback_listener[0]
    summary = sockdiag.summarize_netlink([1, 65535], listeners_max=10000)
    mine = [entry for entry in summary["listeners"] if entry["port"] == port]
    assert mine == [{"family": "inet", "address": "127.0.0.1", "port": port, "backlog": 7, "queue": 3}]
    assert summary["source"] == "netlink"
    assert summary["states"]["ESTABLISHED"] >= 3
    # the three client ports are distinct local ports
    assert summary["local_ports_in_ephemeral_range"] >= 3
    fallback = sockdiag.summarize_proc("/proc", [1, 65535], listeners_max=10000)
    assert [entry["queue"] for entry in fallback["listeners"] if entry["port"] == port] == [3]


@pytest.mark.skipif(not _netlink_works() or not socket.has_ipv6, reason="no IPv6 or no sock_diag")
def test_netlink_reports_inet6_listeners():
    try:
        server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("::1 not configured")
    server.listen(5)
    port = server.getsockname()[1]
    try:
        summary = sockdiag.summarize_netlink([32768, 60999], listeners_max=10000)
        assert {"family": "inet6", "address": "::1", "port": port, "backlog": 5, "queue": 0} in summary["listeners"]
    finally:
        server.close()


def test_gather_on_live_proc_uses_netlink_and_fixture_trees_use_their_files(fixture_tree):
    if _netlink_works():
        assert procfs.read_sockets("/proc", True, [32768, 60999], 10)["source"] == "netlink"
    proc_path, _sys_path = fixture_tree("linux-3.10-old")
    assert procfs.read_sockets(proc_path, True, [32768, 60999], 10)["source"] == "proc"


def test_netlink_failure_falls_back_to_proc(monkeypatch):
    def broken(port_range, listeners_max, hashed=None, timewait=None):
        raise OSError(93, "Protocol not supported")

    monkeypatch.setattr(sockdiag, "summarize_netlink", broken)
    assert procfs.read_sockets("/proc", True, [32768, 60999], 10)["source"] == "proc"


def test_empty_summary_lists_every_state():
    summary = sockdiag.empty_summary("disabled")
    assert list(summary["states"]) == ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
                                       "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
                                       "NEW_SYN_RECV"]


def _message(state, sport, attrs=0, family=2, address=b"\x7f\x00\x00\x01", rqueue=0, wqueue=0,
             kind=sockdiag.TCPDIAG_GETSOCK):
    body = bytearray(72 + attrs)
    body[0] = family
    body[1] = state
    body[4:6] = sport.to_bytes(2, "big")
    body[8:8 + len(address)] = address
    body[56:64] = struct.pack("=II", rqueue, wqueue)
    return struct.pack("=IHHII", 16 + len(body), kind, 2, 1, 0) + bytes(body)


class _FakeNetlink:
    """Replays prepared datagrams as recv_into results."""

    def __init__(self, datagrams):
        self.datagrams = list(datagrams)
        self.sent = []

    def send(self, request):
        self.sent.append(request)

    def recv_into(self, buf):
        datagram = self.datagrams.pop(0)
        buf[:len(datagram)] = datagram
        return len(datagram)


def test_dump_parses_runs_of_mixed_lengths_listeners_and_done():
    established = [_message(1, 40000 + i, attrs=36) for i in range(50)]
    time_wait = [_message(6, 41000 + i) for i in range(7)]
    mixed = []
    for i in range(10):  # alternating lengths: runs of one
        mixed.append(_message(1, 42000 + i, attrs=36))
        mixed.append(_message(6, 43000 + i))
    listener = _message(10, 8080, attrs=36, rqueue=5, wqueue=4096)
    listener6 = _message(10, 9090, attrs=40, family=10, address=b"\x00" * 15 + b"\x01", wqueue=128)
    done = struct.pack("=IHHIIi", 20, sockdiag.NLMSG_DONE, 2, 1, 0, 0)
    datagrams = [b"".join(established[:30]), b"".join(established[30:] + [listener] + time_wait),
                 b"".join(mixed + [listener6]), done]
    counts, ports, listeners, listening = [0] * 256, set(), [], set()
    sockdiag._dump(_FakeNetlink(datagrams), b"request", sockdiag.TCPDIAG_GETSOCK, counts, ports, listeners,
                   bytearray(sockdiag.RECV_BUFFER_BYTES), listening=listening)
    assert counts[1] == 60 and counts[6] == 17 and counts[10] == 2 and sum(counts) == 79
    assert listening == {8080, 9090}
    assert len(ports) == 79
    assert listeners == [
        {"family": "inet", "address": "127.0.0.1", "port": 8080, "backlog": 4096, "queue": 5},
        {"family": "inet6", "address": "::1", "port": 9090, "backlog": 128, "queue": 0},
    ]


def test_dump_raises_the_kernel_error():
    error = struct.pack("=IHHIIi", 36, sockdiag.NLMSG_ERROR, 0, 1, 0, -22) + bytes(16)
    with pytest.raises(OSError):
        sockdiag._dump(_FakeNetlink([error]), b"request", sockdiag.TCPDIAG_GETSOCK, [0] * 256, set(), [],
                       bytearray(4096))


def test_dump_rejects_a_truncated_message():
    bad = _message(1, 40000)[:60]
    bad = struct.pack("=I", 120) + bad[4:]
    with pytest.raises(ValueError):
        sockdiag._dump(_FakeNetlink([bad]), b"request", sockdiag.TCPDIAG_GETSOCK, [0] * 256, set(), [],
                       bytearray(4096))


@pytest.mark.skipif(not _netlink_works(), reason="no sock_diag")
def test_split_dump_takes_bulk_counts_from_counters_and_filters_ports_in_the_kernel(loopback_listener):
    port, client_ports = loopback_listener
    split = sockdiag.summarize_netlink([client_ports[0], client_ports[-1]], 10000, hashed=123456, timewait=1000)
    # TIME_WAIT is the given counter less the FIN_WAIT2 timewait sockets the dump saw, ESTABLISHED
    # the hashed sockets less the other hashed states of the same dump (the host may be busy, so
    # only the split's own figures are compared)
    fin_wait2_timewait = 1000 - split["states"]["TIME_WAIT"]
    others = sum(split["states"][sockdiag.STATE_NAMES[state]] for state in sockdiag.HASHED_OTHER_STATES)
    assert 0 <= fin_wait2_timewait <= split["states"]["FIN_WAIT2"]
    assert split["states"]["ESTABLISHED"] == 123456 - (others - fin_wait2_timewait)
    # ... while the listener and the clients' local ports still come from the dumps
    assert [entry["queue"] for entry in split["listeners"] if entry["port"] == port] == [3]
    assert split["local_ports_in_ephemeral_range"] >= 3
    # the filtered dump itself: only the server side (local port == port) comes back
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, sockdiag.NETLINK_SOCK_DIAG)
    try:
        nl.bind((0, 0))
        counts, raw_ports = [0] * 256, set()
        request = sockdiag._request_compat(9, sockdiag.BULK_STATES, sockdiag._local_port_filter(port, port))
        sockdiag._dump(nl, request, sockdiag.TCPDIAG_GETSOCK, counts, raw_ports, [], bytearray(1 << 16))
    finally:
        nl.close()
    local_ports = set(socket.ntohs(raw) for raw in raw_ports)
    assert port in local_ports and not local_ports & set(client_ports)
    assert counts[sockdiag.TCP_ESTABLISHED] >= 3


def test_local_port_filter_accepts_the_range_and_jumps_past_the_end_otherwise():
    program = sockdiag._local_port_filter(1024, 65000)
    assert len(program) == 16
    assert struct.unpack("=BBH BBH BBH BBH", program) == (
        sockdiag.INET_DIAG_BC_S_GE, 8, 20, 0, 0, 1024, sockdiag.INET_DIAG_BC_S_LE, 8, 12, 0, 0, 65000)


@pytest.mark.skipif(not _netlink_works(), reason="no sock_diag")
def test_split_dump_refused_falls_back_to_a_full_dump(monkeypatch):
    def refused(*args):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(sockdiag, "_dump_split", refused)
    summary = sockdiag.summarize_netlink([32768, 60999], 10, hashed=12345, timewait=7)
    assert summary["source"] == "netlink"
    assert summary["states"]["ESTABLISHED"] != 12345


def test_dump_keeps_every_listening_port_past_the_listener_cap(monkeypatch):
    monkeypatch.setattr(sockdiag, "LISTENERS_HARD_CAP", 2)
    done = struct.pack("=IHHIIi", 20, sockdiag.NLMSG_DONE, 2, 1, 0, 0)
    datagram = b"".join(_message(10, 7000 + i, attrs=36) for i in range(5)) + _message(1, 40000, attrs=36)
    listeners, listening = [], set()
    sockdiag._dump(_FakeNetlink([datagram, done]), b"request", sockdiag.TCPDIAG_GETSOCK, [0] * 256, set(),
                   listeners, bytearray(1 << 16), listening=listening)
    assert [entry["port"] for entry in listeners] == [7000, 7001]
    assert listening == {7000, 7001, 7002, 7003, 7004}


def _counts(**states):
    counts = [0] * 256
    for name, number in states.items():
        counts[sockdiag.STATE_NAMES.index(name)] = number
    return counts


def test_established_from_hashed_takes_off_the_other_hashed_states_only():
    # The netns test's mix: 640 ESTABLISHED, 50 CLOSE_WAIT, 50 FIN_WAIT2 of which 40 are timewait
    # orphans (not hashed full sockets), 3 listeners; TIME_WAIT, SYN_RECV (request sockets) and
    # CLOSE are not in sockstat inuse either, so they must not be taken off.
    counts = _counts(CLOSE_WAIT=50, FIN_WAIT2=50, LISTEN=3, TIME_WAIT=30, SYN_RECV=9, CLOSE=4)
    hashed = 640 + 50 + 10 + 3
    assert sockdiag.established_from_hashed(hashed, counts, 40) == 640
    every_other = _counts(SYN_SENT=1, FIN_WAIT1=2, FIN_WAIT2=3, CLOSE_WAIT=4, LAST_ACK=5, LISTEN=6, CLOSING=7)
    assert sockdiag.established_from_hashed(100 + 28, every_other, 0) == 100
    # counters read a moment before the dump on a busy host: never negative
    assert sockdiag.established_from_hashed(5, every_other, 0) == 0


QDISC_CAPTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "rtnetlink", "qdisc_dump_6.18.json")


def test_qdisc_dump_captured_on_6_18_gives_roots_and_mq_leaves_as_tc_shows_them():
    with open(QDISC_CAPTURE) as handle:
        capture = json.load(handle)
    entries = []
    done = [sockdiag.parse_qdisc_messages(bytes.fromhex(datagram), entries) for datagram in capture["datagrams"]]
    assert done == [False, True]
    assert len(entries) == len(capture["tc_qdisc_show"])  # tc shows one line per qdisc
    names = dict((int(index), name) for index, name in capture["interfaces"].items())
    summary = dict((names[index], entry) for index, entry in sockdiag.summarize_qdiscs(entries).items())
    assert summary == {
        "lo": {"qdisc": "noqueue", "qdisc_leaves": []},
        "v1": {"qdisc": "noqueue", "qdisc_leaves": []},
        "v0": {"qdisc": "mq", "qdisc_leaves": ["pfifo_fast", "tbf"]},  # tbf replaced queue 1:2's pfifo_fast
        "v2": {"qdisc": "htb", "qdisc_leaves": []},  # not mq: its pfifo leaf and the ingress qdisc do not count
        "v3": {"qdisc": "pfifo_fast", "qdisc_leaves": []},
    }
    assert (3, 0x10000, sockdiag.TC_H_ROOT, "mq") in entries  # v0: mq 1: root


def _qdisc_message(ifindex, handle, parent, kind, extra=b""):
    kind_attribute = struct.pack("=HH", 4 + len(kind) + 1, sockdiag.TCA_KIND) + kind.encode() + b"\0"
    kind_attribute += b"\0" * (-len(kind_attribute) % 4)
    body = struct.pack("=BBHiIII", 0, 0, 0, ifindex, handle, parent, 0) + extra + kind_attribute
    return struct.pack("=IHHII", 16 + len(body), sockdiag.RTM_NEWQDISC, 2, 1, 0) + body


def test_default_mq_with_handle_zero_and_mqprio_list_their_children():
    entries = []
    options = struct.pack("=HH", 8, 2) + b"\1\2\3\4"  # an attribute before TCA_KIND is skipped
    datagram = b"".join([
        _qdisc_message(2, 0, sockdiag.TC_H_ROOT, "mq"),
        _qdisc_message(2, 0, 0x1, "fq_codel"), _qdisc_message(2, 0, 0x2, "fq_codel", options),
        _qdisc_message(2, 0xFFFF0000, 0xFFFFFFF1, "clsact"),
        _qdisc_message(3, 0x80000000, sockdiag.TC_H_ROOT, "mqprio"),
        _qdisc_message(3, 0, 0x80000001, "pfifo_fast"), _qdisc_message(3, 0, 0x80000002, "fq"),
        _qdisc_message(4, 0, sockdiag.TC_H_ROOT, "fq_codel"),
        _qdisc_message(5, 0x10000, 0x20001, "pfifo"),  # no root in the dump: not reported
    ])
    done = struct.pack("=IHHIIi", 20, sockdiag.NLMSG_DONE, 2, 1, 0, 0)
    assert sockdiag.parse_qdisc_messages(datagram + done, entries) is True
    assert sockdiag.summarize_qdiscs(entries) == {
        2: {"qdisc": "mq", "qdisc_leaves": ["fq_codel"]},
        3: {"qdisc": "mqprio", "qdisc_leaves": ["fq", "pfifo_fast"]},
        4: {"qdisc": "fq_codel", "qdisc_leaves": []},
    }


def test_qdisc_dump_errors_and_malformed_attributes():
    error = struct.pack("=IHHIIi", 36, sockdiag.NLMSG_ERROR, 0, 1, 0, -1) + bytes(16)
    with pytest.raises(OSError):
        sockdiag.parse_qdisc_messages(error, [])
    bad = bytearray(_qdisc_message(2, 0, sockdiag.TC_H_ROOT, "mq"))
    bad[36:38] = struct.pack("=H", 200)  # TCA_KIND longer than the message
    with pytest.raises(ValueError):
        sockdiag.parse_qdisc_messages(bytes(bad), [])


def _route_netlink_works():
    try:
        sockdiag.read_qdiscs()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _route_netlink_works(), reason="rtnetlink refused here")
def test_live_dump_has_a_root_qdisc_for_loopback():
    loopback = socket.if_nametoindex("lo")
    assert sockdiag.read_qdiscs()[loopback]["qdisc"] in ("noqueue", "noop", "pfifo_fast", "fq_codel")
