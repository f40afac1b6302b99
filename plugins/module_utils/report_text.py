# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as text: JSON (docs/report-schema.json), Markdown and JUnit XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from html import escape
from xml.sax.saxutils import quoteattr

from ansible_collections.tcptune.linux.plugins.module_utils.report import FLEET_NAMES, FLEET_VALUES
from ansible_collections.tcptune.linux.plugins.module_utils.report_host import STATUSES, failure_message, other_warnings
from ansible_collections.tcptune.linux.plugins.module_utils.report_rows import as_dict, memory_breakdown, value_text

# JUnit: these statuses fail their testcase; "not reached" is skipped.
FAILING_STATUSES = ("drift", "infeasible", "failed", "unreachable")


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
            differ = as_dict(report["outliers"].get(key)).get("differ") or {}
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
