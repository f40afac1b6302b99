# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload options shared by tcp_sizing and tcp_tune: one argument spec, one doc fragment, one reader."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.tcptune.linux.plugins.doc_fragments import workload
from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs

TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list}


def test_doc_fragment_documents_the_argument_spec_exactly():
    documented = yaml.safe_load(workload.ModuleDocFragment.DOCUMENTATION)["options"]
    spec = sizing_inputs.WORKLOAD_ARGUMENT_SPEC
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name
        assert doc.get("elements") == option.get("elements"), name


def test_every_workload_option_has_an_argument():
    assert set(sizing_inputs.WORKLOAD_OPTIONS) | {"profile"} == set(sizing_inputs.WORKLOAD_ARGUMENT_SPEC)


def test_workload_from_params_keeps_undeclared_as_none_and_whole_floats_as_ints():
    params = dict((name, None) for name in sizing_inputs.WORKLOAD_ARGUMENT_SPEC)
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
