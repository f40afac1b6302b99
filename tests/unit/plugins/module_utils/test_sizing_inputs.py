# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload options shared by tcp_sizing and tcp_tune: one argument spec, one doc fragment, one reader."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.tcptune.linux.plugins.doc_fragments import workload
from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, host_facts, sizing, sizing_inputs, workload_options)

TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list}


def test_doc_fragment_documents_the_argument_spec_exactly():
    documented = yaml.safe_load(workload.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = workload_options.WORKLOAD_ARGUMENT_SPEC
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name


def test_every_workload_option_has_an_argument():
    assert set(workload_options.WORKLOAD_OPTIONS) | {"profile"} == set(workload_options.WORKLOAD_ARGUMENT_SPEC)


def test_workload_from_params_keeps_undeclared_as_none_and_whole_floats_as_ints():
    params = dict((name, None) for name in workload_options.WORKLOAD_ARGUMENT_SPEC)
    params.update(profile="proxy", accept_rate=20000.0, outbound_rate=12.5, allow_lower=False)
    workload = sizing_inputs.workload_from_params(params)
    assert workload["accept_rate"] == 20000 and isinstance(workload["accept_rate"], int)
    assert workload["outbound_rate"] == 12.5
    assert workload["services"] is None and workload["reserved_ports"] is None
    resolved = sizing_inputs.resolve_workload(workload)
    # An undeclared list is not "declared": only what the user or the preset gave has a source.
    assert "services" not in resolved["sources"] and "reserved_ports" not in resolved["sources"]
    assert resolved["sources"]["accept_rate"] == "declared"
    assert resolved["sources"]["target_connections"] == "preset proxy"


def _host():
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
    facts = host_facts.gather(proc_path=os.path.join(fixtures, "proc", "linux-6.18-host"),
                              sys_path=os.path.join(fixtures, "sys", "linux-6.18-host"), sockets=False)
    return sizing_inputs.host_from_facts(facts, {"conntrack_available": True})


def _input_error(workload, names=None):
    with pytest.raises(sizing_inputs.SizingInputError) as caught:
        sizing_inputs.resolve_workload(workload, names)
    # compute_plan refuses the same input the same way, not with an AssertionError or an OverflowError
    with pytest.raises(sizing_inputs.SizingInputError):
        sizing.compute_plan(_host(), workload)
    return str(caught.value)


def test_rates_the_kernel_cannot_take_are_input_errors_naming_the_rate():
    """Review 2026-12-03 defect 15: accept_rate 2e9 ended in 'AssertionError: sizing produced an invalid value:
    net.core.somaxconn: 2147483648', outbound_rate 1e7 in the same for nf_conntrack_buckets."""
    message = _input_error({"profile": "proxy", "accept_rate": 2000000000})
    assert message.startswith("accept_rate: must be at most 1073741824 per second"), message
    message = _input_error({"profile": "proxy", "outbound_rate": 10000000})
    assert message.startswith("outbound_rate: too large (at most "), message
    assert "nf_conntrack_buckets 2147483648" in message
    # what the message offers plans, with conntrack loaded, and buckets within the catalogue's maximum
    most = int(message.split("(at most ")[1].split()[0])
    plan = sizing.compute_plan(_host(), {"profile": "proxy", "outbound_rate": most})
    buckets = int(plan["sysctl"].get("net.netfilter.nf_conntrack_buckets", 0))
    assert buckets <= catalogue.get("net.netfilter.nf_conntrack_buckets").maximum
    _input_error({"profile": "proxy", "outbound_rate": most + 1})
    assert _input_error({"profile": "proxy", "target_connections": 100000000}).startswith("target_connections: ")


def test_bandwidth_and_rtt_are_bounded_so_their_product_cannot_overflow():
    """bandwidth_mbps 1e300 x rtt_ms 1e10 ended in 'OverflowError: cannot convert float infinity to integer'."""
    bulk = {"profile": "bulk_transfer"}
    message = _input_error(dict(bulk, bandwidth_mbps=1e300, rtt_ms=1e10))
    assert message.startswith("bandwidth_mbps: must be at most 4294967294 Mbit/s") and "got 1e+300" in message
    assert _input_error(dict(bulk, bandwidth_mbps=1000, rtt_ms=1e10)).startswith("rtt_ms: must be at most 120000 ms")
    largest = dict(bulk, bandwidth_mbps=workload_options.MAX_BANDWIDTH_MBPS, rtt_ms=workload_options.MAX_RTT_MS)
    assert "net.ipv4.tcp_rmem" in sizing.compute_plan(_host(), largest)["sysctl"]


def test_errors_name_what_the_caller_calls_each_option():
    """From the role, errors named the module option (accept_rate), not the variable the user set."""
    names = dict((option, "tcp_tuning_" + option) for option in workload_options.WORKLOAD_ARGUMENT_SPEC)
    for workload, expect in (({"accept_rate": -1}, "tcp_tuning_accept_rate: must be a finite number >= 0"),
                             ({"target_connections": 0}, "tcp_tuning_target_connections: must be a positive"),
                             ({"reserved_ports": ["8080-80"]}, "tcp_tuning_reserved_ports: '8080-80' must be"),
                             ({"rtt_ms": 10}, "tcp_tuning_rtt_ms: given without tcp_tuning_bandwidth_mbps"),
                             ({"profile": "turbo"}, "tcp_tuning_profile: must be one of"),
                             ({"memory_budget_percent": 60}, "tcp_tuning_memory_budget_percent: must be above 0"),
                             ({"sockets_per_connection": 3}, "tcp_tuning_sockets_per_connection: must be 1")):
        with pytest.raises(sizing_inputs.SizingInputError) as caught:
            sizing_inputs.resolve_workload(workload, names)
        assert str(caught.value).startswith(expect), (str(caught.value), expect)
