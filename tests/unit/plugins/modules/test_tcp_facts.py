# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import run_module

FACT_KEYS = {"kernel", "namespace", "sysctl", "sysctl_writable", "sysctl_unavailable", "counters", "rates",
             "sample_seconds", "sockstat", "files", "nofile", "conntrack", "softnet", "interfaces", "cgroup",
             "sockets", "findings"}


def test_module_returns_facts_of_a_fixture_tree_in_check_mode(fixture_tree, tmpdir):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    result = run_module("tcp_facts", {"proc_path": proc_path, "sys_path": sys_path, "listeners_max": 1},
                        tmpdir, check=True)
    assert result["changed"] is False
    facts = result["ansible_facts"]["tcp"]
    assert set(facts) == FACT_KEYS
    assert facts["counters"]["TcpExt.ListenOverflows"] == 1806
    assert facts["sockets"]["source"] == "proc"
    assert len(facts["sockets"]["listeners"]) == 1
    assert facts["sockets"]["listening_ports"] == [80, 443]
    assert facts["interfaces"]["eth1"]["qdisc"] is None  # a fixture tree: no live rtnetlink dump
    assert facts["cgroup"]["version"] is None
    assert [finding["id"] for finding in facts["findings"]][:2] == ["conntrack_pressure", "rst_send_failed"]


def test_module_on_this_host(tmpdir):
    result = run_module("tcp_facts", {"sockets": True}, tmpdir)
    facts = result["ansible_facts"]["tcp"]
    assert result["changed"] is False
    assert facts["sockets"]["source"] in ("netlink", "proc")
    assert facts["kernel"]["release"] == os.uname()[2]
    assert facts["sysctl"]["net.core.somaxconn"] > 0
    assert facts["interfaces"]["lo"]["qdisc"] is not None
    assert facts["cgroup"]["version"] in (1, 2)


def test_module_rejects_bad_options(tmpdir):
    result = run_module("tcp_facts", {"sample_seconds": -1}, tmpdir)
    assert result["failed"] is True
    assert "sample_seconds" in result["msg"]
    result = run_module("tcp_facts", {"proc_path": str(tmpdir.join("nope"))}, tmpdir)
    assert result["failed"] is True
    assert "proc_path" in result["msg"]
