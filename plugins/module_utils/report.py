# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report: what happened on every host of the play -> one report dict -> JSON, Markdown, HTML, JUnit.

Pure functions over plain data. Every host of the play gets exactly one status (``STATUSES``). The
input per host is whatever the play recorded: the role's ``tcp_tuning_result``, the failed task and
its message (``failure``), the unreachable message, or nothing (never reached). The JSON follows
docs/report-schema.json (``SCHEMA_VERSION``). The HTML page is one self-contained file: inline CSS,
inline SVG and an inline script for sorting and filtering; it loads nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from collections import Counter
from html import escape
from xml.sax.saxutils import quoteattr

SCHEMA_VERSION = "2.0"
STATUSES = ("tuned", "unchanged", "would change", "drift", "infeasible", "failed", "unreachable", "not reached")
STATUS_COLOURS = {"tuned": "#2e7d32", "unchanged": "#9e9e9e", "would change": "#1565c0", "drift": "#ef6c00",
                  "infeasible": "#6a1b9a", "failed": "#c62828", "unreachable": "#4e342e",
                  "not reached": "#bdbdbd"}
# JUnit: these statuses fail their testcase; "not reached" is skipped.
FAILING_STATUSES = ("drift", "infeasible", "failed", "unreachable")
SEVERITIES = ("critical", "warning", "info")
NOT_REACHED_REASON = "never reached: the run stopped before this host (max_fail_percentage or a fatal error)"


def value_text(value):
    """A sysctl value (int, list, str or None) as the text sysctl shows."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(part) for part in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return " ".join(str(value).split())


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _gb(number):
    """Bytes as the "N.NN GB" of the plan's messages (sizing_rules.gb_text)."""
    try:
        return "%.2f GB" % (float(number) / 1e9)
    except (TypeError, ValueError):
        return "?"


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- per host

def reason_text(reason):
    """A plan reason as text: since #11 a dict {kind, detail, from}, before that a string."""
    if isinstance(reason, dict):
        return str(reason.get("detail") or reason.get("kind") or "")
    return str(reason or "")


def _plan_reasons(plan):
    """key -> reason from plan.changes [{key, before, planned, reason}] (newer plans)."""
    return dict((change.get("key"), reason_text(change.get("reason")))
                for change in _list(plan.get("changes")) if isinstance(change, dict) and change.get("key"))


def _explain_entry(explain):
    explain = _dict(explain)
    if not explain:
        return None
    return dict((name, explain.get(name)) for name in ("formula", "inputs", "kernel_default", "source")
                if explain.get(name) is not None)


def _key_reason(key, plan, settings, reasons):
    if key in reasons:
        return reasons[key]
    planned = _dict(plan.get("sysctl"))
    if key not in planned or value_text(planned.get(key)) != value_text(settings.get(key)):
        return "override (tcp_tuning_sysctl_overrides)"
    source = _dict(_dict(plan.get("explain")).get(key)).get("source")
    return "sizing rule (%s)" % source if source else ""


def _key_rows(result, drift):
    """One row per key the plan or the overrides asked for: before, planned, after, status, reason, explain."""
    before = _dict(_dict(result.get("facts_before")).get("sysctl"))
    after = _dict(_dict(result.get("facts_after")).get("sysctl"))
    settings = _dict(result.get("settings"))
    applied = _dict(result.get("applied"))
    plan = _dict(result.get("plan"))
    changed = set(_list(applied.get("changed_keys")))
    previous = _dict(applied.get("previous"))
    skipped = _dict(result.get("skipped"))
    explain = _dict(plan.get("explain"))
    reasons = _plan_reasons(plan)
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
            "planned": value_text(settings.get(key, _dict(plan.get("sysctl")).get(key))),
            "after": value_text(after.get(key)) if after else "",
            "status": status,
            "reason": reason,
            "explain": _explain_entry(explain.get(key)),
        })
    return rows


def _results_of(registered):
    """The txqueuelen result: {results: [...]} from a loop, or one module result (one call with a map)."""
    registered = _dict(registered)
    if isinstance(registered.get("results"), list):
        return [_dict(item) for item in registered["results"]]
    return [registered] if registered else []


# ---------------------------------------------------------------- nofile limits as written

NOFILE_INFINITY = 2 ** 63 - 1  # limits.INFINITY: systemd's and pam_limits' "infinity"/"unlimited"
LIMIT_KINDS = ("login", "default", "service")
_LIMITS_CONF_TYPES = ("soft", "hard", "-")


def _nofile_value(text):
    text = text.strip()
    if text in ("infinity", "unlimited", "-1"):
        return NOFILE_INFINITY
    return int(text)


def nofile_text(value):
    """A nofile limit as the files write it: a number, "infinity", or "-" when the file sets none."""
    if value is None:
        return "-"
    if value in (NOFILE_INFINITY, -1):
        return "infinity"
    return str(value)


def parse_limit_file(path, text):
    """{kind, unit, soft, hard} of one nofile file from its text, or None when it sets no nofile limit.

    - ``login``: pam_limits lines ``<domain> <soft|hard|-> nofile <N|unlimited>``; the ``*`` domain's
      values, else any domain's (ours writes ``*`` and ``root`` alike); hard None when no hard line.
    - ``default``: systemd ``DefaultLimitNOFILE=S:H`` (system.conf and its drop-ins).
    - ``service``: systemd ``LimitNOFILE=S:H`` (``N`` is N:N); the unit is the drop-in directory's name.
    The last assignment wins, as in systemd and pam_limits. A value that does not parse is ignored,
    as systemd does; pam_limits' own lines are matched the same way."""
    domains = {}  # domain -> {soft, hard}
    systemd = {}  # kind -> (soft, hard)
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0].strip()
        name, sep, value = line.partition("=")
        if sep and name.strip() in ("LimitNOFILE", "DefaultLimitNOFILE"):
            parts = value.strip().split(":")
            try:
                soft, hard = [_nofile_value(part) for part in (parts * 2 if len(parts) == 1 else parts)]
            except ValueError:
                continue
            systemd["default" if name.strip() == "DefaultLimitNOFILE" else "service"] = (soft, hard)
            continue
        fields = line.split()
        if len(fields) == 4 and fields[1] in _LIMITS_CONF_TYPES and fields[2] == "nofile":
            try:
                number = _nofile_value(fields[3])
            except ValueError:
                continue
            entry = domains.setdefault(fields[0], {})
            for side in (("soft", "hard") if fields[1] == "-" else (fields[1],)):
                entry[side] = number
    for kind in ("service", "default"):
        if kind in systemd:
            unit = None
            if kind == "service":
                directory = os.path.basename(os.path.dirname(str(path)))
                unit = directory[:-len(".service.d")] if directory.endswith(".service.d") else directory or None
            return {"kind": kind, "unit": unit, "soft": systemd[kind][0], "hard": systemd[kind][1]}
    if domains:
        entry = domains.get("*") or domains[sorted(domains)[0]]
        return {"kind": "login", "unit": None, "soft": entry.get("soft"), "hard": entry.get("hard")}
    return None


def written_limits(registered):
    """{path: {kind, unit, soft, hard}} of the nofile files as written (or as they would be): the
    nofile_limits result's ``written`` when it has one, else parsed from the ``after`` texts of its diff
    (only the files that change). Empty when neither is there."""
    registered = _dict(registered)
    out = {}
    written = registered.get("written")
    if isinstance(written, dict):
        for path, item in sorted(written.items()):
            item = _dict(item)
            kind = item.get("kind") if item.get("kind") in LIMIT_KINDS else "login"
            out[str(path)] = {"kind": kind, "unit": item.get("unit"), "soft": _int(item.get("soft")),
                              "hard": _int(item.get("hard"))}
        return out
    for item in _list(registered.get("diff")):
        item = _dict(item)
        path = item.get("after_header") or item.get("before_header")
        parsed = parse_limit_file(path, item.get("after")) if path else None
        if parsed:
            out[str(path)] = parsed
    return out


def _planned_hard(plan):
    limits = _dict(plan.get("limits"))
    for value in (_dict(limits.get("login")).get("hard"), _dict(limits.get("services")).get("hard"),
                  limits.get("nofile_hard")):
        if _int(value) is not None:
            return _int(value)
    return None


def _file_label(item):
    if item["kind"] == "service":
        return "service %s" % (item["unit"] or "?")
    if item["kind"] == "default":
        return "every unit (DefaultLimitNOFILE)"
    return "logins (pam_limits)"


def _file_reason(item, planned_hard, systemd_default):
    what = {"login": "login sessions, for '*' and root",
            "default": "systemd's default for every unit without its own LimitNOFILE",
            "service": "LimitNOFILE of %s.service" % (item["unit"] or "?")}[item["kind"]]
    hard = item["hard"]
    if hard is None:
        return what + "; no hard line: logins keep the hard limit they inherit"
    if planned_hard is None or hard == planned_hard:
        return what
    default_hard = _int(_dict(systemd_default).get("hard"))
    if hard > planned_hard and hard == default_hard:
        return what + "; hard %s, not the planned %d: systemd's default hard, which a drop-in never lowers" % (
            nofile_text(hard), planned_hard)
    return what + "; hard %s, the plan sized %d" % (nofile_text(hard), planned_hard)


def _self_hard_nofile(result):
    """The hard RLIMIT_NOFILE of the tuning run itself (facts ``nofile.self``: /proc/self/limits), or
    None when unknown or unlimited."""
    own = _dict(result.get("facts_before")).get("nofile")
    own = _dict(own).get("self")
    if isinstance(own, (list, tuple)) and len(own) == 2:
        hard = own[1]
    else:
        hard = _dict(own).get("hard")
    hard = _int(hard)
    return None if hard is None or hard in (-1, NOFILE_INFINITY) else hard


def _in_container(result):
    namespace = _dict(_dict(result.get("facts_before")).get("namespace"))
    return bool(result.get("container") or namespace.get("container"))


def container_nofile_shortfall(result):
    """(planned hard, the container's own hard rlimit) when the plan's hard nofile is above the hard
    RLIMIT_NOFILE this container runs with: no process in it can get that limit. Else None.

    Only in a container: on a host the run's own limit is its login session's, not what a service gets."""
    result = _dict(result)
    plan = _dict(result.get("plan"))
    planned, own = _planned_hard(plan), _self_hard_nofile(result)
    if not _in_container(result) or planned is None or own is None or planned <= own:
        return None
    return planned, own


def _shortfall_text(shortfall):
    planned, own = shortfall
    return ("nofile hard %d cannot be given here: it is above this container's own hard rlimit %d; raise the "
            "container's nofile ulimit (--ulimit nofile=%d:%d)" % (planned, own, planned, planned))


def _limits_rows(result, would):
    """nofile limits, one row per file as written (soft:hard), what was left out and why, fs.nr_open
    and fs.file-max; without the files' texts (older results) the plan's login and service limits."""
    plan = _dict(result.get("plan"))
    limits = _dict(plan.get("limits"))
    registered = _dict(result.get("limits"))
    changed_files = _list(registered.get("changed_files"))
    changed = bool(registered.get("changed"))
    status = ("would change" if would else "changed") if changed else ("unchanged" if registered else "not applied")
    reasons = _plan_reasons(plan)
    explain = _explain_entry(_dict(plan.get("explain")).get("limits.nofile"))
    planned_hard = _planned_hard(plan)
    written = written_limits(registered)
    rows = []
    plan_reason = reasons.get("limits.nofile", "")
    for path, item in sorted(written.items(), key=lambda entry: (LIMIT_KINDS.index(entry[1]["kind"]), entry[0])):
        file_status = ("would change" if would else "changed") if path in changed_files else "unchanged"
        reason = _file_reason(item, planned_hard, registered.get("systemd_default"))
        rows.append({"item": "%s: %s" % (_file_label(item), path),
                     "planned": "%s:%s" % (nofile_text(item["soft"]), nofile_text(item["hard"])),
                     "status": file_status, "reason": reason + ("; " + plan_reason if plan_reason else ""),
                     "explain": explain})
    if written:
        rows.extend({"item": str(path), "planned": "", "status": "unchanged", "explain": None,
                     "reason": "file unchanged; its text is not in this result"}
                    for path in _list(registered.get("files")) if path not in written)
    else:
        # An older result without the files' texts: the plan's numbers (a service drop-in may write a
        # higher hard, systemd's default, which it never lowers).
        for scope in ("login", "services"):
            pair = _dict(limits.get(scope))
            for side in ("soft", "hard"):
                value = pair.get(side, limits.get("nofile_%s" % side))
                if value is None:
                    continue
                name = "nofile.%s.%s" % (scope, side)
                rows.append({"item": name, "planned": value_text(value), "status": status,
                             "reason": reasons.get("limits.%s.%s" % (scope, side), plan_reason),
                             "explain": explain})
    rows.extend({"item": "removed: %s" % path, "planned": "", "status": "would remove" if would else "removed",
                 "reason": "a file of ours that this run does not keep", "explain": None}
                for path in _list(registered.get("removed_files")) if path not in written)
    rows.extend({"item": "left out: %s" % what, "planned": "", "status": "left out", "reason": str(why),
                 "explain": None} for what, why in sorted(_dict(registered.get("left_out")).items()))
    shortfall = container_nofile_shortfall(result)
    if shortfall:
        rows.append({"item": "this container's own hard rlimit (Max open files in /proc/self/limits)",
                     "planned": "%d (needs %d)" % (shortfall[1], shortfall[0]), "status": "cannot be given here",
                     "reason": _shortfall_text(shortfall), "explain": None})
    for name in ("nr_open", "file_max"):
        if limits.get(name) is not None:
            rows.append({"item": name, "planned": value_text(limits[name]), "status": "bound",
                         "reason": "upper bound of the nofile limits" if name == "nr_open"
                         else "system-wide open files", "explain": None})
    return rows, changed_files


def _txqueuelen_rows(result, would):
    plan = _dict(result.get("plan"))
    planned = _dict(plan.get("txqueuelen"))
    explain = _dict(plan.get("explain"))
    before_ifaces = _dict(_dict(result.get("facts_before")).get("interfaces"))
    after_ifaces = _dict(_dict(result.get("facts_after")).get("interfaces"))
    changed, previous, skipped = set(), {}, {}
    for item in _results_of(result.get("txqueuelen")):
        changed.update(_list(item.get("changed_interfaces")))
        previous.update(_dict(item.get("previous")))
        skipped.update(_dict(item.get("skipped_interfaces")))
    rows = []
    for name in sorted(set(planned) | changed | set(skipped)):
        item_explain = _dict(explain.get("txqueuelen.%s" % name))
        if name in skipped:
            status, reason = "skipped", str(skipped[name])
        elif name in changed:
            status, reason = ("would change" if would else "changed"), _dict(item_explain.get("inputs")).get("reason", "")
        elif planned.get(name) is None:
            status, reason = "not set", _dict(item_explain.get("inputs")).get("reason", "")
        else:
            status, reason = "unchanged", _dict(item_explain.get("inputs")).get("reason", "")
        rows.append({
            "interface": name,
            "before": value_text(previous.get(name, _dict(before_ifaces.get(name)).get("txqueuelen"))),
            "planned": value_text(planned.get(name)),
            "after": value_text(_dict(after_ifaces.get(name)).get("txqueuelen")),
            "status": status, "reason": str(reason or ""), "explain": _explain_entry(item_explain),
        })
    return rows


def _findings(result):
    out = []
    for finding in _list(result.get("findings_before")):
        finding = _dict(finding)
        out.append({"id": str(finding.get("id", "")), "severity": str(finding.get("severity", "info")),
                    "summary": str(finding.get("summary", "")), "evidence": _dict(finding.get("evidence")),
                    "fix": str(finding.get("recommendation", finding.get("fix", "")) or "")})
    return out


def _drift(result):
    """key -> {persisted, live, overridden_by}: tcp_sysctl's drift and the boot-time files that win over ours."""
    applied = _dict(result.get("applied"))
    drift = {}
    for key, item in sorted(_dict(applied.get("drift")).items()):
        item = _dict(item)
        drift[key] = {"persisted": value_text(item.get("persisted")), "live": value_text(item.get("live"))}
    for key, files in sorted(_dict(applied.get("overridden_by")).items()):
        entry = drift.setdefault(key, {"persisted": "", "live": ""})
        entry["overridden_by"] = [{"file": str(_dict(f).get("file", "")), "value": value_text(_dict(f).get("value"))}
                                  for f in _list(files)]
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
    for warning in _list(plan.get("warnings")):
        if str(warning).startswith("infeasible"):
            return str(warning)
    return None


def _infeasible_reason(plan, message=""):
    """One sentence: the plan's refusal without its "infeasible:" (the status says it), else one made
    from the memory estimate; the breakdown is rendered below it (memory_breakdown)."""
    refusal = _refusal(plan)
    if refusal:
        return refusal[len("infeasible"):].lstrip(" :") or refusal
    estimate = _dict(plan.get("memory_estimate"))
    if not estimate.get("total_bytes"):
        return str(message or "the plan does not fit")
    connections = (estimate.get("connections") or _dict(plan.get("workload")).get("target_connections")
                   or estimate.get("sockets", "?"))
    text = "%s connections need about %s" % (connections, _gb(estimate["total_bytes"]))
    if estimate.get("safe_bytes"):
        memory = estimate.get("memory_bytes") or estimate.get("ram_bytes")
        text += " but %d %% of the %s %s is %s" % (float(estimate.get("safe_fraction") or 0.75) * 100, _gb(memory),
                                                   estimate.get("memory_source") or "RAM", _gb(estimate["safe_bytes"]))
    elif estimate.get("ram_bytes"):
        text += " of %s RAM" % _gb(estimate["ram_bytes"])
    fit = estimate.get("max_connections", _dict(plan.get("predicted")).get("max_connections_in_memory"))
    if fit is not None:
        return text + "; at most about %s connections fit" % fit
    warnings = [str(w) for w in _list(plan.get("warnings"))]
    return text + ("; " + warnings[0] if warnings else "")


def memory_breakdown(estimate):
    """The rows below an infeasible host's sentence: [(part, bytes text, detail)], from the plan's
    memory_estimate; parts that hold nothing are left out, and nothing is negative (what does not
    fit is a shortfall)."""
    estimate = _dict(estimate)
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
        if _int(estimate.get(name)):
            rows.append((label, _gb(estimate[name]), detail))
    total = _int(estimate.get("total_bytes")) or 0
    rows.append(("needed", _gb(total), "the sum of the parts above"))
    safe = _int(estimate.get("safe_bytes"))
    if safe is not None:
        fraction = float(estimate.get("safe_fraction") or 0.75)
        rows.append(("%d %% of %s" % (fraction * 100, estimate.get("memory_source") or "memory"), _gb(safe),
                     "usable: %d %% of %s (min(RAM, cgroup memory limit))" % (
                         fraction * 100, _gb(estimate.get("memory_bytes") or estimate.get("ram_bytes")))))
        if total > safe:
            rows.append(("shortfall", _gb(total - safe), "needed minus usable"))
        else:
            rows.append(("headroom", _gb(safe - total), "usable minus needed"))
    if estimate.get("max_connections") is not None:
        rows.append(("fit", "%s connections" % estimate["max_connections"],
                     "the most connections whose parts fit in the usable memory"))
    return rows


def _status(result, failure, unreachable, drift, keys, limits_changed, txq_rows):
    """(status, reason) of one host; the first matching rule wins. A container whose own hard
    RLIMIT_NOFILE is below the planned hard is never "already as planned": the reason names both."""
    if unreachable is not None:
        return "unreachable", str(_dict(unreachable).get("message", unreachable) if isinstance(unreachable, dict)
                                  else unreachable) or "unreachable"
    plan = _dict(result.get("plan")) or _dict(_dict(failure).get("plan"))
    if failure is not None:
        failure = _dict(failure)
        if plan.get("feasible") is False:
            return "infeasible", _infeasible_reason(plan, failure.get("message", ""))
        return "failed", "%s: %s" % (failure.get("task") or "?", failure.get("message") or "failed")
    if not result:
        return "not reached", NOT_REACHED_REASON
    if plan.get("feasible") is False:
        return "infeasible", _infeasible_reason(plan)
    mismatches = _dict(result.get("mismatches"))
    if mismatches:
        return "failed", "read-back: " + "; ".join(
            "%s planned %s, live %s" % (k, value_text(_dict(v).get("planned")), value_text(_dict(v).get("live")))
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
    reverted = _dict(result.get("reverted"))
    if mode == "revert":
        restored = _list(reverted.get("sysctl_changed_keys"))
        if restored or reverted.get("limits_changed") or reverted.get("txqueuelen_changed") or reverted.get("changed"):
            return "tuned", "reverted what the role wrote (%d sysctl key(s) restored)" % len(restored)
        return "unchanged", "nothing to revert"
    shortfall = container_nofile_shortfall(result)
    tail = ("; but " + _shortfall_text(shortfall)) if shortfall else ""
    if not parts:
        return "unchanged", _shortfall_text(shortfall) if shortfall else "already as planned"
    if mode in ("audit", "check"):
        return "would change", "would change " + ", ".join(parts) + tail
    return "tuned", "changed " + ", ".join(parts) + tail


def host_entry(name, result=None, failure=None, unreachable=None):
    """The report's view of one host."""
    result = _dict(result)
    mode = result.get("mode", "apply")
    would = mode in ("audit", "check")
    drift = _drift(result)
    keys = _key_rows(result, drift) if result else []
    limits, limit_files = _limits_rows(result, would) if result else ([], [])
    txq = _txqueuelen_rows(result, would) if result else []
    limits_changed = bool(_dict(result.get("limits")).get("changed"))
    status, reason = _status(result, failure, unreachable, drift, keys, limits_changed, txq)
    plan = _dict(result.get("plan")) or _dict(_dict(failure).get("plan"))
    findings = _findings(result)
    facts_before = _dict(result.get("facts_before"))
    states = _dict(_dict(facts_before.get("sockets")).get("states"))
    entry = {
        "host": str(name),
        "status": status,
        "reason": reason,
        "mode": str(mode) if result else "",
        "profile": str(result.get("profile", "") or _dict(failure).get("profile", "") or ""),
        "kernel": str(result.get("kernel", "") or _dict(failure).get("kernel", "") or ""),
        "container": bool(result.get("container")),
        "failure": None,
        "findings": findings,
        "findings_after": [str(_dict(f).get("id", "")) for f in _list(result.get("findings_after"))],
        "keys": keys,
        "limits": limits,
        "limit_files_changed": [str(f) for f in limit_files],
        "txqueuelen": txq,
        "drift": drift,
        "warnings": [str(w) for w in _list(plan.get("warnings"))],
        "memory_estimate": _dict(plan.get("memory_estimate")),
        "sockets": dict((state, int(states.get(state) or 0)) for state in ("ESTABLISHED", "TIME_WAIT")),
    }
    if failure is not None:
        entry["failure"] = {"task": str(_dict(failure).get("task") or ""),
                            "message": str(_dict(failure).get("message") or "")}
    if unreachable is not None:
        message = _dict(unreachable).get("message") if isinstance(unreachable, dict) else unreachable
        entry["failure"] = {"task": "connect", "message": str(message or "")}
    return entry


# ---------------------------------------------------------------- fleet

def play_hosts_of(recorded):
    """Every host of the play: the union of ``play_hosts`` that any host recorded, in their order."""
    seen = []
    for name in sorted(recorded):
        for host in _list(_dict(recorded[name]).get("play_hosts")):
            if host not in seen:
                seen.append(host)
    return seen


def outliers(hosts):
    """Per sysctl key, the hosts whose value (after the run, else before) differs from the fleet majority."""
    values = {}
    for host in hosts:
        for row in host["keys"]:
            value = row["after"] or row["before"]
            if value:
                values.setdefault(row["key"], {})[host["host"]] = value
    out = {}
    for key in sorted(values):
        by_host = values[key]
        if len(by_host) < 2:
            continue
        majority, count = sorted(Counter(by_host.values()).items(), key=lambda item: (-item[1], item[0]))[0]
        differ = dict((name, value) for name, value in sorted(by_host.items()) if value != majority)
        if differ:
            out[key] = {"majority": majority, "majority_hosts": count, "differ": differ}
    return out


def finding_counts(hosts):
    counts = {}
    for host in hosts:
        for finding in host["findings"]:
            entry = counts.setdefault(finding["id"], {"severity": finding["severity"], "hosts": []})
            if host["host"] not in entry["hosts"]:
                entry["hosts"].append(host["host"])
    return dict(sorted(counts.items(), key=lambda item: (-len(item[1]["hosts"]), item[0])))


def build_report(results, title="TCP tuning report", failures=None, unreachable=None, play_hosts=None,
                 generated=""):
    """``results``: host -> tcp_tuning_result; ``failures``: host -> {task, message, plan?};
    ``unreachable``: host -> message; ``play_hosts``: every host of the play (the ones absent from all
    three are "not reached"). Hosts are sorted by name, so the output is deterministic."""
    results = _dict(results)
    failures = _dict(failures)
    unreachable = _dict(unreachable)
    names = set(results) | set(failures) | set(unreachable) | set(play_hosts or [])
    hosts = [host_entry(name, results.get(name), failures.get(name), unreachable.get(name))
             for name in sorted(names)]
    status_counts = dict((status, sum(1 for h in hosts if h["status"] == status)) for status in STATUSES)
    return {
        "schema_version": SCHEMA_VERSION,
        "title": title,
        "generated": generated,
        "summary": {
            "hosts": len(hosts),
            "status": status_counts,
            "keys_changed": sum(1 for h in hosts for r in h["keys"] if r["status"] in ("changed", "would change")),
            "keys_skipped": sum(1 for h in hosts for r in h["keys"] if r["status"] == "skipped"),
            "findings": dict((s, sum(1 for h in hosts for f in h["findings"] if f["severity"] == s))
                             for s in SEVERITIES),
        },
        "finding_counts": finding_counts(hosts),
        "outliers": outliers(hosts),
        "hosts": hosts,
    }


def _host_refusal(host):
    """An infeasible host's refusal warning (its reason already says it), else None."""
    if host["status"] != "infeasible":
        return None
    return next((w for w in host["warnings"] if w.startswith("infeasible")), None)


def _other_warnings(host):
    refusal = _host_refusal(host)
    return [w for w in host["warnings"] if w != refusal]


def _failure_message(host):
    """The failed task's message, or None for an infeasible host whose message only repeats the plan's
    warnings (the role's "the target does not fit" joins them all into one line)."""
    message = host["failure"]["message"]
    refusal = _host_refusal(host)
    if refusal and refusal in message:
        return None
    return message


# ---------------------------------------------------------------- JSON, Markdown, JUnit

def render_json(report):
    return json.dumps(report, indent=1, sort_keys=True, default=str) + "\n"


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _short(text, limit=160):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def render_markdown(report):
    summary = report["summary"]
    lines = ["# %s" % report["title"], ""]
    lines.append("%d host(s): %s." % (summary["hosts"], ", ".join(
        "%d %s" % (summary["status"][s], s) for s in STATUSES if summary["status"][s]) or "none"))
    lines.append("")
    lines.extend(["| host | status | reason | kernel | profile | findings |", "|---|---|---|---|---|---|"])
    for host in report["hosts"]:
        lines.append("| %s | **%s** | %s | %s | %s | %s |" % (
            _md_cell(host["host"]), host["status"], _md_cell(_short(host["reason"])), _md_cell(host["kernel"]),
            _md_cell(host["profile"]), _md_cell(", ".join(f["id"] for f in host["findings"]))))
    if report["finding_counts"]:
        lines.extend(["", "## Findings across the fleet", "", "| finding | severity | hosts |", "|---|---|---|"])
        for finding_id, entry in report["finding_counts"].items():
            lines.append("| `%s` | %s | %d |" % (finding_id, entry["severity"], len(entry["hosts"])))
    if report["outliers"]:
        lines.extend(["", "## Hosts that differ from the majority", "", "| key | majority | differing hosts |",
                      "|---|---|---|"])
        for key, entry in report["outliers"].items():
            differ = ", ".join("%s=%s" % item for item in entry["differ"].items())
            lines.append("| `%s` | %s (%d) | %s |" % (
                key, _md_cell(entry["majority"]), entry["majority_hosts"], _md_cell(differ)))
    for host in report["hosts"]:
        lines.extend(["", "## %s: %s" % (host["host"], host["status"]), "", _md_cell(host["reason"])])
        breakdown = memory_breakdown(host["memory_estimate"]) if host["status"] == "infeasible" else []
        if breakdown:
            lines.extend(["", "| memory | bytes | how |", "|---|---|---|"])
            lines.extend("| %s | %s | %s |" % tuple(_md_cell(cell) for cell in row) for row in breakdown)
        if host["failure"]:
            message = _failure_message(host)
            lines.extend(["", "Task `%s`: %s" % (host["failure"]["task"], _md_cell(message)) if message is not None
                          else "Task `%s` stopped this host; nothing was changed." % host["failure"]["task"]])
        warnings = _other_warnings(host)
        if warnings:
            lines.append("")
        for warning in warnings:
            lines.append("- warning: %s" % _md_cell(warning))
        if host["findings"]:
            lines.extend(["", "| finding | severity | evidence | fix |", "|---|---|---|---|"])
            for finding in host["findings"]:
                lines.append("| `%s` | %s | %s | %s |" % (
                    finding["id"], finding["severity"],
                    _md_cell(", ".join("%s=%s" % (k, value_text(v)) for k, v in sorted(finding["evidence"].items()))),
                    _md_cell(finding["fix"])))
        if host["drift"]:
            lines.append("")
            for key, item in host["drift"].items():
                lines.append("- drift `%s`: persisted %s, live %s%s" % (
                    key, item["persisted"] or "?", item["live"] or "?",
                    "".join("; %s sets %s at boot" % (f["file"], f["value"]) for f in item.get("overridden_by", []))))
        if host["keys"]:
            lines.extend(["", "| key | before | planned | after | status | reason |", "|---|---|---|---|---|---|"])
            for row in host["keys"]:
                lines.append("| `%s` | %s | %s | %s | %s | %s |" % (
                    row["key"], _md_cell(row["before"]), _md_cell(row["planned"]), _md_cell(row["after"]),
                    row["status"], _md_cell(row["reason"])))
        if host["limits"]:
            lines.extend(["", "| limit | soft:hard | status | reason |", "|---|---|---|---|"])
            for row in host["limits"]:
                lines.append("| %s | %s | %s | %s |" % (_md_cell(row["item"]), _md_cell(row["planned"]),
                                                        row["status"], _md_cell(row["reason"])))
        if host["txqueuelen"]:
            lines.extend(["", "| interface | before | planned | after | status |", "|---|---|---|---|---|"])
            for row in host["txqueuelen"]:
                lines.append("| %s | %s | %s | %s | %s%s |" % (
                    _md_cell(row["interface"]), row["before"], row["planned"], row["after"], row["status"],
                    ": " + _md_cell(row["reason"]) if row["reason"] else ""))
    return "\n".join(lines) + "\n"


def render_junit(report):
    """JUnit XML: one testcase per host; drift, infeasible, failed and unreachable fail, not reached is skipped."""
    hosts = report["hosts"]
    failures = sum(1 for h in hosts if h["status"] in FAILING_STATUSES)
    skipped = sum(1 for h in hosts if h["status"] == "not reached")
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<testsuites name=%s tests="%d" failures="%d" skipped="%d">' % (
               quoteattr(report["title"]), len(hosts), failures, skipped),
           '<testsuite name="tcptune.linux.tune_tcp" tests="%d" failures="%d" errors="0" skipped="%d">' % (
               len(hosts), failures, skipped)]
    for host in hosts:
        case = '<testcase classname=%s name=%s' % (quoteattr("tcptune." + host["status"].replace(" ", "_")),
                                                   quoteattr(host["host"]))
        if host["status"] in FAILING_STATUSES:
            out.append('%s><failure type=%s message=%s>%s</failure></testcase>' % (
                case, quoteattr(host["status"]), quoteattr(host["reason"]), escape(host["reason"], quote=False)))
        elif host["status"] == "not reached":
            out.append('%s><skipped message=%s/></testcase>' % (case, quoteattr(host["reason"])))
        else:
            out.append('%s><system-out>%s: %s</system-out></testcase>' % (
                case, escape(host["status"], quote=False), escape(host["reason"], quote=False)))
    out.extend(["</testsuite>", "</testsuites>"])
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML

def status_bar_svg(counts, width=720, height=28):
    """One stacked bar of hosts per status, with a legend; only statuses that occur are drawn."""
    total = sum(counts.values())
    present = [s for s in STATUSES if counts.get(s)]
    legend_width = sum(24 + 7 * len("%s %d" % (s, counts[s])) for s in present)
    width = max(width, legend_width)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d">'
             % (width, height + 22, width, height + 22), "<title>hosts per status</title>"]
    x = 0.0
    for status in present:
        share = width * counts[status] / float(total)
        parts.append('<rect x="%.1f" y="0" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>'
                     % (x, share, height, STATUS_COLOURS[status], escape(status), counts[status]))
        x += share
    x = 0
    for status in present:
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (x, height + 8, STATUS_COLOURS[status]))
        label = "%s %d" % (status, counts[status])
        parts.append('<text x="%d" y="%d" font-size="12">%s</text>' % (x + 14, height + 18, escape(label)))
        x += 24 + 7 * len(label)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart_svg(title, labels, values, colour="#ef6c00", width=640, bar_height=16):
    """Horizontal bars, one per label; the longest bar is the largest value."""
    label_width = 240
    height = 10 + bar_height * len(labels)
    largest = max(list(values) + [1])
    scale = (width - label_width - 50) / float(largest)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d">'
             % (width, height, width, height), "<title>%s</title>" % escape(title)]
    for index, (label, value) in enumerate(zip(labels, values)):
        y = 5 + index * bar_height
        parts.append('<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>'
                     % (label_width - 6, y + bar_height - 4, escape(label)))
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>'
                     % (label_width, y, value * scale, bar_height - 3, colour, escape(label), value))
        parts.append('<text x="%.1f" y="%d" font-size="11">%d</text>'
                     % (label_width + value * scale + 4, y + bar_height - 4, value))
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:sans-serif;margin:1.5em;color:#222;max-width:90em}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top;font-size:.88em}
th{background:#f3f3f3} #hosts td:first-child,#hosts td:nth-child(4){white-space:nowrap} #hosts th{cursor:pointer;user-select:none} code{font-size:.95em}
.st{display:inline-block;padding:0 .4em;border-radius:3px;color:#fff;white-space:nowrap}
.critical{color:#c62828;font-weight:bold}.warning{color:#ef6c00;font-weight:bold}.info{color:#1565c0}
tr.changed,tr.would-change{background:#fff8e1} tr.drift{background:#fff3e0} tr.skipped{color:#777}
tr.shortfall,tr.cannot-be-given-here{background:#f3e5f5;font-weight:bold}
.filters{margin:.5em 0}.filters button{margin:0 .3em .3em 0;border:1px solid #888;background:#fff;padding:.2em .6em}
.filters button.on{background:#333;color:#fff} .hidden{display:none}
details.host{margin:.3em 0;border-top:1px solid #ddd;padding-top:.3em} details.host>summary{cursor:pointer}
details.explain>summary{cursor:pointer;color:#1565c0} pre{white-space:pre-wrap;margin:.2em 0}
"""

# Sorting and filtering of the host table. Filters: one status (buttons), finding, kernel, profile
# (selects) and a host-name substring; the per-host sections follow the table rows.
_SCRIPT = """
(function(){
var table=document.getElementById('hosts');if(!table)return;
var rows=Array.prototype.slice.call(table.tBodies[0].rows);
var state={status:'',finding:'',kernel:'',profile:'',text:''};
function apply(){var shown=0;rows.forEach(function(r){var d=r.dataset;
var ok=(!state.status||d.status===state.status)&&(!state.kernel||d.kernel===state.kernel)&&
(!state.profile||d.profile===state.profile)&&(!state.finding||(' '+d.findings+' ').indexOf(' '+state.finding+' ')>=0)&&
(!state.text||d.host.indexOf(state.text)>=0);
r.classList.toggle('hidden',!ok);var s=document.getElementById('host-'+d.index);if(s)s.classList.toggle('hidden',!ok);
if(ok)shown++;});document.getElementById('shown').textContent=shown;}
Array.prototype.forEach.call(document.querySelectorAll('.filters button[data-status]'),function(b){
b.addEventListener('click',function(){state.status=b.dataset.status;
Array.prototype.forEach.call(document.querySelectorAll('.filters button[data-status]'),function(o){
o.classList.toggle('on',o===b);});apply();});});
['finding','kernel','profile'].forEach(function(n){var e=document.getElementById('f-'+n);
if(e)e.addEventListener('change',function(){state[n]=e.value;apply();});});
var t=document.getElementById('f-text');if(t)t.addEventListener('input',function(){state.text=t.value;apply();});
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.addEventListener('click',function(){
var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';
rows.sort(function(a,b){var x=a.cells[i].dataset.sort||a.cells[i].textContent,y=b.cells[i].dataset.sort||b.cells[i].textContent;
return (x<y?-1:x>y?1:0)*dir;});var body=table.tBodies[0];rows.forEach(function(r){body.appendChild(r);});});});
apply();})();
"""


def _status_badge(status):
    return '<span class="st" style="background:%s">%s</span>' % (STATUS_COLOURS.get(status, "#777"), escape(status))


def _explain_html(explain):
    if not explain:
        return ""
    inputs = ", ".join("%s=%s" % (escape(str(k)), escape(value_text(v))) for k, v in sorted(
        _dict(explain.get("inputs")).items()))
    return ('<details class="explain"><summary>formula</summary><pre>%s</pre><div>inputs: %s</div>'
            '<div>kernel default: %s; source: %s</div></details>') % (
        escape(str(explain.get("formula", ""))), inputs, escape(value_text(explain.get("kernel_default"))),
        escape(str(explain.get("source", ""))))


def _table(headers, rows, row_classes=None):
    out = ["<table><thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % escape(h) for h in headers)]
    for index, row in enumerate(rows):
        css = ' class="%s"' % row_classes[index] if row_classes and row_classes[index] else ""
        out.append("<tr%s>%s</tr>" % (css, "".join("<td>%s</td>" % cell for cell in row)))
    out.append("</tbody></table>")
    return "".join(out)


def _host_section(index, host):
    body = ['<details class="host" id="host-%d"><summary><b>%s</b> %s %s</summary>' % (
        index, escape(host["host"]), _status_badge(host["status"]), escape(host["reason"]))]
    if host["mode"] or host["profile"] or host["kernel"]:  # a host that failed before tcp_tune has none
        body.append("<p>Mode <b>%s</b>, profile <code>%s</code>, kernel <code>%s</code>%s.</p>" % (
            escape(host["mode"] or "-"), escape(host["profile"]), escape(host["kernel"]),
            ", in a container (global keys are skipped)" if host["container"] else ""))
    breakdown = memory_breakdown(host["memory_estimate"]) if host["status"] == "infeasible" else []
    if breakdown:
        body.append("<h4>Memory estimate</h4>" + _table(["memory", "bytes", "how"], [
            [escape(part), escape(size), escape(detail)] for part, size, detail in breakdown],
            ["shortfall" if part == "shortfall" else "" for part, dummy_size, dummy_detail in breakdown]))
    if host["failure"]:
        message = _failure_message(host)
        body.append('<p class="critical">Task <code>%s</code>%s</p>' % (
            escape(host["failure"]["task"]), ": " + escape(message) if message is not None
            else " stopped this host; nothing was changed."))
    warnings = _other_warnings(host)
    if warnings:
        body.append("<h4>Warnings</h4><ul>%s</ul>" % "".join("<li>%s</li>" % escape(w) for w in warnings))
    if host["drift"]:
        body.append("<h4>Drift</h4>" + _table(["key", "persisted", "live", "wins at boot"], [
            ["<code>%s</code>" % escape(k), escape(v["persisted"]), escape(v["live"]),
             escape("; ".join("%s: %s" % (f["file"], f["value"]) for f in v.get("overridden_by", [])))]
            for k, v in host["drift"].items()]))
    if host["findings"]:
        body.append("<h4>Findings</h4>" + _table(["severity", "finding", "evidence", "fix"], [
            ['<span class="%s">%s</span>' % (escape(f["severity"]), escape(f["severity"])),
             "<code>%s</code> %s" % (escape(f["id"]), escape(f["summary"])),
             escape(", ".join("%s=%s" % (k, value_text(v)) for k, v in sorted(f["evidence"].items()))),
             escape(f["fix"])] for f in host["findings"]]))
    if host["keys"]:
        body.append("<h4>sysctl</h4>" + _table(["key", "before", "planned", "after", "status", "reason"], [
            ["<code>%s</code>" % escape(r["key"]), escape(r["before"]), escape(r["planned"]), escape(r["after"]),
             escape(r["status"]), escape(r["reason"]) + _explain_html(r["explain"])] for r in host["keys"]],
            [r["status"].replace(" ", "-") for r in host["keys"]]))
    if host["limits"]:
        body.append("<h4>nofile limits</h4>" + _table(["limit", "soft:hard", "status", "reason"], [
            [escape(r["item"]), escape(r["planned"]), escape(r["status"]),
             escape(r["reason"]) + _explain_html(r["explain"])] for r in host["limits"]],
            [r["status"].replace(" ", "-") for r in host["limits"]]))
    if host["txqueuelen"]:
        body.append("<h4>txqueuelen</h4>" + _table(["interface", "before", "planned", "after", "status", "reason"], [
            [escape(r["interface"]), escape(r["before"]), escape(r["planned"]), escape(r["after"]),
             escape(r["status"]), escape(r["reason"]) + _explain_html(r["explain"])] for r in host["txqueuelen"]]))
    body.append("</details>")
    return "".join(body)


def _select(name, label, values):
    options = "".join('<option value=%s>%s</option>' % (quoteattr(v), escape(v)) for v in sorted(set(values)) if v)
    return '<label>%s <select id="f-%s"><option value="">all</option>%s</select></label> ' % (
        escape(label), name, options)


def render_html(report):
    """One self-contained HTML page: inline CSS, SVG and script; no external URL."""
    hosts = report["hosts"]
    summary = report["summary"]
    body = ["<h1>%s</h1>" % escape(report["title"])]
    if report.get("generated"):
        body.append("<p>Generated %s.</p>" % escape(report["generated"]))
    body.append("<p>%d host(s): %s.</p>" % (summary["hosts"], escape(", ".join(
        "%d %s" % (summary["status"][s], s) for s in STATUSES if summary["status"][s]) or "none")))
    if sum(1 for count in summary["status"].values() if count) > 1:  # one colour says nothing
        body.append(status_bar_svg(summary["status"]))
    buttons = ['<button data-status="" class="on">all %d</button>' % len(hosts)]
    buttons.extend('<button data-status=%s>%s %d</button>' % (quoteattr(s), escape(s), summary["status"][s])
                   for s in STATUSES if summary["status"][s])
    body.append('<div class="filters">Status: %s</div>' % "".join(buttons))
    body.append('<div class="filters">%s%s%s<label>host <input id="f-text" type="search"/></label> '
                '<span id="shown">%d</span> shown</div>' % (
                    _select("finding", "finding", [f for h in hosts for f in (x["id"] for x in h["findings"])]),
                    _select("kernel", "kernel", [h["kernel"] for h in hosts]),
                    _select("profile", "profile", [h["profile"] for h in hosts]), len(hosts)))
    rank = dict((s, i) for i, s in enumerate(STATUSES))
    rows = ['<table id="hosts"><thead><tr><th>host</th><th>status</th><th>reason</th><th>kernel</th>'
            '<th>profile</th><th>findings</th><th>changes</th></tr></thead><tbody>']
    for index, host in enumerate(hosts):
        ids = " ".join(f["id"] for f in host["findings"])
        changes = sum(1 for r in host["keys"] if r["status"] in ("changed", "would change", "drift"))
        rows.append('<tr data-index="%d" data-host=%s data-status=%s data-kernel=%s data-profile=%s data-findings=%s>'
                    '<td><a href="#host-%d">%s</a></td><td data-sort="%d">%s</td><td title=%s>%s</td><td>%s</td>'
                    '<td>%s</td><td>%s</td><td data-sort="%06d">%d</td></tr>' % (
                        index, quoteattr(host["host"]), quoteattr(host["status"]), quoteattr(host["kernel"]),
                        quoteattr(host["profile"]), quoteattr(ids), index, escape(host["host"]),
                        rank.get(host["status"], 99), _status_badge(host["status"]), quoteattr(host["reason"]),
                        escape(_short(host["reason"])),
                        escape(host["kernel"]), escape(host["profile"]), escape(ids), changes, changes))
    rows.append("</tbody></table>")
    body.append("".join(rows))
    if report["finding_counts"]:
        labels = list(report["finding_counts"])
        body.append("<h2>Findings across the fleet</h2>")
        body.append(bar_chart_svg("hosts per finding", labels,
                                  [len(report["finding_counts"][f]["hosts"]) for f in labels]))
    if report["outliers"]:
        body.append("<h2>Hosts that differ from the majority</h2>")
        body.append(_table(["key", "majority (hosts)", "differing hosts"], [
            ["<code>%s</code>" % escape(key), "%s (%d)" % (escape(e["majority"]), e["majority_hosts"]),
             escape(", ".join("%s=%s" % item for item in e["differ"].items()))]
            for key, e in report["outliers"].items()]))
    body.append("<h2>Hosts</h2>")
    body.extend(_host_section(index, host) for index, host in enumerate(hosts))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\">"
            "<title>%s</title><style>%s</style></head><body>%s<script>%s</script></body></html>\n"
            % (escape(report["title"]), _CSS, "\n".join(body), _SCRIPT))


def report_files(report, dest):
    """{kind: (path, text)} of the four report files in ``dest``."""
    return {
        "json": (os.path.join(dest, "report.json"), render_json(report)),
        "markdown": (os.path.join(dest, "report.md"), render_markdown(report)),
        "html": (os.path.join(dest, "report.html"), render_html(report)),
        "junit": (os.path.join(dest, "report.junit.xml"), render_junit(report)),
    }
