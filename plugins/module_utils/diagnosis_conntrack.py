# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection tracking finding: the table's fill and the packets it dropped.

Each function takes the facts and their Counters and returns a finding or None; the thresholds are
diagnosis.py's, the order of the findings diagnosis_rules.RULES'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import (
    CONNTRACK_FRACTION_WARNING, CONNTRACK_FRACTION_CRITICAL, CONNTRACK_DROPS_TOTAL_WARNING,
    CONNTRACK_DROPS_TOTAL_CRITICAL, CONNTRACK_DROPS_RATE_WARNING, CONNTRACK_DROPS_RATE_CRITICAL,
    CONNTRACK_INSERT_FAILED_TOTAL_WARNING, CONNTRACK_INSERT_FAILED_RATE_WARNING)
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis_evidence import (
    Evidence, fraction_of, make_finding, worst_severity)


def conntrack_pressure(facts, counters):
    conntrack = facts.get("conntrack") or {}
    if not conntrack.get("available"):
        return None
    evidence = Evidence()
    severity = None
    fraction = fraction_of(conntrack.get("count"), conntrack.get("max"))
    if fraction is not None and fraction >= CONNTRACK_FRACTION_WARNING:
        severity = "critical" if fraction >= CONNTRACK_FRACTION_CRITICAL else "warning"
    drops = 0
    for name in ("drop", "early_drop"):
        if counters.sampled and ("conntrack." + name) in counters.rates:
            drops += counters.value("conntrack." + name, evidence)
        elif conntrack.get(name) is not None:
            drops += evidence.add("conntrack." + name, conntrack[name], "/proc/net/stat/nf_conntrack")
    severity = worst_severity(severity, counters.level(drops, (CONNTRACK_DROPS_TOTAL_WARNING, CONNTRACK_DROPS_TOTAL_CRITICAL),
                                                       (CONNTRACK_DROPS_RATE_WARNING, CONNTRACK_DROPS_RATE_CRITICAL)))
    if counters.sampled and "conntrack.insert_failed" in counters.rates:
        failed = counters.value("conntrack.insert_failed", evidence)
    else:
        failed = conntrack.get("insert_failed") or 0
        evidence.add("conntrack.insert_failed", conntrack.get("insert_failed"), "/proc/net/stat/nf_conntrack")
    severity = worst_severity(severity, counters.level(failed, (CONNTRACK_INSERT_FAILED_TOTAL_WARNING, None),
                                                       (CONNTRACK_INSERT_FAILED_RATE_WARNING, None)))
    if not severity:
        return None
    evidence.add("conntrack.count", conntrack.get("count"), "/proc/sys/net/netfilter/nf_conntrack_count")
    evidence.add("conntrack.max", conntrack.get("max"), "/proc/sys/net/netfilter/nf_conntrack_max")
    return make_finding(
        "conntrack_pressure", severity,
        "The connection tracking table is %s full (%s of %s) and dropped %s packets %s; a full table drops "
        "new connections (kernel log: \"nf_conntrack: table full, dropping packet\")."
        % ("%.0f%%" % (100 * fraction) if fraction is not None else "?", conntrack.get("count"),
           conntrack.get("max"), counters.amount(drops), counters.basis()),
        evidence,
        "Raise net.netfilter.nf_conntrack_max and net.netfilter.nf_conntrack_buckets on the host (about "
        "300 bytes per entry), or exempt high-volume service ports from tracking (raw table NOTRACK). On "
        "the application side reuse connections instead of opening one per request.")
