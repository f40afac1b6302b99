# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report page: self-contained, escaped, and small however many hosts share their details."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.dom.minidom

from ansible_collections.tcptune.linux.plugins.module_utils import report_html
from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_html import render_html
from ansible_collections.tcptune.linux.tests.unit.plugins.module_utils.report_results import (
    host_result,
    page_details,
    page_parts,
)


def test_html_is_self_contained_escaped_and_well_formed():
    report = build_report({"web<1>": host_result()}, failures={"x": {"task": "t", "message": "<b>"}})
    page = render_html(report)
    assert not re.search(r"(src|href)=[\"'](https?:)?//", page)
    markup, data, script = page_parts(page)
    assert "web&lt;1&gt;" in markup and "web<1>" not in markup  # the findings view names the host
    assert 'href="#host=web%3C1%3E"' in markup  # as the script's decodeURIComponent reads it
    assert [record[0] for record in data["hosts"]] == ["web<1>", "x"]
    web, failed = page_details(data, 0), page_details(data, 1)
    assert "accept queue &lt;full&gt;" in web and "&lt;b&gt;" in failed
    assert '<details class="explain"><summary>formula</summary><pre>bdp x 2</pre>' in web
    assert web == report_html.host_details_html(report["hosts"][0])
    for details in (web, failed):
        xml.dom.minidom.parseString("<div>%s</div>" % details)
    body = markup.split("<body>", 1)[1]
    xml.dom.minidom.parseString("<div>%s</div>" % body.replace("&nbsp;", " "))
    assert script.lstrip().startswith("<script>") and "tcptune-data" in script


def test_a_host_name_cannot_end_the_data_element():
    """The data sits in a <script> element: "</script>" or "<!--" in any text must not end or bend it."""
    name = "</script><script>alert(1)</script><!--"
    report = build_report({name: host_result()}, failures={"y": {"task": "t", "message": "</SCRIPT>"}})
    page = render_html(report)
    assert page.lower().count("</script>") == 2  # the data's end and the script's end
    assert "<!--" not in page
    markup, data, dummy = page_parts(page)
    assert data["hosts"][0][0] == name
    assert "&lt;/SCRIPT&gt;" in page_details(data, 1)


def test_page_data_stores_what_hosts_share_once():
    """The page grows by a small record per host; the details of hosts alike are stored once."""
    def page(count):
        results = dict(("web%04d" % index, host_result()) for index in range(count))
        return render_html(build_report(results))
    small, large = page(20), page(2000)
    markup, data, dummy = page_parts(large)
    assert len(data["details"]) == 1 and len(data["hosts"]) == 2000
    assert len(data["fragments"]) == len(set(data["fragments"]))
    assert (len(large) - len(small)) / 1980.0 < 200  # bytes per further host
    assert len(markup) < 20000  # the markup does not grow with the fleet


def test_details_keep_apart_what_differs_between_hosts():
    """A counter in a finding's evidence differs from host to host; the fix beside it is stored once."""
    results = {}
    for index in range(50):
        result = host_result()
        result["findings_before"][0]["evidence"] = {"ListenOverflows": 1000 + index}
        results["web%02d" % index] = result
    report = build_report(results)
    dummy, data, dummy = page_parts(render_html(report))
    fixes = [fragment for fragment in data["fragments"] if "raise net.core.somaxconn" in fragment]
    assert len(fixes) == 1
    assert len([fragment for fragment in data["fragments"] if "ListenOverflows=10" in fragment]) == 50
    for index, host in enumerate(report["hosts"]):
        assert page_details(data, index) == report_html.host_details_html(host)


def test_charts_only_where_they_say_something():
    healthy = host_result(changed=False)
    healthy["findings_before"] = []
    assert render_html(build_report({"h": healthy, "g": healthy})).count("<svg") == 0
    # Two statuses: the status bar; findings: their chart.
    assert render_html(build_report({"h": healthy}, unreachable={"u": "x"})).count("<svg") == 1
    assert render_html(build_report({"h": host_result()})).count("<svg") == 1
    assert render_html(build_report({"h": host_result()}, unreachable={"u": "x"})).count("<svg") == 2
    assert render_html(build_report({})).count("<svg") == 0
