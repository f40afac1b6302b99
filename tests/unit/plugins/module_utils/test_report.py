# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import xml.dom.minidom

from ansible_collections.tcptune.linux.plugins.module_utils.report import (
    bar_chart_svg,
    build_report,
    render_html,
    render_json,
    render_markdown,
    value_text,
)


def _result(mode="apply", container=True):
    return {
        "host": "web1", "mode": mode, "profile": "proxy", "kernel": "6.1.0-28-amd64", "container": container,
        "facts_before": {"sysctl": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 6291456]},
                         "sockets": {"states": {"ESTABLISHED": 120, "TIME_WAIT": 3400}}},
        "facts_after": {"sysctl": {"net.core.somaxconn": 65535, "net.ipv4.tcp_rmem": [4096, 131072, 16777216]},
                        "sockets": {"states": {"ESTABLISHED": 118, "TIME_WAIT": 3300}}},
        "plan": {"feasible": True, "warnings": ["raise the listen() backlog of the application too"]},
        "settings": {"net.core.somaxconn": "65535", "net.ipv4.tcp_rmem": "4096 131072 16777216"},
        "applied": {"changed_keys": ["net.core.somaxconn", "net.ipv4.tcp_rmem"],
                    "previous": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 6291456]}},
        "skipped": {"fs.file-max": "global key: set it on the host (a container cannot set it for itself)"},
        "findings_before": [
            {"id": "listen_queue_overflow", "severity": "critical", "summary": "accept queue <full>",
             "recommendation": "raise net.core.somaxconn"},
            {"id": "time_wait_many", "severity": "info", "summary": "many TIME_WAIT"},
        ],
        "findings_after": [{"id": "time_wait_many", "severity": "info", "summary": "many TIME_WAIT"}],
        "mismatches": {},
    }


def test_value_text_joins_lists_and_normalises_spaces():
    assert value_text([4096, 131072, 6291456]) == "4096 131072 6291456"
    assert value_text("4096\t131072  6291456") == "4096 131072 6291456"
    assert value_text(None) == ""


def test_build_report_rows_before_planned_after_and_skipped_reason():
    report = build_report({"web1": _result()})
    host = report["hosts"][0]
    rows = dict((row["key"], row) for row in host["keys"])
    assert rows["net.core.somaxconn"] == {"key": "net.core.somaxconn", "before": "4096", "planned": "65535",
                                          "after": "65535", "status": "changed", "reason": ""}
    assert rows["net.ipv4.tcp_rmem"]["after"] == "4096 131072 16777216"
    assert rows["fs.file-max"]["status"] == "skipped"
    assert rows["fs.file-max"]["reason"].startswith("global key")
    assert host["severity_before"] == {"critical": 1, "warning": 0, "info": 1}
    assert host["sockets_before"] == {"ESTABLISHED": 120, "TIME_WAIT": 3400}
    assert report["summary"]["keys_changed"] == 2
    assert report["summary"]["keys_skipped"] == 1
    assert report["summary"]["hosts_changed"] == 1


def test_audit_mode_says_would_change_and_counts_no_changed_host():
    report = build_report({"web1": _result(mode="audit")})
    statuses = set(row["status"] for row in report["hosts"][0]["keys"])
    assert statuses == {"would change", "skipped"}
    assert report["summary"]["hosts_changed"] == 0


def test_hosts_sorted_and_output_deterministic():
    results = {"b": _result(), "a": _result(container=False)}
    first = render_json(build_report(results))
    assert [h["host"] for h in json.loads(first)["hosts"]] == ["a", "b"]
    assert first == render_json(build_report(dict(reversed(list(results.items())))))


def test_markdown_has_summary_table_and_per_host_sections():
    text = render_markdown(build_report({"web1": _result()}))
    assert "| web1 | apply | 6.1.0-28-amd64 | yes | 1 | 0 | 1 | 120 | 3400 |" in text
    assert "## web1" in text
    assert "| `net.core.somaxconn` | 4096 | 65535 | 65535 | changed |" in text
    assert "skipped: global key" in text


def test_html_is_self_contained_escaped_and_well_formed():
    page = render_html(build_report({"web<1>": _result()}))
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "web&lt;1&gt;" in page and "web<1>" not in page
    assert "accept queue &lt;full&gt;" in page
    assert page.count("<svg") == 2
    # XHTML-parsable body: every tag closed (catches broken markup the browser would silently fix).
    body = page.split("<body>", 1)[1].split("</body>", 1)[0]
    xml.dom.minidom.parseString("<div>%s</div>" % body)


def test_bar_chart_scales_to_largest_value_and_labels_every_bar():
    svg = bar_chart_svg("t", ["h1", "h2"], [("critical", [0, 4]), ("info", [2, 1])],
                        {"critical": "#c00", "info": "#00c"}, width=400)
    widths = [float(w) for w in re.findall(r'<rect x="160" y="\d\d+" width="([0-9.]+)"', svg)]
    assert widths == [0.0, 90.0, 180.0, 45.0]  # (400 - 160 - 60) / 4 per unit
    assert "<title>h2 critical: 4</title>" in svg


def test_empty_fleet_renders():
    report = build_report({})
    assert report["summary"]["hosts"] == 0
    assert "<svg" in render_html(report)
    assert "0 host(s)" in render_markdown(report)
