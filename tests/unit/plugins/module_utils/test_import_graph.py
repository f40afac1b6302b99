# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data flows one way, facts -> plan -> apply -> report (issue 20): the plan is pure and imports no reader of
the host, not even through another module_utils file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

MODULE_UTILS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")
PLAN = ("sizing", "sizing_rules", "sizing_policy", "sizing_memory", "sizing_inputs", "workload_options", "memory_rules",
        "catalogue", "kernel_defaults", "rules_memory", "rules_queues", "rules_ports", "rules_files", "rules_conntrack")
# Files that read or write the host: /proc, /sys, netlink, files on disk.
READERS = ("procfs", "sockdiag", "netlink", "fileutil", "sysctld", "hoststate", "limits", "apply", "diagnosis")


def _imports():
    graph = {}
    for name in os.listdir(MODULE_UTILS):
        if not name.endswith(".py") or name == "__init__.py":
            continue
        with open(os.path.join(MODULE_UTILS, name)) as handle:
            tree = ast.parse(handle.read())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and "plugins.module_utils" in node.module:
                if node.module.endswith("plugins.module_utils"):
                    found.update(alias.name for alias in node.names)
                else:
                    found.add(node.module.rsplit(".", 1)[1])
        graph[name[:-3]] = found
    return graph


def _closure(graph, start):
    seen, todo = set(), [start]
    while todo:
        for name in graph.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def test_the_plan_imports_no_reader():
    graph = _imports()
    assert set(PLAN) <= set(graph) and set(READERS) - {"netlink"} <= set(graph)
    for name in PLAN:
        assert _closure(graph, name) & set(READERS) == set(), name


def test_the_check_sees_an_import_inside_a_function():
    """sizing_inputs imports sizing_memory inside a function (sizing_memory imports sizing_inputs): ast.walk finds
    it, so a reader imported the same way would be caught too."""
    assert "sizing_memory" in _imports()["sizing_inputs"]
