# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textfile collector's series: every metric it can write, and the (metric, labels, value) samples of one
run from the facts, the findings, the counters and the drift; pure.

The series are bounded: one per finding id, per counter, per limit and use gauge, per TCP state, per
catalogue key our sysctl.d file persists, and four about the collector (``max_series()``; the list is
in docs/monitoring.md). Nothing is labelled by a listener, a process, an address or a port.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, diagnosis, sockdiag, sysctld

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

Metric = namedtuple("Metric", "name kind help")

FINDING_METRIC = Metric(
    "tcptune_finding", "gauge",
    "1 while tcp_facts' finding is present, labelled with its severity; 0 with severity=none while it is not. "
    "Counter findings are judged on rates over the time since the previous run.")
# The counters behind the findings: (name in the facts' counters, metric, finding).
COUNTERS = (
    ("TcpExt.ListenOverflows", "tcptune_tcp_listen_overflows_total", "listen_queue_overflow"),
    ("TcpExt.ListenDrops", "tcptune_tcp_listen_drops_total", "listen_queue_overflow"),
    ("TcpExt.SyncookiesSent", "tcptune_tcp_syncookies_sent_total", "syn_queue_pressure"),
    ("TcpExt.TCPReqQFullDrop", "tcptune_tcp_request_queue_full_drops_total", "syn_queue_pressure"),
    ("TcpExt.TCPMemoryPressures", "tcptune_tcp_memory_pressures_total", "tcp_memory_pressure"),
    ("TcpExt.TCPAbortOnMemory", "tcptune_tcp_aborts_on_memory_total", "tcp_memory_pressure"),
    ("TcpExt.TCPAbortFailed", "tcptune_tcp_rst_send_failures_total", "rst_send_failed"),
    ("TcpExt.TCPTimeWaitOverflow", "tcptune_tcp_time_wait_overflows_total", "time_wait_overflow"),
    ("conntrack.drop", "tcptune_nf_conntrack_drops_total", "conntrack_pressure"),
    ("conntrack.early_drop", "tcptune_nf_conntrack_early_drops_total", "conntrack_pressure"),
    ("conntrack.insert_failed", "tcptune_nf_conntrack_insert_failed_total", "conntrack_pressure"),
    ("softnet.dropped", "tcptune_softnet_dropped_total", "backlog_drops"),
    ("softnet.time_squeeze", "tcptune_softnet_time_squeezed_total", "backlog_drops"),
    ("Tcp.RetransSegs", "tcptune_tcp_retransmitted_segments_total", "retransmission_rate"),
    ("Tcp.OutSegs", "tcptune_tcp_sent_segments_total", "retransmission_rate"),
)


def _sysctl(facts, name, index=None):
    value = (facts.get("sysctl") or {}).get(name)
    if value is None or index is None:
        return value
    return value[index] if len(value) > index else None


def _pages(facts, name, index):
    pages = _sysctl(facts, name, index)
    return None if pages is None else pages * (facts.get("kernel") or {}).get("page_size", 4096)


def _port_range_size(facts):
    port_range = _sysctl(facts, "net.ipv4.ip_local_port_range")
    return None if not port_range else port_range[1] - port_range[0] + 1


def _sockets_read(facts):
    return (facts.get("sockets") or {}).get("source") in ("netlink", "proc")


def _conntrack(facts, name):
    conntrack = facts.get("conntrack") or {}
    return conntrack.get(name) if conntrack.get("available") else None


# Limits in force and their use: (metric, getter of the value from the facts; None = no series).
GAUGES = (
    (Metric("tcptune_tcp_mem_pressure_bytes", "gauge",
            "net.ipv4.tcp_mem[1] in bytes: above it TCP prunes buffers (memory pressure)."),
     lambda facts: _pages(facts, "net.ipv4.tcp_mem", 1)),
    (Metric("tcptune_tcp_mem_max_bytes", "gauge",
            "net.ipv4.tcp_mem[2] in bytes: above it TCP aborts connections (TCPAbortOnMemory)."),
     lambda facts: _pages(facts, "net.ipv4.tcp_mem", 2)),
    (Metric("tcptune_tcp_memory_bytes", "gauge", "Memory TCP sockets hold (/proc/net/sockstat TCP mem), in bytes."),
     lambda facts: ((facts.get("sockstat") or {}).get("tcp") or {}).get("mem_bytes")),
    (Metric("tcptune_somaxconn", "gauge", "net.core.somaxconn: the largest accept queue a listen() gets."),
     lambda facts: _sysctl(facts, "net.core.somaxconn")),
    (Metric("tcptune_tcp_max_syn_backlog", "gauge", "net.ipv4.tcp_max_syn_backlog: half-open connections per listener."),
     lambda facts: _sysctl(facts, "net.ipv4.tcp_max_syn_backlog")),
    (Metric("tcptune_ip_local_port_range_ports", "gauge", "Ports in net.ipv4.ip_local_port_range (high - low + 1)."),
     _port_range_size),
    (Metric("tcptune_ephemeral_ports_in_use", "gauge",
            "Distinct local ports of ip_local_port_range that TCP sockets hold (a lower bound of the pressure on one "
            "destination)."),
     lambda facts: (facts["sockets"].get("local_ports_in_ephemeral_range") if _sockets_read(facts) else None)),
    (Metric("tcptune_nf_conntrack_max", "gauge", "net.netfilter.nf_conntrack_max (only while nf_conntrack is loaded)."),
     lambda facts: _conntrack(facts, "max")),
    (Metric("tcptune_nf_conntrack_entries", "gauge", "Connection tracking entries (nf_conntrack_count)."),
     lambda facts: _conntrack(facts, "count")),
    (Metric("tcptune_fs_nr_open", "gauge", "fs.nr_open: the highest RLIMIT_NOFILE a process may get."),
     lambda facts: (facts.get("files") or {}).get("nr_open")),
    (Metric("tcptune_fs_file_max", "gauge", "fs.file-max: the system-wide file table size."),
     lambda facts: (facts.get("files") or {}).get("max")),
    (Metric("tcptune_fs_files_allocated", "gauge", "Allocated file handles (fs.file-nr, first field)."),
     lambda facts: (facts.get("files") or {}).get("allocated")),
    (Metric("tcptune_tcp_max_orphans", "gauge", "net.ipv4.tcp_max_orphans: orphaned sockets before they are reset."),
     lambda facts: _sysctl(facts, "net.ipv4.tcp_max_orphans")),
    (Metric("tcptune_tcp_orphan_sockets", "gauge", "Orphaned TCP sockets (/proc/net/sockstat TCP orphan)."),
     lambda facts: ((facts.get("sockstat") or {}).get("tcp") or {}).get("orphan")),
    (Metric("tcptune_tcp_max_tw_buckets", "gauge", "net.ipv4.tcp_max_tw_buckets: TIME_WAIT sockets before overflow."),
     lambda facts: _sysctl(facts, "net.ipv4.tcp_max_tw_buckets")),
    (Metric("tcptune_tcp_time_wait_sockets", "gauge", "TIME_WAIT sockets (/proc/net/sockstat TCP tw)."),
     lambda facts: ((facts.get("sockstat") or {}).get("tcp") or {}).get("tw")),
)
STATE_METRIC = Metric("tcptune_tcp_sockets", "gauge",
                      "TCP sockets of this network namespace by state (netlink sock_diag, like ss -tan).")
STATES = sockdiag.STATE_NAMES[1:]
DRIFT_METRIC = Metric("tcptune_sysctl_drift", "gauge",
                      "1 when the live value of a key our sysctl.d file persists differs from the file (changed by "
                      "hand, or another file won at boot); 0 when they agree.")
COLLECTOR = (
    Metric("tcptune_collector_last_success_timestamp_seconds", "gauge",
           "When the collector last wrote this file (Unix time)."),
    Metric("tcptune_collector_duration_seconds", "gauge", "How long the collector's last run took."),
    Metric("tcptune_collector_interval_seconds", "gauge", "How often the collector runs (tcp_tuning_monitor_interval)."),
    Metric("tcptune_collector_rate_window_seconds", "gauge",
           "The window the counter findings' rates cover: the time since the previous run, or the first run's sample."),
)


def max_series():
    # type: () -> int
    """The most series one host's textfile can hold (docs/monitoring.md states it)."""
    return (len(diagnosis.FINDING_IDS) + len(COUNTERS) + len(GAUGES) + len(STATES) + len(catalogue.CATALOGUE)
            + len(COLLECTOR))


def metric_names():
    # type: () -> List[str]
    """Every metric name the collector can write."""
    return ([FINDING_METRIC.name] + [name for _key, name, _finding in COUNTERS] + [metric.name for metric, _get in GAUGES]
            + [STATE_METRIC.name, DRIFT_METRIC.name] + [metric.name for metric in COLLECTOR])


def drift(persisted_text, live):
    # type: (Optional[str], Dict[str, Any]) -> Dict[str, int]
    """{key: 1 or 0} for every catalogue key our sysctl.d file sets whose live value is known: 1 where
    sysctld.drifted finds the live value different from the file."""
    differs = sysctld.drifted(persisted_text, live)
    return dict((name, int(name in differs)) for name in sysctld.parse_sysctl_file(persisted_text or "")
                if name in catalogue.CATALOGUE and live.get(name) is not None)


def series(facts, findings, counters, drifted, collector):
    # type: (Dict[str, Any], List[Dict[str, Any]], Dict[str, int], Dict[str, int], Dict[str, float]) -> List[Tuple[Metric, Dict[str, str], float]]
    """(metric, labels, value) for one run; pure. ``counters`` are the totals read for rates
    (host_facts.rated_counters), ``drifted`` is drift()'s, ``collector`` holds the COLLECTOR values by name."""
    found = dict((finding["id"], finding["severity"]) for finding in findings)
    out = []
    for finding_id in diagnosis.FINDING_IDS:
        out.append((FINDING_METRIC, {"finding": finding_id, "severity": found.get(finding_id, "none")},
                    1 if finding_id in found else 0))
    for key, name, finding_id in COUNTERS:
        if counters.get(key) is not None:
            text = "%s (%s), behind the finding %s." % (key, diagnosis.counter_source(key), finding_id)
            out.append((Metric(name, "counter", text), {}, counters[key]))
    for metric, get in GAUGES:
        value = get(facts)
        if value is not None:
            out.append((metric, {}, value))
    if _sockets_read(facts):
        states = facts["sockets"].get("states") or {}
        for state in STATES:
            out.append((STATE_METRIC, {"state": state}, states.get(state, 0)))
    for key in sorted(drifted):
        out.append((DRIFT_METRIC, {"key": key}, drifted[key]))
    for metric in COLLECTOR:
        if collector.get(metric.name) is not None:
            out.append((metric, {}, collector[metric.name]))
    return out
