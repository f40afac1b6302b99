# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a second run, on the host the first one tuned, keeps every key: tcp_sysctl rewrites the
sysctl.d file from the plan, so a key left out would be gone after the next reboot (molecule default,
idempotence on Debian 12: run 2 planned nothing and rewrote the file without five keys)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, sizing

GIB = 1024 ** 3


def _host(sysctl):
    return {"memory_bytes": 16 * GIB, "kernel_release": "6.1.0-18-amd64", "cpus": 8,
            "interfaces": {"eth0": 1000}, "sysctl": sysctl}


def test_second_run_plans_the_same_sysctl_and_no_change():
    workload = {"profile": "proxy", "target_connections": 20000, "accept_rate": 6000, "outbound_rate": 500,
                "reserved_ports": ["8080", "9100-9102"]}
    first = sizing.compute_plan(sizing.host_from_facts(None, _host({})), workload)
    assert first["sysctl"], "the workload must ask for something for this test to mean anything"
    applied = dict((key, catalogue.coerce_value(catalogue.get(key), text)) for key, text in first["sysctl"].items())
    second = sizing.compute_plan(sizing.host_from_facts(None, _host(applied)), workload)
    assert second["sysctl"] == first["sysctl"]
    assert [change["key"] for change in second["changes"]
            if change["key"] in catalogue.CATALOGUE and change["before"] != change["planned"]] == []


def test_a_higher_live_value_set_by_someone_else_is_not_taken_over():
    workload = {"profile": "proxy", "target_connections": 20000, "accept_rate": 6000}
    plan = sizing.compute_plan(sizing.host_from_facts(None, _host({"net.core.somaxconn": 65535})), workload)
    assert "net.core.somaxconn" not in plan["sysctl"]
