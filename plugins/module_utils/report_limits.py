# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nofile limits of one host's report entry: one row per file as written (soft:hard), parsed from
the nofile_limits result, and whether a container can give the planned hard limit at all."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils.report_rows import as_dict, as_int, as_list, explain_entry, plan_reasons, value_text

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
    registered = as_dict(registered)
    out = {}
    written = registered.get("written")
    if isinstance(written, dict):
        for path, item in sorted(written.items()):
            item = as_dict(item)
            kind = item.get("kind") if item.get("kind") in LIMIT_KINDS else "login"
            out[str(path)] = {"kind": kind, "unit": item.get("unit"), "soft": as_int(item.get("soft")),
                              "hard": as_int(item.get("hard"))}
        return out
    for item in as_list(registered.get("diff")):
        item = as_dict(item)
        path = item.get("after_header") or item.get("before_header")
        parsed = parse_limit_file(path, item.get("after")) if path else None
        if parsed:
            out[str(path)] = parsed
    return out


def _planned_hard(plan):
    limits = as_dict(plan.get("limits"))
    for value in (as_dict(limits.get("login")).get("hard"), as_dict(limits.get("services")).get("hard"),
                  limits.get("nofile_hard")):
        if as_int(value) is not None:
            return as_int(value)
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
    default_hard = as_int(as_dict(systemd_default).get("hard"))
    if hard > planned_hard and hard == default_hard:
        return what + "; hard %s, not the planned %d: systemd's default hard, which a drop-in never lowers" % (
            nofile_text(hard), planned_hard)
    return what + "; hard %s, the plan sized %d" % (nofile_text(hard), planned_hard)


def _self_hard_nofile(result):
    """The hard RLIMIT_NOFILE of the tuning run itself (facts ``nofile.self``: /proc/self/limits), or
    None when unknown or unlimited."""
    own = as_dict(result.get("facts_before")).get("nofile")
    own = as_dict(own).get("self")
    if isinstance(own, (list, tuple)) and len(own) == 2:
        hard = own[1]
    else:
        hard = as_dict(own).get("hard")
    hard = as_int(hard)
    return None if hard is None or hard in (-1, NOFILE_INFINITY) else hard


def _in_container(result):
    namespace = as_dict(as_dict(result.get("facts_before")).get("namespace"))
    return bool(result.get("container") or namespace.get("container"))


def container_nofile_shortfall(result):
    """(planned hard, the container's own hard rlimit) when the plan's hard nofile is above the hard
    RLIMIT_NOFILE this container runs with: no process in it can get that limit. Else None.

    Only in a container: on a host the run's own limit is its login session's, not what a service gets."""
    result = as_dict(result)
    plan = as_dict(result.get("plan"))
    planned, own = _planned_hard(plan), _self_hard_nofile(result)
    if not _in_container(result) or planned is None or own is None or planned <= own:
        return None
    return planned, own


def shortfall_text(shortfall):
    planned, own = shortfall
    return ("nofile hard %d cannot be given here: it is above this container's own hard rlimit %d; raise the "
            "container's nofile ulimit (--ulimit nofile=%d:%d)" % (planned, own, planned, planned))


def limits_rows(result, would):
    """nofile limits, one row per file as written (soft:hard), what was left out and why, fs.nr_open
    and fs.file-max; without the files' texts (older results) the plan's login and service limits."""
    plan = as_dict(result.get("plan"))
    limits = as_dict(plan.get("limits"))
    registered = as_dict(result.get("limits"))
    changed_files = as_list(registered.get("changed_files"))
    changed = bool(registered.get("changed"))
    status = ("would change" if would else "changed") if changed else ("unchanged" if registered else "not applied")
    reasons = plan_reasons(plan)
    explain = explain_entry(as_dict(plan.get("explain")).get("limits.nofile"))
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
                    for path in as_list(registered.get("files")) if path not in written)
    else:
        # An older result without the files' texts: the plan's numbers (a service drop-in may write a
        # higher hard, systemd's default, which it never lowers).
        for scope in ("login", "services"):
            pair = as_dict(limits.get(scope))
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
                for path in as_list(registered.get("removed_files")) if path not in written)
    rows.extend({"item": "left out: %s" % what, "planned": "", "status": "left out", "reason": str(why),
                 "explain": None} for what, why in sorted(as_dict(registered.get("left_out")).items()))
    shortfall = container_nofile_shortfall(result)
    if shortfall:
        rows.append({"item": "this container's own hard rlimit (Max open files in /proc/self/limits)",
                     "planned": "%d (needs %d)" % (shortfall[1], shortfall[0]), "status": "cannot be given here",
                     "reason": shortfall_text(shortfall), "explain": None})
    for name in ("nr_open", "file_max"):
        if limits.get(name) is not None:
            rows.append({"item": name, "planned": value_text(limits[name]), "status": "bound",
                         "reason": "upper bound of the nofile limits" if name == "nr_open"
                         else "system-wide open files", "explain": None})
    return rows, changed_files
