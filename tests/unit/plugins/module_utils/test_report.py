# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import xml.dom.minidom

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils.report import (
    SCHEMA_VERSION,
    STATUSES,
    build_report,
    outliers,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    report_files,
    value_text,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def _result(mode="apply", container=True, changed=True, drift=None, overridden_by=None):
    return {
        "host": "web1", "mode": mode, "profile": "proxy", "kernel": "6.1.0-28-amd64", "container": container,
        "facts_before": {"sysctl": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 6291456]},
                         "sockets": {"states": {"ESTABLISHED": 120, "TIME_WAIT": 3400}},
                         "interfaces": {"eth0": {"txqueuelen": 1000}}},
        "facts_after": {"sysctl": {"net.core.somaxconn": 65535, "net.ipv4.tcp_rmem": [4096, 131072, 16777216]},
                        "interfaces": {"eth0": {"txqueuelen": 10000}}},
        "plan": {"feasible": True, "warnings": ["raise the listen() backlog of the application too"],
                 "sysctl": {"net.core.somaxconn": 65535, "net.ipv4.tcp_rmem": "4096 131072 16777216"},
                 "changes": [{"key": "net.core.somaxconn", "before": 4096, "planned": 65535,
                              "reason": "accept_rate=6000 x 1 s"}],
                 "explain": {"net.ipv4.tcp_rmem": {"value": [4096, 131072, 16777216], "formula": "bdp x 2",
                                                   "inputs": {"rtt_ms": 40}, "kernel_default": [4096, 131072, 6291456],
                                                   "source": "facts §4"},
                             "txqueuelen.eth0": {"inputs": {"reason": "sized from speed"}}},
                 "limits": {"login": {"soft": 1024, "hard": 524288}, "services": {"soft": 524288, "hard": 524288},
                            "nr_open": 1048576, "file_max": 2000000},
                 "txqueuelen": {"eth0": 10000, "veth1": None}},
        "settings": {"net.core.somaxconn": "65535", "net.ipv4.tcp_rmem": "4096 131072 16777216"},
        "applied": {"changed_keys": ["net.core.somaxconn", "net.ipv4.tcp_rmem"] if changed else [],
                    "previous": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 6291456]}
                    if changed else {},
                    "drift": drift or {}, "overridden_by": overridden_by or {}},
        "skipped": {"fs.file-max": "global key: set it on the host (a container cannot set it for itself)"},
        "limits": {"changed": changed, "changed_files": ["/etc/security/limits.d/60-tcptune.conf"]},
        "txqueuelen": {"results": [{"changed": changed, "changed_interfaces": ["eth0"] if changed else [],
                                    "previous": {"eth0": 1000} if changed else {}}]},
        "findings_before": [
            {"id": "listen_queue_overflow", "severity": "critical", "summary": "accept queue <full>",
             "evidence": {"ListenOverflows": 1200}, "recommendation": "raise net.core.somaxconn"},
        ],
        "findings_after": [],
        "mismatches": {},
    }


def _status(report, host):
    return dict((h["host"], (h["status"], h["reason"])) for h in report["hosts"])[host]


def test_value_text_joins_lists_and_normalises_spaces():
    assert value_text([4096, 131072, 6291456]) == "4096 131072 6291456"
    assert value_text("4096\t131072  6291456") == "4096 131072 6291456"
    assert value_text(None) == ""


def test_every_host_of_the_play_has_exactly_one_status_with_its_reason():
    report = build_report(
        {"tuned": _result(), "same": _result(changed=False), "audit": _result(mode="audit"),
         "drifted": _result(mode="audit", drift={"net.core.somaxconn": {"persisted": "65535", "live": "1000"}})},
        failures={"broken": {"task": "Apply every sysctl key in one call",
                             "message": "net.ipv4.tcp_mem: the three values must not decrease"},
                  "too-big": {"task": "Refuse an infeasible plan", "message": "does not fit",
                              "plan": {"feasible": False, "warnings": ["at most about 900000 connections fit"],
                                       "memory_estimate": {"sockets": 5000000, "total_bytes": 24 << 30,
                                                           "ram_bytes": 8 << 30, "per_socket_bytes": 4700}}}},
        unreachable={"gone": "Failed to connect to the host via ssh: Connection refused"},
        play_hosts=["tuned", "same", "audit", "drifted", "broken", "too-big", "gone", "later"])
    assert [h["host"] for h in report["hosts"]] == sorted(
        ["tuned", "same", "audit", "drifted", "broken", "too-big", "gone", "later"])
    assert _status(report, "tuned") == ("tuned", "changed 2 sysctl key(s), nofile limits, txqueuelen of eth0")
    assert _status(report, "same") == ("unchanged", "already as planned")
    assert _status(report, "audit")[0] == "would change"
    assert _status(report, "drifted") == ("drift", "net.core.somaxconn: persisted 65535, live 1000")
    assert _status(report, "broken") == ("failed", "Apply every sysctl key in one call: net.ipv4.tcp_mem: "
                                                   "the three values must not decrease")
    assert _status(report, "too-big") == ("infeasible", "5000000 connections need 24.0 GiB of 8.0 GiB RAM "
                                                        "(4.6 KiB per socket): at most about 900000 connections fit")
    assert _status(report, "gone") == ("unreachable", "Failed to connect to the host via ssh: Connection refused")
    assert _status(report, "later")[0] == "not reached"
    assert report["summary"]["status"] == dict((s, 1 if s != "would change" else 1) for s in STATUSES)
    assert sum(report["summary"]["status"].values()) == 8


def test_failure_wins_over_a_stale_result_and_unreachable_over_failure():
    report = build_report({"a": _result(), "b": _result()}, failures={"a": {"task": "t", "message": "m"}},
                          unreachable={"b": "refused"})
    assert _status(report, "a") == ("failed", "t: m")
    assert _status(report, "b") == ("unreachable", "refused")


def test_boot_time_file_that_wins_is_drift_even_when_live_matches():
    report = build_report({"h": _result(changed=False, overridden_by={
        "net.core.somaxconn": [{"file": "/etc/sysctl.d/99-local.conf", "value": "1024"}]})})
    assert _status(report, "h") == ("drift", "net.core.somaxconn: /etc/sysctl.d/99-local.conf sets 1024 and "
                                             "wins at boot; re-applied in this run")


def test_key_rows_carry_reason_and_explain_limits_and_txqueuelen():
    host = build_report({"web1": _result()})["hosts"][0]
    rows = dict((row["key"], row) for row in host["keys"])
    assert rows["net.core.somaxconn"]["before"] == "4096"
    assert rows["net.core.somaxconn"]["after"] == "65535"
    assert rows["net.core.somaxconn"]["status"] == "changed"
    assert rows["net.core.somaxconn"]["reason"] == "accept_rate=6000 x 1 s"
    assert rows["net.ipv4.tcp_rmem"]["reason"] == "sizing rule (facts §4)"
    assert rows["net.ipv4.tcp_rmem"]["explain"] == {"formula": "bdp x 2", "inputs": {"rtt_ms": 40},
                                                    "kernel_default": [4096, 131072, 6291456], "source": "facts §4"}
    assert rows["fs.file-max"]["status"] == "skipped" and rows["fs.file-max"]["reason"].startswith("global key")
    limits = dict((row["item"], row) for row in host["limits"])
    assert limits["nofile.login.soft"]["planned"] == "1024"
    assert limits["nofile.services.hard"]["planned"] == "524288"
    assert limits["nofile.login.hard"]["status"] == "changed"
    assert limits["nr_open"]["planned"] == "1048576"
    txq = dict((row["interface"], row) for row in host["txqueuelen"])
    assert txq["eth0"] == {"interface": "eth0", "before": "1000", "planned": "10000", "after": "10000",
                           "status": "changed", "reason": "sized from speed",
                           "explain": {"inputs": {"reason": "sized from speed"}}}
    assert txq["veth1"]["status"] == "not set"
    assert host["findings"][0]["evidence"] == {"ListenOverflows": 1200}
    assert host["findings"][0]["fix"] == "raise net.core.somaxconn"


def test_tolerates_the_older_plan_and_a_single_txqueuelen_result():
    result = _result()
    result["plan"]["limits"] = {"nofile_soft": 65536, "nofile_hard": 65536}
    result["txqueuelen"] = {"changed": True, "changed_interfaces": ["eth0"], "previous": {"eth0": 1000}}
    del result["plan"]["changes"]
    host = build_report({"h": result})["hosts"][0]
    assert [row["planned"] for row in host["limits"]] == ["65536"] * 4
    assert host["txqueuelen"][0]["status"] == "changed"
    assert build_report({"h": {}}, play_hosts=["h"])["hosts"][0]["status"] == "not reached"


def test_outliers_name_the_hosts_that_differ_from_the_majority():
    odd = _result()
    odd["facts_after"]["sysctl"]["net.core.somaxconn"] = 1024
    report = build_report({"a": _result(), "b": _result(), "c": odd})
    assert report["outliers"] == {"net.core.somaxconn": {"majority": "65535", "majority_hosts": 2,
                                                         "differ": {"c": "1024"}}}
    assert outliers([]) == {}


def test_finding_counts_across_the_fleet():
    report = build_report({"a": _result(), "b": _result(), "c": dict(_result(), findings_before=[])})
    assert report["finding_counts"] == {"listen_queue_overflow": {"severity": "critical", "hosts": ["a", "b"]}}


def test_json_is_deterministic_and_versioned():
    results = {"b": _result(), "a": _result(container=False)}
    first = render_json(build_report(results))
    assert json.loads(first)["schema_version"] == SCHEMA_VERSION
    assert [h["host"] for h in json.loads(first)["hosts"]] == ["a", "b"]
    assert first == render_json(build_report(dict(reversed(list(results.items())))))


def test_json_validates_against_the_documented_schema():
    jsonschema = pytest.importorskip("jsonschema")  # ansible-lint's dependency, in the test venv
    with open(os.path.join(REPO, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    report = build_report({"ok": _result(), "drift": _result(drift={"net.core.somaxconn": {
        "persisted": "65535", "live": "1"}})}, failures={"f": {"task": "t", "message": "m"}},
        unreachable={"u": "refused"}, play_hosts=["later"])
    jsonschema.validate(json.loads(render_json(report)), schema)
    broken = json.loads(render_json(report))
    broken["hosts"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_markdown_summary_table_and_sections():
    text = render_markdown(build_report({"web1": _result()}, unreachable={"db1": "refused"}))
    assert "2 host(s): 1 tuned, 1 unreachable." in text
    assert "| web1 | **tuned** | changed 2 sysctl key(s), nofile limits, txqueuelen of eth0 |" in text
    assert "| db1 | **unreachable** | refused |" in text
    assert "| `net.core.somaxconn` | 4096 | 65535 | 65535 | changed | accept_rate=6000 x 1 s |" in text
    assert "## db1: unreachable" in text
    assert all(len(line) < 400 for line in text.splitlines())


def test_junit_one_testcase_per_host_failing_for_failed_unreachable_and_drift():
    report = build_report({"ok": _result(), "drift": _result(drift={"net.core.somaxconn": {
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


def test_html_is_self_contained_escaped_and_well_formed():
    page = render_html(build_report({"web<1>": _result()}, failures={"x": {"task": "t", "message": "<b>"}}))
    assert not re.search(r"(src|href)=[\"'](https?:)?//", page)
    assert "web&lt;1&gt;" in page and "web<1>" not in page
    assert "accept queue &lt;full&gt;" in page and "&lt;b&gt;" in page
    assert '<details class="explain"><summary>formula</summary><pre>bdp x 2</pre>' in page
    body = page.split("<body>", 1)[1].split("<script>", 1)[0]
    xml.dom.minidom.parseString("<div>%s</div>" % body.replace("&nbsp;", " "))


def test_charts_only_where_they_say_something():
    healthy = _result(changed=False)
    healthy["findings_before"] = []
    assert render_html(build_report({"h": healthy, "g": healthy})).count("<svg") == 0
    # Two statuses: the status bar; findings: their chart.
    assert render_html(build_report({"h": healthy}, unreachable={"u": "x"})).count("<svg") == 1
    assert render_html(build_report({"h": _result()})).count("<svg") == 1
    assert render_html(build_report({"h": _result()}, unreachable={"u": "x"})).count("<svg") == 2
    assert render_html(build_report({})).count("<svg") == 0


def test_revert_is_tuned_when_it_restored_something():
    reverted = dict(_result(mode="revert"), reverted={"sysctl_changed_keys": ["net.core.somaxconn"],
                                                      "limits_changed": False, "txqueuelen_changed": False})
    nothing = dict(_result(mode="revert"), reverted={"sysctl_changed_keys": [], "limits_changed": False})
    report = build_report({"r": reverted, "n": nothing})
    assert _status(report, "r") == ("tuned", "reverted what the role wrote (1 sysctl key(s) restored)")
    assert _status(report, "n") == ("unchanged", "nothing to revert")


def test_report_files_names():
    files = report_files(build_report({}), "/r")
    assert sorted(path for path, text in files.values()) == [
        "/r/report.html", "/r/report.json", "/r/report.junit.xml", "/r/report.md"]


def test_reasons_as_the_sizing_plan_gives_them_are_text_in_every_rendering():
    """Since #11 a plan change's reason is a dict {kind, detail, from}; the HTML escaping failed on it
    ('dict' object has no attribute 'replace'), so tune_tcp.yml wrote no report at all."""
    result = _result()
    result["plan"]["changes"][0]["reason"] = {"kind": "workload", "detail": "accept_rate 6000/s x 1 s = 6000",
                                              "from": {"accept_rate": "declared"}}
    report = build_report({"web1": result})
    rows = dict((row["key"], row) for row in report["hosts"][0]["keys"])
    assert rows["net.core.somaxconn"]["reason"] == "accept_rate 6000/s x 1 s = 6000"
    assert "accept_rate 6000/s x 1 s = 6000" in render_html(report)
    assert "accept_rate 6000/s" in render_markdown(report)
