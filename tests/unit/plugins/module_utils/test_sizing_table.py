# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""#18: the memory model per kernel line, and feasibility in two parts (idle footprint, busy buffers).

The table (sizing_memory.PER_SOCKET_TABLE) carries its source on every row and stays within 10 % of
the measurement stored in bench/results/memory_model.json; a kernel between two lines uses the
nearest older line and explain says which. Seed 004's host (MemTotal 3 922 956 kB, 6.1, one million
mostly idle connections) is judged by the idle footprint plus the busy buffers of the busy ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import re

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs, workload_options
from ansible_collections.tcptune.linux.plugins.module_utils import sizing, sizing_memory

GIB = 1024 ** 3
SEED_004_RAM = 3922956 * 1024
LINES = [(5, 10), (6, 1), (6, 12), (6, 18)]  # the VM test bed's Debian 11/12/13 kernels and the 6.18 host
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench", "results",
                       "memory_model.json")


def plan_for(workload, **host):
    return sizing.compute_plan(sizing_inputs.host_from_facts(None, host), workload)


# --- the table ------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", sizing_memory.PER_SOCKET_TABLE, ids=lambda row: "%d.%d" % row["kernel"])
def test_every_row_names_its_source(row):
    assert re.match(r"^20\d\d-\d\d-\d\d$", row["date"]), row
    assert row["release"].startswith("%d.%d." % row["kernel"]), row  # the kernel it was measured on
    assert isinstance(row["connections"], int) and row["connections"] >= 10000
    assert "epoll" in row["method"] and "bench/memory_model" in row["method"]
    # the larger of the server and client socket, rounded up to 10 B
    assert row["bytes"] == int(math.ceil(max(row["server_bytes"], row["client_bytes"]) / 10.0)) * 10


def test_one_row_per_kernel_line_of_the_test_bed_and_the_host():
    assert sorted(row["kernel"] for row in sizing_memory.PER_SOCKET_TABLE) == LINES


def test_the_table_is_within_10_percent_of_the_stored_measurement_on_every_line():
    if not os.path.exists(RESULTS):
        pytest.skip("bench/results is not part of this tree (ansible-test's copy); the checkout's pytest runs it")
    with open(RESULTS) as handle:
        measured = json.load(handle)["rows"]
    for row in sizing_memory.PER_SOCKET_TABLE:
        line = "%d.%d" % row["kernel"]
        for side in ("server", "client"):
            figure = [item for item in measured if item["line"] == line and item["side"] == side]
            assert len(figure) == 1, (line, side)
            assert 0.9 <= row["bytes"] / figure[0]["slab_per_socket"] <= 1.1, (line, side, figure[0])
            assert row["%s_bytes" % side] == pytest.approx(figure[0]["slab_per_socket"], abs=1)


@pytest.mark.parametrize("release, line, match", [
    ("6.1.0-50-amd64", "6.1", "exact"),
    ("5.10.0-32-amd64", "5.10", "exact"),
    ("6.12.117+deb13-amd64", "6.12", "exact"),
    ("6.18.44", "6.18", "exact"),
    ("5.15.0-91-generic", "5.10", "older line"),   # Ubuntu 22.04: between 5.10 and 6.1
    ("6.8.0-31-generic", "6.1", "older line"),     # Ubuntu 24.04
    ("6.17.1", "6.12", "older line"),
    ("7.2.0", "6.18", "older line"),
    ("4.19.0-27-amd64", "5.10", "oldest line"),    # older than every measured line
])
def test_a_kernel_uses_its_line_or_the_nearest_older_one_and_explain_says_which(release, line, match):
    plan = plan_for({"target_connections": 100000}, memory_bytes=16 * GIB, kernel_release=release)
    row = [item for item in sizing_memory.PER_SOCKET_TABLE if "%d.%d" % item["kernel"] == line][0]
    estimate = plan["memory_estimate"]
    assert estimate["per_socket_bytes"] == row["bytes"]
    assert estimate["slab_bytes"] == 100000 * row["bytes"]
    assert estimate["per_socket_line"]["line"] == line and estimate["per_socket_line"]["match"] == match
    source = plan["explain"]["memory_estimate"]["source"]
    assert source == estimate["per_socket_source"] and source.startswith("Linux %s line" % line)
    assert row["date"] in source and row["release"] in source and row["method"] in source
    version = ".".join(release.split("-")[0].split(".")[:2])
    if match == "older line":
        assert "the nearest older measured line for %s" % version in source
    elif match == "oldest line":
        assert "older than every measured line" in source and version in source
    assert plan["explain"]["memory_estimate"]["inputs"]["kernel_line"] == line


# --- busy buffers ---------------------------------------------------------------------------------

def test_busy_buffers_count_only_the_busy_share_and_tcp_mem_max_caps_them():
    host = dict(memory_bytes=16 * GIB, kernel_release="6.1.0", sysctl={
        "net.ipv4.tcp_rmem": [4096, 131072, 6291456], "net.ipv4.tcp_wmem": [4096, 16384, 4194304]})
    some = plan_for({"target_connections": 10000, "busy_fraction": 0.1}, **host)["memory_estimate"]
    assert some["busy_sockets"] == 1000 and some["busy_socket_bytes"] == 131072 + 16384
    assert some["buffer_bytes"] == 1000 * (131072 + 16384) < some["busy_cap_bytes"]
    assert some["idle_bytes"] + some["buffer_bytes"] == some["total_bytes"]
    every = plan_for({"target_connections": 1000000, "busy_fraction": 1.0}, **host)["memory_estimate"]
    assert every["buffer_bytes"] == every["busy_cap_bytes"]  # 147 GB asked, tcp_mem max is the hard cap
    # a busy share rounds up: one connection of ten thousand at 0.001 % is still one busy socket
    assert plan_for({"target_connections": 10000, "busy_fraction": 0.00001}, **host)["memory_estimate"][
        "busy_sockets"] == 1


@pytest.mark.parametrize("profile, busy", [
    ("high_concurrency_server", 0.05), ("bulk_transfer", 1.0), ("outbound_client", 1.0), ("proxy", 1.0)])
def test_every_preset_declares_its_busy_share(profile, busy):
    assert workload_options.PROFILES[profile]["busy_fraction"] == busy
    plan = plan_for({"profile": profile}, memory_bytes=16 * GIB, kernel_release="6.1.0")
    assert plan["workload"]["busy_fraction"] == busy
    assert plan["workload_sources"]["busy_fraction"] == "preset %s" % profile
    assert plan["memory_estimate"]["busy_fraction_source"] == "preset %s" % profile


def test_without_a_preset_value_every_connection_counts_as_busy():
    plan = plan_for({"target_connections": 1000}, memory_bytes=16 * GIB, kernel_release="6.1.0")
    assert plan["workload"]["busy_fraction"] == 1.0 and "busy_fraction" not in plan["workload_sources"]
    assert plan["memory_estimate"]["busy_fraction_source"] == "default"
    declared = plan_for({"profile": "high_concurrency_server", "busy_fraction": 0.5}, memory_bytes=16 * GIB,
                        kernel_release="6.1.0")
    assert declared["workload_sources"]["busy_fraction"] == "declared"


@pytest.mark.parametrize("value", [0, -0.1, 1.5, float("nan"), "half", True])
def test_busy_fraction_outside_0_to_1_is_refused_by_name(value):
    with pytest.raises(sizing_inputs.SizingInputError) as error:
        sizing_inputs.resolve_workload({"busy_fraction": value}, names={"busy_fraction": "tcp_tuning_busy_fraction"})
    assert str(error.value).startswith("tcp_tuning_busy_fraction: must be a number above 0 and at most 1")


# --- seed 004 ---------------------------------------------------------------------------------------

def seed_004(connections=1000000, **workload):
    return plan_for(dict({"profile": "high_concurrency_server", "target_connections": connections}, **workload),
                    memory_bytes=SEED_004_RAM, kernel_release="6.1.0-50-amd64")


def test_seed_004_says_how_many_fit_from_the_idle_footprint_and_the_busy_buffers():
    plan = seed_004()
    estimate = plan["memory_estimate"]
    fit = plan["predicted"]["max_connections_in_memory"]
    assert plan["feasible"] is False
    # 75 % of 4.02 GB = 3.01 GB: by slab alone 3.01 GB / the 6.1 line's bytes; the busy buffers of the 5 %
    # busy (at most tcp_mem max) and TIME_WAIT take a little of it
    by_slab = estimate["safe_bytes"] // estimate["per_socket_bytes"]
    assert 0.8 * by_slab < fit < by_slab
    assert estimate["busy_sockets"] == 50000
    assert estimate["buffer_bytes"] < 0.15 * estimate["total_bytes"]  # not 1M sockets' buffers
    sentence = plan["warnings"][0]
    assert sentence == "infeasible: " + estimate["summary"]
    assert "(idle %.2f GB + busy buffers %.2f GB)" % (estimate["idle_bytes"] / 1e9, estimate["buffer_bytes"] / 1e9) \
        in sentence
    assert "%.2f GB short; at most about %d connections fit" % (estimate["shortfall_bytes"] / 1e9, fit) in sentence
    assert len(sentence) < 200
    # "at most N fit" uses the same formula: N is feasible when planned, a few percent more is not
    assert seed_004(fit)["feasible"] is True
    assert seed_004(int(fit * 1.03))["feasible"] is False


def test_where_tcp_mem_max_does_not_bind_the_busy_share_sets_the_busy_buffers():
    """100 000 connections on 16 GiB: 5 % busy hold 0.74 GB; all busy would take tcp_mem max (1.6 GB)."""
    work = {"profile": "high_concurrency_server", "target_connections": 100000}
    idle = plan_for(work, memory_bytes=16 * GIB, kernel_release="6.1.0")["memory_estimate"]
    busy = plan_for(dict(work, busy_fraction=1.0), memory_bytes=16 * GIB, kernel_release="6.1.0")["memory_estimate"]
    assert idle["buffer_bytes"] == 5000 * (131072 + 16384) < busy["buffer_bytes"] == busy["busy_cap_bytes"]
    assert idle["idle_bytes"] == busy["idle_bytes"]
    assert idle["headroom_bytes"] - busy["headroom_bytes"] == busy["buffer_bytes"] - idle["buffer_bytes"]


def test_a_feasible_plan_says_both_parts_and_its_headroom():
    plan = seed_004(100000)
    estimate = plan["memory_estimate"]
    assert plan["feasible"] is True
    assert estimate["summary"].startswith("100000 connections need about %.2f GB (idle " % (
        estimate["total_bytes"] / 1e9))
    assert "headroom %.2f GB" % (estimate["headroom_bytes"] / 1e9) in estimate["summary"]
    assert plan["explain"]["memory_estimate"]["note"] == estimate["summary"]
