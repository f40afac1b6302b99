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

from ansible_collections.tcptune.linux.plugins.module_utils import report_html
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
    # an older plan without the refusal sentence: one made from its estimate (decimal GB, as the plan's)
    assert _status(report, "too-big") == ("infeasible", "5000000 connections need about 25.77 GB of 8.59 GB RAM; "
                                                        "at most about 900000 connections fit")
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


def _page_parts(page):
    """(markup, data, script) of a report page: the data is the JSON element the script reads."""
    markup, rest = page.split('<script type="application/json" id="%s">' % report_html.DATA_ID, 1)
    data, script = rest.split("</script>", 1)
    return markup, json.loads(data), script


def _details(data, index):
    """A host's details as the page's script joins them."""
    return "".join(data["fragments"][number] for number in data["details"][data["hosts"][index][7]])


def test_html_is_self_contained_escaped_and_well_formed():
    report = build_report({"web<1>": _result()}, failures={"x": {"task": "t", "message": "<b>"}})
    page = render_html(report)
    assert not re.search(r"(src|href)=[\"'](https?:)?//", page)
    markup, data, script = _page_parts(page)
    assert "web&lt;1&gt;" in markup and "web<1>" not in markup  # the findings view names the host
    assert 'href="#host=web%3C1%3E"' in markup  # as the script's decodeURIComponent reads it
    assert [record[0] for record in data["hosts"]] == ["web<1>", "x"]
    web, failed = _details(data, 0), _details(data, 1)
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
    report = build_report({name: _result()}, failures={"y": {"task": "t", "message": "</SCRIPT>"}})
    page = render_html(report)
    assert page.lower().count("</script>") == 2  # the data's end and the script's end
    assert "<!--" not in page
    markup, data, dummy = _page_parts(page)
    assert data["hosts"][0][0] == name
    assert "&lt;/SCRIPT&gt;" in _details(data, 1)


def test_page_data_stores_what_hosts_share_once():
    """The page grows by a small record per host; the details of hosts alike are stored once."""
    def page(count):
        results = dict(("web%04d" % index, _result()) for index in range(count))
        return render_html(build_report(results))
    small, large = page(20), page(2000)
    markup, data, dummy = _page_parts(large)
    assert len(data["details"]) == 1 and len(data["hosts"]) == 2000
    assert len(data["fragments"]) == len(set(data["fragments"]))
    assert (len(large) - len(small)) / 1980.0 < 200  # bytes per further host
    assert len(markup) < 20000  # the markup does not grow with the fleet


def test_details_keep_apart_what_differs_between_hosts():
    """A counter in a finding's evidence differs from host to host; the fix beside it is stored once."""
    results = {}
    for index in range(50):
        result = _result()
        result["findings_before"][0]["evidence"] = {"ListenOverflows": 1000 + index}
        results["web%02d" % index] = result
    report = build_report(results)
    dummy, data, dummy = _page_parts(render_html(report))
    fixes = [fragment for fragment in data["fragments"] if "raise net.core.somaxconn" in fragment]
    assert len(fixes) == 1
    assert len([fragment for fragment in data["fragments"] if "ListenOverflows=10" in fragment]) == 50
    for index, host in enumerate(report["hosts"]):
        assert _details(data, index) == report_html.host_details_html(host)


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


# --- #17 item 5: the report tells the truth ------------------------------------------------------

LOGIN_FILE = "/etc/security/limits.d/60-tcptune-nofile.conf"
DEFAULT_FILE = "/etc/systemd/system.conf.d/60-tcptune-nofile.conf"
NGINX_FILE = "/etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf"


def _limits_result(registered, container=False, self_nofile=None, changed=False):
    """A host whose plan sizes nofile 221184 (login soft 1024, services soft = hard) and whose
    nofile_limits result is ``registered``."""
    result = _result(container=container, changed=changed)
    result["plan"]["limits"] = {"login": {"soft": 1024, "hard": 221184}, "services": {"soft": 221184, "hard": 221184},
                                "nr_open": 1048576, "file_max": 2000000}
    result["limits"] = registered
    if self_nofile is not None:
        result["facts_before"]["nofile"] = {"self": self_nofile}
    return result


def _limit_rows(host):
    return dict((row["item"], row) for row in host["limits"])


def test_limits_are_shown_per_file_as_written_soft_colon_hard():
    """The service drop-in says LimitNOFILE=221184:524288 (the hard part is never below systemd's
    default); cc78c24 showed the plan's services soft = hard = 221184 instead."""
    written = {LOGIN_FILE: {"kind": "login", "unit": None, "soft": 1024, "hard": 221184},
               NGINX_FILE: {"kind": "service", "unit": "nginx", "soft": 221184, "hard": 524288}}
    registered = {"changed": True, "files": sorted(written), "changed_files": [NGINX_FILE], "written": written,
                  "left_out": {"DefaultLimitNOFILE": "hard 221184 is not above systemd's default hard 524288, "
                                                     "which it would lower for every unit"},
                  "systemd_default": {"soft": 1024, "hard": 524288, "source": "systemd >= 240 built-in default"}}
    report = build_report({"web1": _limits_result(registered)})
    rows = _limit_rows(report["hosts"][0])
    nginx = [row for item, row in rows.items() if NGINX_FILE in item]
    login = [row for item, row in rows.items() if LOGIN_FILE in item]
    assert [row["planned"] for row in nginx] == ["221184:524288"]
    assert nginx[0]["status"] == "changed" and "nginx" in nginx[0]["item"]
    assert "524288" in nginx[0]["reason"] and "systemd" in nginx[0]["reason"]
    assert [(row["planned"], row["status"]) for row in login] == [("1024:221184", "unchanged")]
    assert not [row for row in rows.values() if row["planned"] == "221184" and "services" in row["item"]]
    left = [row for item, row in rows.items() if "DefaultLimitNOFILE" in item]
    assert left and left[0]["status"] == "left out" and "would lower" in left[0]["reason"]
    assert rows["nr_open"]["planned"] == "1048576"
    assert "221184:524288" in render_markdown(report) and "221184:524288" in render_html(report)


def test_limits_without_written_are_parsed_from_the_files_texts_in_the_diff():
    diff = [{"before_header": LOGIN_FILE, "after_header": LOGIN_FILE, "before": "",
             "after": "# Managed\n*      soft nofile 1024\n*      hard nofile 221184\n"
                      "root   soft nofile 1024\nroot   hard nofile 221184\n"},
            {"before_header": NGINX_FILE, "after_header": NGINX_FILE, "before": "",
             "after": "# Managed\n[Service]\nLimitNOFILE=221184:524288\n"},
            {"before_header": DEFAULT_FILE, "after_header": DEFAULT_FILE, "before": "",
             "after": "# Managed\n[Manager]\nDefaultLimitNOFILE=1024:1211392\n"}]
    registered = {"changed": True, "files": [DEFAULT_FILE, LOGIN_FILE, NGINX_FILE],
                  "changed_files": [DEFAULT_FILE, LOGIN_FILE, NGINX_FILE], "diff": diff}
    rows = _limit_rows(build_report({"h": _limits_result(registered)})["hosts"][0])
    by_file = dict((path, [row for item, row in rows.items() if path in item]) for path in (
        LOGIN_FILE, NGINX_FILE, DEFAULT_FILE))
    assert [row["planned"] for row in by_file[LOGIN_FILE]] == ["1024:221184"]
    assert [row["planned"] for row in by_file[NGINX_FILE]] == ["221184:524288"]
    assert [row["planned"] for row in by_file[DEFAULT_FILE]] == ["1024:1211392"]
    assert all(row["status"] == "changed" for paths in by_file.values() for row in paths)


def test_parse_limit_file_reads_what_pam_limits_and_systemd_read():
    from ansible_collections.tcptune.linux.plugins.module_utils.report import parse_limit_file
    assert parse_limit_file(LOGIN_FILE, "# c\nroot soft nofile 1024\n*      soft nofile 4096  # x\n") == {
        "kind": "login", "unit": None, "soft": 4096, "hard": None}
    assert parse_limit_file(LOGIN_FILE, "*  -  nofile 65536\n* hard nofile 70000\n") == {
        "kind": "login", "unit": None, "soft": 65536, "hard": 70000}
    assert parse_limit_file(NGINX_FILE, "[Service]\nLimitNOFILE=65536\n") == {
        "kind": "service", "unit": "nginx", "soft": 65536, "hard": 65536}
    assert parse_limit_file(NGINX_FILE, "[Service]\nLimitNOFILE=infinity\n")["hard"] == 2 ** 63 - 1
    assert parse_limit_file(DEFAULT_FILE, "[Manager]\nDefaultLimitNOFILE=1024:524288\n") == {
        "kind": "default", "unit": None, "soft": 1024, "hard": 524288}
    assert parse_limit_file(NGINX_FILE, "") is None
    assert parse_limit_file(NGINX_FILE, "[Service]\nLimitNOFILE=lots\n") is None


def test_infinity_is_shown_as_infinity():
    written = {NGINX_FILE: {"kind": "service", "unit": "nginx", "soft": 2 ** 63 - 1, "hard": 2 ** 63 - 1}}
    rows = _limit_rows(build_report({"h": _limits_result({"changed": False, "files": [NGINX_FILE],
                                                          "changed_files": [], "written": written})})["hosts"][0])
    assert [row["planned"] for item, row in rows.items() if NGINX_FILE in item] == ["infinity:infinity"]


def test_a_container_is_judged_against_its_own_hard_rlimit():
    """In a container whose hard RLIMIT_NOFILE is 20000, cc78c24 said "already as planned" for a
    planned hard of 221184 that no process there can get."""
    written = {LOGIN_FILE: {"kind": "login", "unit": None, "soft": 1024, "hard": 221184}}
    registered = {"changed": False, "files": [LOGIN_FILE], "changed_files": [], "written": written}
    unchanged = dict(_limits_result(registered, container=True, self_nofile={"soft": 20000, "hard": 20000}),
                     txqueuelen={})
    report = build_report({"box": unchanged})
    status, reason = _status(report, "box")
    assert reason != "already as planned"
    assert "hard 221184" in reason and "hard rlimit 20000" in reason and "cannot be given here" in reason
    assert any("20000" in row["planned"] and row["status"] != "unchanged" for row in report["hosts"][0]["limits"])
    assert "hard rlimit 20000" in render_html(report) and "hard rlimit 20000" in render_markdown(report)
    # a run that changed something says so, and still names the limit it cannot give
    changed = _limits_result(registered, container=True, self_nofile={"soft": 1024, "hard": 20000}, changed=True)
    status, reason = _status(build_report({"box": changed}), "box")
    assert status == "tuned" and reason.startswith("changed ") and "hard rlimit 20000" in reason


@pytest.mark.parametrize("container, self_nofile", [
    (True, {"soft": 1024, "hard": 1048576}),   # the container's rlimit gives it
    (True, {"soft": -1, "hard": -1}),          # unlimited
    (True, None),                              # the fact is not in the result (older tcp_tune)
    (False, {"soft": 1024, "hard": 20000}),    # a host: the module's own session limit says nothing
])
def test_a_limit_the_rlimit_can_give_is_as_planned(container, self_nofile):
    written = {LOGIN_FILE: {"kind": "login", "unit": None, "soft": 1024, "hard": 221184}}
    registered = {"changed": False, "files": [LOGIN_FILE], "changed_files": [], "written": written}
    result = dict(_limits_result(registered, container=container, self_nofile=self_nofile), txqueuelen={})
    assert _status(build_report({"h": result}), "h") == ("unchanged", "already as planned")


def _infeasible_plan():
    from ansible_collections.tcptune.linux.plugins.module_utils import sizing, sizing_inputs
    host = sizing_inputs.host_from_facts(None, {"memory_bytes": 4 * 1024 ** 3, "kernel_release": "6.18.44"})
    return sizing.compute_plan(host, {"profile": "high_concurrency_server", "target_connections": 1000000})


def test_an_infeasible_host_gets_one_sentence_and_the_breakdown_below_it():
    """cc78c24: about 2,500 characters of run-together warnings, with negative numbers."""
    plan = _infeasible_plan()
    assert plan["feasible"] is False
    message = "tcp_tuning: the target does not fit, nothing was changed: " + " ".join(plan["warnings"])
    report = build_report({}, failures={"big": {"task": "Refuse an infeasible plan", "message": message,
                                                "plan": plan}})
    status, reason = _status(report, "big")
    assert status == "infeasible"
    assert len(reason) < 200 and reason.count(". ") == 0 and ";" in reason
    assert reason.startswith("1000000 connections need about ")
    assert "at most about %d connections fit" % plan["predicted"]["max_connections_in_memory"] in reason
    assert not re.search(r"-\d", reason)
    html, markdown = render_html(report), render_markdown(report)
    section = report_html.host_details_html(report["hosts"][0])
    assert section == _details(_page_parts(html)[1], 0)  # what the page shows when the host is opened
    breakdown = section.split("<h4>Memory estimate</h4>", 1)[1].split("</table>", 1)[0]
    for text in ("socket slab", "busy buffers", "shortfall", "75 % of"):
        assert text in breakdown
    assert not re.search(r"-\d", breakdown)
    # the refusal is not repeated in the warnings below, nor the role's message that joins them all
    assert section.count(plan["warnings"][0]) == 0 and message not in section
    assert "socket slab" in markdown and "shortfall" in markdown and message not in markdown
    assert all(len(line) < 400 for line in markdown.splitlines())


def test_the_new_rows_and_the_breakdown_keep_the_documented_schema():
    jsonschema = pytest.importorskip("jsonschema")
    with open(os.path.join(REPO, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    written = {NGINX_FILE: {"kind": "service", "unit": "nginx", "soft": 221184, "hard": 524288}}
    registered = {"changed": False, "files": [NGINX_FILE, LOGIN_FILE], "changed_files": [], "written": written,
                  "removed_files": [DEFAULT_FILE], "left_out": {"login": "nothing to change"}}
    box = _limits_result(registered, container=True, self_nofile={"soft": 1024, "hard": 20000})
    plan = _infeasible_plan()
    report = build_report({"box": box}, failures={"big": {"task": "t", "message": "m", "plan": plan}})
    jsonschema.validate(json.loads(render_json(report)), schema)
    items = [row["item"] for row in report["hosts"][1]["limits"]]
    assert [LOGIN_FILE, "removed: " + DEFAULT_FILE, "left out: login"] == [
        item for item in items if item.startswith(("removed", "left out", "/etc/security"))]
