# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readers of a proc root: counters, sockstat, meminfo, the kernel, the catalogue's sysctls, file
handles, conntrack, softnet_stat and the socket counts.

Every reader takes the root as an argument so unit tests run on fixture trees and a host can
inspect another /proc. Evidence paths are reported as ``/proc/...`` whatever the real root is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values, kernel_release, sockdiag
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file
from ansible_collections.tcptune.linux.plugins.module_utils.host_detect import is_writable

SNMP_FILES = ("net/snmp", "net/netstat")


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
    if not enabled:
        return sockdiag.empty_summary("disabled")
    if os.path.realpath(proc_path) == "/proc":
        try:
            return sockdiag.summarize_netlink(port_range, listeners_max, hashed, timewait)
        except (OSError, ValueError):
            pass
    return sockdiag.summarize_proc(proc_path, port_range, listeners_max)
