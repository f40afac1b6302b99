# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, sizing

GIB = 1024 ** 3
THIS_HOST_RAM = 24684092 * 1024  # MemTotal of the 24 GB 6.18 machine the million run used (facts §11)
THIS_HOST_SYSCTL = {
    "net.ipv4.tcp_mem": [287901, 383869, 575802],
    "net.ipv4.tcp_rmem": [4096, 131072, 33554432],
    "net.ipv4.tcp_wmem": [4096, 16384, 4194304],
    "net.core.somaxconn": 4096,
    "net.ipv4.ip_local_port_range": [32768, 60999],
    "net.ipv4.tcp_tw_reuse": 2,
    "fs.file-max": 2466183,
    "fs.nr_open": 1048576,
}


def plan_for(workload, **host):
    return sizing.compute_plan(sizing.host_from_facts(None, host), workload)


def triple(plan, key):
    return [int(part) for part in plan["sysctl"][key].split()]


# --- the five table cases -------------------------------------------------------------------------

CASES = {
    "small_vm_2g": dict(
        host=dict(memory_bytes=2 * GIB, kernel_release="6.1.0-18-amd64", cpus=2, interfaces={"eth0": 1000}),
        workload={},
        expect_sysctl={
            # 524288 pages x 20 % = 104857; pressure 2/3, min 1/2
            "net.ipv4.tcp_mem": "52428 69904 104857",
            "net.core.somaxconn": "4096",
            "net.ipv4.tcp_max_syn_backlog": "512",  # accept_rate 500 x 1 s -> 512 (kernel default 128 at 2 GB)
        },
        absent=["net.ipv4.tcp_tw_reuse", "net.ipv4.ip_local_port_range", "fs.file-max", "fs.nr_open"],
        limits={"nofile_hard": 65536, "nr_open": 1048576},
        txqueuelen={"eth0": 1000},
        feasible=True,
        rate=470.5,
    ),
    "proxy_16g_4gbit": dict(
        host=dict(memory_bytes=16 * GIB, kernel_release="5.15.0-100-generic", cpus=8,
                  interfaces={"eth0": 4000, "lo": None}, conntrack_available=True),
        workload=dict(profile="proxy", bandwidth_mbps=4000, rtt_ms=50, reserved_ports=[8080, "20000-20011"]),
        expect_sysctl={
            "net.ipv4.tcp_mem": "524288 699050 1048576",  # 25 % of 4194304 pages
            # BDP 4 Gbit/s x 50 ms = 25 MB, x2 before 6.6 = 50 MB -> 64 MiB
            "net.core.rmem_max": "67108864",
            "net.ipv4.tcp_tw_reuse": "1",
            "net.ipv4.ip_local_port_range": "10240 65000",
            "net.ipv4.ip_local_reserved_ports": "8080,20000-20011",
            "net.core.somaxconn": "8192",
            "net.ipv4.tcp_max_tw_buckets": "540000",  # (5000 + 1000)/s x 60 s x 1.5
            "net.netfilter.nf_conntrack_max": "1025000",  # (100000 + 6000 x 120) x 1.25
            "net.netfilter.nf_conntrack_buckets": "1048576",
        },
        absent=["fs.file-max", "fs.nr_open"],
        limits={"nofile_hard": 111616, "nofile_soft": 111616},
        txqueuelen={"eth0": 4000, "lo": None},
        feasible=True,
        rate=54761.0 - 12,  # 10240..65000 minus the 12 reserved ports in it (8080 is outside), / 1 s tw_reuse delay
    ),
    "bulk_64g_25gbit": dict(
        host=dict(memory_bytes=64 * GIB, kernel_release="6.8.0-45-generic", cpus=32, interfaces={"eth0": 25000}),
        workload=dict(profile="bulk_transfer", bandwidth_mbps=25000, rtt_ms=80),
        expect_sysctl={
            "net.ipv4.tcp_mem": "3355443 4473924 6710886",  # 40 % of 16777216 pages
            # BDP 25 Gbit/s x 80 ms = 250 MB, x1 since 6.6 -> 256 MiB
            "net.ipv4.tcp_rmem": "4096 131072 268435456",
            "net.ipv4.tcp_wmem": "4096 16384 268435456",
            "net.core.rmem_max": "268435456",
            "net.core.wmem_max": "268435456",
        },
        absent=["net.ipv4.tcp_tw_reuse"],
        limits={"nofile_hard": 65536},
        txqueuelen={"eth0": 10000},
        feasible=True,
        rate=470.5,
    ),
    "outbound_1500_per_s": dict(
        host=dict(memory_bytes=8 * GIB, kernel_release="6.18.44", cpus=4),
        workload=dict(profile="outbound_client", outbound_rate=1500),
        expect_sysctl={
            "net.ipv4.tcp_tw_reuse": "1",
            "net.ipv4.ip_local_port_range": "10240 65000",
            "net.ipv4.tcp_max_tw_buckets": "135000",  # 1500/s x 60 s x 1.5
        },
        absent=["net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_reserved_ports"],
        limits={"nofile_hard": 65536},
        txqueuelen={},
        feasible=True,
        rate=54761.0,
    ),
    "million_loopback_24g_container": dict(
        host=dict(memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44-fc-v657", cpus=2, in_init_netns=False,
                  sysctl=THIS_HOST_SYSCTL),
        workload=dict(profile="high_concurrency_server", target_connections=1000000, sockets_per_connection=2),
        expect_sysctl={"net.core.somaxconn": "32768", "net.ipv4.tcp_rmem": "4096 16384 33554432"},
        absent=["net.ipv4.tcp_mem", "fs.nr_open", "net.core.rmem_max"],
        limits={"nofile_hard": 1048576, "nr_open": 1048576, "file_max": 2466183},
        txqueuelen={},
        feasible=True,
        rate=470.5,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_table_case(name):
    case = CASES[name]
    plan = plan_for(case["workload"], **case["host"])
    for key, value in case["expect_sysctl"].items():
        assert plan["sysctl"].get(key) == value, key
    for key in case["absent"]:
        assert key not in plan["sysctl"], key
    for key, value in case["limits"].items():
        assert plan["limits"][key] == value, key
    assert plan["txqueuelen"] == case["txqueuelen"]
    assert plan["feasible"] is case["feasible"]
    assert plan["predicted"]["sustainable_outbound_rate_per_destination"] == pytest.approx(case["rate"])
    assert plan["predicted"]["sustainable_outbound_rate_per_destination_kernel_default"] == pytest.approx(470.5, abs=0.1)
    assert "net.ipv4.tcp_tw_recycle" not in plan["sysctl"]
    assert set(plan) == {"sysctl", "skipped", "limits", "txqueuelen", "explain", "memory_estimate", "predicted",
                         "feasible", "warnings"}


def test_small_vm_buffers_fit_or_warn():
    plan = plan_for({}, memory_bytes=1 * GIB, kernel_release="6.1.0", cpus=1)
    rmem, wmem, tcp_mem = (triple(plan, "net.ipv4.tcp_rmem"), triple(plan, "net.ipv4.tcp_wmem"),
                           triple(plan, "net.ipv4.tcp_mem"))
    fits = 10000 * (rmem[1] + wmem[1]) <= tcp_mem[1] * 4096
    warned = any("memory pressure" in warning for warning in plan["warnings"])
    assert fits or warned
    assert rmem[1] < 131072  # lowered from the kernel default to get closer to the pressure share


def test_buffer_defaults_kept_when_they_fit():
    plan = plan_for({"target_connections": 1000}, memory_bytes=16 * GIB, kernel_release="6.1.0")
    assert triple(plan, "net.ipv4.tcp_rmem")[1] == 131072
    assert not any("memory pressure" in warning for warning in plan["warnings"])


def test_bdp_doubles_before_6_6():
    workload = dict(profile="bulk_transfer", bandwidth_mbps=25000, rtt_ms=80)
    old = plan_for(workload, memory_bytes=64 * GIB, kernel_release="6.1.0")
    new = plan_for(workload, memory_bytes=64 * GIB, kernel_release="6.6.0")
    assert triple(old, "net.ipv4.tcp_rmem")[2] == 536870912
    assert triple(new, "net.ipv4.tcp_rmem")[2] == 268435456


def test_bdp_capped_by_budget():
    plan = plan_for(dict(profile="bulk_transfer", bandwidth_mbps=100000, rtt_ms=200),
                    memory_bytes=2 * GIB, kernel_release="6.8.0")
    tcp_mem_bytes = triple(plan, "net.ipv4.tcp_mem")[2] * 4096
    assert triple(plan, "net.ipv4.tcp_rmem")[2] <= tcp_mem_bytes // sizing.SOCKET_BUFFER_BUDGET_SHARE
    assert int(plan["sysctl"]["net.core.rmem_max"]) >= triple(plan, "net.ipv4.tcp_rmem")[2]


# --- the million-connection question (issue 8) ---------------------------------------------------

def test_million_estimate_within_15_percent_of_measurement():
    plan = plan_for(CASES["million_loopback_24g_container"]["workload"],
                    **CASES["million_loopback_24g_container"]["host"])
    measured_per_connection = 9.44e9 / 1004700  # 2 sockets each, facts §11
    measured = measured_per_connection * 1000000
    estimate = plan["memory_estimate"]
    assert estimate["sockets"] == 2000000
    assert abs(estimate["slab_bytes"] - measured) / measured < 0.15
    assert estimate["ram_bytes"] == THIS_HOST_RAM
    assert plan["feasible"] is True


def test_million_in_container_lists_global_keys_and_host_values():
    case = CASES["million_loopback_24g_container"]
    plan = plan_for(case["workload"], **case["host"])
    for key in ("net.ipv4.tcp_mem", "net.core.rmem_max", "fs.nr_open"):
        assert plan["skipped"][key].startswith("global key"), key
    assert "fs.file-max" not in plan["sysctl"]
    predicted = plan["predicted"]
    assert predicted["file_max_current"] == 2466183
    assert predicted["files_needed"] > 2000000
    assert predicted["file_max_suffices"] is True
    assert predicted["nr_open_suffices"] is False
    # nr_open cannot rise here, so nofile stays at nr_open and a warning says how to cope
    assert plan["limits"]["nofile_hard"] <= plan["limits"]["nr_open"] == 1048576
    assert any("spread the connections" in warning for warning in plan["warnings"])


def test_million_on_host_raises_nr_open_first():
    plan = plan_for(dict(profile="high_concurrency_server", target_connections=1000000, sockets_per_connection=2),
                    memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44", sysctl=THIS_HOST_SYSCTL)
    assert int(plan["sysctl"]["fs.nr_open"]) >= plan["limits"]["nofile_hard"] > 2000000
    assert list(plan["sysctl"])[0] == "fs.nr_open"


def test_million_on_4g_host_is_infeasible_with_numbers():
    plan = plan_for(dict(profile="high_concurrency_server", target_connections=1000000),
                    memory_bytes=4 * GIB, kernel_release="6.18.44")
    assert plan["feasible"] is False
    reason = plan["warnings"][0]
    assert reason.startswith("infeasible") and "4.70 GB" in reason and "4.29 GB" in reason
    # limits are sized for what fits, never for sockets that would exhaust RAM
    assert plan["limits"]["nofile_hard"] < 1000000
    assert plan["predicted"]["max_idle_connections_in_ram"] < 1000000


def test_million_non_loopback_is_one_socket_each():
    plan = plan_for(dict(target_connections=1000000), memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44")
    assert plan["memory_estimate"]["sockets"] == 1000000
    assert plan["memory_estimate"]["slab_bytes"] == 4700 * 1000000


def test_older_kernel_uses_its_own_per_socket_constant():
    plan = plan_for(dict(target_connections=1000), memory_bytes=4 * GIB, kernel_release="5.10.0")
    assert plan["memory_estimate"]["per_socket_bytes"] == 4000
    assert "not measured" in plan["explain"]["memory_estimate"]["source"]


# --- individual rules -----------------------------------------------------------------------------

def test_tcp_mem_explain_shows_kernel_formula():
    plan = plan_for({}, memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44")
    entry = plan["explain"]["net.ipv4.tcp_mem"]
    limit = THIS_HOST_RAM // 4096 // 16
    assert entry["kernel_default"] == [limit // 4 * 3, limit, 2 * (limit // 4 * 3)]
    assert "nr_free_buffer_pages" in entry["formula"] and "MemTotal" in entry["formula"]
    assert "tcp_memory_pressure" in entry["findings"]
    assert entry["value"] == triple(plan, "net.ipv4.tcp_mem")


def test_tcp_mem_not_lowered_unless_allowed():
    high = [2000000, 2500000, 3000000]  # ~48 % of a 24 GB host at its max
    kept = plan_for({}, memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44", sysctl={"net.ipv4.tcp_mem": high})
    lowered = plan_for({"allow_lower": True}, memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44",
                       sysctl={"net.ipv4.tcp_mem": high})
    assert triple(kept, "net.ipv4.tcp_mem") == high
    assert triple(lowered, "net.ipv4.tcp_mem")[2] < high[2]


def test_tcp_mem_hard_cap_wins_over_a_huge_current_value():
    huge = [5000000, 6000000, 7000000]  # more pages than RAM has
    plan = plan_for({}, memory_bytes=THIS_HOST_RAM, kernel_release="6.18.44", sysctl={"net.ipv4.tcp_mem": huge})
    assert triple(plan, "net.ipv4.tcp_mem")[2] <= THIS_HOST_RAM // 4096 // 2


def test_backlogs_follow_accept_rate_and_warn_about_listen():
    plan = plan_for({"accept_rate": 20000}, memory_bytes=8 * GIB, kernel_release="6.1.0")
    assert int(plan["sysctl"]["net.core.somaxconn"]) >= 20000
    assert int(plan["sysctl"]["net.ipv4.tcp_max_syn_backlog"]) >= 20000
    assert any("listen() backlog" in warning for warning in plan["warnings"])


def test_backlogs_never_below_kernel_default():
    new = plan_for({"accept_rate": 1}, memory_bytes=8 * GIB, kernel_release="5.4.0")
    old = plan_for({"accept_rate": 1}, memory_bytes=8 * GIB, kernel_release="4.19.0")
    assert new["sysctl"]["net.core.somaxconn"] == "4096"
    assert old["sysctl"]["net.core.somaxconn"] == "128"


def test_outbound_rate_that_cannot_be_met_says_what_would():
    plan = plan_for(dict(profile="outbound_client", outbound_rate=200000), memory_bytes=8 * GIB,
                    kernel_release="6.18.44")
    assert plan["predicted"]["outbound_rate_met"] is False
    text = " ".join(plan["warnings"])
    assert "source IP" in text and "destination ports" in text and "pooling" in text
    assert "does not help" in text  # never presents tcp_fin_timeout as a TIME_WAIT fix
    assert "net.ipv4.tcp_fin_timeout" not in plan["sysctl"]


def test_outbound_rate_turns_on_tw_reuse_when_ports_run_out():
    plan = plan_for(dict(outbound_rate=1500), memory_bytes=8 * GIB, kernel_release="6.18.44")
    assert plan["sysctl"]["net.ipv4.tcp_tw_reuse"] == "1"
    assert plan["predicted"]["outbound_rate_met"] is True


def test_low_outbound_rate_keeps_ports_and_reuse():
    plan = plan_for(dict(outbound_rate=100), memory_bytes=8 * GIB, kernel_release="6.18.44",
                    sysctl={"net.ipv4.tcp_tw_reuse": 2})
    assert "net.ipv4.tcp_tw_reuse" not in plan["sysctl"]
    assert plan["predicted"]["sustainable_outbound_rate_per_destination"] == pytest.approx(28232 / 60.0, abs=0.1)


def test_port_range_never_below_1024_nor_narrowed():
    plan = plan_for(dict(profile="outbound_client"), memory_bytes=8 * GIB, kernel_release="6.18.44",
                    sysctl={"net.ipv4.ip_local_port_range": [2000, 65535]})
    assert plan["sysctl"]["net.ipv4.ip_local_port_range"] == "2000 65535"


def test_conntrack_only_when_in_use():
    plan = plan_for({}, memory_bytes=8 * GIB, kernel_release="6.18.44", conntrack_available=False)
    assert not [key for key in plan["sysctl"] if "conntrack" in key]


def test_txqueuelen_null_for_fq_codel_and_virtual():
    facts = {"kernel": {"release": "6.1.0", "mem_total_bytes": 8 * GIB, "page_size": 4096, "cpus": 4},
             "interfaces": {"eth0": {"speed_mbps": 10000, "virtual": False, "qdisc": "fq_codel"},
                            "eth1": {"speed_mbps": 25000, "virtual": False, "qdisc": "pfifo_fast"},
                            "veth0": {"speed_mbps": 10000, "virtual": True, "qdisc": "noqueue"},
                            "eth2": {"speed_mbps": None, "virtual": False, "qdisc": None}}}
    plan = sizing.compute_plan(sizing.host_from_facts(facts), {})
    assert plan["txqueuelen"] == {"eth0": None, "eth1": 10000, "eth2": None, "veth0": None}
    assert "fq_codel" in plan["explain"]["txqueuelen.eth0"]["inputs"]["reason"]


def test_keys_global_on_an_old_kernel_are_skipped_in_a_container():
    facts = {"kernel": {"release": "4.9.0-8-amd64", "mem_total_bytes": 8 * GIB, "page_size": 4096, "cpus": 4},
             "namespace": {"init_netns": False}}
    plan = sizing.compute_plan(sizing.host_from_facts(facts), {})
    assert plan["skipped"]["net.ipv4.tcp_rmem"].startswith("global key")  # per-netns only since 4.15
    assert "net.ipv4.tcp_rmem" not in plan["sysctl"]
    assert plan["sysctl"]["net.core.somaxconn"] == "512"  # per-netns everywhere; max(128 default, 500/s x 1 s -> 512)
    assert any(warning.startswith("net.ipv4.tcp_rmem: wanted") for warning in plan["warnings"])


def test_keys_the_facts_call_unavailable_are_skipped_with_their_reason():
    facts = {"kernel": {"release": "6.1.0", "mem_total_bytes": 8 * GIB, "page_size": 4096, "cpus": 4},
             "sysctl_unavailable": {"net.ipv4.tcp_max_syn_backlog": "absent on this kernel (module not loaded?)"}}
    plan = sizing.compute_plan(sizing.host_from_facts(facts), {})
    assert plan["skipped"] == {"net.ipv4.tcp_max_syn_backlog": "absent on this kernel (module not loaded?)"}
    assert "net.ipv4.tcp_max_syn_backlog" not in plan["sysctl"]


def test_every_emitted_key_is_valid_and_explained():
    for case in CASES.values():
        plan = plan_for(case["workload"], **case["host"])
        kernel = catalogue.parse_kernel_release(case["host"]["kernel_release"])
        for key, text in plan["sysctl"].items():
            row = catalogue.get(key)
            assert catalogue.validation_errors(row, catalogue.coerce_value(row, text), kernel) == []
            entry = plan["explain"][key]
            assert set(entry) == {"value", "formula", "inputs", "kernel_default", "source", "findings"}
        assert list(plan["sysctl"]) == catalogue.ordered(plan["sysctl"])


def test_host_from_facts_uses_the_facts_shape_and_overrides():
    facts = {"kernel": {"release": "6.18.44-x", "version": [6, 18, 44], "page_size": 4096,
                        "mem_total_bytes": 8 * GIB, "mem_available_bytes": 7 * GIB, "cpus": 4},
             "namespace": {"init_netns": False, "proc_sys_writable": True, "container": True},
             "sysctl": {"net.core.somaxconn": 4096},
             "sysctl_unavailable": {"net.ipv4.tcp_mem": "global key: set it on the host"},
             "files": {"allocated": 1000, "max": 800000, "nr_open": 1048576},
             "conntrack": {"available": True, "count": 10, "max": 262144, "buckets": 262144},
             "interfaces": {"eth0": {"speed_mbps": 10000, "virtual": False, "qdisc": "mq"}}}
    host = sizing.host_from_facts(facts, {"memory_bytes": 16 * GIB, "interfaces": {"eth0": 25000}})
    assert host["memory_bytes"] == 16 * GIB
    assert host["kernel"] == [6, 18, 44]
    assert host["in_init_netns"] is False
    assert host["interfaces"]["eth0"] == {"speed_mbps": 25000, "virtual": False, "qdisc": "mq"}
    assert host["files"]["max"] == 800000
    assert host["conntrack"]["available"] is True


def test_profiles_set_defaults_and_options_override():
    assert sizing.resolve_workload({})["profile"] == "balanced"
    proxy = sizing.resolve_workload({"profile": "proxy", "target_connections": 5})
    assert proxy["target_connections"] == 5 and proxy["tw_reuse"] is True
    assert sizing.resolve_workload({"profile": "bulk_transfer", "rtt_ms": 20})["bandwidth_mbps"] == 10000


def test_determinism():
    case = CASES["proxy_16g_4gbit"]
    assert plan_for(case["workload"], **case["host"]) == plan_for(case["workload"], **case["host"])


# --- bad input ------------------------------------------------------------------------------------

BAD_WORKLOADS = [
    ({"target_connections": 0}, "target_connections", "positive"),
    ({"target_connections": -5}, "target_connections", "positive"),
    ({"target_connections": "many"}, "target_connections", "integer"),
    ({"target_connections": True}, "target_connections", "integer"),
    ({"target_connections": 10 ** 9}, "target_connections", "at most"),
    ({"memory_budget_percent": 95}, "memory_budget_percent", "at most 90"),
    ({"memory_budget_percent": 0}, "memory_budget_percent", "above 0"),
    ({"memory_budget_percent": "20"}, "memory_budget_percent", "number"),
    ({"rtt_ms": 50}, "rtt_ms", "without bandwidth_mbps"),
    ({"bandwidth_mbps": 1000}, "bandwidth_mbps", "without rtt_ms"),
    ({"bandwidth_mbps": -1, "rtt_ms": 10}, "bandwidth_mbps", "> 0"),
    ({"outbound_rate": -1}, "outbound_rate", ">= 0"),
    ({"accept_rate": "fast"}, "accept_rate", "number"),
    ({"reserved_ports": [0]}, "reserved_ports", "1..65535"),
    ({"reserved_ports": [70000]}, "reserved_ports", "1..65535"),
    ({"reserved_ports": ["9010-9000"]}, "reserved_ports", "low <= high"),
    ({"reserved_ports": ["http"]}, "reserved_ports", "not a port"),
    ({"profile": "fastest"}, "profile", "one of"),
    ({"sockets_per_connection": 3}, "sockets_per_connection", "1"),
    ({"allow_lower": "yes"}, "allow_lower", "boolean"),
    ({"target_conections": 5}, "target_conections", "unknown"),
]


@pytest.mark.parametrize("workload,option,rule", BAD_WORKLOADS)
def test_bad_workload_names_option_and_rule(workload, option, rule):
    with pytest.raises(sizing.SizingInputError) as error:
        plan_for(workload, memory_bytes=8 * GIB, kernel_release="6.1.0")
    message = str(error.value)
    assert message.startswith(option + ":")
    assert rule in message


@pytest.mark.parametrize("host,option", [
    (dict(kernel_release="6.1.0"), "memory_bytes"),
    (dict(memory_bytes=8 * GIB, kernel_release="banana"), "kernel_release"),
    (dict(memory_bytes=8 * GIB, kernel_release="6.1.0", page_size=5000), "page_size"),
    (dict(memory_bytes=8 * GIB, kernel_release="6.1.0", interfaces={"eth0": "fast"}), "interfaces"),
])
def test_bad_host_names_option(host, option):
    with pytest.raises(sizing.SizingInputError) as error:
        plan_for({}, **host)
    assert str(error.value).startswith(option + ":")


def test_unsettable_key_already_at_the_wanted_value_is_not_reported():
    current = {"net.core.wmem_max": 4194304, "net.core.rmem_max": 212992}
    plan = plan_for({}, memory_bytes=8 * GIB, kernel_release="6.18.44", in_init_netns=False, sysctl=current)
    assert "net.core.wmem_max" not in plan["skipped"] and "net.core.wmem_max" not in plan["sysctl"]
    assert plan["skipped"]["net.core.rmem_max"].startswith("global key")
