# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the role does about the collector (collector_plan.py): the module_utils it copies, install, remove
or leave alone, and the settings checks naming the role variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import collector_plan

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")


def test_the_role_copies_exactly_the_module_utils_the_collector_imports(import_graph):
    graph = import_graph.read_graph(REPO)
    closure = {"metrics"} | import_graph.closure(graph, "metrics")
    assert sorted(closure) == list(collector_plan.COLLECTOR_MODULE_UTILS)


PLAN_INPUT = {"monitor": True, "state": "present", "audit_only": False, "interval": 60,
              "textfile_dir": "/var/lib/prometheus/node-exporter", "python": "/usr/bin/python3",
              "sysctl_path": "/etc/sysctl.d/60-tcptune.conf", "services": ["nginx"], "sockets": True}


def plan(installed=None, **changes):
    return collector_plan.monitor_plan(dict(PLAN_INPUT, **changes), installed)


def test_plan_installs_removes_or_leaves_alone():
    assert (plan()["install"], plan()["remove"], plan()["touch"]) == (True, False, True)
    assert plan(monitor=False)["touch"] is False  # no module run for a host that does not want it
    assert plan(audit_only=True)["touch"] is False
    assert plan(state="absent", audit_only=True)["touch"] is False
    removal = plan(state="absent", monitor=False)
    assert (removal["install"], removal["remove"]) == (False, True)
    # the install directory goes last: its absence means nothing is left
    assert removal["remove_paths"] == [
        "/etc/systemd/system/tcptune-textfile.timer", "/etc/systemd/system/tcptune-textfile.service",
        "/var/lib/prometheus/node-exporter/tcptune.prom", "/run/tcptune-textfile", "/usr/local/lib/tcptune"]
    keys = ("textfile_dir", "interval", "python", "sysctl_path", "services", "sockets")
    wanted = dict((key, PLAN_INPUT[key]) for key in keys)
    assert plan()["settings"] == dict(wanted, state_file=collector_plan.STATE_FILE)
    assert plan()["module_utils"] == list(collector_plan.COLLECTOR_MODULE_UTILS)
    assert plan()["paths"]["bundle"] == "/usr/local/lib/tcptune/module_utils.bundle"


def test_plan_removes_what_an_earlier_install_left():
    legacy = "/usr/local/lib/tcptune/module_utils"  # the module_utils copied one file each
    assert plan({"textfile_dir": "/srv/textfile"})["stale"] == ["/srv/textfile/tcptune.prom", legacy]
    assert plan({"textfile_dir": PLAN_INPUT["textfile_dir"]})["stale"] == [legacy]
    assert plan(monitor=False)["stale"] == []
    assert plan({"textfile_dir": "/srv/textfile"}, state="absent")["remove_paths"][2:4] == [
        "/srv/textfile/tcptune.prom", "/var/lib/prometheus/node-exporter/tcptune.prom"]
    assert plan("not a dict")["stale"] == [legacy]


def test_plan_takes_extra_vars_strings():
    """-e tcp_tuning_monitor=true -e tcp_tuning_monitor_interval=30 are strings."""
    assert plan(monitor="true", interval="30", sockets="no")["settings"]["interval"] == 30
    assert plan(monitor="true", interval="30", sockets="no")["settings"]["sockets"] is False
    assert plan(monitor="false")["touch"] is False


@pytest.mark.parametrize("change, variable", [
    ({"interval": 5}, "tcp_tuning_monitor_interval"), ({"interval": 86401}, "tcp_tuning_monitor_interval"),
    ({"interval": 1.5}, "tcp_tuning_monitor_interval"), ({"interval": True}, "tcp_tuning_monitor_interval"),
    ({"textfile_dir": "var/lib/x"}, "tcp_tuning_monitor_textfile_dir"),
    ({"textfile_dir": "/var/lib/my textfiles"}, "tcp_tuning_monitor_textfile_dir"),
    ({"textfile_dir": "/var/lib/%n"}, "tcp_tuning_monitor_textfile_dir"),
    ({"textfile_dir": "/var/lib/../x"}, "tcp_tuning_monitor_textfile_dir"),
    ({"python": "python3"}, "tcp_tuning_monitor_python"), ({"sysctl_path": None}, "tcp_tuning_sysctl_path"),
    ({"services": "nginx"}, "tcp_tuning_services"), ({"sockets": "maybe"}, "tcp_tuning_sockets"),
    ({"monitor": "maybe"}, "tcp_tuning_monitor"), ({"state": "gone"}, "tcp_tuning_state"),
])
def test_bad_settings_are_refused_naming_the_variable(change, variable):
    with pytest.raises(ValueError) as caught:
        plan(**change)
    assert str(caught.value).startswith(variable + ": "), str(caught.value)


def test_bad_settings_do_not_stop_a_removal():
    assert plan(state="absent", interval=5)["remove"] is True


def test_the_bundle_is_the_sources_as_sorted_json_after_two_header_lines():
    sources = {"procfs": "B = 2\n", "fileutil": "A = '{x}'\n"}
    text = collector_plan.bundle_text(sources)
    assert text.startswith(collector_plan.BUNDLE_HEADER) and collector_plan.BUNDLE_HEADER.count("\n") == 2
    assert json.loads(text[text.index("\n{") + 1:]) == sources
    assert text == collector_plan.bundle_text(dict(reversed(list(sources.items()))))  # the same bytes
    with pytest.raises(ValueError, match="not a module name"):
        collector_plan.bundle_text({"../procfs": ""})


def test_no_templating_can_take_the_bundle_for_a_dict():
    """Legacy templating takes a string that parses as JSON or as a Python literal (jinja2_native uses
    ast.literal_eval, which skips comment lines) for a dict; the copy would then write other bytes."""
    text = collector_plan.bundle_text({"procfs": "B = 2\n"})
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises((ValueError, SyntaxError)):
        ast.literal_eval(text)
