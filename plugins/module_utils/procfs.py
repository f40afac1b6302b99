# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readers over a proc root and a sys root, and ``gather()`` that builds ``ansible_facts.tcp``.

Every reader takes the root as an argument so unit tests run on fixture trees and a host can
inspect another /proc. Nothing here imports ansible: the module and the bench CLI call
``gather()`` directly, and a small import set keeps a whole process cheap.
Evidence paths are reported as ``/proc/...`` and ``/sys/...`` whatever the real root is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values, kernel_release
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file

# Keys that only the init network namespace has (kernel-tcp-facts.md section 2): their
# absence means this /proc/sys belongs to a child netns, whatever pid 1 is.
INIT_NETNS_ONLY_KEYS = ("net/ipv4/tcp_mem", "net/core/netdev_max_backlog")
CONTAINER_CGROUP_MARKERS = ("docker", "libpod", "kubepods", "lxc", "containerd", "crio", "machine.slice")
SNMP_FILES = ("net/snmp", "net/netstat")
UNLIMITED = -1  # how an "unlimited" rlimit is reported
# cgroup v1 memory.limit_in_bytes reads PAGE_COUNTER_MAX * PAGE_SIZE (0x7ffffffffffff000 with 4 KiB
# pages) when no limit is set; anything this large is "no limit" whatever the page size.
CGROUP_V1_UNLIMITED_FROM = 1 << 62


def read_int(path):
    """A file holding one integer, or None."""
    text = read_file(path)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def parse_pairs(text):
    """/proc/net/snmp or netstat text -> {"Prefix.Name": int}, zipping header and value lines."""
    counters = {}
    if not text:
        return counters
    lines = text.splitlines()
    for header, values in zip(lines[0::2], lines[1::2]):
        names = header.split()
        numbers = values.split()
        if not names or names[0] != numbers[0]:
            continue
        prefix = names[0].rstrip(":")
        for name, number in zip(names[1:], numbers[1:]):
            try:
                counters[prefix + "." + name] = int(number)
            except ValueError:
                continue
    return counters


def read_counters(proc_path):
    """All of /proc/net/snmp and /proc/net/netstat, plus {"Prefix": logical source file}."""
    counters = {}
    sources = {}
    for relpath in SNMP_FILES:
        pairs = parse_pairs(read_file(os.path.join(proc_path, relpath)))
        for name in pairs:
            sources[name.split(".", 1)[0]] = "/proc/" + relpath
        counters.update(pairs)
    return counters, sources


def _fields(line):
    """'TCP: inuse 3 orphan 0 tw 1' -> {'inuse': 3, 'orphan': 0, 'tw': 1}."""
    parts = line.split()[1:]
    return dict((parts[i], int(parts[i + 1])) for i in range(0, len(parts) - 1, 2))


def read_sockstat(proc_path, page_size):
    """sockstat + sockstat6 in the facts shape; mem in pages and bytes."""
    rows = {}
    for relpath in ("net/sockstat", "net/sockstat6"):
        for line in (read_file(os.path.join(proc_path, relpath)) or "").splitlines():
            if ":" in line:
                rows[line.split(":", 1)[0]] = _fields(line)
    tcp = rows.get("TCP", {})
    udp = rows.get("UDP", {})
    tcp_mem = tcp.get("mem")
    udp_mem = udp.get("mem")
    return {
        "sockets_used": rows.get("sockets", {}).get("used"),
        "tcp": {"inuse": tcp.get("inuse"), "orphan": tcp.get("orphan"), "tw": tcp.get("tw"),
                "alloc": tcp.get("alloc"), "mem_pages": tcp_mem,
                "mem_bytes": tcp_mem * page_size if tcp_mem is not None else None},
        "tcp6": {"inuse": rows.get("TCP6", {}).get("inuse")},
        "udp": {"inuse": udp.get("inuse"), "mem_pages": udp_mem,
                "mem_bytes": udp_mem * page_size if udp_mem is not None else None},
        "udp6": {"inuse": rows.get("UDP6", {}).get("inuse")},
    }


def read_meminfo(proc_path):
    """/proc/meminfo -> {"MemTotal": bytes, ...} (kB lines converted to bytes)."""
    result = {}
    for line in (read_file(os.path.join(proc_path, "meminfo")) or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            factor = 1024 if len(parts) > 2 and parts[2] == "kB" else 1
            result[parts[0].rstrip(":")] = int(parts[1]) * factor
    return result


def host_memory_bytes(proc_path, limit_bytes=None):
    """MemTotal from proc_path/meminfo, or the cgroup limit when smaller; None when unreadable."""
    total = read_meminfo(proc_path).get("MemTotal")
    if total is None:
        return None
    return min(total, limit_bytes) if limit_bytes else total


def page_size():
    return os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def count_cpus(sys_path):
    """Online CPUs from sys/devices/system/cpu/online ("0-3,8"), else os.cpu_count()."""
    text = (read_file(os.path.join(sys_path, "devices/system/cpu/online")) or "").strip()
    total = 0
    try:
        for item in [part for part in text.split(",") if part]:
            low, _sep, high = item.partition("-")
            total += int(high or low) - int(low) + 1
    except ValueError:
        total = 0
    return total or os.cpu_count() or 1


def read_kernel(proc_path, sys_path, page_size=None):
    release = (read_file(os.path.join(proc_path, "sys/kernel/osrelease")) or "").strip()
    if not release and proc_path == "/proc":
        release = os.uname()[2]
    meminfo = read_meminfo(proc_path)
    return {
        "release": release,
        "version": list(kernel_release.parse_kernel_release(release)),
        "page_size": page_size or os.sysconf("SC_PAGE_SIZE"),
        "mem_total_bytes": meminfo.get("MemTotal"),
        "mem_available_bytes": meminfo.get("MemAvailable"),
        "cpus": count_cpus(sys_path),
    }


def is_writable(path):
    """os.access alone says yes for root on a 0444 regular file, so the mode must allow a write too.

    In a child netns the kernel shows a global key's read-only copy as 0444.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(path, os.W_OK)


def in_init_netns(proc_path):
    # type: (str) -> bool
    """False inside a child network namespace (container, ``unshare --net``).

    /proc/sys/net follows the reader's namespace, and the global-only keys exist only in the
    init one. Comparing /proc/self/ns/net with /proc/1/ns/net is not enough: in a container pid 1
    is the container's. Only when /proc/sys/net/ipv4 is missing altogether are the namespace
    inodes of this process and pid 1 compared.
    """
    sys_root = os.path.join(proc_path, "sys")
    if not os.path.isdir(os.path.join(sys_root, "net/ipv4")):
        try:
            return os.readlink(os.path.join(proc_path, "self/ns/net")) == \
                os.readlink(os.path.join(proc_path, "1/ns/net"))
        except OSError:
            return True
    return any(os.path.exists(os.path.join(sys_root, key)) for key in INIT_NETNS_ONLY_KEYS)


def detect_namespace(proc_path, root_path=None):
    """init_netns, proc_sys_writable and container, with the heuristics documented in tcp_facts.

    init_netns: the global-only keys exist only in the init netns' /proc/sys. Comparing
    /proc/self/ns/net with /proc/1/ns/net is not enough: in a container pid 1 is the container's.
    container: not the init netns, or a marker (/run/.containerenv, /.dockerenv,
    container= in pid 1's environment, a container runtime in pid 1's cgroup). root_path (where
    the file markers are looked for) defaults to / for the real /proc and to none for other trees.
    """
    sys_root = os.path.join(proc_path, "sys")
    init_netns = in_init_netns(proc_path)
    writable = is_writable(os.path.join(sys_root, "net/core/somaxconn"))
    if root_path is None:
        root_path = "/" if os.path.realpath(proc_path) == "/proc" else None
    markers = [os.path.join(root_path, ".dockerenv"), os.path.join(root_path, "run/.containerenv")] if root_path else []
    container = not init_netns or any(os.path.exists(path) for path in markers)
    if not container:
        environ = read_file(os.path.join(proc_path, "1/environ")) or ""
        container = any(item.startswith("container=") for item in environ.split("\0"))
    if not container:
        cgroup = read_file(os.path.join(proc_path, "1/cgroup")) or ""
        container = any(marker in cgroup for marker in CONTAINER_CGROUP_MARKERS)
    return {"init_netns": init_netns, "proc_sys_writable": writable, "container": container}


def _cgroup_membership(proc_path):
    """(version, path) of this process's memory cgroup from proc_path/self/cgroup, or (None, None).

    A v1 line naming the memory controller wins (hybrid hosts keep memory on v1); else the v2 "0::" line.
    """
    unified = None
    for line in (read_file(os.path.join(proc_path, "self/cgroup")) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(","):
            return 1, parts[2]
        if parts[0] == "0" and parts[1] == "":
            unified = parts[2]
    return (2, unified) if unified is not None else (None, None)


def _cgroup_mount(proc_path, sys_path, version):
    """(mount root inside the hierarchy, directory under sys_path) of the memory hierarchy.

    From proc_path/self/mountinfo: a cgroup2 mount for v2, a cgroup mount with the memory option
    for v1. Mount points under /sys are taken relative to sys_path, so fixture trees work; without
    mountinfo, the usual places.
    """
    for line in (read_file(os.path.join(proc_path, "self/mountinfo")) or "").splitlines():
        fields, dummy, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        if (tail[0] == "cgroup2" and version == 2) or \
                (tail[0] == "cgroup" and version == 1 and "memory" in tail[2].split(",")):
            mount_point = fields[4].replace("\\040", " ")
            if mount_point == "/sys" or mount_point.startswith("/sys/"):
                return fields[3], os.path.join(sys_path, mount_point[len("/sys/"):])
            return fields[3], (mount_point if os.path.realpath(sys_path) == "/sys" else None)
    default = "fs/cgroup/memory" if version == 1 else "fs/cgroup"
    return "/", os.path.join(sys_path, default)


def _memory_limit(directory, version):
    """The limit set in one cgroup directory: bytes, 0 for none, None when unreadable."""
    text = (read_file(os.path.join(directory, "memory.max" if version == 2 else "memory.limit_in_bytes")) or "").strip()
    if text == "max":
        return 0
    try:
        value = int(text)
    except ValueError:
        return None
    return 0 if version == 1 and value >= CGROUP_V1_UNLIMITED_FROM else value


def _as_sys_path(path, sys_path):
    """A path under sys_path as /sys/..., whatever sys_path is (evidence paths read the same everywhere)."""
    relative = os.path.relpath(path, sys_path)
    return path if relative.startswith("..") else "/sys/" + relative


def read_cgroup(proc_path, sys_path):
    """{version, path, memory_max_bytes, memory_max_file}: the tightest memory limit from this
    process's cgroup up to the top of the hierarchy visible here (memory.max on v2, "max" = none;
    memory.limit_in_bytes on v1, >= 2**62 = none). null when there is no limit or no cgroup.

    The cgroup path is mapped into the mount through the mount's root (a container without a
    cgroup namespace sees its own cgroup bind-mounted at /sys/fs/cgroup). The kernel charges socket
    memory to the memory cgroup, so memory_max_bytes bounds what TCP can use here.
    """
    version, path = _cgroup_membership(proc_path)
    result = {"version": version, "path": path, "memory_max_bytes": None, "memory_max_file": None}
    if version is None:
        return result
    root, mount_dir = _cgroup_mount(proc_path, sys_path, version)
    if mount_dir is None:
        return result
    relative = path
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        relative = path[len(root):]
    if "/.." in "/" + relative:  # outside our cgroup namespace: only the mount's top is known
        relative = ""
    parts = [part for part in relative.split("/") if part]
    for depth in range(len(parts), -1, -1):
        directory = os.path.join(mount_dir, *parts[:depth])
        limit = _memory_limit(directory, version)
        if limit and (result["memory_max_bytes"] is None or limit < result["memory_max_bytes"]):
            result["memory_max_bytes"] = limit
            result["memory_max_file"] = _as_sys_path(
                os.path.join(directory, "memory.max" if version == 2 else "memory.limit_in_bytes"), sys_path)
    return result


def read_sysctls(proc_path, kernel, init_netns):
    """Every catalogue key -> (values, writable, unavailable) as in the facts shape."""
    values = {}
    writable = {}
    unavailable = {}
    for name in catalogue.ordered(catalogue.CATALOGUE):
        key = catalogue.get(name)
        path = os.path.join(proc_path, "sys", catalogue.proc_relpath(name))
        expected = catalogue.absent_reason(key, kernel, init_netns)
        text = read_file(path)
        if text is None:
            if os.path.exists(path):
                unavailable[name] = "unreadable here (permission denied)"
            else:
                unavailable[name] = expected or "absent on this kernel (module not loaded?)"
            continue
        try:
            values[name] = catalogue_values.parse_value(key, text)
        except ValueError:
            unavailable[name] = "unparseable value %r" % text.strip()
            continue
        writable[name] = is_writable(path) and expected is None
        if expected and is_writable(path):
            # fs.* in a privileged container: writable, but a write changes the whole host.
            unavailable[name] = expected + " (writable here, but a write would change the host)"
        elif not writable[name]:
            unavailable[name] = expected or "read-only here (/proc/sys mounted read-only?)"
    return values, writable, unavailable


def read_files(proc_path):
    """fs.file-nr (allocated, unused, max) and fs.nr_open."""
    parts = (read_file(os.path.join(proc_path, "sys/fs/file-nr")) or "").split()
    numbers = [int(part) for part in parts if part.isdigit()]
    return {
        "allocated": numbers[0] if len(numbers) == 3 else None,
        "max": numbers[2] if len(numbers) == 3 else None,
        "nr_open": read_int(os.path.join(proc_path, "sys/fs/nr_open")),
    }


def _limit(text):
    return UNLIMITED if text == "unlimited" else int(text)


def read_pid_nofile(proc_path, pid):
    """{soft, hard, open} of a PID from /proc/PID/limits and /proc/PID/fd, or None if it is gone."""
    text = read_file(os.path.join(proc_path, str(pid), "limits"))
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("Max open files"):
            parts = line[len("Max open files"):].split()
            try:
                opened = len(os.listdir(os.path.join(proc_path, str(pid), "fd")))
            except OSError:
                opened = None
            return {"soft": _limit(parts[0]), "hard": _limit(parts[1]), "open": opened}
    return None


def self_nofile():
    import resource  # noqa: local import keeps the module import set small

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return {"soft": UNLIMITED if soft == infinity else soft, "hard": UNLIMITED if hard == infinity else hard}


def _pids(proc_path):
    try:
        return [int(entry) for entry in os.listdir(proc_path) if entry.isdigit()]
    except OSError:
        return []


def _ppid(proc_path, pid):
    for line in (read_file(os.path.join(proc_path, str(pid), "status")) or "").splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return None


def find_service_pid(proc_path, name):
    """The main PID of a systemd service, read from /proc only (no systemctl, no shell).

    1. processes whose /proc/PID/cgroup names ``<name>.service``;
    2. else processes whose /proc/PID/comm is ``name`` (comm is cut to 15 characters).
    Of those, the one whose parent is not in the set (the top of the tree), lowest PID first.
    """
    unit = "/" + (name if name.endswith(".service") else name + ".service")
    short = name[:-len(".service")] if name.endswith(".service") else name
    by_cgroup = []
    by_comm = []
    for pid in _pids(proc_path):
        cgroup = read_file(os.path.join(proc_path, str(pid), "cgroup")) or ""
        if any(line.endswith(unit) or (unit + "/") in line for line in cgroup.splitlines()):
            by_cgroup.append(pid)
        elif (read_file(os.path.join(proc_path, str(pid), "comm")) or "").strip() == short[:15]:
            by_comm.append(pid)
    members = sorted(by_cgroup or by_comm)
    for pid in members:
        if _ppid(proc_path, pid) not in members:
            return pid
    return members[0] if members else None


def read_conntrack(proc_path):
    """nf_conntrack count, max, buckets and the per-CPU drop counters (hex, summed by header)."""
    base = os.path.join(proc_path, "sys/net/netfilter")
    count = read_int(os.path.join(base, "nf_conntrack_count"))
    result = {"available": count is not None, "count": count,
              "max": read_int(os.path.join(base, "nf_conntrack_max")),
              "buckets": read_int(os.path.join(base, "nf_conntrack_buckets")),
              "drop": None, "early_drop": None, "insert_failed": None}
    lines = (read_file(os.path.join(proc_path, "net/stat/nf_conntrack")) or "").splitlines()
    if lines:
        header = lines[0].split()
        for column in ("drop", "early_drop", "insert_failed"):
            if column in header:
                index = header.index(column)
                result[column] = sum(int(row.split()[index], 16) for row in lines[1:] if row.strip())
    return result


def read_softnet(proc_path):
    """softnet_stat: hex columns processed, dropped, time_squeeze per CPU (column 13 is the CPU id on 5.x+)."""
    per_cpu = []
    for index, line in enumerate((read_file(os.path.join(proc_path, "net/softnet_stat")) or "").splitlines()):
        columns = line.split()
        if len(columns) < 3:
            continue
        cpu = int(columns[12], 16) if len(columns) >= 13 else index
        per_cpu.append({"cpu": cpu, "processed": int(columns[0], 16), "dropped": int(columns[1], 16),
                        "time_squeeze": int(columns[2], 16)})
    return {
        "processed": sum(row["processed"] for row in per_cpu),
        "dropped": sum(row["dropped"] for row in per_cpu),
        "time_squeeze": sum(row["time_squeeze"] for row in per_cpu),
        "per_cpu": per_cpu,
    }


def _interface_is_virtual(path):
    if os.path.islink(path):
        return "/devices/virtual/" in os.readlink(path)
    return not os.path.exists(os.path.join(path, "device"))


def live_qdiscs(sys_path):
    """{interface name: {"qdisc", "qdisc_leaves"}} from this network namespace's RTM_GETQDISC dump.

    Empty for a sys root other than the real /sys, or when the dump is refused. The dump names
    interfaces by index, which is mapped to names in this netns (if_nameindex); /sys/class/net is
    joined by name, since a /sys mounted in another netns (``unshare --net`` without a new
    mount) lists that netns' interfaces.
    """
    from ansible_collections.tcptune.linux.plugins.module_utils import sockdiag

    if os.path.realpath(sys_path) != "/sys":
        return {}
    try:
        by_index = sockdiag.read_qdiscs()
        names = sockdiag.interface_names()
    except (OSError, ValueError):
        return {}
    return dict((names[index], entry) for index, entry in by_index.items() if index in names)


def read_interfaces(sys_path, qdiscs=None):
    """/sys/class/net/*: txqueuelen, mtu, speed, duplex, operstate, carrier, admin_up, virtual, and
    the root qdisc with the leaves of an mq/mqprio root from ``qdiscs`` (default: live_qdiscs()).
    """
    base = os.path.join(sys_path, "class/net")
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return {}
    if qdiscs is None:
        qdiscs = live_qdiscs(sys_path)
    interfaces = {}
    for name in names:
        path = os.path.join(base, name)
        speed = read_int(os.path.join(path, "speed"))
        flags = (read_file(os.path.join(path, "flags")) or "").strip()
        qdisc = qdiscs.get(name) or {}
        interfaces[name] = {
            "txqueuelen": read_int(os.path.join(path, "tx_queue_len")),
            "mtu": read_int(os.path.join(path, "mtu")),
            "speed_mbps": speed if speed is not None and speed > 0 else None,
            "duplex": (read_file(os.path.join(path, "duplex")) or "").strip() or None,
            "operstate": (read_file(os.path.join(path, "operstate")) or "").strip() or None,
            "carrier": read_int(os.path.join(path, "carrier")),
            "admin_up": bool(int(flags, 16) & 1) if flags else None,
            "virtual": _interface_is_virtual(path),
            "qdisc": qdisc.get("qdisc"),
            "qdisc_leaves": list(qdisc.get("qdisc_leaves") or []),
        }
    return interfaces


def hashed_tcp_sockets(sockstat):
    """sockstat TCP inuse + TCP6 inuse: the full TCP sockets in the hash tables, or None."""
    inuse = sockstat["tcp"].get("inuse")
    if inuse is None:
        return None
    return inuse + (sockstat["tcp6"].get("inuse") or 0)


def read_sockets(proc_path, enabled, port_range, listeners_max, hashed=None, timewait=None):
    """Socket counts over netlink when proc_path is this process's own /proc, else from its net/tcp{,6}.

    ``hashed`` (hashed_tcp_sockets) and ``timewait`` (sockstat tw) spare netlink the bulk states.
    """
    from ansible_collections.tcptune.linux.plugins.module_utils import sockdiag

    if not enabled:
        return sockdiag.empty_summary("disabled")
    if os.path.realpath(proc_path) == "/proc":
        try:
            return sockdiag.summarize_netlink(port_range, listeners_max, hashed, timewait)
        except (OSError, ValueError):
            pass
    return sockdiag.summarize_proc(proc_path, port_range, listeners_max)


def _rated(proc_path):
    """The counters sampled for rates: snmp/netstat plus softnet and conntrack drops."""
    counters, _sources = read_counters(proc_path)
    softnet = read_softnet(proc_path)
    conntrack = read_conntrack(proc_path)
    counters["softnet.dropped"] = softnet["dropped"]
    counters["softnet.time_squeeze"] = softnet["time_squeeze"]
    for name in ("drop", "early_drop", "insert_failed"):
        if conntrack[name] is not None:
            counters["conntrack." + name] = conntrack[name]
    return counters


def gather(proc_path="/proc", sys_path="/sys", sample_seconds=0.0, sockets=True, pids=(), services=(),
           listeners_max=100, page_size=None, root_path=None):
    """Everything ``ansible_facts.tcp`` holds (docs/internals.md), findings included."""
    from ansible_collections.tcptune.linux.plugins.module_utils import diagnosis_rules

    kernel = read_kernel(proc_path, sys_path, page_size)
    namespace = detect_namespace(proc_path, root_path)
    version = tuple(kernel["version"])
    sysctl, sysctl_writable, sysctl_unavailable = read_sysctls(proc_path, version, namespace["init_netns"])
    rates = {}
    if sample_seconds and sample_seconds > 0:
        before = _rated(proc_path)
        started = time.monotonic()
        time.sleep(sample_seconds)
        after = _rated(proc_path)
        elapsed = max(time.monotonic() - started, 1e-6)
        rates = dict((name, (after[name] - before[name]) / elapsed) for name in after if name in before)
    counters, _sources = read_counters(proc_path)
    sockstat = read_sockstat(proc_path, kernel["page_size"])
    port_range = sysctl.get("net.ipv4.ip_local_port_range") or [32768, 60999]
    # Right after sockstat: the dump's counts are subtracted from its inuse, so keep the gap short.
    sockets_summary = read_sockets(proc_path, sockets, port_range, listeners_max, hashed_tcp_sockets(sockstat),
                                   sockstat["tcp"].get("tw"))
    nofile_pids = {}
    for pid in pids or ():
        nofile_pids[str(pid)] = read_pid_nofile(proc_path, pid)
    nofile_services = {}
    for name in services or ():
        pid = find_service_pid(proc_path, name)
        entry = read_pid_nofile(proc_path, pid) if pid is not None else None
        nofile_services[name] = dict(entry, pid=pid) if entry else {"soft": None, "hard": None, "open": None,
                                                                    "pid": None}
    facts = {
        "kernel": kernel,
        "namespace": namespace,
        "sysctl": sysctl,
        "sysctl_writable": sysctl_writable,
        "sysctl_unavailable": sysctl_unavailable,
        "counters": counters,
        "rates": rates,
        "sample_seconds": float(sample_seconds or 0),
        "sockstat": sockstat,
        "files": read_files(proc_path),
        "nofile": {"self": self_nofile(), "pids": nofile_pids, "services": nofile_services},
        "conntrack": read_conntrack(proc_path),
        "softnet": read_softnet(proc_path),
        "interfaces": read_interfaces(sys_path),
        "cgroup": read_cgroup(proc_path, sys_path),
        "sockets": sockets_summary,
    }
    facts["findings"] = diagnosis_rules.diagnose(facts)
    return facts
