# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings about TIME_WAIT and local ports: the TIME_WAIT table, the ephemeral port range and tcp_tw_recycle.

Each function takes the facts and their Counters and returns a finding or None; the thresholds are
diagnosis.py's, the order of the findings diagnosis_rules.RULES'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import (
    TIME_WAIT_OVERFLOW_TOTAL_WARNING, TIME_WAIT_OVERFLOW_TOTAL_CRITICAL, TIME_WAIT_OVERFLOW_RATE_WARNING,
    TIME_WAIT_OVERFLOW_RATE_CRITICAL, TIME_WAIT_FRACTION_WARNING, EPHEMERAL_PORTS_FRACTION_WARNING,
    EPHEMERAL_PORTS_FRACTION_CRITICAL, TW_RECYCLE_REMOVED_IN)
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis_evidence import (
    Evidence, fraction_of, make_finding, sysctl_evidence, worst_severity)


def time_wait_overflow(facts, counters):
    evidence = Evidence()
    overflows = counters.value("TcpExt.TCPTimeWaitOverflow", evidence)
    severity = counters.level(overflows, (TIME_WAIT_OVERFLOW_TOTAL_WARNING, TIME_WAIT_OVERFLOW_TOTAL_CRITICAL),
                              (TIME_WAIT_OVERFLOW_RATE_WARNING, TIME_WAIT_OVERFLOW_RATE_CRITICAL))
    tw = ((facts.get("sockstat") or {}).get("tcp") or {}).get("tw")
    buckets = (facts.get("sysctl") or {}).get("net.ipv4.tcp_max_tw_buckets")
    fraction = fraction_of(tw, buckets)
    if fraction is not None and fraction >= TIME_WAIT_FRACTION_WARNING:
        severity = worst_severity(severity, "warning")
    if not severity:
        return None
    if tw is not None:
        evidence.add("sockstat.tcp.tw", tw, "/proc/net/sockstat")
    sysctl_evidence(facts, "net.ipv4.tcp_max_tw_buckets", evidence)
    return make_finding(
        "time_wait_overflow", severity,
        "The TIME_WAIT table overflowed (kernel log: \"time wait bucket table overflow\"): %s sockets "
        "skipped TIME_WAIT %s." % (counters.amount(overflows), counters.basis()),
        evidence,
        "Raise net.ipv4.tcp_max_tw_buckets (a TIME_WAIT socket costs about 256 bytes) and, for outgoing "
        "connections, set net.ipv4.tcp_tw_reuse=1. TIME_WAIT itself always lasts 60 s. On the "
        "application side reuse connections (keep-alive, pools) and let clients close first.")


def ephemeral_port_pressure(facts, counters):
    evidence = Evidence()
    sockets = facts.get("sockets") or {}
    if sockets.get("source") in (None, "disabled", "unavailable"):
        return None
    port_range = (facts.get("sysctl") or {}).get("net.ipv4.ip_local_port_range") or [32768, 60999]
    in_use = sockets.get("local_ports_in_ephemeral_range") or 0
    fraction = fraction_of(in_use, port_range[1] - port_range[0] + 1)
    if fraction is None or fraction < EPHEMERAL_PORTS_FRACTION_WARNING:
        return None
    evidence.add("sockets.local_ports_in_ephemeral_range", in_use, "NETLINK_SOCK_DIAG or /proc/net/tcp")
    evidence.add("sockets.states.TIME_WAIT", (sockets.get("states") or {}).get("TIME_WAIT"),
                 "NETLINK_SOCK_DIAG or /proc/net/tcp")
    sysctl_evidence(facts, "net.ipv4.ip_local_port_range", evidence)
    sysctl_evidence(facts, "net.ipv4.tcp_tw_reuse", evidence)
    severity = "critical" if fraction >= EPHEMERAL_PORTS_FRACTION_CRITICAL else "warning"
    return make_finding(
        "ephemeral_port_pressure", severity,
        "%d distinct local ports of the ephemeral range (%.0f%%) are held by sockets; connect() slows "
        "down and then fails with EADDRNOTAVAIL for a destination once its ports run out."
        % (in_use, 100 * fraction),
        evidence,
        "Widen net.ipv4.ip_local_port_range (for example 10240 65535, keeping listening ports out with "
        "net.ipv4.ip_local_reserved_ports) and set net.ipv4.tcp_tw_reuse=1. On the application side reuse "
        "connections (keep-alive, pools), set IP_BIND_ADDRESS_NO_PORT before bind(), or spread over more "
        "source addresses.")


def tw_recycle_enabled(facts, counters):
    version = tuple((facts.get("kernel") or {}).get("version") or (0, 0, 0))
    evidence = Evidence()
    if version >= TW_RECYCLE_REMOVED_IN or sysctl_evidence(facts, "net.ipv4.tcp_tw_recycle", evidence) != 1:
        return None
    return make_finding(
        "tw_recycle_enabled", "critical",
        "net.ipv4.tcp_tw_recycle is on (kernel %s): it drops connections from clients behind NAT and was "
        "removed in Linux 4.12." % ".".join(str(part) for part in version),
        evidence,
        "Set net.ipv4.tcp_tw_recycle=0; use net.ipv4.tcp_tw_reuse=1 for outgoing connections instead. On the "
        "application side reuse connections so fewer sockets reach TIME_WAIT.")
