# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``gather()``: everything ``ansible_facts.tcp`` holds, assembled once from the readers, with the
findings the diagnosis draws from it.

Nothing here imports ansible: the tcp_facts and tcp_tune modules, the collector and the bench CLI
call ``gather()`` directly, and a small import set keeps a whole process cheap.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.tcptune.linux.plugins.module_utils import diagnosis_rules
from ansible_collections.tcptune.linux.plugins.module_utils.host_detect import detect_namespace, read_cgroup
from ansible_collections.tcptune.linux.plugins.module_utils.interfaces import read_interfaces
from ansible_collections.tcptune.linux.plugins.module_utils.procfs import (
    hashed_tcp_sockets, read_conntrack, read_counters, read_files, read_kernel, read_sockets, read_sockstat,
    read_softnet, read_sysctls)
from ansible_collections.tcptune.linux.plugins.module_utils.services import find_service_pid, read_pid_nofile, self_nofile


def rated_counters(proc_path):
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
           listeners_max=100, page_size=None, root_path=None, namespace=None):
    """Everything ``ansible_facts.tcp`` holds (docs/internals.md), findings included. ``namespace``:
    detect_namespace's result when the caller has read it already."""
    kernel = read_kernel(proc_path, sys_path, page_size)
    namespace = namespace or detect_namespace(proc_path, root_path)
    version = tuple(kernel["version"])
    sysctl, sysctl_writable, sysctl_unavailable = read_sysctls(proc_path, version, namespace["init_netns"])
    rates = {}
    if sample_seconds and sample_seconds > 0:
        before = rated_counters(proc_path)
        started = time.monotonic()
        time.sleep(sample_seconds)
        after = rated_counters(proc_path)
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
