# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""procfs.py: the /proc readers, on fixture trees (through host_facts.gather where the facts shape matters)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, host_facts, procfs

GLOBAL_REASON = "global key: set it on the host (a container cannot set it for itself)"


def gather(fixture_tree, name, **kwargs):
    proc_path, sys_path = fixture_tree(name)
    return host_facts.gather(proc_path, sys_path, page_size=4096, **kwargs)


def test_parse_pairs_zips_header_and_values_with_prefix():
    text = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1806 1900\nIpExt: InOctets\nIpExt: 12\n"
    assert procfs.parse_pairs(text) == {"TcpExt.ListenOverflows": 1806, "TcpExt.ListenDrops": 1900,
                                        "IpExt.InOctets": 12}


def test_counters_of_a_4x_kernel_are_all_read_including_negative_maxconn(fixture_tree):
    facts = gather(fixture_tree, "linux-3.10-old", sockets=False)
    counters = facts["counters"]
    assert counters["Tcp.MaxConn"] == -1
    assert counters["Tcp.RetransSegs"] == 227
    assert counters["TcpExt.TW"] == 388812
    assert counters["TcpExt.TCPPrequeued"] == 80568
    assert counters["IpExt.InOctets"] == 6286396970
    assert counters["UdpLite.InDatagrams"] == 0
    assert len([name for name in counters if name.startswith("TcpExt.")]) == 83


def test_counters_of_a_5x_kernel_include_mptcp(fixture_tree):
    counters = gather(fixture_tree, "linux-5.15-busy", sockets=False)["counters"]
    assert counters["TcpExt.ListenOverflows"] == 1806
    assert counters["TcpExt.TCPAbortFailed"] == 28736
    assert counters["MPTcpExt.SubflowRecover"] == 0
    assert counters["TcpExt.TCPMigrateReqFailure"] == 0


def test_kernel_facts_from_fixture(fixture_tree):
    kernel = gather(fixture_tree, "linux-5.15-busy", sockets=False)["kernel"]
    assert kernel == {"release": "5.15.0-91-generic", "version": [5, 15, 0], "page_size": 4096,
                      "mem_total_bytes": 16331264 * 1024, "mem_available_bytes": 1250112 * 1024, "cpus": 4}


def test_sockstat_mem_in_pages_and_bytes(fixture_tree):
    sockstat = gather(fixture_tree, "linux-5.15-busy", sockets=False)["sockstat"]
    assert sockstat == {
        "sockets_used": 210450,
        "tcp": {"inuse": 152000, "orphan": 40000, "tw": 180000, "alloc": 193000, "mem_pages": 180000,
                "mem_bytes": 180000 * 4096},
        "tcp6": {"inuse": 40},
        "udp": {"inuse": 12, "mem_pages": 3, "mem_bytes": 3 * 4096},
        "udp6": {"inuse": 2},
    }


def test_files_and_conntrack_sums_hex_rows_by_header_name(fixture_tree):
    facts = gather(fixture_tree, "linux-5.15-busy", sockets=False)
    assert facts["files"] == {"allocated": 1500000, "max": 2000000, "nr_open": 1048576}
    assert facts["conntrack"] == {"available": True, "count": 249000, "max": 262144, "buckets": 262144,
                                  "drop": 0x300 + 0xe8, "early_drop": 0x52 + 0x10, "insert_failed": 4}


def test_conntrack_without_the_module(fixture_tree):
    conntrack = gather(fixture_tree, "linux-3.10-old", sockets=False)["conntrack"]
    assert conntrack == {"available": False, "count": None, "max": None, "buckets": None, "drop": None,
                         "early_drop": None, "insert_failed": None}


def test_softnet_uses_cpu_column_on_5x_and_row_index_on_4x(fixture_tree):
    softnet = gather(fixture_tree, "linux-5.15-busy", sockets=False)["softnet"]
    assert softnet["dropped"] == 0x1f4a
    assert softnet["time_squeeze"] == 0x3c1 + 0x2b0 + 0x1a9 + 0x11f
    assert [row["cpu"] for row in softnet["per_cpu"]] == [0, 1, 2, 3]
    old = gather(fixture_tree, "linux-3.10-old", sockets=False)["softnet"]
    assert old["per_cpu"][1] == {"cpu": 1, "processed": 0x09f0e1d2, "dropped": 0, "time_squeeze": 1}


def test_host_sysctls_all_present_and_writable_except_removed_key(fixture_tree):
    facts = gather(fixture_tree, "linux-6.18-host", sockets=False)
    assert facts["namespace"] == {"init_netns": True, "proc_sys_writable": True, "container": False}
    assert facts["sysctl"]["net.ipv4.tcp_mem"] == [287901, 383868, 575802]
    assert facts["sysctl"]["net.ipv4.ip_local_reserved_ports"] == ""
    assert facts["sysctl_unavailable"] == {
        "net.ipv4.tcp_tw_recycle": "not on this kernel: net.ipv4.tcp_tw_recycle was removed in Linux 4.12"}
    assert set(facts["sysctl_writable"]) == set(catalogue.CATALOGUE) - {"net.ipv4.tcp_tw_recycle"}
    assert all(facts["sysctl_writable"].values())


def test_container_netns_reasons_for_absent_read_only_and_host_wide_keys(fixture_tree):
    facts = gather(fixture_tree, "linux-6.18-container", sockets=False)
    assert facts["namespace"] == {"init_netns": False, "proc_sys_writable": True, "container": True}
    unavailable = facts["sysctl_unavailable"]
    # absent in a child netns
    assert unavailable["net.ipv4.tcp_mem"] == GLOBAL_REASON
    assert unavailable["net.core.netdev_max_backlog"] == GLOBAL_REASON
    assert "net.ipv4.tcp_mem" not in facts["sysctl"]
    # a 0444 read-only copy of a global key
    assert unavailable["net.core.rmem_max"] == GLOBAL_REASON
    assert facts["sysctl"]["net.core.rmem_max"] == 4194304
    assert facts["sysctl_writable"]["net.core.rmem_max"] is False
    # fs.* is writable in a privileged container but changes the host
    assert unavailable["fs.file-max"] == GLOBAL_REASON + " (writable here, but a write would change the host)"
    assert facts["sysctl_writable"]["fs.file-max"] is False
    # per-netns keys are the container's own
    assert facts["sysctl_writable"]["net.core.somaxconn"] is True
    assert "net.core.somaxconn" not in unavailable
    assert facts["conntrack"]["count"] == 0


def test_old_kernel_reasons(fixture_tree):
    unavailable = gather(fixture_tree, "linux-3.10-old", sockets=False)["sysctl_unavailable"]
    assert unavailable == {
        "net.ipv4.tcp_tw_reuse_delay": "not on this kernel: net.ipv4.tcp_tw_reuse_delay appeared in Linux 6.14",
        "net.netfilter.nf_conntrack_buckets": "absent on this kernel (module not loaded?)",
        "net.netfilter.nf_conntrack_max": "absent on this kernel (module not loaded?)",
    }


def test_read_only_proc_sys_gives_a_reason(fixture_tree):
    proc_path, _sys_path = fixture_tree("linux-6.18-host")
    os.chmod(os.path.join(proc_path, "sys/net/core/somaxconn"), 0o444)
    values, writable, unavailable = procfs.read_sysctls(proc_path, (6, 18, 44), True)
    assert values["net.core.somaxconn"] == 4096
    assert writable["net.core.somaxconn"] is False
    assert unavailable["net.core.somaxconn"] == "read-only here (/proc/sys mounted read-only?)"


def test_sockets_disabled(fixture_tree):
    sockets = gather(fixture_tree, "linux-5.15-busy", sockets=False)["sockets"]
    assert sockets["source"] == "disabled"
    assert sockets["total"] == 0


@pytest.mark.parametrize("text,expected", [("0-3", 4), ("0-1,4,6-7", 5), ("0", 1)])
def test_count_cpus(tmp_path, text, expected):
    os.makedirs(str(tmp_path / "devices/system/cpu"))
    (tmp_path / "devices/system/cpu/online").write_text(text + u"\n")
    assert procfs.count_cpus(str(tmp_path)) == expected
