# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for queues: somaxconn, tcp_max_syn_backlog and syncookies; txqueuelen."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import (
    finding_reason, in_force, kernel_default, live, plan_key, workload_reason)

# A SYN dropped on a full queue is retransmitted after TCP_TIMEOUT_INIT (1 s): the queue holds 1 s of arrivals.
WORST_CASE_ACCEPT_DELAY_SECONDS = 1.0
TXQUEUELEN_MIN = 1000
TXQUEUELEN_MAX = 10000
QDISC_USES_TXQUEUELEN = ("pfifo_fast", "pfifo", "bfifo")


def rule_backlogs(ctx):
    """somaxconn and tcp_max_syn_backlog: accept_rate x 1 s (power of two), or twice the kernel default on a
    listen_queue_overflow / syn_queue_pressure finding; syncookies on; kernel formulas per version."""
    host, work = ctx["host"], ctx["work"]
    kernel = tuple(host["kernel"])
    rate = work["accept_rate"] or 0
    queue = kd.roundup_pow2(int(math.ceil(rate * WORST_CASE_ACCEPT_DELAY_SECONDS))) if rate else None
    planned_any = False
    for key, finding_id in (("net.core.somaxconn", "listen_queue_overflow"),
                            ("net.ipv4.tcp_max_syn_backlog", "syn_queue_pressure")):
        need, reason = None, None
        if queue:
            need = queue
            reason = workload_reason(work, ["accept_rate"], "accept_rate %g/s x %.0f s = %d, rounded up to %d"
                                     % (rate, WORST_CASE_ACCEPT_DELAY_SECONDS, int(math.ceil(rate)), queue))
        finding = host["findings"].get(finding_id)
        default = kernel_default(host, key)
        if finding and (need is None or default * 2 > need):
            need = default * 2  # from the default: a since-boot finding must not double the value every run
            reason = finding_reason(finding, "%s seen: twice the kernel default %d" % (finding_id, default))
        if key == "net.core.somaxconn" and need is not None and kernel < (4, 1) and need > 65535:
            ctx["warnings"].append("net.core.somaxconn: %d wanted but kernels before 4.1 keep the backlog in 16 bits; "
                                   "capped at 65535" % need)
            need = 65535
        plan_key(ctx, key, need, reason,
                 "max(live, roundup_pow2(accept_rate x %.0f s)); kernel default %s"
                 % (WORST_CASE_ACCEPT_DELAY_SECONDS,
                    "4096 since 5.4, 128 before" if key == "net.core.somaxconn"
                    else "max(128, ehash/128) since 5.4, max(128, ehash/256) before"),
                 {"accept_rate": rate, "needed": need, "ehash_entries": kd.ehash_entries(host)},
                 "facts §4; the delay is one SYN retransmit timeout (1 s)")
        planned_any = planned_any or key in ctx["wanted"]
    cookies = live(host, "net.ipv4.tcp_syncookies")
    need, reason = None, None
    if cookies == 0 and (rate or host["findings"].get("syn_queue_pressure")):
        need = 1
        reason = workload_reason(work, ["accept_rate"], "syncookies keep accepting when the SYN queue is full")
    plan_key(ctx, "net.ipv4.tcp_syncookies", need, reason,
             "1 when syncookies are off and connections arrive; with cookies on tcp_max_syn_backlog matters "
             "only while the queue has room", {"live": cookies}, "facts §4", compare="exact")
    if planned_any:
        somaxconn = in_force(ctx, "net.core.somaxconn")
        ctx["warnings"].append(
            "listen backlog: the kernel uses min(listen() backlog, net.core.somaxconn); raise the application's "
            "backlog to %d (e.g. nginx 'listen ... backlog=%d') and restart the services: a socket keeps the "
            "backlog it was listen()ed with" % (somaxconn, somaxconn))


def _effective_qdisc(root, leaves, default_qdisc):
    """The qdisc that holds the packets: an mq/mqprio root hands them to its per-queue leaves, which
    the facts read over rtnetlink; without them (fixtures, refused dump) the leaves are default_qdisc.
    Mixed leaves give "a/b", which no rule treats as sizing itself from txqueuelen."""
    if root not in ("mq", "mqprio"):
        return root
    kinds = sorted(set(leaves or [])) or ([default_qdisc] if default_qdisc else [])
    return "/".join(kinds) or None


def rule_txqueuelen(ctx):
    """txqueuelen: only for a declared bandwidth, only where the qdisc sizes itself from it
    (pfifo_fast/pfifo/bfifo, or mq over one of those), never lowered: clamp(speed Mbit/s, 1000, 10000)."""
    host, work = ctx["host"], ctx["work"]
    default_qdisc = live(host, "net.core.default_qdisc")
    out = {}
    for name, info in sorted(host["interfaces"].items()):
        speed, qdisc, current = info.get("speed_mbps"), info.get("qdisc"), info.get("txqueuelen") or 1000
        effective = _effective_qdisc(qdisc, info.get("qdisc_leaves"), default_qdisc)
        value, reason, note = None, None, None
        if work["bandwidth_mbps"] is None:
            note = "no declared bandwidth"
        elif info.get("virtual"):
            note = "virtual interface"
        elif effective not in QDISC_USES_TXQUEUELEN:
            note = "qdisc %s does not size itself from txqueuelen" % (effective or "unknown")
        elif not speed:
            note = "speed unknown"
        else:
            wanted = int(min(max(speed, TXQUEUELEN_MIN), TXQUEUELEN_MAX))
            if wanted > current:
                value = wanted
                reason = workload_reason(work, ["bandwidth_mbps"], "bulk flows at %g Mbit/s on a %s link queue"
                                         % (work["bandwidth_mbps"], effective))
                out[name] = value
            else:
                note = "live %d already meets %d" % (current, wanted)
        ctx["explain"]["txqueuelen.%s" % name] = {
            "value": value, "live": info.get("txqueuelen"), "kernel_default": 1000, "reason": reason, "note": note,
            "formula": "clamp(speed in Mbit/s, %d, %d) packets (~12 ms of 1500-byte packets at line rate)"
                       % (TXQUEUELEN_MIN, TXQUEUELEN_MAX),
            "inputs": {"speed_mbps": speed, "qdisc": qdisc, "qdisc_leaves": info.get("qdisc_leaves") or [],
                       "default_qdisc": default_qdisc},
            "source": "facts §8 (pfifo_fast sizes from tx_queue_len; fq_codel, fq, cake do not)"}
    ctx["txqueuelen"] = out
