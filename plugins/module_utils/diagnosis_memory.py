# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings about socket memory: TCP's memory budget (tcp_mem), reset packets the kernel could not allocate,
orphaned sockets and the buffer caps applications may set.

Each function takes the facts and their Counters and returns a finding or None; the thresholds are
diagnosis.py's, the order of the findings diagnosis_rules.RULES'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import (
    TCP_MEMORY_PRESSURES_TOTAL_WARNING, TCP_MEMORY_PRESSURES_RATE_WARNING, TCP_ABORT_ON_MEMORY_TOTAL_CRITICAL,
    TCP_ABORT_ON_MEMORY_RATE_CRITICAL, TCP_MEM_PRESSURE_FRACTION_WARNING, TCP_MEM_MAX_FRACTION_CRITICAL,
    RST_FAILED_TOTAL_WARNING, RST_FAILED_TOTAL_CRITICAL, RST_FAILED_RATE_WARNING, RST_FAILED_RATE_CRITICAL,
    ORPHAN_FRACTION_WARNING, ORPHAN_FRACTION_CRITICAL, BUFFER_CAP_RATIO_INFO)
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis_evidence import (
    Evidence, fraction_of, make_finding, sysctl_evidence, worst_severity)


def tcp_memory_pressure(facts, counters):
    evidence = Evidence()
    pressures = counters.value("TcpExt.TCPMemoryPressures", evidence)
    aborts = counters.value("TcpExt.TCPAbortOnMemory", evidence)
    severity = worst_severity(
        counters.level(pressures, (TCP_MEMORY_PRESSURES_TOTAL_WARNING, None), (TCP_MEMORY_PRESSURES_RATE_WARNING, None)),
        counters.level(aborts, (None, TCP_ABORT_ON_MEMORY_TOTAL_CRITICAL), (None, TCP_ABORT_ON_MEMORY_RATE_CRITICAL)))
    mem_pages = ((facts.get("sockstat") or {}).get("tcp") or {}).get("mem_pages")
    tcp_mem = (facts.get("sysctl") or {}).get("net.ipv4.tcp_mem")
    if mem_pages is not None and tcp_mem:
        if mem_pages >= TCP_MEM_MAX_FRACTION_CRITICAL * tcp_mem[2]:
            severity = worst_severity(severity, "critical")
        elif mem_pages >= TCP_MEM_PRESSURE_FRACTION_WARNING * tcp_mem[1]:
            severity = worst_severity(severity, "warning")
    if not severity:
        return None
    if mem_pages is not None:
        evidence.add("sockstat.tcp.mem_pages", mem_pages, "/proc/net/sockstat")
    sysctl_evidence(facts, "net.ipv4.tcp_mem", evidence)
    return make_finding(
        "tcp_memory_pressure", severity,
        "TCP ran short of its memory budget (tcp_mem, in pages): %s pressure episodes and %s connections "
        "aborted for memory %s." % (counters.amount(pressures), counters.amount(aborts), counters.basis()),
        evidence,
        "Raise net.ipv4.tcp_mem (pressure and max, in pages) if RAM allows, or lower the maximum of "
        "net.ipv4.tcp_rmem / net.ipv4.tcp_wmem so each socket holds less. On the application side read "
        "sockets promptly, avoid large fixed SO_SNDBUF/SO_RCVBUF, and close idle connections.")


def rst_send_failed(facts, counters):
    evidence = Evidence()
    failed = counters.value("TcpExt.TCPAbortFailed", evidence)
    severity = counters.level(failed, (RST_FAILED_TOTAL_WARNING, RST_FAILED_TOTAL_CRITICAL),
                              (RST_FAILED_RATE_WARNING, RST_FAILED_RATE_CRITICAL))
    if not severity:
        return None
    available = (facts.get("kernel") or {}).get("mem_available_bytes")
    if available is not None:
        evidence.add("MemAvailable_bytes", available, "/proc/meminfo")
    sysctl_evidence(facts, "net.ipv4.tcp_mem", evidence)
    return make_finding(
        "rst_send_failed", severity,
        "The kernel could not allocate a reset packet (netstat -s: \"times unable to send RST due to no "
        "memory\"): %s %s. Peers keep half-dead connections and see random disconnects."
        % (counters.amount(failed), counters.basis()),
        evidence,
        "This is a real allocation failure, not the tcp_mem limit: check the host's free memory "
        "(MemAvailable, vm.min_free_kbytes) and bound socket memory with net.ipv4.tcp_mem, "
        "net.ipv4.tcp_rmem and net.ipv4.tcp_wmem so sockets cannot exhaust RAM. On the application side "
        "close connections gracefully (shutdown, read to EOF) instead of aborting them (SO_LINGER 0), and "
        "hold fewer idle connections.")


def orphan_pressure(facts, counters):
    evidence = Evidence()
    orphans = ((facts.get("sockstat") or {}).get("tcp") or {}).get("orphan")
    max_orphans = (facts.get("sysctl") or {}).get("net.ipv4.tcp_max_orphans")
    fraction = fraction_of(orphans, max_orphans)
    if fraction is None or fraction < ORPHAN_FRACTION_WARNING:
        return None
    evidence.add("sockstat.tcp.orphan", orphans, "/proc/net/sockstat")
    sysctl_evidence(facts, "net.ipv4.tcp_max_orphans", evidence)
    sysctl_evidence(facts, "net.ipv4.tcp_fin_timeout", evidence)
    severity = "critical" if fraction >= ORPHAN_FRACTION_CRITICAL else "warning"
    return make_finding(
        "orphan_pressure", severity,
        "%d orphaned sockets (closed by the application, not yet by the peer) are %.0f%% of "
        "tcp_max_orphans. When an orphan's timer fires the kernel counts orphans twice over if its peer "
        "has been silent for 4 minutes, and four times over if a soft ICMP error came too, so such "
        "orphans are reset (\"too many orphaned sockets\") from half or a quarter of the limit."
        % (orphans, 100 * fraction),
        evidence,
        "Raise net.ipv4.tcp_max_orphans (each orphan may hold up to about 64 KB) and lower "
        "net.ipv4.tcp_fin_timeout (for example 15). On the application side close connections after "
        "the peer has read the data, and time out slow clients instead of leaving unsent data behind.")


def buffer_cap_low(facts, counters):
    evidence = Evidence()
    sysctl = facts.get("sysctl") or {}
    ratios = []
    for cap, auto in (("net.core.rmem_max", "net.ipv4.tcp_rmem"), ("net.core.wmem_max", "net.ipv4.tcp_wmem")):
        if sysctl.get(cap) and sysctl.get(auto) and sysctl[auto][2] >= BUFFER_CAP_RATIO_INFO * sysctl[cap]:
            sysctl_evidence(facts, cap, evidence)
            sysctl_evidence(facts, auto, evidence)
            ratios.append("%s is %d times %s" % (auto + "[2]", sysctl[auto][2] // sysctl[cap], cap))
    if not ratios:
        return None
    return make_finding(
        "buffer_cap_low", "info",
        "Applications that set SO_RCVBUF/SO_SNDBUF are capped far below what autotuning allows: %s."
        % "; ".join(ratios),
        evidence,
        "Raise net.core.rmem_max / net.core.wmem_max towards the maximum of net.ipv4.tcp_rmem / "
        "net.ipv4.tcp_wmem if applications set their buffers. On the application side prefer not to set "
        "SO_RCVBUF/SO_SNDBUF at all: a fixed size turns autotuning off.")
