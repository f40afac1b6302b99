# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: every host once, and the fleet views across hosts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report, collect, hosts_by_status, outliers
from ansible_collections.tcptune.linux.tests.unit.plugins.module_utils.report_results import host_result


def test_outliers_name_the_hosts_that_differ_from_the_majority():
    odd = host_result()
    odd["facts_after"]["sysctl"]["net.core.somaxconn"] = 1024
    report = build_report({"a": host_result(), "b": host_result(), "c": odd})
    assert report["outliers"] == {"net.core.somaxconn": {"majority": "65535", "majority_hosts": 2,
                                                         "differ": {"c": "1024"}}}
    assert outliers([]) == {}


def test_finding_counts_across_the_fleet():
    report = build_report({"a": host_result(), "b": host_result(), "c": dict(host_result(), findings_before=[])})
    assert report["finding_counts"] == {"listen_queue_overflow": {"severity": "critical", "hosts": ["a", "b"]}}


def test_collect_lets_the_report_tasks_own_arguments_win():
    recorded = {"web1": {"tcp_tuning_result": host_result(), "tcp_tuning_failure": {"task": "t", "message": "m"}},
                "web2": {"tcp_tuning_unreachable": "refused"},
                "localhost": {"tcp_tuning_play_hosts": ["web1", "web2"]}}
    given = {"results": {"web3": host_result()}, "failures": {"web2": {"task": "x", "message": "y"},
                                                              "web4": {"task": "x", "message": "y"}},
             "unreachable": {"web1": "timed out"}, "play_hosts": ["web5", "web1", "web5"]}
    found = collect(recorded, given=given)
    assert found["play_hosts"] == ["web1", "web2", "web5"]
    assert sorted(found["results"]) == ["web1", "web3"]
    assert found["unreachable"] == {"web1": "timed out", "web2": "refused"}
    assert found["failures"] == {"web4": {"task": "x", "message": "y"}}  # an unreachable host has no failure
    assert collect(recorded, given={}) == collect(recorded)


def test_hosts_by_status_keeps_the_statuses_some_host_has_in_report_order():
    report = build_report({"a": host_result(), "b": host_result()}, unreachable={"c": "refused"}, play_hosts=["d"])
    assert list(hosts_by_status(report).items()) == [("tuned", 2), ("unreachable", 1), ("not reached", 1)]
    assert hosts_by_status(build_report({})) == {}
