# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data flows one way, facts -> plan -> apply -> report (issue 20): the plan is pure and imports no reader of
the host, not even through another module_utils file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
PLAN = ("sizing", "sizing_rules", "sizing_policy", "sizing_memory", "sizing_inputs", "workload_options", "memory_rules",
        "catalogue", "catalogue_values", "catalogue_checks", "port_ranges", "kernel_release",
        "kernel_defaults", "rules_memory", "rules_queues", "rules_ports", "rules_files", "rules_conntrack")
# Files that read or write the host: /proc, /sys, netlink, files on disk.
READERS = ("procfs", "host_detect", "services", "interfaces", "host_facts", "sockdiag", "netlink", "fileutil", "sysctld",
           "hoststate", "limits", "apply", "diagnosis", "txqueue", "txqueue_persist", "link_match",
           "diagnosis_rules", "diagnosis_evidence", "diagnosis_queues", "diagnosis_memory", "diagnosis_ports",
           "diagnosis_files", "diagnosis_conntrack", "sysctl_apply", "sysctl_check", "sysctl_live")
# The fleet report runs on the controller: its files, and the plugins that write it, need the report files and
# fileutil only, never the engine that tunes a host.
REPORT = ("report", "report_host", "report_rows", "report_limits", "report_text", "report_html", "report_write")
REPORT_PLUGINS = ("action/tcp_report", "callback/tcp_report")
ENGINE = ("apply", "hoststate", "tune")


def _imports(import_graph):
    return import_graph.read_graph(REPO)


def test_the_plan_imports_no_reader(import_graph):
    graph = _imports(import_graph)
    assert set(PLAN) <= set(graph) and set(READERS) - {"netlink"} <= set(graph)
    for name in PLAN:
        assert import_graph.closure(graph, name) & set(READERS) == set(), name


def test_the_check_sees_an_import_inside_a_function(import_graph, tmp_path):
    """An import inside a function counts: a reader imported that way would be caught too."""
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def later():\n"
                    "    from ansible_collections.tcptune.linux.plugins.module_utils import procfs\n"
                    "    from ansible_collections.tcptune.linux.plugins.module_utils.sockdiag import dump\n")
    assert import_graph.imports_of(str(lazy)) == {"procfs", "sockdiag"}


def test_the_graph_has_no_cycle(import_graph):
    import_graph.layers(_imports(import_graph))  # raises ValueError naming the cycle


def test_the_report_and_its_plugins_reach_only_the_report_files_and_fileutil(import_graph):
    graph = _imports(import_graph)
    assert set(REPORT) == set(name for name in graph if name == "report" or name.startswith("report_"))
    for name in REPORT + REPORT_PLUGINS:
        reached = import_graph.closure(graph, name)
        assert reached & set(ENGINE) == set(), name
        assert reached <= set(REPORT) | {"fileutil"}, name
    assert "report_write" in import_graph.closure(graph, "callback/tcp_report")
