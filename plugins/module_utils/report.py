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

from ansible_collections.tcptune.linux.plugins.module_utils import fileutil

SCHEMA_VERSION = "2.1"
STATUSES = ("tuned", "unchanged", "would change", "drift", "infeasible", "failed", "unreachable", "not reached")
STATUS_COLOURS = {"tuned": "#2e7d32", "unchanged": "#9e9e9e", "would change": "#1565c0", "drift": "#ef6c00",
                  "infeasible": "#6a1b9a", "failed": "#c62828", "unreachable": "#4e342e",
                  "not reached": "#bdbdbd"}
# JUnit: these statuses fail their testcase; "not reached" is skipped.
FAILING_STATUSES = ("drift", "infeasible", "failed", "unreachable")
SEVERITIES = ("critical", "warning", "info")
# Fleet views name at most this many hosts, and this many values per key; report.json has them all.
FLEET_NAMES = 20
FLEET_VALUES = 6
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
    """Bytes as the "N.NN GB" of the plan's messages (sizing_policy.gb_text)."""
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

def _values_by_key(hosts):
    """sysctl key -> {host: value}: each host's value after the run (else before), hosts in report order."""
    values = {}
    for host in hosts:
        for row in host["keys"]:
            value = row["after"] or row["before"]
            if value:
                values.setdefault(row["key"], {})[host["host"]] = value
    return values


def _ranked(by_host):
    """[(value, hosts)] of one key, most common first, ties by value."""
    return sorted(Counter(by_host.values()).items(), key=lambda item: (-item[1], item[0]))


def outliers(hosts, values=None):
    """Per sysctl key, the hosts whose value (after the run, else before) differs from the fleet majority."""
    values = _values_by_key(hosts) if values is None else values
    out = {}
    for key in sorted(values):
        by_host = values[key]
        if len(by_host) < 2:
            continue
        majority, count = _ranked(by_host)[0]
        differ = dict((name, value) for name, value in sorted(by_host.items()) if value != majority)
        if differ:
            out[key] = {"majority": majority, "majority_hosts": count, "differ": differ}
    return out


def key_values(hosts, values=None):
    """Per sysctl key, the distribution of its values across the fleet: [{value, hosts}], most common
    first (the first is the majority); every key any host reported."""
    values = _values_by_key(hosts) if values is None else values
    return dict((key, [{"value": value, "hosts": count} for value, count in _ranked(values[key])])
                for key in sorted(values))


def finding_counts(hosts):
    """finding id -> {severity, hosts}: the hosts that have it, most frequent finding first."""
    counts, seen = {}, {}
    for host in hosts:
        for finding in host["findings"]:
            entry = counts.setdefault(finding["id"], {"severity": finding["severity"], "hosts": []})
            names = seen.setdefault(finding["id"], set())
            if host["host"] not in names:
                names.add(host["host"])
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
    values = _values_by_key(hosts)
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
        "key_values": key_values(hosts, values),
        "outliers": outliers(hosts, values),
        "hosts": hosts,
    }


# ---------------------------------------------------------------- what the play recorded

# The variables tune_tcp.yml records per host (and, once per batch, on the controller) for the report.
RECORDED = ("tcp_tuning_result", "tcp_tuning_failure", "tcp_tuning_unreachable", "tcp_tuning_play_hosts",
            "tcp_tuning_report_dest", "tcp_tuning_report_name")
DEFAULT_TITLE = "TCP tuning report"


def collect(recorded, failed_tasks=None, unreachable=None):
    """The report's inputs from what the play recorded, for the report task and the callback alike.

    ``recorded``: host -> {name: value} for the names in ``RECORDED`` (a host's hostvars, or the facts a
    callback saw); ``failed_tasks``: host -> {task, message} of tasks that failed outside the play's
    rescue; ``unreachable``: host -> connection error. Returns {results, failures, unreachable,
    play_hosts, dest, title}: ``play_hosts`` is the union of every recorded ``tcp_tuning_play_hosts``
    in their order, ``dest`` and ``title`` the first recorded ones (None and the default title when
    none). A host's recorded failure wins over a failed task; an unreachable host has no failure."""
    recorded = _dict(recorded)
    play_hosts, seen, results = [], set(), {}
    failures = dict(_dict(failed_tasks))
    lost = dict((str(name), message) for name, message in _dict(unreachable).items())
    dests, titles = [], []
    for name in sorted(recorded):
        item = _dict(recorded[name])
        for host in _list(item.get("tcp_tuning_play_hosts")):
            if host not in seen:
                seen.add(host)
                play_hosts.append(host)
        if _dict(item.get("tcp_tuning_result")):
            results[name] = item["tcp_tuning_result"]
        if item.get("tcp_tuning_failure"):
            failures[name] = item["tcp_tuning_failure"]
        if item.get("tcp_tuning_unreachable"):
            lost[name] = item["tcp_tuning_unreachable"]
        if item.get("tcp_tuning_report_dest"):
            dests.append(str(item["tcp_tuning_report_dest"]))
        if item.get("tcp_tuning_report_name"):
            titles.append(str(item["tcp_tuning_report_name"]))
    for name in lost:
        failures.pop(name, None)
    return {"results": results, "failures": failures, "unreachable": lost, "play_hosts": play_hosts,
            "dest": dests[0] if dests else None, "title": titles[0] if titles else DEFAULT_TITLE}


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


# ---------------------------------------------------------------- JSON, Markdown, JUnit

def render_json(report):
    return json.dumps(report, indent=1, sort_keys=True, default=str) + "\n"


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def some_of(names, limit=FLEET_NAMES):
    """The first ``limit`` names, then how many more: a fleet view stays one line at any size."""
    names = list(names)
    shown = ", ".join(str(name) for name in names[:limit])
    return shown + (" and %d more" % (len(names) - limit) if len(names) > limit else "")


def distribution_text(ranked, limit=FLEET_VALUES):
    """A key's distribution as "value (hosts), ...": the ``limit`` most common values, then the rest in one."""
    parts = ["%s (%d)" % (entry["value"], entry["hosts"]) for entry in ranked[:limit]]
    rest = ranked[limit:]
    if rest:
        parts.append("%d other values (%d)" % (len(rest), sum(entry["hosts"] for entry in rest)))
    return ", ".join(parts)


def short_text(text, limit=160):
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
            _md_cell(host["host"]), host["status"], _md_cell(short_text(host["reason"])), _md_cell(host["kernel"]),
            _md_cell(host["profile"]), _md_cell(", ".join(f["id"] for f in host["findings"]))))
    if report["finding_counts"]:
        lines.extend(["", "## Findings across the fleet", "", "| finding | severity | hosts | which |",
                      "|---|---|---|---|"])
        for finding_id, entry in report["finding_counts"].items():
            lines.append("| `%s` | %s | %d | %s |" % (
                finding_id, entry["severity"], len(entry["hosts"]), _md_cell(some_of(entry["hosts"]))))
    spread = [(key, ranked) for key, ranked in report.get("key_values", {}).items() if len(ranked) > 1]
    if spread:
        lines.extend(["", "## Keys whose value differs across the fleet", "",
                      "| key | values (hosts) | hosts off the majority |", "|---|---|---|"])
        for key, ranked in spread:
            differ = _dict(report["outliers"].get(key)).get("differ") or {}
            lines.append("| `%s` | %s | %s |" % (key, _md_cell(distribution_text(ranked)), _md_cell(some_of(
                ["%s=%s" % item for item in differ.items()]))))
    for host in report["hosts"]:
        lines.extend(["", "## %s: %s" % (host["host"], host["status"]), "", _md_cell(host["reason"])])
        breakdown = memory_breakdown(host["memory_estimate"]) if host["status"] == "infeasible" else []
        if breakdown:
            lines.extend(["", "| memory | bytes | how |", "|---|---|---|"])
            lines.extend("| %s | %s | %s |" % tuple(_md_cell(cell) for cell in row) for row in breakdown)
        if host["failure"]:
            message = failure_message(host)
            lines.extend(["", "Task `%s`: %s" % (host["failure"]["task"], _md_cell(message)) if message is not None
                          else "Task `%s` stopped this host; nothing was changed." % host["failure"]["task"]])
        warnings = other_warnings(host)
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


# ---------------------------------------------------------------- files

def render_html(report):
    """The HTML page (report_html.render_html): one self-contained file that loads nothing."""
    from ansible_collections.tcptune.linux.plugins.module_utils import report_html
    return report_html.render_html(report)


# Each kind of file: its name in the report directory and its renderer.
FILES = (("json", "report.json", render_json), ("markdown", "report.md", render_markdown),
         ("html", "report.html", render_html), ("junit", "report.junit.xml", render_junit))


def report_files(report, dest):
    """{kind: (path, text)} of the four report files in ``dest``."""
    return dict((kind, (os.path.join(dest, name), render(report))) for kind, name, render in FILES)


def write_report(report, dest, check_mode=False):
    """Write the four files into ``dest``, atomically and only those whose text changes; one text is
    held at a time, so the peak memory is the largest file, not their sum.

    Returns (changed, {kind: path}); in check mode nothing is written and ``changed`` says whether it
    would be."""
    changed = not os.path.isdir(dest)
    paths = {}
    for kind, name, render in FILES:
        path = paths[kind] = os.path.join(dest, name)
        text = render(report)
        if fileutil.read_file(path) != text:
            changed = True
            if not check_mode:
                fileutil.atomic_write(path, text)
        del text
    return changed, paths
