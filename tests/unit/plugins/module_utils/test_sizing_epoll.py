# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fs.epoll.max_user_watches (issue 18's boundary run: at 1.3 x N in a 1 GB guest the server's epoll_ctl failed
with ENOSPC before TCP memory ran out): sized from the declared sockets, only upwards, only where settable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, host_facts, kernel_defaults, sizing

GIB = 1024 ** 3
KEY = "fs.epoll.max_user_watches"


def plan_for(workload, **host):
    return sizing.compute_plan(sizing_inputs.host_from_facts(None, host), workload)


def test_the_kernel_default_is_eventpoll_inits_formula(fixture_tree):
    """The 24 GB 6.18 host's boot default, from MemTotal (within 0.1 %: MemTotal moves a little after boot)."""
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    facts = host_facts.gather(proc_path, sys_path, page_size=4096, sockets=False)
    live = facts["sysctl"][KEY]
    assert live == 5491645
    host = sizing_inputs.host_from_facts(facts)
    assert abs(kernel_defaults.epoll_max_user_watches(host) / float(live) - 1) < 0.001
    assert catalogue.get(KEY).rule == "rule_epoll_watches" and catalogue.get(KEY).netns_since is None


def test_no_declared_sockets_no_change():
    plan = plan_for({}, memory_bytes=16 * GIB, kernel_release="6.1.0", sysctl={KEY: 100000})
    assert KEY not in plan["sysctl"]
    assert "no declared workload" in plan["explain"][KEY]["note"]


def test_a_live_value_below_the_declared_sockets_is_raised_with_the_workload_as_reason():
    plan = plan_for({"profile": "high_concurrency_server", "target_connections": 500000},
                    memory_bytes=16 * GIB, kernel_release="6.1.0", sysctl={KEY: 300000})
    assert plan["sysctl"][KEY] == "550000"  # 500 000 sockets x 1.10
    explain = plan["explain"][KEY]
    assert explain["reason"]["kind"] == "workload" and explain["inputs"] == {"sockets": 500000}
    assert "ENOSPC" in explain["source"]


def test_the_kernel_default_already_covers_what_fits_in_memory():
    """At 4 % of RAM per ~184 B, the default outgrows the sockets that fit in 75 % of RAM at ~4.1 KB each:
    a feasible plan on a host with the default needs no change."""
    memory = 4 * GIB
    default = kernel_defaults.epoll_max_user_watches({"memory_bytes": memory, "page_size": 4096, "kernel": [6, 1]})
    plan = plan_for({"profile": "high_concurrency_server", "target_connections": 600000},
                    memory_bytes=memory, kernel_release="6.1.0", sysctl={KEY: default})
    assert plan["feasible"] is True
    assert KEY not in plan["sysctl"] and plan["explain"][KEY]["value"] is None


def test_seed004s_boundary_guest_agrees_with_the_kernel():
    """bench/results/seed004_boundary.json, a 6.1 guest with MemTotal 981 724 kB: 0.9 x N held; at 1.3 x N
    (211 237) the server's epoll_ctl failed with ENOSPC after 208 608 accepted. The plan: 0.9 x N feasible,
    1.3 x N not; the default watches sit between the two, so the first wall past the plan is epoll."""
    host = {"memory_bytes": 981724 * 1024, "kernel_release": "6.1.0-50-amd64"}
    default = kernel_defaults.epoll_max_user_watches({"memory_bytes": host["memory_bytes"], "page_size": 4096,
                                                      "kernel": [6, 1]})
    assert 208608 <= default <= 208608 * 1.01
    held = plan_for({"profile": "high_concurrency_server", "target_connections": 146241},
                    sysctl={KEY: default}, **host)
    over = plan_for({"profile": "high_concurrency_server", "target_connections": 211237},
                    sysctl={KEY: default}, **host)
    assert held["feasible"] is True and KEY not in held["sysctl"]
    assert over["feasible"] is False
    assert 146241 < default < 211237


def test_never_lowered():
    plan = plan_for({"profile": "high_concurrency_server", "target_connections": 10000},
                    memory_bytes=16 * GIB, kernel_release="6.1.0", sysctl={KEY: 9000000})
    assert KEY not in plan["sysctl"]


def test_sized_for_the_connections_that_fit_when_more_are_asked():
    plan = plan_for({"profile": "high_concurrency_server", "target_connections": 5000000},
                    memory_bytes=4 * GIB, kernel_release="6.1.0", sysctl={KEY: 1000})
    fit_sockets = plan["explain"][KEY]["inputs"]["sockets"]
    assert 0 < fit_sockets < 5000000
    assert int(plan["sysctl"][KEY]) == -(-fit_sockets * 11 // 10)


def test_in_a_container_it_is_a_warning_and_a_skipped_wish_not_a_write():
    plan = plan_for({"profile": "high_concurrency_server", "target_connections": 500000},
                    memory_bytes=16 * GIB, kernel_release="6.18.0", in_init_netns=False, sysctl={KEY: 300000})
    assert plan["skipped"].get(KEY)
    assert any("fs.epoll.max_user_watches is 300000" in warning and "raise it on the host" in warning
               for warning in plan["warnings"]), plan["warnings"]
