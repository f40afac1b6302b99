# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's entry: its one status and reason, and its key, txqueuelen and finding rows."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.tcptune.linux.plugins.module_utils import report_html
from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_host import STATUSES
from ansible_collections.tcptune.linux.plugins.module_utils.report_html import render_html
from ansible_collections.tcptune.linux.plugins.module_utils.report_rows import value_text
from ansible_collections.tcptune.linux.plugins.module_utils.report_text import render_markdown
from ansible_collections.tcptune.linux.tests.unit.plugins.module_utils.report_results import (
    host_result,
    infeasible_plan,
    page_details,
    page_parts,
    status_of,
)


def test_value_text_joins_lists_and_normalises_spaces():
    assert value_text([4096, 131072, 6291456]) == "4096 131072 6291456"
    assert value_text("4096\t131072  6291456") == "4096 131072 6291456"
    assert value_text(None) == ""


def test_every_host_of_the_play_has_exactly_one_status_with_its_reason():
    report = build_report(
        {"tuned": host_result(), "same": host_result(changed=False), "audit": host_result(mode="audit"),
         "drifted": host_result(mode="audit", drift={"net.core.somaxconn": {"persisted": "65535", "live": "1000"}})},
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
    assert status_of(report, "tuned") == ("tuned", "changed 2 sysctl key(s), nofile limits, txqueuelen of eth0")
    assert status_of(report, "same") == ("unchanged", "already as planned")
    assert status_of(report, "audit")[0] == "would change"
    assert status_of(report, "drifted") == ("drift", "net.core.somaxconn: persisted 65535, live 1000")
    assert status_of(report, "broken") == ("failed", "Apply every sysctl key in one call: net.ipv4.tcp_mem: "
                                                     "the three values must not decrease")
    # an older plan without the refusal sentence: one made from its estimate (decimal GB, as the plan's)
    assert status_of(report, "too-big") == ("infeasible", "5000000 connections need about 25.77 GB of 8.59 GB RAM; "
                                                          "at most about 900000 connections fit")
    assert status_of(report, "gone") == ("unreachable", "Failed to connect to the host via ssh: Connection refused")
    assert status_of(report, "later")[0] == "not reached"
    assert report["summary"]["status"] == dict((s, 1 if s != "would change" else 1) for s in STATUSES)
    assert sum(report["summary"]["status"].values()) == 8


def test_failure_wins_over_a_stale_result_and_unreachable_over_failure():
    report = build_report({"a": host_result(), "b": host_result()}, failures={"a": {"task": "t", "message": "m"}},
                          unreachable={"b": "refused"})
    assert status_of(report, "a") == ("failed", "t: m")
    assert status_of(report, "b") == ("unreachable", "refused")


def test_boot_time_file_that_wins_is_drift_even_when_live_matches():
    report = build_report({"h": host_result(changed=False, overridden_by={
        "net.core.somaxconn": [{"file": "/etc/sysctl.d/99-local.conf", "value": "1024"}]})})
    assert status_of(report, "h") == ("drift", "net.core.somaxconn: /etc/sysctl.d/99-local.conf sets 1024 and "
                                               "wins at boot; re-applied in this run")


def test_key_rows_carry_reason_and_explain_limits_and_txqueuelen():
    host = build_report({"web1": host_result()})["hosts"][0]
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
    result = host_result()
    result["plan"]["limits"] = {"nofile_soft": 65536, "nofile_hard": 65536}
    result["txqueuelen"] = {"changed": True, "changed_interfaces": ["eth0"], "previous": {"eth0": 1000}}
    del result["plan"]["changes"]
    host = build_report({"h": result})["hosts"][0]
    assert [row["planned"] for row in host["limits"]] == ["65536"] * 4
    assert host["txqueuelen"][0]["status"] == "changed"
    assert build_report({"h": {}}, play_hosts=["h"])["hosts"][0]["status"] == "not reached"


def test_revert_is_tuned_when_it_restored_something():
    reverted = dict(host_result(mode="revert"), reverted={"sysctl_changed_keys": ["net.core.somaxconn"],
                                                          "limits_changed": False, "txqueuelen_changed": False})
    nothing = dict(host_result(mode="revert"), reverted={"sysctl_changed_keys": [], "limits_changed": False})
    report = build_report({"r": reverted, "n": nothing})
    assert status_of(report, "r") == ("tuned", "reverted what the role wrote (1 sysctl key(s) restored)")
    assert status_of(report, "n") == ("unchanged", "nothing to revert")


def test_reasons_as_the_sizing_plan_gives_them_are_text_in_every_rendering():
    """Since #11 a plan change's reason is a dict {kind, detail, from}; the HTML escaping failed on it
    ('dict' object has no attribute 'replace'), so tune_tcp.yml wrote no report at all."""
    result = host_result()
    result["plan"]["changes"][0]["reason"] = {"kind": "workload", "detail": "accept_rate 6000/s x 1 s = 6000",
                                              "from": {"accept_rate": "declared"}}
    report = build_report({"web1": result})
    rows = dict((row["key"], row) for row in report["hosts"][0]["keys"])
    assert rows["net.core.somaxconn"]["reason"] == "accept_rate 6000/s x 1 s = 6000"
    assert "accept_rate 6000/s x 1 s = 6000" in render_html(report)
    assert "accept_rate 6000/s" in render_markdown(report)


def test_an_infeasible_host_gets_one_sentence_and_the_breakdown_below_it():
    """cc78c24: about 2,500 characters of run-together warnings, with negative numbers."""
    plan = infeasible_plan()
    assert plan["feasible"] is False
    message = "tcp_tuning: the target does not fit, nothing was changed: " + " ".join(plan["warnings"])
    report = build_report({}, failures={"big": {"task": "Refuse an infeasible plan", "message": message,
                                                "plan": plan}})
    status, reason = status_of(report, "big")
    assert status == "infeasible"
    assert len(reason) < 200 and reason.count(". ") == 0 and ";" in reason
    assert reason.startswith("1000000 connections need about ")
    assert "at most about %d connections fit" % plan["predicted"]["max_connections_in_memory"] in reason
    assert not re.search(r"-\d", reason)
    html, markdown = render_html(report), render_markdown(report)
    section = report_html.host_details_html(report["hosts"][0])
    assert section == page_details(page_parts(html)[1], 0)  # what the page shows when the host is opened
    breakdown = section.split("<h4>Memory estimate</h4>", 1)[1].split("</table>", 1)[0]
    for text in ("socket slab", "busy buffers", "shortfall", "75 % of"):
        assert text in breakdown
    assert not re.search(r"-\d", breakdown)
    # the refusal is not repeated in the warnings below, nor the role's message that joins them all
    assert section.count(plan["warnings"][0]) == 0 and message not in section
    assert "socket slab" in markdown and "shortfall" in markdown and message not in markdown
    assert all(len(line) < 400 for line in markdown.splitlines())
