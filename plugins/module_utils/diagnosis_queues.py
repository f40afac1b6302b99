# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings about queues on the way in and out: the listen and SYN queues, a listener's backlog, the per-CPU
input backlog, retransmissions and the link itself.

Each function takes the facts and their Counters and returns a finding or None; the thresholds are
diagnosis.py's, the order of the findings diagnosis_rules.RULES'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import (
    LISTEN_OVERFLOW_TOTAL_WARNING, LISTEN_OVERFLOW_TOTAL_CRITICAL, LISTEN_OVERFLOW_RATE_WARNING,
    LISTEN_OVERFLOW_RATE_CRITICAL, SYN_COOKIES_TOTAL_WARNING, SYN_COOKIES_RATE_WARNING,
    SYN_RECV_FRACTION_WARNING, BACKLOG_DROPS_TOTAL_WARNING, BACKLOG_DROPS_TOTAL_CRITICAL,
    BACKLOG_DROPS_RATE_WARNING, BACKLOG_DROPS_RATE_CRITICAL, TIME_SQUEEZE_TOTAL_INFO, TIME_SQUEEZE_RATE_INFO,
    RETRANS_MIN_OUT_SEGS, RETRANS_FRACTION_WARNING, RETRANS_FRACTION_CRITICAL, LISTENER_QUEUE_FRACTION_WARNING)
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis_evidence import (
    Evidence, fraction_of, make_finding, sysctl_evidence, worst_severity)


def listen_queue_overflow(facts, counters):
    evidence = Evidence()
    overflows = counters.value("TcpExt.ListenOverflows", evidence)
    drops = counters.value("TcpExt.ListenDrops", evidence)
    worst = max(overflows, drops)
    severity = counters.level(worst, (LISTEN_OVERFLOW_TOTAL_WARNING, LISTEN_OVERFLOW_TOTAL_CRITICAL),
                              (LISTEN_OVERFLOW_RATE_WARNING, LISTEN_OVERFLOW_RATE_CRITICAL))
    if not severity:
        return None
    sysctl_evidence(facts, "net.core.somaxconn", evidence)
    return make_finding(
        "listen_queue_overflow", severity,
        "Connections were dropped because a listen (accept) queue was full: %s overflows, %s drops %s."
        % (counters.amount(overflows), counters.amount(drops), counters.basis()),
        evidence,
        "Raise net.core.somaxconn (for example to 65535) and net.ipv4.tcp_max_syn_backlog. On the application "
        "side raise its listen() backlog (the kernel uses min(backlog, somaxconn); many servers default to "
        "128 or 511) and accept faster (more acceptor threads or workers).")


def syn_queue_pressure(facts, counters):
    evidence = Evidence()
    cookies = counters.value("TcpExt.SyncookiesSent", evidence)
    full_drop = counters.value("TcpExt.TCPReqQFullDrop", evidence)
    severity = counters.level(max(cookies, full_drop), (SYN_COOKIES_TOTAL_WARNING, None),
                              (SYN_COOKIES_RATE_WARNING, None))
    sockets = facts.get("sockets") or {}
    syn_recv = (sockets.get("states") or {}).get("SYN_RECV")
    syn_backlog = (facts.get("sysctl") or {}).get("net.ipv4.tcp_max_syn_backlog")
    fraction = fraction_of(syn_recv, syn_backlog)
    if fraction is not None and fraction >= SYN_RECV_FRACTION_WARNING:
        evidence.add("sockets.states.SYN_RECV", syn_recv, "NETLINK_SOCK_DIAG or /proc/net/tcp")
        severity = worst_severity(severity, "warning")
    if not severity:
        return None
    sysctl_evidence(facts, "net.ipv4.tcp_max_syn_backlog", evidence)
    sysctl_evidence(facts, "net.ipv4.tcp_syncookies", evidence)
    return make_finding(
        "syn_queue_pressure", severity,
        "SYN queues overflowed: %s syncookies sent, %s SYNs dropped with a full request queue %s."
        % (counters.amount(cookies), counters.amount(full_drop), counters.basis()),
        evidence,
        "Raise net.ipv4.tcp_max_syn_backlog and net.core.somaxconn, keep net.ipv4.tcp_syncookies=1, and "
        "lower net.ipv4.tcp_synack_retries if half-open connections pile up. On the application side "
        "use a larger listen() backlog; if the SYNs are a flood, filter them upstream.")


def listener_backlog_capped(facts, counters):
    sockets = facts.get("sockets") or {}
    somaxconn = (facts.get("sysctl") or {}).get("net.core.somaxconn")
    evidence = Evidence()
    severity = None
    for listener in sockets.get("listeners") or []:
        backlog = listener.get("backlog")
        queue = listener.get("queue") or 0
        label = "listener %s:%s" % (listener.get("address"), listener.get("port"))
        source = "NETLINK_SOCK_DIAG (ss -ltn Send-Q/Recv-Q)"
        level = None
        if backlog and fraction_of(queue, backlog) >= LISTENER_QUEUE_FRACTION_WARNING:
            level = "warning"
        elif backlog and somaxconn and backlog >= somaxconn:
            level = "info"
        if level:
            evidence.add(label + " backlog", backlog, source)
            evidence.add(label + " queue", queue, source)
            severity = worst_severity(severity, level)
    if not severity:
        return None
    if somaxconn is not None:
        sysctl_evidence(facts, "net.core.somaxconn", evidence)
    return make_finding(
        "listener_backlog_capped", severity,
        "A listener's backlog is capped by net.core.somaxconn, or its accept queue is (nearly) full.",
        evidence,
        "Raise net.core.somaxconn above the backlog the application asks for. On the application side pass "
        "a larger listen() backlog and accept faster (more workers).")


def backlog_drops(facts, counters):
    evidence = Evidence()
    softnet = facts.get("softnet") or {}
    if counters.sampled and "softnet.dropped" in counters.rates:
        dropped = counters.value("softnet.dropped", evidence)
        squeezed = counters.value("softnet.time_squeeze", evidence)
    else:
        dropped = evidence.add("softnet.dropped", softnet.get("dropped") or 0, "/proc/net/softnet_stat")
        squeezed = evidence.add("softnet.time_squeeze", softnet.get("time_squeeze") or 0, "/proc/net/softnet_stat")
    severity = worst_severity(
        counters.level(dropped, (BACKLOG_DROPS_TOTAL_WARNING, BACKLOG_DROPS_TOTAL_CRITICAL),
                       (BACKLOG_DROPS_RATE_WARNING, BACKLOG_DROPS_RATE_CRITICAL)),
        "info" if squeezed >= (TIME_SQUEEZE_RATE_INFO if counters.sampled else TIME_SQUEEZE_TOTAL_INFO) else None)
    if not severity:
        return None
    sysctl_evidence(facts, "net.core.netdev_max_backlog", evidence)
    return make_finding(
        "backlog_drops", severity,
        "The per-CPU input backlog dropped %s packets and the receive softirq ran out of budget %s times %s."
        % (counters.amount(dropped), counters.amount(squeezed), counters.basis()),
        evidence,
        "Raise net.core.netdev_max_backlog (global, for example 16384) for drops; spread receive work over "
        "more CPUs (RSS/RPS, irqbalance) and raise net.core.netdev_budget for time_squeeze. On the "
        "application side nothing changes this except sending fewer, larger packets.")


def retransmission_rate(facts, counters):
    evidence = Evidence()
    retrans = counters.value("Tcp.RetransSegs", evidence)
    out = counters.value("Tcp.OutSegs", evidence)
    window = out * counters.seconds if counters.sampled else out
    if window < RETRANS_MIN_OUT_SEGS:
        return None
    fraction = fraction_of(retrans, out)
    if fraction is None or fraction < RETRANS_FRACTION_WARNING:
        return None
    severity = "critical" if fraction >= RETRANS_FRACTION_CRITICAL else "warning"
    return make_finding(
        "retransmission_rate", severity,
        "%.1f%% of sent TCP segments were retransmissions %s." % (100 * fraction, counters.basis()),
        evidence,
        "Retransmissions point at loss on the path or an overloaded peer: check link_problem and backlog_drops "
        "findings, interface errors and the peers. For lossy long-distance paths consider "
        "net.ipv4.tcp_congestion_control=bbr with net.core.default_qdisc=fq, and net.ipv4.tcp_mtu_probing=1 "
        "against MTU black holes. On the application side pace bursts and avoid many parallel connections "
        "to the same peer.")


def link_problem(facts, counters):
    evidence = Evidence()
    for name, link in sorted((facts.get("interfaces") or {}).items()):
        if link.get("duplex") == "half":
            evidence.add(name + ".duplex", "half", "/sys/class/net/%s/duplex" % name)
        if link.get("admin_up") and link.get("carrier") == 0:
            evidence.add(name + ".carrier", 0, "/sys/class/net/%s/carrier" % name)
    if not evidence.values:
        return None
    return make_finding(
        "link_problem", "warning",
        "An interface runs half duplex, or is up without carrier: expect loss, retransmissions and resets.",
        evidence,
        "Fix the link (cable, switch port, autonegotiation); no sysctl helps. net.core.netdev_max_backlog "
        "and txqueuelen only hide the symptom. On the application side nothing to change.")
