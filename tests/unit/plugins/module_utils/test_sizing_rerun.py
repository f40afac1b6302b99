# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a second run, on the host the first one tuned, keeps every key: tcp_sysctl rewrites the
sysctl.d file from the plan, so a key left out would be gone after the next reboot (molecule default,
idempotence on Debian 12: run 2 planned nothing and rewrote the file without five keys)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values, kernel_release, rules_memory, sizing

GIB = 1024 ** 3


def _host(sysctl):
    return {"memory_bytes": 16 * GIB, "kernel_release": "6.1.0-18-amd64", "cpus": 8,
            "interfaces": {"eth0": 1000}, "sysctl": sysctl}


def test_second_run_plans_the_same_sysctl_and_no_change():
    workload = {"profile": "proxy", "target_connections": 20000, "accept_rate": 6000, "outbound_rate": 500,
                "reserved_ports": ["8080", "9100-9102"]}
    first = sizing.compute_plan(sizing_inputs.host_from_facts(None, _host({})), workload)
    assert first["sysctl"], "the workload must ask for something for this test to mean anything"
    applied = dict((key, catalogue_values.coerce_value(catalogue.get(key), text)) for key, text in first["sysctl"].items())
    second = sizing.compute_plan(sizing_inputs.host_from_facts(None, _host(applied)), workload)
    assert second["sysctl"] == first["sysctl"]
    assert [change["key"] for change in second["changes"]
            if change["key"] in catalogue.CATALOGUE and change["before"] != change["planned"]] == []


def test_a_higher_live_value_set_by_someone_else_is_not_taken_over():
    workload = {"profile": "proxy", "target_connections": 20000, "accept_rate": 6000}
    plan = sizing.compute_plan(sizing_inputs.host_from_facts(None, _host({"net.core.somaxconn": 65535})), workload)
    assert "net.core.somaxconn" not in plan["sysctl"]


# --- a second run on a host whose every key reads its kernel default (as tcp_facts reports it) ----

def _live_defaults(memory_bytes, release, **changed):
    host = {"memory_bytes": memory_bytes, "page_size": 4096, "kernel": list(kernel_release.parse_kernel_release(release))}
    values = dict((name, row.kernel_default(host)) for name, row in catalogue.CATALOGUE.items()
                  if row.kernel_default and not catalogue.absent_reason(row, host["kernel"], True))
    values.update(changed)
    return values


# fs.file-max rises only for a system-wide shortage: file-nr near file-max, as diagnosis gives it (review #16)
EVIDENCE = {"fd_pressure": {"files.allocated": 1600000, "files.max": 1638400}}


def _facts(memory_bytes, release, sysctl, findings=()):
    return {"kernel": {"mem_total_bytes": memory_bytes, "page_size": 4096, "cpus": 8, "release": release,
                       "mem_available_bytes": memory_bytes // 2},
            "namespace": {"init_netns": True}, "sysctl": dict(sysctl),
            "files": {"max": sysctl["fs.file-max"], "nr_open": sysctl["fs.nr_open"]},
            "conntrack": {"available": True, "max": sysctl["net.netfilter.nf_conntrack_max"],
                          "buckets": sysctl["net.netfilter.nf_conntrack_buckets"]},
            "findings": [{"id": finding, "evidence": EVIDENCE.get(finding, {"since boot": 1})} for finding in findings]}


def _two_runs(memory_bytes, release, workload, findings=(), **changed):
    """Plan, apply the plan to the live values, plan again: (first plan, second plan)."""
    sysctl = _live_defaults(memory_bytes, release, **changed)
    first = sizing.compute_plan(sizing_inputs.host_from_facts(_facts(memory_bytes, release, sysctl, findings)), workload)
    for key, text in first["sysctl"].items():
        sysctl[key] = catalogue_values.coerce_value(catalogue.get(key), text)
    second = sizing.compute_plan(sizing_inputs.host_from_facts(_facts(memory_bytes, release, sysctl, findings)), workload)
    return first, second


@pytest.mark.parametrize("memory_gib, workload", [
    # 20 000 sockets x 8 KiB guaranteed = 40 000 pages > the 1 GiB default pressure (16 384 pages)
    (1, {"profile": "outbound_client"}),
    # 1.1M busy sockets x 8 KiB = 2 200 000 pages > the 24 GiB default pressure (393 216 pages)
    (24, {"profile": "high_concurrency_server", "target_connections": 1100000, "busy_fraction": 1.0}),
    (24, {"profile": "proxy"}),
])
def test_tcp_mem_raised_for_declared_sockets_stays_planned_on_the_second_run(memory_gib, workload):
    # 1.0.0 review follow-up: the need was judged against the live pressure, so run 2 (live = run 1's
    # value) had no need, dropped tcp_mem from the plan, and tcp_sysctl rewrote sysctl.d without it.
    first, second = _two_runs(memory_gib * GIB, "6.1.0", workload)
    assert "net.ipv4.tcp_mem" in first["sysctl"]
    assert second["sysctl"] == first["sysctl"]


@pytest.mark.parametrize("memory_gib, release, workload, changed", [
    # tcp_rmem[1] fitted into tcp_mem pressure (allow_lower): 87380 -> 65536 on 4.9
    (256, "4.9.0", {"profile": "high_concurrency_server", "allow_lower": True}, {}),
    # live tcp_mem above the 50 % cap: lowered, and tcp_rmem/tcp_wmem max with it
    (8, "6.1.0", {"profile": "balanced", "allow_lower": True},
     {"net.ipv4.tcp_mem": [3000000, 4000000, 6000000],
      "net.ipv4.tcp_rmem": [4096, 131072, 1073741824], "net.ipv4.tcp_wmem": [4096, 16384, 1073741824]}),
    # a live value above the need is lowered to the kernel default: keep it there on run 2
    (8, "6.1.0", {"profile": "bulk_transfer", "allow_lower": True},
     {"net.ipv4.tcp_max_tw_buckets": 5000000, "net.core.somaxconn": 200000}),
])
def test_allow_lower_plans_the_same_on_the_second_run(memory_gib, release, workload, changed):
    first, second = _two_runs(memory_gib * GIB, release, workload, **changed)
    assert first["sysctl"]
    assert second["sysctl"] == first["sysctl"]


@pytest.mark.parametrize("finding, key", [
    ("tcp_memory_pressure", "net.ipv4.tcp_mem"), ("time_wait_overflow", "net.ipv4.tcp_max_tw_buckets"),
    ("conntrack_pressure", "net.netfilter.nf_conntrack_max"), ("listen_queue_overflow", "net.core.somaxconn"),
    ("syn_queue_pressure", "net.ipv4.tcp_max_syn_backlog"), ("fd_pressure", "fs.file-max"),
])
def test_a_since_boot_finding_does_not_double_the_value_on_every_run(finding, key):
    # Findings from since-boot counters (tcp_facts' default sample_seconds 0) stay until a reboot:
    # doubling the live value doubled it on every run (conntrack_max 524288, 1M, 2M, 4M, ...).
    first, second = _two_runs(16 * GIB, "6.1.0", {"profile": "balanced"}, findings=[finding])
    host = {"memory_bytes": 16 * GIB, "page_size": 4096, "kernel": [6, 1, 0]}
    default = catalogue.get(key).kernel_default(host)
    twice = rules_memory.kernel_shape(default[1] * 2) if isinstance(default, list) else default * 2
    assert first["sysctl"][key] == catalogue_values.format_value(catalogue.get(key), twice)
    assert second["sysctl"] == first["sysctl"]


@pytest.mark.parametrize("workload, changed, widened", [
    # no tw_reuse without timestamps: 500/s x 60 s x 1.25 = 37 500 ports > 28 232
    ({"profile": "outbound_client", "outbound_rate": 500}, {"net.ipv4.tcp_timestamps": 0}, "28036 65535"),
    ({"profile": "outbound_client", "outbound_rate": 500, "tw_reuse": False}, {}, "28036 65535"),
    # the rate cannot be met: widened as far as it goes
    ({"profile": "outbound_client", "outbound_rate": 1500}, {"net.ipv4.tcp_timestamps": 0}, "1024 65535"),
    # with tw_reuse: 20 000/s x 1 s x 1.25 = 25 000 ports; 24 999 usable after the parity fix
    ({"profile": "outbound_client", "outbound_rate": 20000, "reserved_ports": ["30000-40000"]}, {}, "32768 64999"),
])
def test_a_widened_port_range_stays_planned_on_the_second_run(workload, changed, widened):
    # The widening started from the live range: on run 2 the live range (run 1's) had enough ports, or
    # widening it again gave the same range, and the key dropped out of the plan and the sysctl.d file.
    first, second = _two_runs(8 * GIB, "6.1.0", workload, **changed)
    assert first["sysctl"]["net.ipv4.ip_local_port_range"] == widened
    assert second["sysctl"] == first["sysctl"]


def test_a_lowered_nr_open_is_raised_to_the_limit_and_stays_persisted():
    # 100 000 connections need nofile 111616. With fs.nr_open lowered to 65536 the plan capped the limit
    # and said nr_open "cannot be raised here", although it could; now it plans nr_open = the limit, and
    # keeps it planned on run 2 (a file that lowers it at boot would otherwise break logins under it).
    workload = {"profile": "high_concurrency_server", "target_connections": 100000}
    first, second = _two_runs(16 * GIB, "6.1.0", workload, **{"fs.nr_open": 65536})
    assert first["sysctl"]["fs.nr_open"] == "111616"
    assert first["limits"]["services"] == {"soft": 111616, "hard": 111616}
    assert first["limits"]["login"] == {"soft": 1024, "hard": 111616}
    assert second["sysctl"] == first["sysctl"] and second["limits"] == first["limits"]
    assert not [warning for warning in first["warnings"] if "nr_open" in warning]


# --- a re-run after a reboot, and after the workload shrank: what an earlier run persisted stays ------

def _plan(memory_bytes, release, workload, sysctl, findings=(), persisted=None):
    overrides = {"persisted": persisted} if persisted is not None else {}
    return sizing.compute_plan(sizing_inputs.host_from_facts(_facts(memory_bytes, release, sysctl, findings), overrides),
                               workload)


def _applied(sysctl, plan):
    sysctl = dict(sysctl)
    for key, text in plan["sysctl"].items():
        sysctl[key] = catalogue_values.coerce_value(catalogue.get(key), text)
    return sysctl


@pytest.mark.parametrize("finding, key", [
    ("tcp_memory_pressure", "net.ipv4.tcp_mem"), ("time_wait_overflow", "net.ipv4.tcp_max_tw_buckets"),
    ("conntrack_pressure", "net.netfilter.nf_conntrack_max"), ("listen_queue_overflow", "net.core.somaxconn"),
])
def test_a_raise_for_a_finding_stays_persisted_after_a_reboot_resets_the_counters(finding, key):
    # The finding came from since-boot counters. After the reboot (the sysctl.d file set the raised value
    # again) the counters are 0, so no finding asks for the key any more: the re-run rewrote the file
    # without it, and the second reboot undid the raise (seed 000's tcp_mem, back to the default).
    sysctl = _live_defaults(16 * GIB, "6.1.0")
    first = _plan(16 * GIB, "6.1.0", {"profile": "balanced"}, sysctl, findings=[finding])
    assert key in first["sysctl"]
    rebooted = _applied(sysctl, first)
    without_record = _plan(16 * GIB, "6.1.0", {"profile": "balanced"}, rebooted)
    assert key not in without_record["sysctl"]  # what the plan did before it knew the persisted file
    again = _plan(16 * GIB, "6.1.0", {"profile": "balanced"}, rebooted, persisted=first["sysctl"])
    assert again["sysctl"] == first["sysctl"]
    assert again["explain"][key]["reason"]["kind"] == "persisted"
    assert [c["key"] for c in again["changes"] if c["before"] != c["planned"]] == []


def test_a_shrunk_workload_keeps_the_live_value_it_does_not_lower_persisted():
    sysctl = _live_defaults(16 * GIB, "6.1.0")
    first = _plan(16 * GIB, "6.1.0", {"profile": "high_concurrency_server"}, sysctl)
    assert first["sysctl"]["net.core.somaxconn"] == "32768"
    live = _applied(sysctl, first)
    smaller = {"profile": "high_concurrency_server", "accept_rate": 6000}  # needs 8192: 32768 is not lowered
    without_record = _plan(16 * GIB, "6.1.0", smaller, live)
    assert "net.core.somaxconn" not in without_record["sysctl"]  # the next boot would give 4096 < 8192
    plan = _plan(16 * GIB, "6.1.0", smaller, live, persisted=first["sysctl"])
    assert plan["sysctl"]["net.core.somaxconn"] == "32768"
    assert plan["explain"]["net.core.somaxconn"]["reason"]["kind"] == "persisted"
    assert plan["explain"]["net.core.somaxconn"]["would_have_been"] == 8192


def test_every_persisted_settable_key_is_kept_as_it_is_live():
    """Buffer triples too: their memory check skips a max that equals the live one (a KeyError once)."""
    persisted = {"net.ipv4.tcp_rmem": "4096 131072 16777216", "net.ipv4.tcp_wmem": "4096 16384 16777216",
                 "net.core.somaxconn": "8192", "net.ipv4.ip_local_reserved_ports": "8080-8082",
                 "net.ipv4.ip_local_port_range": "20000 60999", "fs.nr_open": "2097152"}
    changed = dict((key, catalogue_values.coerce_value(catalogue.get(key), text)) for key, text in persisted.items())
    sysctl = _live_defaults(16 * GIB, "6.1.0", **changed)
    plan = _plan(16 * GIB, "6.1.0", {"profile": "balanced"}, sysctl, persisted=persisted)
    assert plan["sysctl"] == persisted
    assert set(entry["reason"]["kind"] for entry in plan["explain"].values() if entry["reason"]) == {"persisted"}


def test_a_persisted_key_changed_by_hand_since_is_left_to_the_drift_report():
    sysctl = _live_defaults(16 * GIB, "6.1.0")
    plan = _plan(16 * GIB, "6.1.0", {"profile": "balanced"}, sysctl, persisted={"net.core.somaxconn": "32768"})
    assert plan["sysctl"] == {}


def test_a_kept_value_beyond_the_memory_rules_now_is_dropped_with_a_warning():
    # The host had 64 GiB when tcp_mem was raised; with 8 GiB its max is above half of RAM.
    big = "3000000 4000000 6000000"
    sysctl = _live_defaults(8 * GIB, "6.1.0", **{"net.ipv4.tcp_mem": [3000000, 4000000, 6000000]})
    plan = _plan(8 * GIB, "6.1.0", {"profile": "balanced"}, sysctl, persisted={"net.ipv4.tcp_mem": big})
    assert "net.ipv4.tcp_mem" not in plan["sysctl"]
    assert any(w.startswith("net.ipv4.tcp_mem: persisted by an earlier run, but no longer within the memory rules")
               for w in plan["warnings"])
