# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Invariants of sizing.compute_plan over generated hosts and workloads (hypothesis)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from hypothesis import given, settings, strategies as st

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, sizing

MIB = 1024 * 1024
KERNELS = ["4.9.0", "4.14.0", "4.19.0", "5.4.0", "5.10.0", "5.15.0", "6.1.0", "6.6.0", "6.8.0", "6.18.44"]

rams = st.integers(min_value=256 * MIB, max_value=1024 * 1024 * MIB)
rates = st.one_of(st.none(), st.integers(min_value=0, max_value=200000), st.floats(min_value=0, max_value=200000))
bdp = st.one_of(st.none(), st.tuples(st.integers(min_value=1, max_value=400000), st.integers(min_value=1, max_value=600)))


@st.composite
def workloads(draw):
    workload = {
        "profile": draw(st.sampled_from(sorted(sizing.PROFILES))),
        "target_connections": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5000000))),
        "accept_rate": draw(rates),
        "outbound_rate": draw(rates),
        "memory_budget_percent": draw(st.one_of(st.none(), st.integers(min_value=1, max_value=90))),
        "sockets_per_connection": draw(st.sampled_from([None, 1, 2])),
        "allow_lower": draw(st.sampled_from([None, False, True])),
        "reserved_ports": draw(st.lists(st.integers(min_value=1, max_value=65535), max_size=5)),
    }
    pair = draw(bdp)
    if pair is not None:
        workload["bandwidth_mbps"], workload["rtt_ms"] = pair
    return workload


def plan(ram, kernel, workload, **host):
    return sizing.compute_plan(
        sizing.host_from_facts(None, dict(memory_bytes=ram, kernel_release=kernel, **host)), workload)


def triple(result, key):
    return [int(part) for part in result["sysctl"][key].split()]


@settings(max_examples=60, deadline=None)
@given(rams, rams, st.sampled_from(KERNELS), workloads())
def test_tcp_mem_monotone_in_ram(ram_a, ram_b, kernel, workload):
    small, large = sorted((ram_a, ram_b))
    low, high = plan(small, kernel, workload), plan(large, kernel, workload)
    assert all(a <= b for a, b in zip(triple(low, "net.ipv4.tcp_mem"), triple(high, "net.ipv4.tcp_mem")))
    assert low["limits"]["file_max"] <= high["limits"]["file_max"]


@settings(max_examples=80, deadline=None)
@given(rams, st.sampled_from(KERNELS), workloads())
def test_invariants(ram, kernel, workload):
    result = plan(ram, kernel, workload)
    ram_pages = ram // 4096

    # triples increasing, pairs ordered
    for key in ("net.ipv4.tcp_mem", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"):
        values = triple(result, key)
        assert values[0] <= values[1] <= values[2], key
    if "net.ipv4.ip_local_port_range" in result["sysctl"]:
        low, high = triple(result, "net.ipv4.ip_local_port_range")
        assert 1024 <= low < high <= 65535

    # limits ordered
    limits = result["limits"]
    assert limits["nr_open"] >= limits["nofile_hard"] >= limits["nofile_soft"] >= 1
    assert limits["login"]["hard"] == limits["nofile_hard"] >= limits["login"]["soft"]
    assert limits["services"]["hard"] >= limits["services"]["soft"]
    assert limits["nr_open"] <= catalogue.NR_OPEN_MAX
    assert limits["file_max"] >= result["predicted"]["files_needed"]

    # never above the caps
    tcp_mem = triple(result, "net.ipv4.tcp_mem")
    assert tcp_mem[2] <= max(ram_pages * sizing.TCP_MEM_HARD_CAP_FRACTION, 3)
    kernel_rmem_max = sizing._kernel_rmem(catalogue.parse_kernel_release(kernel), ram)[2]
    assert triple(result, "net.ipv4.tcp_rmem")[2] <= max(kernel_rmem_max,
                                                         tcp_mem[2] * 4096 // sizing.SOCKET_BUFFER_BUDGET_SHARE)
    assert int(result["sysctl"]["net.core.rmem_max"]) >= triple(result, "net.ipv4.tcp_rmem")[2]
    assert int(result["sysctl"]["net.core.wmem_max"]) >= triple(result, "net.ipv4.tcp_wmem")[2]
    if result["feasible"]:
        assert result["memory_estimate"]["total_bytes"] <= ram * sizing.SAFE_RAM_FRACTION
    else:
        assert result["warnings"][0].startswith("infeasible")

    # every value passes the catalogue; never tw_recycle
    for key, text in result["sysctl"].items():
        row = catalogue.get(key)
        assert catalogue.validation_errors(row, catalogue.coerce_value(row, text),
                                           catalogue.parse_kernel_release(kernel)) == []
    assert "net.ipv4.tcp_tw_recycle" not in result["sysctl"]
    assert "net.ipv4.tcp_tw_recycle" not in result["skipped"]

    # deterministic
    assert result == plan(ram, kernel, workload)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1024 * MIB, max_value=256 * 1024 * MIB), workloads(),
       st.integers(min_value=1, max_value=10 ** 9), st.integers(min_value=128, max_value=10 ** 6))
def test_never_lowered_unless_allowed(ram, workload, tcp_mem_seed, somaxconn):
    workload["allow_lower"] = False
    cap = ram // 4096 // 2
    high = tcp_mem_seed % cap + 3
    current = {"net.ipv4.tcp_mem": [high // 2, high * 2 // 3, high], "net.core.somaxconn": somaxconn,
               "net.ipv4.tcp_tw_recycle": 1}
    result = plan(ram, "6.18.44", workload, sysctl=current)
    assert all(mine >= kept for mine, kept in zip(triple(result, "net.ipv4.tcp_mem"), current["net.ipv4.tcp_mem"]))
    assert int(result["sysctl"]["net.core.somaxconn"]) >= somaxconn
    assert "net.ipv4.tcp_tw_recycle" not in result["sysctl"]
