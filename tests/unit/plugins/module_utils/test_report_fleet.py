# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report at fleet size (#21): aggregated fleet views, one collector for the report task and the
callback."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import report_html
from ansible_collections.tcptune.linux.plugins.module_utils.report import (
    FLEET_NAMES,
    FLEET_VALUES,
    build_report,
    collect,
    key_values,
)
from ansible_collections.tcptune.linux.plugins.module_utils.report_text import render_markdown


def _result(somaxconn="65535", finding=True):
    return {"mode": "apply", "profile": "proxy", "kernel": "6.1.0", "container": False,
            "facts_before": {"sysctl": {"net.core.somaxconn": 4096}},
            "facts_after": {"sysctl": {"net.core.somaxconn": somaxconn}},
            "plan": {"feasible": True, "sysctl": {"net.core.somaxconn": "65535"}},
            "settings": {"net.core.somaxconn": "65535"},
            "applied": {"changed_keys": ["net.core.somaxconn"], "previous": {"net.core.somaxconn": 4096}},
            "findings_before": [{"id": "listen_queue_overflow", "severity": "warning", "summary": "s",
                                 "evidence": {}, "recommendation": "r"}] if finding else []}


def _fleet():
    """100 hosts at 65535, 30 at 1024, 5 at 2048, and one host each at seven other values."""
    results = dict(("a%03d" % index, _result()) for index in range(100))
    results.update(("b%03d" % index, _result("1024", finding=False)) for index in range(30))
    results.update(("c%03d" % index, _result("2048", finding=False)) for index in range(5))
    results.update(("d%03d" % index, _result(str(3000 + index), finding=False)) for index in range(7))
    return results


def test_key_values_is_the_distribution_most_common_first():
    report = build_report(_fleet())
    ranked = report["key_values"]["net.core.somaxconn"]
    assert ranked[:3] == [{"value": "65535", "hosts": 100}, {"value": "1024", "hosts": 30},
                          {"value": "2048", "hosts": 5}]
    assert sum(entry["hosts"] for entry in ranked) == 142 and len(ranked) == 10
    assert report["outliers"]["net.core.somaxconn"]["majority"] == "65535"
    assert len(report["outliers"]["net.core.somaxconn"]["differ"]) == 42
    assert key_values([]) == {}


def test_the_json_with_key_values_validates_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    with open(os.path.join(root, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    report = json.loads(json.dumps(build_report(_fleet())))
    jsonschema.validate(report, schema)
    report["key_values"]["net.core.somaxconn"][0]["hosts"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, schema)


def test_markdown_fleet_views_stay_one_line_per_key_and_finding():
    text = render_markdown(build_report(_fleet()))
    line = [row for row in text.splitlines() if row.startswith("| `net.core.somaxconn` |")][0]
    assert line.startswith("| `net.core.somaxconn` | 65535 (100), 1024 (30), 2048 (5), ")
    assert "%d other values (%d)" % (10 - FLEET_VALUES, 10 - FLEET_VALUES) in line
    assert line.count("=") == FLEET_NAMES and "and %d more" % (42 - FLEET_NAMES) in line
    finding = [row for row in text.splitlines() if row.startswith("| `listen_queue_overflow` |")][0]
    assert "| 100 |" in finding and "and %d more" % (100 - FLEET_NAMES) in finding


def test_the_value_buttons_of_the_page_filter_to_the_hosts_with_that_value():
    report = build_report(_fleet())
    data = report_html.page_data(report)
    names = [record[0] for record in data["hosts"]]
    filters = dict((label, sorted(names[index] for index in hosts))
                   for key, label, hosts in data["values"] if key == "net.core.somaxconn")
    assert filters["1024"] == ["b%03d" % index for index in range(30)]
    assert filters["2048"] == ["c%03d" % index for index in range(5)]
    folded = "%d other values" % (10 - FLEET_VALUES)
    assert len(filters[folded]) == 10 - FLEET_VALUES
    assert "65535" not in filters  # the majority is no filter: the table shows everyone anyway
    page = report_html.render_html(report)
    assert page.count('class="pick" data-value=') == len(data["values"])
    assert page.count('<a href="#host=') == 2 * FLEET_NAMES  # the first hosts of the finding and of the key


def test_collect_takes_what_the_play_recorded_as_the_callback_and_the_report_task_see_it():
    recorded = {
        "web1": {"tcp_tuning_result": _result(), "tcp_tuning_failure": None, "tcp_tuning_unreachable": None},
        "web2": {"tcp_tuning_result": _result(), "tcp_tuning_failure": {"task": "t", "message": "m"}},
        "web3": {"tcp_tuning_unreachable": "refused", "tcp_tuning_failure": None},
        "localhost": {"tcp_tuning_play_hosts": ["web1", "web2", "web3", "web4"],
                      "tcp_tuning_report_dest": "/r", "tcp_tuning_report_name": "Fleet"},
        "other": {"tcp_tuning_play_hosts": ["web4", "web5"]},
    }
    found = collect(recorded, failed_tasks={"web3": {"task": "x", "message": "y"}, "web5": {"task": "z",
                                                                                            "message": "w"}},
                    unreachable={"web4": "timed out"})
    assert found["play_hosts"] == ["web1", "web2", "web3", "web4", "web5"]
    assert sorted(found["results"]) == ["web1", "web2"]
    assert found["failures"] == {"web2": {"task": "t", "message": "m"}, "web5": {"task": "z", "message": "w"}}
    assert found["unreachable"] == {"web3": "refused", "web4": "timed out"}
    assert (found["dest"], found["title"]) == ("/r", "Fleet")
    statuses = dict((host["host"], host["status"]) for host in build_report(
        found["results"], failures=found["failures"], unreachable=found["unreachable"],
        play_hosts=found["play_hosts"])["hosts"])
    assert statuses == {"web1": "tuned", "web2": "failed", "web3": "unreachable", "web4": "unreachable",
                        "web5": "failed"}
    assert collect({}) == {"results": {}, "failures": {}, "unreachable": {}, "play_hosts": [], "dest": None,
                           "title": "TCP tuning report"}
