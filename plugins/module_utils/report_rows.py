# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rows of one host's report entry, read from its tcp_tuning_result: sysctl keys, txqueuelen,
findings and the memory breakdown of an infeasible plan; and the value helpers every report file uses.

Pure functions over plain data: a missing or mistyped field gives an empty row, never an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def value_text(value):
    """A sysctl value (int, list, str or None) as the text sysctl shows."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(part) for part in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return " ".join(str(value).split())


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    return value if isinstance(value, list) else []


def gb_text(number):
    """Bytes as the "N.NN GB" of the plan's messages (sizing_policy.gb_text)."""
    try:
        return "%.2f GB" % (float(number) / 1e9)
    except (TypeError, ValueError):
        return "?"


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reason_text(reason):
    """A plan reason as text: since #11 a dict {kind, detail, from}, before that a string."""
    if isinstance(reason, dict):
        return str(reason.get("detail") or reason.get("kind") or "")
    return str(reason or "")


def plan_reasons(plan):
    """key -> reason from plan.changes [{key, before, planned, reason}] (newer plans)."""
    return dict((change.get("key"), reason_text(change.get("reason")))
                for change in as_list(plan.get("changes")) if isinstance(change, dict) and change.get("key"))


def explain_entry(explain):
    explain = as_dict(explain)
    if not explain:
        return None
    return dict((name, explain.get(name)) for name in ("formula", "inputs", "kernel_default", "source")
                if explain.get(name) is not None)


def _key_reason(key, plan, settings, reasons):
    if key in reasons:
        return reasons[key]
    planned = as_dict(plan.get("sysctl"))
    if key not in planned or value_text(planned.get(key)) != value_text(settings.get(key)):
        return "override (tcp_tuning_sysctl_overrides)"
    source = as_dict(as_dict(plan.get("explain")).get(key)).get("source")
    return "sizing rule (%s)" % source if source else ""


def key_rows(result, drift):
    """One row per key the plan or the overrides asked for: before, planned, after, status, reason, explain."""
    before = as_dict(as_dict(result.get("facts_before")).get("sysctl"))
    after = as_dict(as_dict(result.get("facts_after")).get("sysctl"))
    settings = as_dict(result.get("settings"))
    applied = as_dict(result.get("applied"))
    plan = as_dict(result.get("plan"))
    changed = set(as_list(applied.get("changed_keys")))
    previous = as_dict(applied.get("previous"))
    skipped = as_dict(result.get("skipped"))
    explain = as_dict(plan.get("explain"))
    reasons = plan_reasons(plan)
    would = result.get("mode") in ("audit", "check")
    rows = []
    for key in sorted(set(settings) | set(skipped)):
        if key in skipped:
            status, reason = "skipped", str(skipped[key])
        else:
            if key in drift:
                status = "drift"
            elif key in changed:
                status = "would change" if would else "changed"
            else:
                status = "unchanged"
            reason = _key_reason(key, plan, settings, reasons)
        rows.append({
            "key": key,
            "before": value_text(previous.get(key, before.get(key))),
            "planned": value_text(settings.get(key, as_dict(plan.get("sysctl")).get(key))),
            "after": value_text(after.get(key)) if after else "",
            "status": status,
            "reason": reason,
            "explain": explain_entry(explain.get(key)),
        })
    return rows


def _results_of(registered):
    """The txqueuelen result: {results: [...]} from a loop, or one module result (one call with a map)."""
    registered = as_dict(registered)
    if isinstance(registered.get("results"), list):
        return [as_dict(item) for item in registered["results"]]
    return [registered] if registered else []


def txqueuelen_rows(result, would):
    plan = as_dict(result.get("plan"))
    planned = as_dict(plan.get("txqueuelen"))
    explain = as_dict(plan.get("explain"))
    before_ifaces = as_dict(as_dict(result.get("facts_before")).get("interfaces"))
    after_ifaces = as_dict(as_dict(result.get("facts_after")).get("interfaces"))
    changed, previous, skipped = set(), {}, {}
    for item in _results_of(result.get("txqueuelen")):
        changed.update(as_list(item.get("changed_interfaces")))
        previous.update(as_dict(item.get("previous")))
        skipped.update(as_dict(item.get("skipped_interfaces")))
    rows = []
    for name in sorted(set(planned) | changed | set(skipped)):
        item_explain = as_dict(explain.get("txqueuelen.%s" % name))
        if name in skipped:
            status, reason = "skipped", str(skipped[name])
        elif name in changed:
            status, reason = ("would change" if would else "changed"), as_dict(item_explain.get("inputs")).get("reason", "")
        elif planned.get(name) is None:
            status, reason = "not set", as_dict(item_explain.get("inputs")).get("reason", "")
        else:
            status, reason = "unchanged", as_dict(item_explain.get("inputs")).get("reason", "")
        rows.append({
            "interface": name,
            "before": value_text(previous.get(name, as_dict(before_ifaces.get(name)).get("txqueuelen"))),
            "planned": value_text(planned.get(name)),
            "after": value_text(as_dict(after_ifaces.get(name)).get("txqueuelen")),
            "status": status, "reason": str(reason or ""), "explain": explain_entry(item_explain),
        })
    return rows


def findings_of(result):
    out = []
    for finding in as_list(result.get("findings_before")):
        finding = as_dict(finding)
        out.append({"id": str(finding.get("id", "")), "severity": str(finding.get("severity", "info")),
                    "summary": str(finding.get("summary", "")), "evidence": as_dict(finding.get("evidence")),
                    "fix": str(finding.get("recommendation", finding.get("fix", "")) or "")})
    return out


def memory_breakdown(estimate):
    """The rows below an infeasible host's sentence: [(part, bytes text, detail)], from the plan's
    memory_estimate; parts that hold nothing are left out, and nothing is negative (what does not
    fit is a shortfall)."""
    estimate = as_dict(estimate)
    if not estimate.get("total_bytes"):
        return []
    rows = []
    parts = (("socket slab", "slab_bytes", "%s sockets x %s B" % (estimate.get("sockets", "?"),
                                                                  estimate.get("per_socket_bytes", "?"))),
             ("userspace", "userspace_bytes", "userspace_bytes_per_connection x connections"),
             ("TIME_WAIT", "time_wait_bytes", "TIME_WAIT sockets (close rate x 60 s) x 256 B"),
             ("conntrack", "conntrack_bytes", "tracked connections x 320 B"),
             ("busy buffers", "buffer_bytes", "sockets x (tcp_rmem[1] + tcp_wmem[1]), at most tcp_mem max"))
    for label, name, detail in parts:
        if as_int(estimate.get(name)):
            rows.append((label, gb_text(estimate[name]), detail))
    total = as_int(estimate.get("total_bytes")) or 0
    rows.append(("needed", gb_text(total), "the sum of the parts above"))
    safe = as_int(estimate.get("safe_bytes"))
    if safe is not None:
        fraction = float(estimate.get("safe_fraction") or 0.75)
        rows.append(("%d %% of %s" % (fraction * 100, estimate.get("memory_source") or "memory"), gb_text(safe),
                     "usable: %d %% of %s (min(RAM, cgroup memory limit))" % (
                         fraction * 100, gb_text(estimate.get("memory_bytes") or estimate.get("ram_bytes")))))
        if total > safe:
            rows.append(("shortfall", gb_text(total - safe), "needed minus usable"))
        else:
            rows.append(("headroom", gb_text(safe - total), "usable minus needed"))
    if estimate.get("max_connections") is not None:
        rows.append(("fit", "%s connections" % estimate["max_connections"],
                     "the most connections whose parts fit in the usable memory"))
    return rows
