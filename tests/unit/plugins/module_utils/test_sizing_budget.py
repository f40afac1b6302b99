# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""review-2026-12-03 #11: memory_budget_percent (with or without allow_lower) never takes tcp_mem below what the
declared sockets are guaranteed, a budget below that is infeasible, and a tcp_mem lowered below the kernel
default is said. #16: only a system-wide descriptor shortage raises fs.file-max.

The host is the 24 GB linux-6.18-host fixture of test_sizing.py (live tcp_mem 287901 383868 575802)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import diagnosis_rules, host_facts, sizing

PAGE = 4096


@pytest.fixture
def facts(fixture_tree):
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    gathered = host_facts.gather(proc_path, sys_path, page_size=PAGE, sockets=False)
    assert gathered["findings"] == [] and gathered["sysctl"]["net.ipv4.tcp_mem"] == [287901, 383868, 575802]
    return gathered


def plan_for(facts, workload):
    return sizing.compute_plan(sizing_inputs.host_from_facts(facts), workload)


def tcp_mem(plan):
    return [int(part) for part in plan["sysctl"]["net.ipv4.tcp_mem"].split()]


def budget_pages(facts, percent):
    return int(facts["kernel"]["mem_total_bytes"] * percent / 100.0) // PAGE


# --- #11 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("percent", [0.05, 1])
def test_allow_lower_never_takes_tcp_mem_below_the_sockets_guarantee_and_a_budget_below_it_is_infeasible(
        facts, percent):
    # cc78c24: 0.05 % -> tcp_mem 1542 2056 3084 (12 MiB for 100 000 sockets), 1 % -> 30855 41140 61710; both feasible
    plan = plan_for(facts, {"target_connections": 100000, "allow_lower": True, "memory_budget_percent": percent})
    guaranteed = 100000 * (4096 + 4096) // PAGE  # sockets x (tcp_rmem[0] + tcp_wmem[0]) = 200000 pages
    assert tcp_mem(plan)[1] >= guaranteed, plan["sysctl"]["net.ipv4.tcp_mem"]
    assert plan["feasible"] is False
    sentence = plan["warnings"][0]
    assert sentence.startswith("infeasible: memory_budget_percent %g leaves tcp_mem max %d pages"
                               % (percent, budget_pages(facts, percent))), sentence
    assert "100000 busy sockets (busy_fraction 1) need max 300000 pages (1.23 GB)" in sentence and "200000 pages" in sentence
    assert "\n" not in sentence and ". " not in sentence  # one sentence
    assert [warning for warning in plan["warnings"] if "memory_budget_percent" in warning] == [sentence]


def test_a_budget_below_the_sockets_need_is_infeasible_without_allow_lower_too(facts):
    # 300 000 sockets are guaranteed 600 000 pages; 1 % of RAM leaves 61 710. cc78c24: a "capped" warning, feasible.
    plan = plan_for(facts, {"target_connections": 300000, "memory_budget_percent": 1})
    assert plan["feasible"] is False
    assert plan["warnings"][0].startswith("infeasible: memory_budget_percent 1 leaves tcp_mem max 61710 pages")
    assert "300000 busy sockets (busy_fraction 1) need max 900000 pages (3.69 GB)" in plan["warnings"][0]


def test_a_budget_that_holds_the_sockets_lowers_tcp_mem_and_says_it_is_below_the_kernel_default(facts):
    # 5 % of RAM: max 308550 pages >= the 300000 the sockets need; lowered from the default, and said (cc78c24: silent)
    plan = plan_for(facts, {"target_connections": 100000, "allow_lower": True, "memory_budget_percent": 5})
    assert plan["feasible"] is True, plan["warnings"]
    assert tcp_mem(plan) == [154275, 205700, 308550]
    said = [warning for warning in plan["warnings"] if "below the kernel default" in warning]
    assert len(said) == 1 and said[0].startswith("net.ipv4.tcp_mem: lowered to 154275 205700 308550 pages"), said
    assert "pressure at 205700 pages" in said[0]
    # without allow_lower nothing is lowered, so nothing is said
    kept = plan_for(facts, {"target_connections": 100000, "memory_budget_percent": 5})
    assert "net.ipv4.tcp_mem" not in kept["sysctl"] and kept["feasible"] is True
    assert not [warning for warning in kept["warnings"] if "below the kernel default" in warning]


# --- #16 ------------------------------------------------------------------------------------------

def _with_nginx(facts, soft=1024, open_files=12):
    facts["nofile"]["services"] = {"nginx": {"soft": soft, "hard": 524288, "open": open_files, "pid": 200}}
    facts["findings"] = diagnosis_rules.diagnose(facts)
    return facts


def test_an_info_fd_finding_does_not_raise_file_max(facts):
    # cc78c24: fs.file-max 2466177 -> 4936818, "descriptors running short", from nginx's soft 1024 (info)
    facts = _with_nginx(facts)
    assert [(item["id"], item["severity"]) for item in facts["findings"]] == [("fd_pressure", "info")]
    plan = plan_for(facts, {"services": ["nginx"]})
    assert "fs.file-max" not in plan["sysctl"]
    assert plan["limits"]["services"] == {"soft": 65536, "hard": 65536}  # what the nofile limits address
    # nor a process close to its own soft limit (critical, but per process: the nofile limits address it)
    facts = _with_nginx(facts, soft=1024, open_files=1000)
    assert facts["findings"][0]["severity"] == "critical"
    assert "fs.file-max" not in plan_for(facts, {})["sysctl"]
    assert "running short" not in str(plan_for(facts, {})["explain"]["limits.nofile"]["reason"])


def test_a_system_wide_shortage_still_raises_file_max_with_its_evidence(facts):
    facts = _with_nginx(facts)
    facts["files"]["allocated"] = facts["files"]["max"] * 95 // 100
    facts["findings"] = diagnosis_rules.diagnose(facts)
    plan = plan_for(facts, {"services": ["nginx"]})
    change = [item for item in plan["changes"] if item["key"] == "fs.file-max"][0]
    assert int(change["planned"]) > facts["files"]["max"]
    assert change["reason"]["kind"] == "finding" and change["reason"]["evidence"]["files.allocated"] == \
        facts["files"]["allocated"]
    assert "near fs.file-max" in change["reason"]["detail"]
