# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's contract: every variable validated, every module option it passes exists, and no
arithmetic or value comparison in its Jinja (the modules do that in Python)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import yaml

from ansible_collections.tcptune.linux.plugins.doc_fragments import workload
from ansible_collections.tcptune.linux.plugins.module_utils import workload_options
from ansible_collections.tcptune.linux.plugins.module_utils import tune
from ansible_collections.tcptune.linux.plugins.modules import tcp_tune

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "tcp_tuning")


def _load(relpath):
    with open(os.path.join(ROLE, relpath)) as handle:
        return yaml.safe_load(handle)


def test_every_default_is_in_argument_specs_and_back():
    """1.0.0 left allow_lower, sockets_per_connection and tw_reuse out of argument_specs."""
    defaults = _load("defaults/main.yml")
    options = _load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options)
    for name, spec in options.items():
        if "default" in spec:
            assert spec["default"] == defaults[name], name


def test_the_role_passes_only_options_tcp_tune_has():
    module_options = dict(yaml.safe_load(tcp_tune.DOCUMENTATION)["options"],
                          **yaml.safe_load(workload.ModuleDocFragment.DOCUMENTATION)["options"])
    tasks = _load("tasks/main.yml")
    calls = [task["tcptune.linux.tcp_tune"] for task in tasks if "tcptune.linux.tcp_tune" in task]
    assert len(calls) == 2  # apply, and the audit twin in check mode
    for call in calls:
        assert set(call) <= set(module_options), sorted(set(call) - set(module_options))


def test_one_remote_module_task_and_no_arithmetic_or_comparison_in_jinja():
    texts = dict((path, open(path).read()) for path in glob.glob(os.path.join(ROLE, "tasks", "*.yml"))
                 + glob.glob(os.path.join(ROLE, "handlers", "*.yml")))
    modules = [line for text in texts.values() for line in text.splitlines()
               if re.match(r"^  tcptune\.linux\.\w+:", line)]
    assert modules == ["  tcptune.linux.tcp_tune: &tcp_tuning_args", "  tcptune.linux.tcp_tune:"]
    for path, text in texts.items():
        for expression in re.findall(r"\{\{(.*?)\}\}", text, re.S):
            assert not re.search(r"[-+*/%]\s*\d|\|\s*(int|float)\b|[<>]=?|==|!=", expression), (path, expression)


def test_tags_select_components():
    assert tune.select_components(["all"], []) == ["sysctl", "limits", "txqueuelen"]
    assert tune.select_components(["limits"], []) == ["limits"]
    assert tune.select_components(["all"], ["sysctl"]) == ["limits", "txqueuelen"]
    assert tune.select_components(["facts"], []) == []
    assert tune.select_components(None, None, ["txqueuelen"]) == ["txqueuelen"]


def test_every_workload_option_of_the_sizing_is_a_role_variable():
    """1.0.0's argument_specs lacked allow_lower, sockets_per_connection and tw_reuse, so the role could
    not pass them although the README advertised them."""
    from ansible_collections.tcptune.linux.plugins.module_utils import sizing
    options = _load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    missing = [name for name in workload_options.WORKLOAD_OPTIONS + ("reserved_ports", "services")
               if "tcp_tuning_" + name not in options]
    assert missing == []
