# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nofile limits rows: per file as written, and a container's own hard rlimit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_limits import parse_limit_file
from ansible_collections.tcptune.linux.plugins.module_utils.report_html import render_html
from ansible_collections.tcptune.linux.plugins.module_utils.report_text import render_json, render_markdown
from ansible_collections.tcptune.linux.tests.unit.plugins.module_utils.report_results import (
    DEFAULT_FILE,
    LOGIN_FILE,
    NGINX_FILE,
    REPO,
    infeasible_plan,
    limits_result,
    status_of,
)


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
    report = build_report({"web1": limits_result(registered)})
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
    rows = _limit_rows(build_report({"h": limits_result(registered)})["hosts"][0])
    by_file = dict((path, [row for item, row in rows.items() if path in item]) for path in (
        LOGIN_FILE, NGINX_FILE, DEFAULT_FILE))
    assert [row["planned"] for row in by_file[LOGIN_FILE]] == ["1024:221184"]
    assert [row["planned"] for row in by_file[NGINX_FILE]] == ["221184:524288"]
    assert [row["planned"] for row in by_file[DEFAULT_FILE]] == ["1024:1211392"]
    assert all(row["status"] == "changed" for paths in by_file.values() for row in paths)


def test_parse_limit_file_reads_what_pam_limits_and_systemd_read():
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
    rows = _limit_rows(build_report({"h": limits_result({"changed": False, "files": [NGINX_FILE],
                                                         "changed_files": [], "written": written})})["hosts"][0])
    assert [row["planned"] for item, row in rows.items() if NGINX_FILE in item] == ["infinity:infinity"]


def test_a_container_is_judged_against_its_own_hard_rlimit():
    """In a container whose hard RLIMIT_NOFILE is 20000, cc78c24 said "already as planned" for a
    planned hard of 221184 that no process there can get."""
    written = {LOGIN_FILE: {"kind": "login", "unit": None, "soft": 1024, "hard": 221184}}
    registered = {"changed": False, "files": [LOGIN_FILE], "changed_files": [], "written": written}
    unchanged = dict(limits_result(registered, container=True, self_nofile={"soft": 20000, "hard": 20000}),
                     txqueuelen={})
    report = build_report({"box": unchanged})
    status, reason = status_of(report, "box")
    assert reason != "already as planned"
    assert "hard 221184" in reason and "hard rlimit 20000" in reason and "cannot be given here" in reason
    assert any("20000" in row["planned"] and row["status"] != "unchanged" for row in report["hosts"][0]["limits"])
    assert "hard rlimit 20000" in render_html(report) and "hard rlimit 20000" in render_markdown(report)
    # a run that changed something says so, and still names the limit it cannot give
    changed = limits_result(registered, container=True, self_nofile={"soft": 1024, "hard": 20000}, changed=True)
    status, reason = status_of(build_report({"box": changed}), "box")
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
    result = dict(limits_result(registered, container=container, self_nofile=self_nofile), txqueuelen={})
    assert status_of(build_report({"h": result}), "h") == ("unchanged", "already as planned")


def test_the_new_rows_and_the_breakdown_keep_the_documented_schema():
    jsonschema = pytest.importorskip("jsonschema")
    with open(os.path.join(REPO, "docs", "report-schema.json")) as handle:
        schema = json.load(handle)
    written = {NGINX_FILE: {"kind": "service", "unit": "nginx", "soft": 221184, "hard": 524288}}
    registered = {"changed": False, "files": [NGINX_FILE, LOGIN_FILE], "changed_files": [], "written": written,
                  "removed_files": [DEFAULT_FILE], "left_out": {"login": "nothing to change"}}
    box = limits_result(registered, container=True, self_nofile={"soft": 1024, "hard": 20000})
    plan = infeasible_plan()
    report = build_report({"box": box}, failures={"big": {"task": "t", "message": "m", "plan": plan}})
    jsonschema.validate(json.loads(render_json(report)), schema)
    items = [row["item"] for row in report["hosts"][1]["limits"]]
    assert [LOGIN_FILE, "removed: " + DEFAULT_FILE, "left out: login"] == [
        item for item in items if item.startswith(("removed", "left out", "/etc/security"))]
