# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload options come from one table (workload_options.py): the doc fragment and the role's workload
variables are files/workload/generate.py's output of it, so a number added there without running the
generator fails here; the generated files read back as the table says."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import yaml

from ansible_collections.tcptune.linux.plugins.doc_fragments import workload
from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs, workload_options

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
ROLE = os.path.join(REPO, "roles", "tcp_tuning")
GENERATE = os.path.join(REPO, "files", "workload", "generate.py")
ROWS = (workload_options.PROFILE_OPTION,) + workload_options.WORKLOAD_TABLE


def generator():
    spec = importlib.util.spec_from_file_location("tcptune_generate_workload", GENERATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(relpath):
    with open(os.path.join(ROLE, relpath)) as handle:
        return yaml.safe_load(handle)


def _text(description):
    return list(description) if isinstance(description, tuple) else description


def test_the_generated_files_are_the_generators_output():
    """Change workload_options.py without running files/workload/generate.py, or edit a generated part by
    hand, and this fails."""
    generate = generator()
    for path, text in generate.outputs().items():
        with open(path) as handle:
            assert handle.read() == text, "%s is stale: run python3 files/workload/generate.py" % path
    assert generate.main(["--check"]) == 0


def test_the_doc_fragment_reads_back_as_the_table():
    documented = yaml.safe_load(workload.ModuleDocFragment.DOCUMENTATION)["options"]
    assert list(documented) == [row.name for row in ROWS]
    for row in ROWS:
        assert documented[row.name] == dict(row.spec, description=_text(row.doc)), row.name


def test_the_role_declares_each_option_as_the_table_says():
    """Names, types, defaults and descriptions (with the bounds they state) in argument_specs and
    defaults/main.yml; vars/main.yml lists the options tasks/main.yml passes on."""
    options = _load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = _load("defaults/main.yml")
    for row in ROWS:
        name = "tcp_tuning_" + row.name
        spec = options[name]
        assert spec["type"] == row.spec["type"] and spec.get("elements") == row.spec.get("elements"), name
        assert spec["description"] == _text(row.role_doc), name
        expected = row.spec.get("default", [] if row.spec["type"] == "list" else None)
        assert defaults[name] == expected and spec.get("default") == expected, name
    assert options["tcp_tuning_profile"]["choices"] == list(workload_options.PROFILES)
    # only profile: sockets_per_connection 3 is refused by tcp_tune, with the message it always had
    assert "choices" not in options["tcp_tuning_sockets_per_connection"]
    assert _load("vars/main.yml") == {"__tcp_tuning_workload_options": [row.name for row in ROWS]}


def test_the_table_gives_the_names_defaults_and_argument_spec():
    assert workload_options.WORKLOAD_NUMBERS == (
        "target_connections", "accept_rate", "outbound_rate", "bandwidth_mbps", "rtt_ms", "socket_buffer_bytes",
        "userspace_bytes_per_connection", "services", "reserved_ports", "sockets_per_connection", "tw_reuse",
        "busy_fraction")
    planning = ("memory_budget_percent", "allow_lower")
    assert workload_options.WORKLOAD_OPTIONS == workload_options.WORKLOAD_NUMBERS + planning
    assert list(workload_options.WORKLOAD_ARGUMENT_SPEC) == ["profile"] + list(workload_options.WORKLOAD_OPTIONS)
    # what resolve_workload falls back to when neither declared nor preset
    assert sizing_inputs.resolve_workload({})["busy_fraction"] == workload_options.DEFAULTS["busy_fraction"] == 1.0
    assert workload_options.DEFAULTS["userspace_bytes_per_connection"] == 0
    assert workload_options.DEFAULTS["sockets_per_connection"] == 1


def test_the_docs_state_the_bounds_the_validation_uses():
    rows = dict((row.name, row) for row in ROWS)
    assert str(workload_options.MAX_TARGET_CONNECTIONS) in rows["target_connections"].doc
    assert str(workload_options.MAX_BANDWIDTH_MBPS) in " ".join(rows["bandwidth_mbps"].doc)
    assert str(workload_options.MAX_BANDWIDTH_MBPS) in " ".join(rows["bandwidth_mbps"].role_doc)
    assert str(workload_options.MAX_RTT_MS) in " ".join(rows["rtt_ms"].doc + rows["rtt_ms"].role_doc)


def test_the_yaml_scalars_read_back_as_written():
    generate = generator()
    for text in ("plain text", "a: colon", "V(true) plans it", "- a dash", "#hash", "true", "1.0", "x #y", "ends:",
                 'say "hi"'):
        assert yaml.safe_load("key: " + generate.scalar(text)) == {"key": text}, text
    folded = "\n".join(generate.description(0, (("word " * 60).strip() + " - next: one",)))
    assert yaml.safe_load(folded)["description"] == [("word " * 60).strip() + " - next: one"]
