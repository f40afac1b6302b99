# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.tcptune.linux.plugins.modules import tcp_sizing

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

GIB = 1024 ** 3
FACTS = {
    "kernel": {"release": "6.18.44-fc-v657", "version": [6, 18, 44], "page_size": 4096,
               "mem_total_bytes": 24684092 * 1024, "mem_available_bytes": 24081036 * 1024, "cpus": 2},
    "namespace": {"init_netns": False, "proc_sys_writable": True, "container": True},
    "sysctl": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 33554432]},
    "sysctl_unavailable": {"net.ipv4.tcp_mem": "global key: set it on the host (a container cannot set it for itself)"},
    "files": {"allocated": 2000, "max": 2466183, "nr_open": 1048576},
    "conntrack": {"available": False},
    "interfaces": {"eth0": {"speed_mbps": 10000, "virtual": False, "qdisc": "pfifo_fast"},
                   "lo": {"speed_mbps": None, "virtual": True, "qdisc": "noqueue"}},
}


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            tcp_sizing.main()
    return json.loads(capsys.readouterr().out)


def test_plan_from_facts(capsys):
    result = run({"facts": FACTS, "profile": "high_concurrency_server", "target_connections": 1000000,
                  "sockets_per_connection": 2}, capsys)
    plan = result["plan"]
    assert result["changed"] is False
    assert set(result) >= {"plan", "changed"} and "sysctl" not in result  # the plan is returned once
    assert plan["feasible"] is True
    assert plan["sysctl"]["net.core.somaxconn"] == "32768"
    assert plan["skipped"]["fs.nr_open"].startswith("global key")
    assert plan["txqueuelen"] == {}  # no bandwidth declared: no reason to touch it
    assert plan["memory_estimate"]["sockets"] == 2000000
    assert plan["workload"]["target_connections"] == 1000000
    assert plan["workload_sources"]["target_connections"] == "declared"
    assert plan["workload_sources"]["accept_rate"] == "preset high_concurrency_server"
    assert all(change["reason"]["kind"] in ("workload", "finding", "dependency") for change in plan["changes"])


def test_balanced_without_workload_plans_nothing(capsys):
    plan = run({"facts": FACTS}, capsys)["plan"]
    assert plan["sysctl"] == {} and plan["limits"] == {} and plan["txqueuelen"] == {} and plan["changes"] == []


def test_overrides_win_over_facts_and_float_options_become_ints(capsys):
    result = run({"facts": FACTS, "memory_bytes": 4 * GIB, "target_connections": 1000000,
                  "accept_rate": 100, "interfaces": {"eth0": "25000"}}, capsys)
    plan = result["plan"]
    assert plan["memory_estimate"]["ram_bytes"] == 4 * GIB
    assert plan["feasible"] is False
    assert plan["workload"]["accept_rate"] == 100 and isinstance(plan["workload"]["accept_rate"], int)
    assert any(w.startswith("infeasible") for w in plan["warnings"])


def test_cgroup_limit_counts(capsys):
    plan = run({"facts": FACTS, "target_connections": 1000000, "memory_limit_bytes": 4 * GIB}, capsys)["plan"]
    assert plan["memory_estimate"]["memory_bytes"] == 4 * GIB
    assert plan["feasible"] is False


def test_empty_facts_plan_for_another_machine(capsys, monkeypatch):
    def refuse():
        raise AssertionError("must not read this host")

    monkeypatch.setattr(tcp_sizing, "read_host_facts", refuse)
    plan = run({"facts": {}, "profile": "bulk_transfer", "memory_bytes": 64 * GIB,
                "kernel_release": "6.8.0-45-generic", "interfaces": {"eth0": 25000}}, capsys)["plan"]
    # 10 Gbit/s x 100 ms = 125 MB, x 2 -> 256 MiB on every kernel
    assert plan["sysctl"]["net.ipv4.tcp_rmem"] == "4096 131072 268435456"


def test_without_facts_reads_this_host(capsys):
    result = run({"target_connections": 100}, capsys)
    assert result["plan"]["memory_estimate"]["ram_bytes"] > 0
    assert result["changed"] is False


@pytest.mark.parametrize("args,message", [
    ({"target_connections": 0}, "target_connections: must be a positive integer"),
    ({"memory_budget_percent": 95}, "memory_budget_percent: must be above 0 and at most 50"),
    ({"rtt_ms": 20}, "rtt_ms: given without bandwidth_mbps"),
    ({"reserved_ports": ["99999"]}, "reserved_ports: '99999' is outside 1..65535"),
    ({"memory_bytes": 1024}, "memory_bytes: must be an integer >= "),
])
def test_bad_input_fails_naming_option_and_rule(capsys, args, message):
    args = dict(args, facts=FACTS)
    result = run(args, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(message)


def test_wrong_type_rejected_by_argument_spec(capsys):
    result = run({"facts": FACTS, "target_connections": "lots"}, capsys)
    assert result["failed"] is True
    assert "target_connections" in result["msg"]
