# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, procfs, sockdiag

GLOBAL_REASON = "global key: set it on the host (a container cannot set it for itself)"


def gather(fixture_tree, name, **kwargs):
    proc_path, sys_path = fixture_tree(name)
    return procfs.gather(proc_path, sys_path, page_size=4096, **kwargs)


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


def test_interfaces_virtual_speed_and_duplex(fixture_tree):
    interfaces = gather(fixture_tree, "linux-5.15-busy", sockets=False)["interfaces"]
    assert interfaces["eth1"] == {"txqueuelen": 1000, "mtu": 1500, "speed_mbps": 100, "duplex": "half",
                                  "operstate": "up", "carrier": 1, "admin_up": True, "virtual": False,
                                  "qdisc": None, "qdisc_leaves": []}
    assert interfaces["lo"]["virtual"] is True
    assert interfaces["lo"]["speed_mbps"] is None


def test_interfaces_take_their_qdisc_by_name_and_fixture_trees_read_no_live_dump(fixture_tree, monkeypatch):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")

    def refuse():
        raise AssertionError("a fixture tree must not read this host's qdiscs")

    monkeypatch.setattr(sockdiag, "read_qdiscs", refuse)
    assert procfs.live_qdiscs(sys_path) == {}
    interfaces = procfs.read_interfaces(sys_path, {"eth1": {"qdisc": "mq", "qdisc_leaves": ["fq_codel"]},
                                                   "gone0": {"qdisc": "noqueue", "qdisc_leaves": []}})
    assert (interfaces["eth1"]["qdisc"], interfaces["eth1"]["qdisc_leaves"]) == ("mq", ["fq_codel"])
    assert (interfaces["lo"]["qdisc"], interfaces["lo"]["qdisc_leaves"]) == (None, [])
    assert "gone0" not in interfaces


def test_live_qdiscs_map_indexes_to_names_and_are_empty_when_refused(monkeypatch):
    monkeypatch.setattr(sockdiag, "read_qdiscs", lambda: {1: {"qdisc": "noqueue", "qdisc_leaves": []},
                                                          99999: {"qdisc": "mq", "qdisc_leaves": ["pfifo_fast"]}})
    monkeypatch.setattr(sockdiag, "interface_names", lambda: {1: "lo", 2: "eth0"})
    assert procfs.live_qdiscs("/sys") == {"lo": {"qdisc": "noqueue", "qdisc_leaves": []}}

    def refused():
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(sockdiag, "read_qdiscs", refused)
    assert procfs.live_qdiscs("/sys") == {}


def test_real_host_interface_with_speed_minus_one_is_null(fixture_tree):
    eth0 = gather(fixture_tree, "linux-6.18-host", sockets=False)["interfaces"]["eth0"]
    assert eth0["speed_mbps"] is None
    assert eth0["virtual"] is False


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


def test_is_writable_needs_the_mode_even_for_root(tmp_path):
    path = tmp_path / "key"
    path.write_text(u"1\n")
    os.chmod(str(path), 0o444)
    assert procfs.is_writable(str(path)) is False
    os.chmod(str(path), 0o644)
    assert procfs.is_writable(str(path)) is True


def test_container_markers_in_init_netns(fixture_tree, tmp_path):
    proc_path, _sys_path = fixture_tree("linux-6.18-host")
    os.makedirs(os.path.join(proc_path, "1"))
    with open(os.path.join(proc_path, "1/environ"), "w") as handle:
        handle.write("PATH=/bin\0container=podman\0")
    assert procfs.detect_namespace(proc_path)["container"] is True
    root = tmp_path / "root"
    root.mkdir()
    os.remove(os.path.join(proc_path, "1/environ"))
    assert procfs.detect_namespace(proc_path, str(root))["container"] is False
    (root / ".dockerenv").write_text(u"")
    assert procfs.detect_namespace(proc_path, str(root))["container"] is True


def _process(proc_path, pid, ppid, comm, cgroup, soft=1024, hard=524288, fds=3):
    base = os.path.join(proc_path, str(pid))
    os.makedirs(os.path.join(base, "fd"))
    for number in range(fds):
        open(os.path.join(base, "fd", str(number)), "w").close()
    with open(os.path.join(base, "status"), "w") as handle:
        handle.write("Name:\t%s\nPPid:\t%d\n" % (comm, ppid))
    with open(os.path.join(base, "comm"), "w") as handle:
        handle.write(comm + "\n")
    with open(os.path.join(base, "cgroup"), "w") as handle:
        handle.write(cgroup + "\n")
    with open(os.path.join(base, "limits"), "w") as handle:
        handle.write("Limit                     Soft Limit           Hard Limit           Units\n"
                     "Max open files            %s                 %s               files\n" % (soft, hard))


def test_service_main_pid_from_cgroup_then_comm(tmp_path):
    proc_path = str(tmp_path)
    _process(proc_path, 1, 0, "init", "0::/init.scope")
    _process(proc_path, 200, 1, "nginx", "0::/system.slice/nginx.service", soft=65536, fds=10)
    _process(proc_path, 201, 200, "nginx", "0::/system.slice/nginx.service")
    _process(proc_path, 150, 1, "nginx", "0::/user.slice")  # same comm, other cgroup: not the service
    _process(proc_path, 300, 1, "haproxy", "0::/")
    _process(proc_path, 301, 300, "haproxy", "0::/")
    assert procfs.find_service_pid(proc_path, "nginx") == 200
    assert procfs.find_service_pid(proc_path, "nginx.service") == 200
    assert procfs.find_service_pid(proc_path, "haproxy") == 300
    assert procfs.find_service_pid(proc_path, "absent") is None
    assert procfs.read_pid_nofile(proc_path, 200) == {"soft": 65536, "hard": 524288, "open": 10}
    assert procfs.read_pid_nofile(proc_path, 999) is None


def test_gather_reports_pids_and_services(tmp_path, fixture_tree):
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    _process(proc_path, 200, 1, "nginx", "0::/system.slice/nginx.service", soft="unlimited", hard="unlimited")
    facts = procfs.gather(proc_path, sys_path, sockets=False, pids=[200, 4242], services=["nginx", "gone"])
    assert facts["nofile"]["pids"] == {"200": {"soft": -1, "hard": -1, "open": 3}, "4242": None}
    assert facts["nofile"]["services"] == {"nginx": {"soft": -1, "hard": -1, "open": 3, "pid": 200},
                                           "gone": {"soft": None, "hard": None, "open": None, "pid": None}}
    assert facts["nofile"]["self"]["soft"] > 0


def test_sampling_gives_rates_for_counters_softnet_and_conntrack(fixture_tree, monkeypatch):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    netstat = os.path.join(proc_path, "net/netstat")

    clock = [1000.0]

    def grow_overflows(seconds):
        clock[0] += seconds
        with open(netstat) as handle:
            text = handle.read()
        with open(netstat, "w") as handle:
            handle.write(text.replace(" 557 1 22 1806 1806 ", " 557 1 22 1856 1806 "))

    monkeypatch.setattr(procfs.time, "sleep", grow_overflows)
    monkeypatch.setattr(procfs.time, "monotonic", lambda: clock[0])
    facts = procfs.gather(proc_path, sys_path, sample_seconds=5, sockets=False)
    assert facts["sample_seconds"] == 5.0
    assert facts["counters"]["TcpExt.ListenOverflows"] == 1856
    assert facts["rates"]["TcpExt.ListenOverflows"] == 10.0  # 50 events over the 5 s sample
    assert facts["rates"]["TcpExt.ListenDrops"] == 0
    assert facts["rates"]["softnet.dropped"] == 0
    assert facts["rates"]["conntrack.drop"] == 0


def test_sockets_disabled(fixture_tree):
    sockets = gather(fixture_tree, "linux-5.15-busy", sockets=False)["sockets"]
    assert sockets["source"] == "disabled"
    assert sockets["total"] == 0


@pytest.mark.parametrize("text,expected", [("0-3", 4), ("0-1,4,6-7", 5), ("0", 1)])
def test_count_cpus(tmp_path, text, expected):
    os.makedirs(str(tmp_path / "devices/system/cpu"))
    (tmp_path / "devices/system/cpu/online").write_text(text + u"\n")
    assert procfs.count_cpus(str(tmp_path)) == expected


def _cgroup_tree(tmp_path, membership, mountinfo, limits):
    """proc/self/{cgroup,mountinfo} and sys/<dir>/<file> = value for each entry of ``limits``."""
    proc_path, sys_path = tmp_path / "proc", tmp_path / "sys"
    (proc_path / "self").mkdir(parents=True)
    (proc_path / "self" / "cgroup").write_text(membership)
    if mountinfo is not None:
        (proc_path / "self" / "mountinfo").write_text(mountinfo)
    for relpath, value in limits.items():
        (sys_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (sys_path / relpath).write_text(value + "\n")
    return str(proc_path), str(sys_path)


V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = ("31 23 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
             "35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,memory\n"
             "36 31 0:33 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,pids\n"
             "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")


def test_cgroup_v2_tightest_limit_on_the_chain_up_to_the_root(tmp_path):
    # A unit limited to 3 GiB inside a slice limited to 1 GiB: the slice's is the tighter one.
    proc_path, sys_path = _cgroup_tree(tmp_path, "0::/app.slice/web.service\n", V2_MOUNT, {
        "fs/cgroup/app.slice/web.service/memory.max": "3221225472",
        "fs/cgroup/app.slice/memory.max": "1073741824",
        "fs/cgroup/memory.max": "max",  # a cgroup namespace root may show one; the real root has none
    })
    assert procfs.read_cgroup(proc_path, sys_path) == {
        "version": 2, "path": "/app.slice/web.service", "memory_max_bytes": 1073741824,
        "memory_max_file": "/sys/fs/cgroup/app.slice/memory.max"}


def test_cgroup_v2_unlimited_everywhere_is_null(tmp_path):
    proc_path, sys_path = _cgroup_tree(tmp_path, "0::/user.slice/user-0.slice/session-1.scope\n", V2_MOUNT, {
        "fs/cgroup/user.slice/user-0.slice/session-1.scope/memory.max": "max",
        "fs/cgroup/user.slice/user-0.slice/memory.max": "max",
        "fs/cgroup/user.slice/memory.max": "max",
    })
    cgroup = procfs.read_cgroup(proc_path, sys_path)
    assert (cgroup["version"], cgroup["memory_max_bytes"], cgroup["memory_max_file"]) == (2, None, None)


def test_cgroup_v1_on_a_hybrid_host_uses_the_memory_controller_and_its_unlimited_value(tmp_path):
    membership = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
    proc_path, sys_path = _cgroup_tree(tmp_path, membership, V1_MOUNTS, {
        "fs/cgroup/memory/process_api/abc/memory.limit_in_bytes": "9223372036854771712",  # no limit (4 KiB pages)
        "fs/cgroup/memory/process_api/memory.limit_in_bytes": "536870912",
        "fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712",
        "fs/cgroup/unified/memory.max": "1",  # v2 has no memory controller here: never read
    })
    assert procfs.read_cgroup(proc_path, sys_path) == {
        "version": 1, "path": "/process_api/abc", "memory_max_bytes": 536870912,
        "memory_max_file": "/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes"}
    (tmp_path / "sys/fs/cgroup/memory/process_api/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert procfs.read_cgroup(proc_path, sys_path)["memory_max_bytes"] is None


def test_cgroup_v1_container_sees_its_own_cgroup_bind_mounted_at_the_top(tmp_path):
    # Podman with runc on cgroup v1, no cgroup namespace: /proc/self/cgroup names the host path and
    # the mount's root is that same path (seen in a --memory 512m container on this host).
    path = "/libpod_parent/libpod-ecebef0a"
    mountinfo = "97 93 0:32 %s /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n" % path
    proc_path, sys_path = _cgroup_tree(tmp_path, "4:memory:%s\n0::%s\n" % (path, path), mountinfo, {
        "fs/cgroup/memory/memory.limit_in_bytes": "536870912"})
    assert procfs.read_cgroup(proc_path, sys_path) == {
        "version": 1, "path": path, "memory_max_bytes": 536870912,
        "memory_max_file": "/sys/fs/cgroup/memory/memory.limit_in_bytes"}


def test_cgroup_outside_the_namespace_and_without_mountinfo(tmp_path):
    proc_path, sys_path = _cgroup_tree(tmp_path, "0::/../../other\n", None, {"fs/cgroup/memory.max": "268435456"})
    cgroup = procfs.read_cgroup(proc_path, sys_path)
    assert (cgroup["version"], cgroup["memory_max_bytes"]) == (2, 268435456)


def test_no_cgroup_file_gives_nulls(fixture_tree):
    cgroup = gather(fixture_tree, "linux-3.10-old", sockets=False)["cgroup"]
    assert cgroup == {"version": None, "path": None, "memory_max_bytes": None, "memory_max_file": None}
