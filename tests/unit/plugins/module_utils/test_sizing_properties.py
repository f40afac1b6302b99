# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Invariants of sizing.compute_plan over generated hosts, live values and workloads (hypothesis).

The strategies include what 1.0.0's avoided: reserved ranges that overlap or exhaust the range,
live values above the caps, kernels 3.10 to 6.18, proxies (two sockets per connection).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs, workload_options
from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_checks, catalogue_values, kernel_defaults, kernel_release, memory_rules, port_ranges,
    rules_ports, sizing, sizing_rules)

MIB = 1024 * 1024
KERNELS = ["3.10.0", "4.1.0", "4.9.0", "4.14.0", "4.18.0", "4.19.0", "5.4.0", "5.10.0", "5.15.0", "6.1.0",
           "6.6.0", "6.8.0", "6.16.0", "6.18.44"]

rams = st.integers(min_value=256 * MIB, max_value=1024 * 1024 * MIB)
rates = st.one_of(st.none(), st.integers(min_value=0, max_value=200000), st.floats(min_value=0, max_value=200000))
bdp = st.one_of(st.none(), st.tuples(st.integers(min_value=1, max_value=400000), st.integers(min_value=1, max_value=600)))
port = st.integers(min_value=1, max_value=65535)


@st.composite
def port_items(draw):
    low = draw(port)
    if draw(st.booleans()):
        return low
    high = draw(st.integers(min_value=low, max_value=min(65535, low + draw(st.sampled_from([1, 10, 5000, 70000])))))
    return "%d-%d" % (low, high)


@st.composite
def workloads(draw):
    workload = {
        "profile": draw(st.sampled_from(sorted(workload_options.PROFILES))),
        "target_connections": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5000000))),
        "accept_rate": draw(rates),
        "outbound_rate": draw(rates),
        "memory_budget_percent": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=50))),
        "sockets_per_connection": draw(st.sampled_from([None, 1, 2])),
        "allow_lower": draw(st.sampled_from([None, False, True])),
        "reserved_ports": draw(st.lists(port_items(), max_size=5)),
        "tw_reuse": draw(st.sampled_from([None, False, True])),
        "userspace_bytes_per_connection": draw(st.sampled_from([None, 0, 4096, 65536])),
        "socket_buffer_bytes": draw(st.sampled_from([None, 4194304, 16777216])),
        "busy_fraction": draw(st.sampled_from([None, 0.001, 0.05, 0.5, 1.0])),
    }
    pair = draw(bdp)
    if pair is not None:
        workload["bandwidth_mbps"], workload["rtt_ms"] = pair
    return workload


@st.composite
def live_values(draw, ram):
    """Live sysctls, some above every cap: tcp_mem up to 2 x RAM, huge tw_buckets and backlogs."""
    pages = ram // 4096
    high = draw(st.integers(min_value=300, max_value=2 * pages))
    low_port = draw(st.integers(min_value=1024, max_value=60000))
    return {
        "net.ipv4.tcp_mem": [high // 3, high * 2 // 3, high],
        "net.ipv4.tcp_rmem": [4096, draw(st.sampled_from([87380, 131072, 262144])), draw(st.sampled_from(
            [6291456, 33554432, 1073741824]))],
        "net.core.somaxconn": draw(st.integers(min_value=128, max_value=10 ** 6)),
        "net.ipv4.tcp_max_tw_buckets": draw(st.integers(min_value=1024, max_value=10 ** 8)),
        "net.ipv4.ip_local_port_range": [low_port, draw(st.integers(min_value=low_port + 1, max_value=65535))],
        "net.ipv4.tcp_timestamps": draw(st.sampled_from([0, 1])),
        "net.ipv4.tcp_tw_reuse": draw(st.sampled_from([0, 1, 2])),
        "fs.nr_open": draw(st.sampled_from([1048576, 4194304])),
    }


def plan(ram, kernel, workload, **host):
    try:
        return sizing.compute_plan(
            sizing_inputs.host_from_facts(None, dict(memory_bytes=ram, kernel_release=kernel, **host)), workload)
    except sizing_inputs.SizingInputError as error:
        # the only refusal generated inputs may meet: reserved ports covering the whole range
        assert str(error).startswith("reserved_ports:") and "at least one ephemeral port" in str(error)
        return None


def triple(result, key):
    return [int(part) for part in result["sysctl"][key].split()]


def _never_lower(result, current):
    for key, text in result["sysctl"].items():
        row = catalogue.get(key)
        before = current.get(key)
        if before is None or row.shape == catalogue.TEXT or key == "net.ipv4.tcp_tw_reuse":
            continue
        planned = catalogue_values.coerce_value(row, text)
        if key == "net.ipv4.ip_local_port_range":
            assert planned[0] <= before[0] and planned[1] >= before[1], key  # widened, never narrowed
        elif row.shape == catalogue.INT:
            assert planned >= before, key
        else:
            assert all(mine >= kept for mine, kept in zip(planned, before)), key


@settings(max_examples=120, deadline=None)
@given(st.data(), rams, st.sampled_from(KERNELS), workloads(), st.lists(port, max_size=4))
def test_invariants(data, ram, kernel, workload, listening):
    current = data.draw(live_values(ram))
    result = plan(ram, kernel, workload, sysctl=current, listening_ports=listening, conntrack_available=True)
    if result is None:
        return
    version = kernel_release.parse_kernel_release(kernel)

    # every value passes the catalogue and the memory rules; never tw_recycle
    parsed = {}
    for key, text in result["sysctl"].items():
        row = catalogue.get(key)
        parsed[key] = catalogue_values.coerce_value(row, text)
        assert catalogue_checks.validation_errors(row, parsed[key], version) == [], key
        assert result["explain"][key]["reason"]["kind"] in ("workload", "finding", "dependency"), key
        assert row.rule in sizing_rules.RULES, key
    tcp_mem = parsed.get("net.ipv4.tcp_mem") or current["net.ipv4.tcp_mem"]
    checked = dict((key, value) for key, value in parsed.items()
                   if not (key in current and key.endswith("mem") and value[2] == current[key][2]))
    assert memory_rules.memory_errors(checked, ram, 4096, tcp_mem) == []
    assert "net.ipv4.tcp_tw_recycle" not in result["sysctl"]

    # tcp_mem never flattened: min < pressure < max
    if "net.ipv4.tcp_mem" in result["sysctl"]:
        low, pressure, high = triple(result, "net.ipv4.tcp_mem")
        assert low < pressure < high
    # port range: parity differs, never over an unreserved listening port it did not cover before
    if "net.ipv4.ip_local_port_range" in result["sysctl"]:
        low, high = triple(result, "net.ipv4.ip_local_port_range")
        assert low % 2 != high % 2 and 1024 <= low < high <= 65535
        old_low, old_high = current["net.ipv4.ip_local_port_range"]
        reserved = port_ranges.parse_port_ranges(result["sysctl"].get("net.ipv4.ip_local_reserved_ports", ""))
        for listener in listening:
            if low <= listener <= high and not old_low <= listener <= old_high:
                assert any(start <= listener <= end for start, end in reserved)
    # reserved ports in the kernel's canonical form
    if "net.ipv4.ip_local_reserved_ports" in result["sysctl"]:
        text = result["sysctl"]["net.ipv4.ip_local_reserved_ports"]
        assert port_ranges.format_port_ranges(port_ranges.parse_port_ranges(text)) == text
    assert result["predicted"].get("usable_ephemeral_ports", 0) >= 0

    # never lower unless allowed
    if not workload["allow_lower"]:
        _never_lower(result, current)

    # limits ordered, never above nr_open
    limits = result["limits"]
    if limits:
        assert limits["nr_open"] >= limits["services"]["hard"] == limits["services"]["soft"] >= 1
        assert limits["login"]["hard"] == limits["services"]["hard"] >= limits["login"]["soft"]
        assert limits["nr_open"] <= catalogue.NR_OPEN_MAX

    # feasibility is what the estimate says; proxies count two sockets
    estimate = result["memory_estimate"]
    over_budget = any(warning.startswith("infeasible: memory_budget_percent") for warning in result["warnings"])
    assert result["feasible"] is (estimate["total_bytes"] <= estimate["safe_bytes"] and not over_budget)
    if not result["feasible"]:
        assert result["warnings"][0].startswith("infeasible")
    if workload["profile"] == "proxy" and workload["sockets_per_connection"] is None:
        assert estimate["sockets"] == 2 * (workload["target_connections"] or 100000)
    # #18: two parts, the idle footprint and the busy buffers; busy buffers never above tcp_mem max
    assert estimate["idle_bytes"] + estimate["buffer_bytes"] == estimate["total_bytes"]
    assert estimate["buffer_bytes"] <= estimate["busy_cap_bytes"]
    assert estimate["busy_sockets"] == (-(-estimate["sockets"] * estimate["busy_fraction"] // 1)
                                        if estimate["sockets"] else 0)
    assert ("headroom" if estimate["total_bytes"] <= estimate["safe_bytes"] else "short;") in estimate["summary"]

    assert result == plan(ram, kernel, workload, sysctl=current, listening_ports=listening, conntrack_available=True)


@settings(max_examples=60, deadline=None)
@given(rams, st.sampled_from(KERNELS), st.lists(port_items(), min_size=1, max_size=6))
def test_reserved_ports_overlapping_or_exhausting(ram, kernel, items):
    merged = port_ranges.parse_port_ranges(",".join(str(item) for item in items))
    result = plan(ram, kernel, {"reserved_ports": items, "outbound_rate": 10})
    port_range = [32768, 60999] if kernel_release.parse_kernel_release(kernel) >= (4, 2) else [32768, 61000]
    usable = rules_ports.usable_ports(port_range, merged)
    if usable == 0:
        assert result is None
        return
    assert result["sysctl"]["net.ipv4.ip_local_reserved_ports"] == port_ranges.format_port_ranges(merged)
    assert result["predicted"]["usable_ephemeral_ports"] == usable
    assume(usable > 0)


def test_a_range_covering_every_ephemeral_port_is_refused():
    with pytest.raises(sizing_inputs.SizingInputError):
        sizing.compute_plan(sizing_inputs.host_from_facts(None, {"memory_bytes": 8 * 1024 * MIB, "kernel_release": "6.1.0"}),
                            {"reserved_ports": ["30000-40000", "39000-61000"]})


@settings(max_examples=40, deadline=None)
@given(rams, rams, st.sampled_from(KERNELS), workloads())
def test_tcp_mem_in_force_monotone_in_ram(ram_a, ram_b, kernel, workload):
    small, large = sorted((ram_a, ram_b))
    workload["reserved_ports"] = []
    low, high = plan(small, kernel, workload), plan(large, kernel, workload)

    def in_force(result, ram):
        if "net.ipv4.tcp_mem" in result["sysctl"]:
            return triple(result, "net.ipv4.tcp_mem")
        return kernel_defaults.tcp_mem({"memory_bytes": ram, "page_size": 4096})
    assert in_force(low, small)[2] <= max(in_force(high, large)[2], memory_rules.tcp_mem_cap_pages(small, 4096))
