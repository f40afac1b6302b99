# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP socket summary over NETLINK_SOCK_DIAG, with /proc/net/tcp{,6} as the fallback.

Memory stays bounded whatever the socket count: one receive buffer, 13 state counters,
a set of at most 65536 local ports (a 64 KiB bitmap for /proc) and at most LISTENERS_HARD_CAP
listener entries. No per-socket Python objects are built: runs of equal-length netlink replies are
read with strided slices. Over netlink the kernel reports the sockets of the
caller's own network namespace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import struct
import sys

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
TCPDIAG_GETSOCK = 18
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
AF_INET = 2
AF_INET6 = 10
IPPROTO_TCP = 6
ALL_STATES = 0xFFFFFFFF
RECV_BUFFER_BYTES = 1 << 20
LISTENERS_HARD_CAP = 10000
TCP_ESTABLISHED = 1
TCP_SYN_SENT = 2
TCP_FIN_WAIT1 = 4
TCP_FIN_WAIT2 = 5
TCP_TIME_WAIT = 6
TCP_CLOSE_WAIT = 8
TCP_LAST_ACK = 9
TCP_LISTEN = 10
TCP_CLOSING = 11
BULK_STATES = (1 << TCP_ESTABLISHED) | (1 << TCP_TIME_WAIT)
# Why ESTABLISHED is not Tcp.CurrEstab: since a46d0ea5c942 ("tcp: count CLOSE-WAIT sockets for
# TCP_MIB_CURRESTAB", v6.10-rc2; backported to stable, e.g. 4.19, 5.15, 6.6 and 6.9)
# tcp_set_state() counts ESTABLISHED + CLOSE_WAIT in CurrEstab (RFC 1213); before, ESTABLISHED only.
# Which one a kernel does cannot be told from its version. sockstat "inuse" (TCP + TCP6) is right on
# every kernel: sock_prot_inuse_add() +1 when a full socket is hashed (inet_hash() for LISTEN,
# inet_ehash_nolisten() for SYN_SENT and accepted children) and -1 when it is unhashed (inet_unhash())
# or replaced by a timewait socket (inet_twsk_hashdance()). So inuse = every full socket in the hash
# tables: ESTABLISHED plus the states below, which the small first dump returns anyway. Not in inuse:
# timewait sockets (TIME_WAIT and orphaned FIN_WAIT2, idiag_timer 3), request sockets (reported as
# SYN_RECV; reqsk_queue_hash_req() does not touch inuse), and unhashed CLOSE sockets.
# Left over: a Fast Open child still in SYN_RECV is hashed, but the dump reports it as SYN_RECV just
# like the request sockets, so it cannot be taken off and counts as ESTABLISHED for that round trip.
HASHED_OTHER_STATES = (TCP_SYN_SENT, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_LISTEN,
                       TCP_CLOSING)
TIMEWAIT_TIMER = 3  # idiag_timer of a timewait socket (inet_twsk_diag_fill)
INET_DIAG_REQ_BYTECODE = 1
INET_DIAG_BC_S_GE = 2
INET_DIAG_BC_S_LE = 3

STATE_NAMES = ("UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
               "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV")

# nlmsghdr (len, type, flags, seq, pid) + inet_diag_req_v2 (family, protocol, ext, pad, states, sockid 48 bytes)
_REQUEST = struct.Struct("=IHHII BBBxI 48x")
# nlmsghdr + inet_diag_req v1 (family, src_len, dst_len, ext, sockid 48 bytes, states, dbs)
_REQUEST_COMPAT = struct.Struct("=IHHII BBBB 48x II")
_HEADER = struct.Struct("=IH")
_ERRNO = struct.Struct("=i")
# inet_diag_msg after the 16-byte nlmsghdr: idiag_rqueue at +56, idiag_wqueue at +60
_QUEUES = struct.Struct("=II")
_MESSAGE_MIN = 16 + 72  # nlmsghdr + inet_diag_msg


def empty_summary(source):
    return {"source": source, "total": 0, "states": dict((name, 0) for name in STATE_NAMES[1:]),
            "listeners": [], "listening_ports": [], "local_ports_in_ephemeral_range": 0}


def _finish(source, counts, ports, listeners, listening, port_range, listeners_max):
    low, high = int(port_range[0]), int(port_range[1])
    listeners.sort(key=lambda entry: (-(entry["queue"] or 0), entry["port"], entry["address"]))
    return {
        "source": source,
        "total": sum(counts[1:]),
        "states": dict((name, counts[index]) for index, name in enumerate(STATE_NAMES) if index),
        "listeners": listeners[:max(0, int(listeners_max))],
        "listening_ports": sorted(listening),
        "local_ports_in_ephemeral_range": ports[low:high + 1].count(1) if low <= high else 0,
    }


def _socket_module():
    """_socket, the C core of socket: the socket module itself imports enum, selectors and more,
    about 3 ms of a tcp_facts run that otherwise takes about 13 ms (bench/facts_cost)."""
    import _socket

    return _socket


def _address(family, raw):
    socket = _socket_module()
    return socket.inet_ntop(socket.AF_INET if family == AF_INET else socket.AF_INET6, bytes(raw))


def _request_v2(family, seq):
    return _REQUEST.pack(_REQUEST.size, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0,
                         family, IPPROTO_TCP, 0, ALL_STATES)


def _request_compat(seq, states=ALL_STATES, bytecode=b""):
    """TCPDIAG_GETSOCK with the v1 request: the kernel answers for AF_INET and AF_INET6 in one
    walk of its socket tables (family AF_UNSPEC), about half the cost of two v2 dumps."""
    attribute = struct.pack("=HH", 4 + len(bytecode), INET_DIAG_REQ_BYTECODE) + bytecode if bytecode else b""
    return _REQUEST_COMPAT.pack(_REQUEST_COMPAT.size + len(attribute), TCPDIAG_GETSOCK,
                                NLM_F_REQUEST | NLM_F_DUMP, seq, 0, 0, 0, 0, 0, states, 0) + attribute


def _local_port_filter(low, high):
    """inet_diag bytecode that keeps sockets whose local port is in low..high.

    Each comparison op is followed by an op carrying the port; "yes" steps to the next op,
    "no" jumps past the end, which rejects the socket.
    """
    return struct.pack("=BBH BBH BBH BBH",
                       INET_DIAG_BC_S_GE, 8, 20, 0, 0, int(low),
                       INET_DIAG_BC_S_LE, 8, 12, 0, 0, int(high))


def _leading(column, value):
    """How many leading entries of a bytearray column equal ``value`` (C speed)."""
    return len(column) - len(column.lstrip(bytes((value,))))


def _listener(buf, offset):
    family = buf[offset + 16]
    queue, backlog = _QUEUES.unpack_from(buf, offset + 72)
    return {"family": "inet" if family == AF_INET else "inet6",
            "address": _address(family, buf[offset + 24:offset + (28 if family == AF_INET else 40)]),
            "port": (buf[offset + 20] << 8) | buf[offset + 21], "backlog": backlog, "queue": queue}


def _dump(sock, request, data_kind, counts, ports, listeners, buf, fin_wait2_timewait=None, listening=None):
    """Send one dump request and fold every reply into the counters. Raises OSError on a netlink error.

    Replies come in runs of messages of the same length (same socket kind, same attributes), so a
    run is handled with strided slices: states and local ports of a whole run at C speed, no
    per-socket Python objects. ``ports`` collects local ports in host byte order of the u16 field;
    ``listening`` (a set) the port of every listener, past the LISTENERS_HARD_CAP entries too.
    """
    sock.send(request)
    unpack_header = _HEADER.unpack_from
    words = memoryview(buf).cast("H")
    while True:
        size = sock.recv_into(buf)
        offset = 0
        while offset + 16 <= size:
            length, kind = unpack_header(buf, offset)
            if kind != data_kind:
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    errno = -_ERRNO.unpack_from(buf, offset + 16)[0]
                    if errno:
                        raise OSError(errno, os.strerror(errno))
                    return
                if length < 16:
                    raise ValueError("malformed netlink message")
                offset += (length + 3) & ~3
                continue
            if length < _MESSAGE_MIN or offset + length > size:
                raise ValueError("malformed inet_diag message")
            step = (length + 3) & ~3
            count = max(1, (size - offset) // step)
            stop = offset + count * step
            if count > 1:
                count = min(_leading(buf[offset:stop:step], length & 0xFF),
                            _leading(buf[offset + 1:stop + 1:step], length >> 8),
                            _leading(buf[offset + 4:stop + 4:step], data_kind),
                            _leading(buf[offset + 5:stop + 5:step], 0))
                stop = offset + count * step
            states = buf[offset + 17:stop:step]
            for state in set(states):
                counts[state] += states.count(state)
            ports.update(words[(offset + 20) // 2:stop // 2:step // 2].tolist())
            index = states.find(TCP_LISTEN)
            while index >= 0:
                start = offset + index * step
                if len(listeners) < LISTENERS_HARD_CAP:
                    listeners.append(_listener(buf, start))
                if listening is not None:
                    listening.add((buf[start + 20] << 8) | buf[start + 21])
                index = states.find(TCP_LISTEN, index + 1)
            if fin_wait2_timewait is not None:
                index = states.find(TCP_FIN_WAIT2)
                while index >= 0:
                    fin_wait2_timewait[0] += buf[offset + index * step + 18] == TIMEWAIT_TIMER
                    index = states.find(TCP_FIN_WAIT2, index + 1)
            offset = stop


def established_from_hashed(hashed, counts, fin_wait2_timewait):
    """ESTABLISHED = hashed full sockets (sockstat inuse, TCP + TCP6) minus the other hashed states
    counted by the dump; FIN_WAIT2 timewait sockets are not hashed full sockets (see HASHED_OTHER_STATES)."""
    others = sum(counts[state] for state in HASHED_OTHER_STATES) - fin_wait2_timewait
    return max(0, int(hashed) - others)


def _dump_split(sock, buf, port_range, hashed, timewait):
    """Counts, ports and listeners without dumping the ESTABLISHED and TIME_WAIT bulk."""
    counts, raw_ports, listeners, fin_wait2_timewait, listening = [0] * 256, set(), [], [0], set()
    _dump(sock, _request_compat(1, ALL_STATES & ~BULK_STATES), TCPDIAG_GETSOCK, counts, raw_ports,
          listeners, buf, fin_wait2_timewait, listening)
    _dump(sock, _request_compat(2, BULK_STATES, _local_port_filter(*port_range)), TCPDIAG_GETSOCK,
          [0] * 256, raw_ports, [], buf)
    counts[TCP_ESTABLISHED] = established_from_hashed(hashed, counts, fin_wait2_timewait[0])
    counts[TCP_TIME_WAIT] = max(0, int(timewait) - fin_wait2_timewait[0])
    return counts, raw_ports, listeners, listening


def _dump_all(sock, buf):
    """Counts, ports and listeners from a dump of every socket: one compat dump, else one v2 per family."""
    counts, raw_ports, listeners, listening = [0] * 256, set(), [], set()
    try:
        _dump(sock, _request_compat(3), TCPDIAG_GETSOCK, counts, raw_ports, listeners, buf, listening=listening)
        return counts, raw_ports, listeners, listening
    except OSError:
        counts, raw_ports, listeners, listening = [0] * 256, set(), [], set()
    _dump(sock, _request_v2(AF_INET, 4), SOCK_DIAG_BY_FAMILY, counts, raw_ports, listeners, buf,
          listening=listening)
    try:
        _dump(sock, _request_v2(AF_INET6, 5), SOCK_DIAG_BY_FAMILY, counts, raw_ports, listeners, buf,
              listening=listening)
    except OSError:
        pass  # IPv6 disabled: no IPv6 sockets to count
    return counts, raw_ports, listeners, listening


def summarize_netlink(port_range, listeners_max=100, hashed=None, timewait=None):
    """Per-state counts, listeners and ephemeral ports in use for AF_INET and AF_INET6 TCP sockets.

    With ``hashed`` (sockstat TCP inuse + TCP6 inuse: the full sockets in the hash tables) and
    ``timewait`` (sockstat tw: TIME_WAIT plus FIN_WAIT2 timewait sockets), the bulk states are not
    dumped: one dump covers the other states, ESTABLISHED is ``hashed`` minus the hashed ones among
    them (HASHED_OTHER_STATES says why not Tcp.CurrEstab), and a second dump returns only the
    ESTABLISHED and TIME_WAIT sockets whose local port lies in ``port_range``, filtered by the
    kernel. The kernel then formats a fraction of the sockets; formatting is most of the cost at
    100 000 sockets.
    Otherwise, or if the kernel refuses that, one compat dump of everything; failing that, one
    v2 dump per family. Raises OSError when sock_diag is unavailable (the caller falls back to
    /proc/net/tcp).
    """
    socket = _socket_module()
    buf = bytearray(RECV_BUFFER_BYTES)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER_BYTES)
        except OSError:
            pass
        sock.bind((0, 0))
        result = None
        if hashed is not None and timewait is not None:
            try:
                result = _dump_split(sock, buf, port_range, hashed, timewait)
            except OSError:
                result = None  # e.g. a kernel that refuses the bytecode: dump everything instead
        counts, raw_ports, listeners, listening = result or _dump_all(sock, buf)
    finally:
        sock.close()
    ports = bytearray(65536)
    swap = sys.byteorder == "little"
    for raw in raw_ports:  # at most 65536 distinct values
        ports[((raw & 0xFF) << 8 | raw >> 8) if swap else raw] = 1
    return _finish("netlink", counts[:len(STATE_NAMES)], ports, listeners, listening, port_range, listeners_max)


def _proc_address(hex_address):
    """/proc/net/tcp address: 32-bit words in host order (little-endian here)."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return _address(AF_INET, raw[::-1])
    return _address(AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))


def summarize_proc(proc_path, port_range, listeners_max=100):
    """The same summary from proc_path/net/tcp and tcp6, one line at a time.

    /proc/net/tcp lists TIME_WAIT and SYN_RECV too. It has no listen backlog, so backlog is null;
    for a listener its rx_queue column is the accept queue.
    """
    counts = [0] * len(STATE_NAMES)
    ports = bytearray(65536)
    listeners = []
    listening = set()
    found = False
    for name, family in (("tcp", "inet"), ("tcp6", "inet6")):
        try:
            handle = open(os.path.join(proc_path, "net", name), "r")
        except (IOError, OSError):
            continue
        found = True
        with handle:
            handle.readline()
            for line in handle:
                fields = line.split(None, 5)
                if len(fields) < 5:
                    continue
                local = fields[1]
                state = int(fields[3], 16)
                port = int(local[local.index(":") + 1:], 16)
                counts[state if state < len(STATE_NAMES) else 0] += 1
                ports[port] = 1
                if state == TCP_LISTEN:
                    listening.add(port)
                if state == TCP_LISTEN and len(listeners) < LISTENERS_HARD_CAP:
                    listeners.append({"family": family, "address": _proc_address(local[:local.index(":")]),
                                      "port": port, "backlog": None, "queue": int(fields[4].split(":")[1], 16)})
    if not found:
        return empty_summary("unavailable")
    return _finish("proc", counts, ports, listeners, listening, port_range, listeners_max)


# rtnetlink qdiscs: RTM_GETQDISC dump on NETLINK_ROUTE; each reply is a struct tcmsg and attributes.
NETLINK_ROUTE = 0
RTM_NEWQDISC = 36
RTM_GETQDISC = 38
TCA_KIND = 1
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER
TC_H_ROOT = 0xFFFFFFFF
TC_H_MAJOR_MASK = 0xFFFF0000
MULTIQUEUE_ROOTS = ("mq", "mqprio")  # one child qdisc per transmit queue
# nlmsghdr + tcmsg (family, pad, pad, ifindex, handle, parent, info)
_QDISC_REQUEST = struct.Struct("=IHHII BBHiIII")
_TCMSG = struct.Struct("=BBHiIII")
_ATTRIBUTE = struct.Struct("=HH")


def _request_qdiscs(seq):
    return _QDISC_REQUEST.pack(_QDISC_REQUEST.size, RTM_GETQDISC, NLM_F_REQUEST | NLM_F_DUMP, seq, 0,
                               0, 0, 0, 0, 0, 0, 0)


def parse_qdisc_messages(data, entries):
    """Append (ifindex, handle, parent, kind) for each RTM_NEWQDISC in one datagram of a dump.

    Returns True once NLMSG_DONE is seen. Raises OSError on a netlink error, ValueError on a
    malformed message.
    """
    offset = 0
    size = len(data)
    while offset + 16 <= size:
        length, kind = _HEADER.unpack_from(data, offset)
        if length < 16 or offset + length > size:
            raise ValueError("malformed netlink message")
        if kind == NLMSG_DONE:
            return True
        if kind == NLMSG_ERROR:
            errno = -_ERRNO.unpack_from(data, offset + 16)[0]
            if errno:
                raise OSError(errno, os.strerror(errno))
            return True
        if kind == RTM_NEWQDISC:
            if length < 16 + _TCMSG.size:
                raise ValueError("malformed tcmsg")
            ifindex, handle, parent = _TCMSG.unpack_from(data, offset + 16)[3:6]
            qdisc_kind = None
            position = offset + 16 + _TCMSG.size
            end = offset + length
            while position + 4 <= end:
                attribute_length, attribute_type = _ATTRIBUTE.unpack_from(data, position)
                if attribute_length < 4 or position + attribute_length > end:
                    raise ValueError("malformed netlink attribute")
                if attribute_type & NLA_TYPE_MASK == TCA_KIND:
                    raw = bytes(data[position + 4:position + attribute_length])
                    qdisc_kind = raw.split(b"\0", 1)[0].decode("ascii", "replace")
                    break
                position += (attribute_length + 3) & ~3
            entries.append((ifindex, handle, parent, qdisc_kind))
        offset += (length + 3) & ~3
    return False


def summarize_qdiscs(entries):
    """{ifindex: {"qdisc": root kind, "qdisc_leaves": sorted kinds of an mq/mqprio root's children}}.

    The children of an mq root are the qdiscs whose parent has the root's major handle (1:1, 1:2 ...;
    0:1 ... for the mq the kernel attaches by default). Ingress and clsact hang off ffff:fff1 and
    are neither root nor leaf.
    """
    roots = dict((ifindex, (handle, kind)) for ifindex, handle, parent, kind in entries if parent == TC_H_ROOT)
    result = {}
    for ifindex, (handle, kind) in roots.items():
        leaves = set()
        if kind in MULTIQUEUE_ROOTS:
            leaves = set(child for index, dummy, parent, child in entries
                         if index == ifindex and parent != TC_H_ROOT and child
                         and (parent & TC_H_MAJOR_MASK) == (handle & TC_H_MAJOR_MASK)
                         and (parent & TC_H_MAJOR_MASK) != TC_H_MAJOR_MASK)
        result[ifindex] = {"qdisc": kind, "qdisc_leaves": sorted(leaves)}
    return result


def read_qdiscs():
    """summarize_qdiscs() of this network namespace's RTM_GETQDISC dump. Raises OSError when refused."""
    socket = _socket_module()
    buf = bytearray(1 << 16)
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    entries = []
    try:
        sock.bind((0, 0))
        sock.send(_request_qdiscs(1))
        while True:
            size = sock.recv_into(buf)
            if not size or parse_qdisc_messages(memoryview(buf)[:size], entries):
                break
    finally:
        sock.close()
    return summarize_qdiscs(entries)


def ifindex_names():
    """{ifindex: name} of this network namespace's interfaces."""
    return dict(_socket_module().if_nameindex())
