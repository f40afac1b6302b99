# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for connection tracking: nf_conntrack_max and nf_conntrack_buckets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_memory import (
    CONNTRACK_TIME_WAIT_SECONDS, conntrack_entries)
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import (
    finding_reason, plan_key, workload_reason)

CONNTRACK_HEADROOM = 1.25


def rule_conntrack(ctx):
    """nf_conntrack_max = (sockets + close rate x 120 s) x 1.25, buckets the next power of two; only
    when conntrack is loaded; twice the kernel default on a conntrack_pressure finding."""
    host, work = ctx["host"], ctx["work"]
    if not host["conntrack"].get("available"):
        return
    tracked = conntrack_entries(work)
    need, reason = None, None
    if tracked:
        need = int(math.ceil(tracked * CONNTRACK_HEADROOM))
        reason = workload_reason(work, ["target_connections", "accept_rate", "outbound_rate"],
                                 "%d flows tracked (sockets + close rate x 120 s)" % tracked)
    default = kd.conntrack_max(host)
    finding = host["findings"].get("conntrack_pressure")
    if finding and (need is None or default * 2 > need):
        # from the default: a since-boot finding must not double the value on every run
        need, reason = default * 2, finding_reason(finding, "conntrack table nearly full: twice the kernel "
                                                   "default %d" % default)
    source = ("nf_conntrack_init_start (since 5.15, d532bcd0b269: >4 GB 262144, >1 GB 65536, else RAM/16384/8, "
              "max = buckets; before: 65536, 16384, RAM/16384/8, max = 4 x buckets)")
    formula = "(sockets + close rate x %d s) x %.2f" % (CONNTRACK_TIME_WAIT_SECONDS, CONNTRACK_HEADROOM)
    plan_key(ctx, "net.netfilter.nf_conntrack_max", need, reason, formula, {"tracked": tracked}, source)
    buckets = kd.roundup_pow2(need) if need else None
    plan_key(ctx, "net.netfilter.nf_conntrack_buckets", buckets, reason if buckets else None,
             "roundup_pow2(nf_conntrack_max): one entry per bucket, like the kernel default", {"max": need}, source)
