# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report: per-host ``tcp_tuning_result`` facts -> one report dict -> JSON, Markdown, HTML.

Pure functions over plain data. The HTML page is self-contained: inline CSS and inline SVG,
no scripts, no external assets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from html import escape

SEVERITIES = ("critical", "warning", "info")
SEVERITY_COLOURS = {"critical": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}
SOCKET_STATES = ("ESTABLISHED", "TIME_WAIT")
SOCKET_COLOURS = {"ESTABLISHED": "#2e7d32", "TIME_WAIT": "#6a1b9a"}


def value_text(value):
    """A sysctl value (int, list, str or None) as the text sysctl shows."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(part) for part in value)
    return " ".join(str(value).split())


def _severity_counts(findings):
    counts = dict((severity, 0) for severity in SEVERITIES)
    for finding in findings or []:
        severity = finding.get("severity", "info")
        counts[severity] = counts.get(severity, 0) + 1
    return counts


def _socket_counts(facts):
    states = ((facts or {}).get("sockets") or {}).get("states") or {}
    return dict((state, int(states.get(state) or 0)) for state in SOCKET_STATES)


def _key_rows(result):
    """One row per key the plan or the overrides asked for: before, planned, after, status."""
    before = (result.get("facts_before") or {}).get("sysctl") or {}
    after = (result.get("facts_after") or {}).get("sysctl") or {}
    settings = result.get("settings") or {}
    applied = result.get("applied") or {}
    changed = set(applied.get("changed_keys") or [])
    previous = applied.get("previous") or {}
    skipped = result.get("skipped") or {}
    would = result.get("mode") in ("audit", "check")
    rows = []
    for key in sorted(set(settings) | set(skipped)):
        if key in skipped:
            status = "skipped"
        elif key in changed:
            status = "would change" if would else "changed"
        else:
            status = "unchanged"
        rows.append({
            "key": key,
            "before": value_text(previous.get(key, before.get(key))),
            "planned": value_text(settings.get(key)),
            "after": value_text(after.get(key)),
            "status": status,
            "reason": skipped.get(key, ""),
        })
    return rows


def host_entry(name, result):
    """The report's view of one host's ``tcp_tuning_result``."""
    result = result or {}
    plan = result.get("plan") or {}
    findings_before = result.get("findings_before") or []
    findings_after = result.get("findings_after") or []
    return {
        "host": name,
        "mode": result.get("mode", "apply"),
        "profile": result.get("profile", ""),
        "kernel": result.get("kernel", ""),
        "container": bool(result.get("container")),
        "feasible": plan.get("feasible"),
        "warnings": list(plan.get("warnings") or []),
        "memory_estimate": plan.get("memory_estimate") or {},
        "findings_before": findings_before,
        "findings_after": findings_after,
        "severity_before": _severity_counts(findings_before),
        "severity_after": _severity_counts(findings_after),
        "sockets_before": _socket_counts(result.get("facts_before")),
        "sockets_after": _socket_counts(result.get("facts_after")),
        "keys": _key_rows(result),
        "limits": result.get("limits") or {},
        "txqueuelen": result.get("txqueuelen") or [],
        "mismatches": result.get("mismatches") or {},
        "reverted": result.get("reverted") or {},
    }


def build_report(results, title="TCP tuning report"):
    """``results``: host name -> tcp_tuning_result. Hosts are sorted by name, so output is deterministic."""
    hosts = [host_entry(name, results[name]) for name in sorted(results)]
    totals = dict((severity, sum(h["severity_before"][severity] for h in hosts)) for severity in SEVERITIES)
    return {
        "title": title,
        "summary": {
            "hosts": len(hosts),
            "hosts_changed": sum(1 for h in hosts if any(r["status"] == "changed" for r in h["keys"])),
            "keys_changed": sum(1 for h in hosts for r in h["keys"] if r["status"] in ("changed", "would change")),
            "keys_skipped": sum(1 for h in hosts for r in h["keys"] if r["status"] == "skipped"),
            "findings_before": totals,
            "findings_after": dict((severity, sum(h["severity_after"][severity] for h in hosts))
                                   for severity in SEVERITIES),
        },
        "hosts": hosts,
    }


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"


def _md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report):
    summary = report["summary"]
    lines = ["# %s" % report["title"], ""]
    lines.append("%d host(s); %d key change(s) planned or applied; %d key(s) skipped. "
                 "Findings before: %s." % (
                     summary["hosts"], summary["keys_changed"], summary["keys_skipped"],
                     ", ".join("%d %s" % (summary["findings_before"][s], s) for s in SEVERITIES)))
    lines.append("")
    lines.append("| host | mode | kernel | container | critical | warning | info | ESTABLISHED | TIME_WAIT |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for host in report["hosts"]:
        counts = host["severity_before"]
        sockets = host["sockets_before"]
        lines.append("| %s | %s | %s | %s | %d | %d | %d | %d | %d |" % (
            _md_cell(host["host"]), host["mode"], _md_cell(host["kernel"]), "yes" if host["container"] else "no",
            counts["critical"], counts["warning"], counts["info"], sockets["ESTABLISHED"], sockets["TIME_WAIT"]))
    for host in report["hosts"]:
        lines.extend(["", "## %s" % host["host"], ""])
        lines.append("Mode **%s**, profile `%s`, kernel `%s`%s." % (
            host["mode"], host["profile"], host["kernel"], ", in a container" if host["container"] else ""))
        for warning in host["warnings"]:
            lines.append("- warning: %s" % warning)
        lines.extend(["", "### Findings", ""])
        if not host["findings_before"]:
            lines.append("None before the run.")
        for finding in host["findings_before"]:
            lines.append("- **%s** `%s`: %s %s" % (finding.get("severity"), finding.get("id"),
                                                   finding.get("summary", ""), finding.get("recommendation", "")))
        if host["mode"] in ("apply", "revert"):
            after_ids = ", ".join("`%s`" % f.get("id") for f in host["findings_after"]) or "none"
            lines.append("")
            lines.append("After the run: %s." % after_ids)
        lines.extend(["", "### Keys", "", "| key | before | planned | after | status |", "|---|---|---|---|---|"])
        for row in host["keys"]:
            status = row["status"] + (": " + row["reason"] if row["reason"] else "")
            cells = (row["key"], _md_cell(row["before"]), _md_cell(row["planned"]), _md_cell(row["after"]),
                     _md_cell(status))
            lines.append("| `%s` | %s | %s | %s | %s |" % cells)
        if host["mismatches"]:
            lines.append("")
            lines.append("Read-back mismatches: %s" % json.dumps(host["mismatches"], sort_keys=True))
    return "\n".join(lines) + "\n"


def bar_chart_svg(title, categories, series, colours, width=640, bar_height=14):
    """Horizontal grouped bars: one group per category, one bar per series.

    ``series``: list of (name, [value per category]). Returns an inline <svg> element.
    """
    label_width = 160
    group_gap = 10
    legend_height = 24
    group_height = bar_height * len(series) + group_gap
    height = legend_height + 20 + group_height * max(len(categories), 1)
    largest = max([value for name, values in series for value in values] + [1])
    scale = (width - label_width - 60) / float(largest)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d">'
             % (width, height, width, height), "<title>%s</title>" % escape(title)]
    x = label_width
    for name in [name for name, values in series]:
        parts.append('<rect x="%d" y="4" width="12" height="12" fill="%s"/>' % (x, colours[name]))
        parts.append('<text x="%d" y="14" font-size="12">%s</text>' % (x + 16, escape(name)))
        x += 24 + 8 * len(name)
    for index, category in enumerate(categories):
        top = legend_height + 10 + index * group_height
        parts.append('<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>'
                     % (label_width - 8, top + group_height // 2, escape(category)))
        for number, (name, values) in enumerate(series):
            value = values[index]
            y = top + number * bar_height
            parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %d</title></rect>'
                         % (label_width, y, value * scale, bar_height - 2, colours[name],
                            escape(category), escape(name), value))
            parts.append('<text x="%.1f" y="%d" font-size="11">%d</text>'
                         % (label_width + value * scale + 4, y + bar_height - 4, value))
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:sans-serif;margin:2em;color:#222;max-width:72em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#f3f3f3} code{font-size:.95em}
.critical{color:#c62828;font-weight:bold}.warning{color:#ef6c00;font-weight:bold}.info{color:#1565c0}
.changed,.would-change{background:#fff8e1}.skipped{color:#777}
"""


def _table(headers, rows, row_classes=None):
    out = ["<table><thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % escape(h) for h in headers)]
    for index, row in enumerate(rows):
        css = ' class="%s"' % row_classes[index] if row_classes and row_classes[index] else ""
        out.append("<tr%s>%s</tr>" % (css, "".join("<td>%s</td>" % cell for cell in row)))
    out.append("</tbody></table>")
    return "".join(out)


def render_html(report):
    """One self-contained HTML page: inline CSS, inline SVG charts, no script, no external URL."""
    hosts = report["hosts"]
    names = [h["host"] for h in hosts]
    summary = report["summary"]
    body = ["<h1>%s</h1>" % escape(report["title"])]
    body.append("<p>%d host(s); %d key change(s) planned or applied; %d key(s) skipped.</p>"
                % (summary["hosts"], summary["keys_changed"], summary["keys_skipped"]))
    body.append("<h2>Findings by severity</h2>")
    body.append(bar_chart_svg("Findings by severity per host (before the run)", names,
                              [(s, [h["severity_before"][s] for h in hosts]) for s in SEVERITIES],
                              SEVERITY_COLOURS))
    body.append("<h2>Connections per host</h2>")
    body.append(bar_chart_svg("ESTABLISHED and TIME_WAIT sockets per host", names,
                              [(s, [h["sockets_before"][s] for h in hosts]) for s in SOCKET_STATES],
                              SOCKET_COLOURS))
    for host in hosts:
        body.append('<h2 id="host-%s">%s</h2>' % (escape(host["host"], quote=True), escape(host["host"])))
        body.append("<p>Mode <b>%s</b>, profile <code>%s</code>, kernel <code>%s</code>%s.</p>" % (
            escape(host["mode"]), escape(host["profile"]), escape(host["kernel"]),
            ", in a container (global keys are skipped)" if host["container"] else ""))
        if host["warnings"]:
            body.append("<ul>%s</ul>" % "".join("<li>%s</li>" % escape(w) for w in host["warnings"]))
        body.append("<h3>Findings</h3>")
        if host["findings_before"]:
            body.append(_table(["severity", "id", "summary", "recommendation"], [
                ['<span class="%s">%s</span>' % (escape(f.get("severity", "info")), escape(f.get("severity", ""))),
                 "<code>%s</code>" % escape(f.get("id", "")), escape(f.get("summary", "")),
                 escape(f.get("recommendation", ""))] for f in host["findings_before"]]))
        else:
            body.append("<p>None before the run.</p>")
        if host["mode"] in ("apply", "revert"):
            after = ", ".join(f.get("id", "") for f in host["findings_after"]) or "none"
            body.append("<p>After the run: %s.</p>" % escape(after))
        body.append("<h3>Keys</h3>")
        rows = host["keys"]
        body.append(_table(["key", "before", "planned", "after", "status"], [
            ["<code>%s</code>" % escape(r["key"]), escape(r["before"]), escape(r["planned"]), escape(r["after"]),
             escape(r["status"] + (": " + r["reason"] if r["reason"] else ""))] for r in rows],
            [r["status"].replace(" ", "-") for r in rows]))
        if host["mismatches"]:
            body.append("<p class=\"critical\">Read-back mismatches: %s</p>"
                        % escape(json.dumps(host["mismatches"], sort_keys=True)))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\">"
            "<title>%s</title><style>%s</style></head><body>%s</body></html>\n"
            % (escape(report["title"]), _CSS, "\n".join(body)))
