# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's entry in the fleet report: its status (exactly one of ``STATUSES``) with the reason,
and the rows report_rows and report_limits make from what the play recorded for it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.report_limits import (
    container_nofile_shortfall,
    limits_rows,
    shortfall_text,
)
from ansible_collections.tcptune.linux.plugins.module_utils.report_rows import (
    as_dict,
    as_list,
    findings_of,
    gb_text,
    key_rows,
    txqueuelen_rows,
    value_text,
)

STATUSES = ("tuned", "unchanged", "would change", "drift", "infeasible", "failed", "unreachable", "not reached")
NOT_REACHED_REASON = "never reached: the run stopped before this host (max_fail_percentage or a fatal error)"


def _drift(result):
    """key -> {persisted, live, overridden_by}: tcp_sysctl's drift and the boot-time files that win over ours."""
    applied = as_dict(result.get("applied"))
    drift = {}
    for key, item in sorted(as_dict(applied.get("drift")).items()):
        item = as_dict(item)
        drift[key] = {"persisted": value_text(item.get("persisted")), "live": value_text(item.get("live"))}
    for key, files in sorted(as_dict(applied.get("overridden_by")).items()):
        entry = drift.setdefault(key, {"persisted": "", "live": ""})
        entry["overridden_by"] = [{"file": str(as_dict(f).get("file", "")), "value": value_text(as_dict(f).get("value"))}
                                  for f in as_list(files)]
    return drift


def _drift_reason(drift, mode):
    parts = []
    for key, item in sorted(drift.items()):
        if item.get("overridden_by"):
            parts.extend("%s: %s sets %s and wins at boot" % (key, f["file"], f["value"]) for f in item["overridden_by"])
        else:
            parts.append("%s: persisted %s, live %s" % (key, item["persisted"], item["live"]))
    suffix = "; re-applied in this run" if mode == "apply" else ""
    return "; ".join(parts) + suffix


def _refusal(plan):
    """The plan's own refusal: its first warning that starts with "infeasible", or None."""
    for warning in as_list(plan.get("warnings")):
        if str(warning).startswith("infeasible"):
            return str(warning)
    return None


def _infeasible_reason(plan, message=""):
    """One sentence: the plan's refusal without its "infeasible:" (the status says it), else one made
    from the memory estimate; the breakdown is rendered below it (memory_breakdown)."""
    refusal = _refusal(plan)
    if refusal:
        return refusal[len("infeasible"):].lstrip(" :") or refusal
    estimate = as_dict(plan.get("memory_estimate"))
    if not estimate.get("total_bytes"):
        return str(message or "the plan does not fit")
    connections = (estimate.get("connections") or as_dict(plan.get("workload")).get("target_connections")
                   or estimate.get("sockets", "?"))
    text = "%s connections need about %s" % (connections, gb_text(estimate["total_bytes"]))
    if estimate.get("safe_bytes"):
        memory = estimate.get("memory_bytes") or estimate.get("ram_bytes")
        text += " but %d %% of the %s %s is %s" % (float(estimate.get("safe_fraction") or 0.75) * 100, gb_text(memory),
                                                   estimate.get("memory_source") or "RAM", gb_text(estimate["safe_bytes"]))
    elif estimate.get("ram_bytes"):
        text += " of %s RAM" % gb_text(estimate["ram_bytes"])
    fit = estimate.get("max_connections", as_dict(plan.get("predicted")).get("max_connections_in_memory"))
    if fit is not None:
        return text + "; at most about %s connections fit" % fit
    warnings = [str(w) for w in as_list(plan.get("warnings"))]
    return text + ("; " + warnings[0] if warnings else "")


def _status(result, failure, unreachable, drift, keys, limits_changed, txq_rows):
    """(status, reason) of one host; the first matching rule wins. A container whose own hard
    RLIMIT_NOFILE is below the planned hard is never "already as planned": the reason names both."""
    if unreachable is not None:
        return "unreachable", str(as_dict(unreachable).get("message", unreachable) if isinstance(unreachable, dict)
                                  else unreachable) or "unreachable"
    plan = as_dict(result.get("plan")) or as_dict(as_dict(failure).get("plan"))
    if failure is not None:
        failure = as_dict(failure)
        if plan.get("feasible") is False:
            return "infeasible", _infeasible_reason(plan, failure.get("message", ""))
        return "failed", "%s: %s" % (failure.get("task") or "?", failure.get("message") or "failed")
    if not result:
        return "not reached", NOT_REACHED_REASON
    if plan.get("feasible") is False:
        return "infeasible", _infeasible_reason(plan)
    mismatches = as_dict(result.get("mismatches"))
    if mismatches:
        return "failed", "read-back: " + "; ".join(
            "%s planned %s, live %s" % (k, value_text(as_dict(v).get("planned")), value_text(as_dict(v).get("live")))
            for k, v in sorted(mismatches.items()))
    mode = result.get("mode", "apply")
    if drift:
        return "drift", _drift_reason(drift, mode)
    changed_keys = [row["key"] for row in keys if row["status"] in ("changed", "would change")]
    changed_ifaces = [row["interface"] for row in txq_rows if row["status"] in ("changed", "would change")]
    parts = []
    if changed_keys:
        parts.append("%d sysctl key(s)" % len(changed_keys))
    if limits_changed:
        parts.append("nofile limits")
    if changed_ifaces:
        parts.append("txqueuelen of " + ", ".join(changed_ifaces))
    reverted = as_dict(result.get("reverted"))
    if mode == "revert":
        restored = as_list(reverted.get("sysctl_changed_keys"))
        if restored or reverted.get("limits_changed") or reverted.get("txqueuelen_changed") or reverted.get("changed"):
            return "tuned", "reverted what the role wrote (%d sysctl key(s) restored)" % len(restored)
        return "unchanged", "nothing to revert"
    shortfall = container_nofile_shortfall(result)
    tail = ("; but " + shortfall_text(shortfall)) if shortfall else ""
    if not parts:
        return "unchanged", shortfall_text(shortfall) if shortfall else "already as planned"
    if mode in ("audit", "check"):
        return "would change", "would change " + ", ".join(parts) + tail
    return "tuned", "changed " + ", ".join(parts) + tail


def host_entry(name, result=None, failure=None, unreachable=None):
    """The report's view of one host."""
    result = as_dict(result)
    mode = result.get("mode", "apply")
    would = mode in ("audit", "check")
    drift = _drift(result)
    keys = key_rows(result, drift) if result else []
    limits, limit_files = limits_rows(result, would) if result else ([], [])
    txq = txqueuelen_rows(result, would) if result else []
    limits_changed = bool(as_dict(result.get("limits")).get("changed"))
    status, reason = _status(result, failure, unreachable, drift, keys, limits_changed, txq)
    plan = as_dict(result.get("plan")) or as_dict(as_dict(failure).get("plan"))
    findings = findings_of(result)
    facts_before = as_dict(result.get("facts_before"))
    states = as_dict(as_dict(facts_before.get("sockets")).get("states"))
    entry = {
        "host": str(name),
        "status": status,
        "reason": reason,
        "mode": str(mode) if result else "",
        "profile": str(result.get("profile", "") or as_dict(failure).get("profile", "") or ""),
        "kernel": str(result.get("kernel", "") or as_dict(failure).get("kernel", "") or ""),
        "container": bool(result.get("container")),
        "failure": None,
        "findings": findings,
        "findings_after": [str(as_dict(f).get("id", "")) for f in as_list(result.get("findings_after"))],
        "keys": keys,
        "limits": limits,
        "limit_files_changed": [str(f) for f in limit_files],
        "txqueuelen": txq,
        "drift": drift,
        "warnings": [str(w) for w in as_list(plan.get("warnings"))],
        "memory_estimate": as_dict(plan.get("memory_estimate")),
        "sockets": dict((state, int(states.get(state) or 0)) for state in ("ESTABLISHED", "TIME_WAIT")),
    }
    if failure is not None:
        entry["failure"] = {"task": str(as_dict(failure).get("task") or ""),
                            "message": str(as_dict(failure).get("message") or "")}
    if unreachable is not None:
        message = as_dict(unreachable).get("message") if isinstance(unreachable, dict) else unreachable
        entry["failure"] = {"task": "connect", "message": str(message or "")}
    return entry


def _host_refusal(host):
    """An infeasible host's refusal warning (its reason already says it), else None."""
    if host["status"] != "infeasible":
        return None
    return next((w for w in host["warnings"] if w.startswith("infeasible")), None)


def other_warnings(host):
    refusal = _host_refusal(host)
    return [w for w in host["warnings"] if w != refusal]


def failure_message(host):
    """The failed task's message, or None for an infeasible host whose message only repeats the plan's
    warnings (the role's "the target does not fit" joins them all into one line)."""
    message = host["failure"]["message"]
    refusal = _host_refusal(host)
    if refusal and refusal in message:
        return None
    return message
