# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report as JSON, Markdown and JUnit XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import xml.dom.minidom

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils.report import SCHEMA_VERSION, build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_text import render_json, render_junit, render_markdown
from ansible_collections.tcptune.linux.tests.unit.plugins.module_utils.report_results import REPO, host_result


def test_json_is_deterministic_and_versioned():
    results = {"b": host_result(), "a": host_result(container=False)}
    first = render_json(build_report(results))
    assert json.loads(first)["schema_version"] == SCHEMA_VERSION
    assert [h["host"] for h in json.loads(first)["hosts"]] == ["a", "b"]
    assert first == render_json(build_report(dict(reversed(list(results.items())))))


def test_json_validates_against_the_documented_schema():
    jsonschema = pytest.importorskip("jsonschema")  # ansible-lint's dependency, in the test venv
    with open(os.path.join(REPO, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    report = build_report({"ok": host_result(), "drift": host_result(drift={"net.core.somaxconn": {
        "persisted": "65535", "live": "1"}})}, failures={"f": {"task": "t", "message": "m"}},
        unreachable={"u": "refused"}, play_hosts=["later"])
    jsonschema.validate(json.loads(render_json(report)), schema)
    broken = json.loads(render_json(report))
    broken["hosts"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_markdown_summary_table_and_sections():
    text = render_markdown(build_report({"web1": host_result()}, unreachable={"db1": "refused"}))
    assert "2 host(s): 1 tuned, 1 unreachable." in text
    assert "| web1 | **tuned** | changed 2 sysctl key(s), nofile limits, txqueuelen of eth0 |" in text
    assert "| db1 | **unreachable** | refused |" in text
    assert "| `net.core.somaxconn` | 4096 | 65535 | 65535 | changed | accept_rate=6000 x 1 s |" in text
    assert "## db1: unreachable" in text
    assert all(len(line) < 400 for line in text.splitlines())


def test_junit_one_testcase_per_host_failing_for_failed_unreachable_and_drift():
    report = build_report({"ok": host_result(), "drift": host_result(drift={"net.core.somaxconn": {
        "persisted": "65535", "live": "1"}})}, failures={"f": {"task": "t", "message": "m <&>"}},
        unreachable={"u": "refused"}, play_hosts=["later"])
    dom = xml.dom.minidom.parseString(render_junit(report))
    cases = dict((c.getAttribute("name"), c) for c in dom.getElementsByTagName("testcase"))
    assert sorted(cases) == ["drift", "f", "later", "ok", "u"]
    failing = sorted(name for name, case in cases.items() if case.getElementsByTagName("failure"))
    assert failing == ["drift", "f", "u"]
    assert cases["f"].getElementsByTagName("failure")[0].getAttribute("message") == "t: m <&>"
    assert cases["later"].getElementsByTagName("skipped")
    suite = dom.getElementsByTagName("testsuite")[0]
    assert (suite.getAttribute("tests"), suite.getAttribute("failures")) == ("5", "3")
