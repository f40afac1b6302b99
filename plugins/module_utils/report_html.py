# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one HTML page that opens fast at any fleet size (report_write writes it).

The page loads nothing: its CSS and script (``report_assets/report.css`` and ``report.js``, read here
and embedded) and its data are inline, so it works opened from disk. What grows with the fleet is
only data, never markup:

- the fleet views are rendered here and are bounded: per status a count, per finding its count and
  the first hosts, per key the distribution of its values and the first hosts off the majority;
- the host table is drawn by the script, one page of rows at a time, from one compact record per
  host; sorting and every filter work on those records;
- a host's details are HTML rendered here, cut into fragments (a table head, one table row, ...)
  that are stored once however many hosts share them; a host's details are a list of fragment
  numbers, and the script joins them when the host is opened.

Fleets repeat themselves (the same keys, values, reasons and formulas on most hosts), so a page of
10 000 hosts stays a few MB.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from html import escape
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from ansible_collections.tcptune.linux.plugins.module_utils.report import FLEET_NAMES, FLEET_VALUES
from ansible_collections.tcptune.linux.plugins.module_utils.report_host import STATUSES, failure_message, other_warnings
from ansible_collections.tcptune.linux.plugins.module_utils.report_rows import memory_breakdown, value_text

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_assets")
PAGE_SIZE = 100  # host rows drawn at a time
DATA_ID = "tcptune-data"
CHANGED_ROWS = ("changed", "would change", "drift")
STATUS_COLOURS = {"tuned": "#2e7d32", "unchanged": "#9e9e9e", "would change": "#1565c0", "drift": "#ef6c00",
                  "infeasible": "#6a1b9a", "failed": "#c62828", "unreachable": "#4e342e",
                  "not reached": "#bdbdbd"}


class Pool(object):
    """Distinct values in first-seen order; ``add`` returns a value's index."""

    def __init__(self):
        self.items = []
        self.index = {}

    def add(self, value):
        key = value if isinstance(value, str) else tuple(value)
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.items)
            self.items.append(value)
        return found


def asset(name):
    """The text of report_assets/<name>."""
    with open(os.path.join(ASSETS, name), encoding="utf-8") as handle:
        return handle.read()


# ---------------------------------------------------------------- charts

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


# ---------------------------------------------------------------- one host's details, as fragments

def status_badge(status):
    return '<span class="st" style="background:%s">%s</span>' % (STATUS_COLOURS.get(status, "#777"), escape(status))


def _explain_html(explain):
    if not explain:
        return ""
    inputs = ", ".join("%s=%s" % (escape(str(k)), escape(value_text(v))) for k, v in sorted(
        (explain.get("inputs") or {}).items()))
    return ('<details class="explain"><summary>formula</summary><pre>%s</pre><div>inputs: %s</div>'
            '<div>kernel default: %s; source: %s</div></details>') % (
        escape(str(explain.get("formula", ""))), inputs, escape(value_text(explain.get("kernel_default"))),
        escape(str(explain.get("source", ""))))


def _table(title, headers, rows, row_classes=None, split=None):
    """[head, row, ..., tail]: a titled table cut where hosts share pieces. A row is one fragment, or
    two when ``split`` is given: its first ``split`` cells (what differs from host to host, such as
    values and counters) and the rest (what many hosts share, such as a fix or a formula)."""
    out = ["<h4>%s</h4><table><thead><tr>%s</tr></thead><tbody>" % (
        escape(title), "".join("<th>%s</th>" % escape(h) for h in headers))]
    for index, row in enumerate(rows):
        css = ' class="%s"' % row_classes[index] if row_classes and row_classes[index] else ""
        cells = ["<td>%s</td>" % cell for cell in row]
        if split is None:
            out.append("<tr%s>%s</tr>" % (css, "".join(cells)))
        else:
            out.extend(["<tr%s>%s" % (css, "".join(cells[:split])), "%s</tr>" % "".join(cells[split:])])
    out.append("</tbody></table>")
    return out


def _status_classes(rows):
    return [row["status"].replace(" ", "-") for row in rows]


def host_fragments(host):
    """A host's details (what opening it in the table shows) as a list of HTML fragments."""
    out = ['<p class="reason">%s %s</p>' % (status_badge(host["status"]), escape(host["reason"]))]
    if host["mode"] or host["profile"] or host["kernel"]:  # a host that failed before tcp_tune has none
        out.append("<p>Mode <b>%s</b>, profile <code>%s</code>, kernel <code>%s</code>%s.</p>" % (
            escape(host["mode"] or "-"), escape(host["profile"]), escape(host["kernel"]),
            ", in a container (global keys are skipped)" if host["container"] else ""))
    breakdown = memory_breakdown(host["memory_estimate"]) if host["status"] == "infeasible" else []
    if breakdown:
        out.extend(_table("Memory estimate", ["memory", "bytes", "how"], [
            [escape(part), escape(size), escape(detail)] for part, size, detail in breakdown],
            ["shortfall" if row[0] == "shortfall" else "" for row in breakdown]))
    if host["failure"]:
        message = failure_message(host)
        out.append('<p class="critical">Task <code>%s</code>%s</p>' % (
            escape(host["failure"]["task"]), ": " + escape(message) if message is not None
            else " stopped this host; nothing was changed."))
    warnings = other_warnings(host)
    if warnings:
        out.append("<h4>Warnings</h4><ul>%s</ul>" % "".join("<li>%s</li>" % escape(w) for w in warnings))
    if host["drift"]:
        out.extend(_table("Drift", ["key", "persisted", "live", "wins at boot"], [
            ["<code>%s</code>" % escape(k), escape(v["persisted"]), escape(v["live"]),
             escape("; ".join("%s: %s" % (f["file"], f["value"]) for f in v.get("overridden_by", [])))]
            for k, v in host["drift"].items()]))
    if host["findings"]:
        out.extend(_table("Findings", ["severity", "finding", "evidence", "fix"], [
            ['<span class="%s">%s</span>' % (escape(f["severity"]), escape(f["severity"])),
             "<code>%s</code> %s" % (escape(f["id"]), escape(f["summary"])),
             escape(", ".join("%s=%s" % (k, value_text(v)) for k, v in sorted(f["evidence"].items()))),
             escape(f["fix"])] for f in host["findings"]], split=3))
    if host["keys"]:
        out.extend(_table("sysctl", ["key", "before", "planned", "after", "status", "reason"], [
            ["<code>%s</code>" % escape(r["key"]), escape(r["before"]), escape(r["planned"]), escape(r["after"]),
             escape(r["status"]), escape(r["reason"]) + _explain_html(r["explain"])] for r in host["keys"]],
            _status_classes(host["keys"]), split=5))
    if host["limits"]:
        out.extend(_table("nofile limits", ["limit", "soft:hard", "status", "reason"], [
            [escape(r["item"]), escape(r["planned"]), escape(r["status"]),
             escape(r["reason"]) + _explain_html(r["explain"])] for r in host["limits"]],
            _status_classes(host["limits"]), split=3))
    if host["txqueuelen"]:
        out.extend(_table("txqueuelen", ["interface", "before", "planned", "after", "status", "reason"], [
            [escape(r["interface"]), escape(r["before"]), escape(r["planned"]), escape(r["after"]),
             escape(r["status"]), escape(r["reason"]) + _explain_html(r["explain"])] for r in host["txqueuelen"]],
            split=5))
    return out


def host_details_html(host):
    """A host's details as the page shows them when the host is opened."""
    return "".join(host_fragments(host))


# ---------------------------------------------------------------- the page's data

def _filters_of_values(report, host_index):
    """[[key, label, [host numbers]]]: what a value button of the fleet view filters the table to, for
    every value off the majority that the view shows, and one entry for the rarer values it folds."""
    out = []
    for key, ranked in report.get("key_values", {}).items():
        if len(ranked) < 2:
            continue
        differ = (report["outliers"].get(key) or {}).get("differ") or {}
        shown = set(entry["value"] for entry in ranked[1:FLEET_VALUES])
        by_value = {}
        for name, value in differ.items():
            by_value.setdefault(value if value in shown else None, []).append(host_index[name])
        for entry in ranked[1:FLEET_VALUES]:
            out.append([key, entry["value"], by_value.get(entry["value"], [])])
        if len(ranked) > FLEET_VALUES:
            out.append([key, "%d other values" % (len(ranked) - FLEET_VALUES), by_value.get(None, [])])
    return out


def page_data(report):
    """The data the page's script reads: one record per host, the texts and fragments they share.

    ``hosts``: [name, status number (STATUSES), reason, kernel, profile, finding ids, changed keys,
    details] where reason, kernel, profile and finding ids are numbers into ``texts``, and details a
    number into ``details``: a list of numbers into ``fragments`` (HTML). ``values``: what each value
    button of the "values per key" view filters to (host numbers)."""
    texts, fragments, details = Pool(), Pool(), Pool()
    rank = dict((status, index) for index, status in enumerate(STATUSES))
    records = []
    for host in report["hosts"]:
        records.append([
            host["host"], rank[host["status"]], texts.add(host["reason"]), texts.add(host["kernel"]),
            texts.add(host["profile"]), texts.add(" ".join(f["id"] for f in host["findings"])),
            sum(1 for row in host["keys"] if row["status"] in CHANGED_ROWS),
            details.add([fragments.add(fragment) for fragment in host_fragments(host)])])
    host_index = dict((record[0], index) for index, record in enumerate(records))
    return {"statuses": list(STATUSES), "colours": [STATUS_COLOURS[s] for s in STATUSES], "page": PAGE_SIZE,
            "texts": texts.items, "fragments": fragments.items, "details": details.items, "hosts": records,
            "values": _filters_of_values(report, host_index)}


def _script_json(data):
    """JSON that can sit inside a <script> element: no "</" (it would end the element) and no "<!--"."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace(
        "</", "<\\/").replace("<!--", "<\\u0021--")


# ---------------------------------------------------------------- the fleet views

def _host_link(name):
    """A link that opens the host in the table (#host=<name>, encoded as encodeURIComponent does)."""
    return "<a href=%s>%s</a>" % (quoteattr("#host=" + quote(name, safe="!*'()")), escape(name))


def _named(names, more_button=""):
    """The first hosts as links, then how many more (and a button that filters the table to all)."""
    names = list(names)
    links = ", ".join(_host_link(name) for name in names[:FLEET_NAMES])
    if len(names) > FLEET_NAMES:
        links += " and %d more %s" % (len(names) - FLEET_NAMES, more_button)
    return links


def _findings_view(report):
    counts = report["finding_counts"]
    if not counts:
        return ""
    labels = list(counts)
    rows = []
    for finding_id, entry in counts.items():
        button = '<button class="pick" data-finding=%s>show all</button>' % quoteattr(finding_id)
        rows.append('<tr><td><code>%s</code></td><td><span class="%s">%s</span></td><td>%d</td><td>%s</td></tr>' % (
            escape(finding_id), escape(entry["severity"]), escape(entry["severity"]), len(entry["hosts"]),
            _named(entry["hosts"], button)))
    return ("<h2>Findings across the fleet</h2>" + bar_chart_svg(
        "hosts per finding", labels, [len(counts[f]["hosts"]) for f in labels])
        + "<table><thead><tr><th>finding</th><th>severity</th><th>hosts</th><th>which</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>")


def _values_view(report, value_filters):
    """Per key: its values with their host counts (the majority first) and the hosts off the majority;
    keys with one value across the fleet in one line."""
    filters = dict(((key, label), index) for index, (key, label, dummy) in enumerate(value_filters))
    spread, same = [], []
    for key, ranked in report.get("key_values", {}).items():
        if len(ranked) < 2:
            same.append("<code>%s</code> = %s (%d)" % (escape(key), escape(ranked[0]["value"]), ranked[0]["hosts"]))
            continue
        chips = ['<b>%s</b> (%d)' % (escape(ranked[0]["value"]), ranked[0]["hosts"])]
        for entry in ranked[1:FLEET_VALUES]:
            chips.append('<button class="pick" data-value="%d">%s</button> (%d)' % (
                filters[(key, entry["value"])], escape(entry["value"]), entry["hosts"]))
        if len(ranked) > FLEET_VALUES:
            label = "%d other values" % (len(ranked) - FLEET_VALUES)
            chips.append('<button class="pick" data-value="%d">%s</button> (%d)' % (
                filters[(key, label)], escape(label), sum(entry["hosts"] for entry in ranked[FLEET_VALUES:])))
        differ = (report["outliers"].get(key) or {}).get("differ") or {}
        spread.append("<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>" % (
            escape(key), ", ".join(chips), _named(differ)))
    out = []
    if spread:
        out.append("<h2>Keys whose value differs across the fleet</h2><table><thead><tr><th>key</th>"
                   "<th>values (hosts; the majority first)</th><th>hosts off the majority</th></tr></thead><tbody>"
                   + "".join(spread) + "</tbody></table>")
    if same:
        out.append("<h2>Keys with one value across the fleet</h2><p>%s</p>" % "; ".join(same))
    return "".join(out)


def _select(name, label, values):
    options = "".join('<option value=%s>%s</option>' % (quoteattr(v), escape(v)) for v in sorted(set(values)) if v)
    return '<label>%s <select id="f-%s"><option value="">all</option>%s</select></label> ' % (
        escape(label), name, options)


def render_html(report):
    """One self-contained HTML page: inline CSS, SVG, data and script; no external URL."""
    hosts = report["hosts"]
    summary = report["summary"]
    data = page_data(report)
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
                '<span id="f-value" class="chip hidden"></span> <span id="shown">%d</span> shown</div>' % (
                    _select("finding", "finding", list(report["finding_counts"])),
                    _select("kernel", "kernel", [h["kernel"] for h in hosts]),
                    _select("profile", "profile", [h["profile"] for h in hosts]), len(hosts)))
    body.append('<div class="pager"><button id="prev">&#8249; previous</button> <span id="range"></span> '
                '<button id="next">next &#8250;</button></div>')
    body.append('<table id="hosts"><thead><tr><th>host</th><th>status</th><th>reason</th><th>kernel</th>'
                '<th>profile</th><th>findings</th><th>changes</th></tr></thead><tbody></tbody></table>')
    body.append('<noscript><p>The host table needs JavaScript; report.md and report.json hold every host.</p>'
                '</noscript>')
    body.append(_findings_view(report))
    body.append(_values_view(report, data["values"]))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\">"
            "<title>%s</title><style>%s</style></head><body>%s\n"
            "<script type=\"application/json\" id=\"%s\">%s</script>\n<script>%s</script></body></html>\n"
            % (escape(report["title"]), asset("report.css"), "\n".join(part for part in body if part), DATA_ID,
               _script_json(data), asset("report.js")))
