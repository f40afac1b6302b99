# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tcp_report action: the report from what the play recorded in hostvars, written on the controller."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail
from ansible_collections.tcptune.linux.plugins.action.tcp_report import ActionModule, recorded_vars
from ansible_collections.tcptune.linux.plugins.module_utils.report import collect


class FakeHostVars(object):
    """The part of ansible.vars.hostvars.HostVars the action uses: the inventory's names and raw_get."""

    def __init__(self, hosts, implicit=None):
        self.hosts = hosts
        self.implicit = implicit or {}

    def __iter__(self):
        return iter(self.hosts)

    def raw_get(self, name):
        return self.hosts.get(name, self.implicit.get(name, object()))


def _result():
    return {"mode": "apply", "profile": "proxy", "kernel": "6.1.0", "container": False,
            "facts_before": {"sysctl": {"net.core.somaxconn": 4096}},
            "facts_after": {"sysctl": {"net.core.somaxconn": 8192}},
            "plan": {"feasible": True, "sysctl": {"net.core.somaxconn": "8192"}},
            "settings": {"net.core.somaxconn": "8192"},
            "applied": {"changed_keys": ["net.core.somaxconn"], "previous": {"net.core.somaxconn": 4096}}}


def _hostvars():
    hosts = {"web1": {"tcp_tuning_result": _result(), "tcp_tuning_failure": None, "ansible_host": "10.0.0.1"},
             "web2": {"tcp_tuning_unreachable": "refused", "tcp_tuning_failure": None},
             "web3": {"inventory_only": True}}
    localhost = {"tcp_tuning_play_hosts": ["web1", "web2", "web3"], "tcp_tuning_report_dest": "/ignored"}
    return FakeHostVars(hosts, {"localhost": localhost})


def test_recorded_vars_reads_the_report_names_of_every_host_and_localhost():
    recorded = recorded_vars(_hostvars())
    assert sorted(recorded) == ["localhost", "web1", "web2"]
    assert set(recorded["web1"]) == {"tcp_tuning_result"}  # nothing else, and no None
    assert recorded["localhost"]["tcp_tuning_play_hosts"] == ["web1", "web2", "web3"]
    assert recorded_vars(None) == {}


def test_the_tasks_own_arguments_win_over_what_was_collected():
    args = {"results": {}, "failures": {"web2": {"task": "t", "message": "m"}, "web4": {"task": "t", "message": "m"}},
            "unreachable": {}, "play_hosts": ["web4", "web1"]}
    given = collect(recorded_vars(_hostvars()), given=args)
    assert given["play_hosts"] == ["web1", "web2", "web3", "web4"]
    assert given["unreachable"] == {"web2": "refused"}
    assert given["failures"] == {"web4": {"task": "t", "message": "m"}}  # an unreachable host has no failure
    assert sorted(given["results"]) == ["web1"]


def _action(args, check_mode=False):
    task = mock.MagicMock(args=args, check_mode=check_mode, async_val=0, diff=False)
    return ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                        shared_loader_obj=None)


def test_the_action_writes_the_report_of_the_collected_hosts(tmp_path):
    dest = str(tmp_path / "report")
    result = _action({"collect": True, "dest": dest}).run(task_vars={"hostvars": _hostvars()})
    assert result["changed"] is True and result["hosts"] == 3
    assert result["summary"]["status"]["tuned"] == 1 and result["summary"]["status"]["not reached"] == 1
    assert result["statuses"] == {"tuned": 1, "unreachable": 1, "not reached": 1}
    with open(result["json"]) as handle:
        statuses = dict((host["host"], host["status"]) for host in json.load(handle)["hosts"])
    assert statuses == {"web1": "tuned", "web2": "unreachable", "web3": "not reached"}
    assert result["html"] == os.path.join(dest, "report.html") and os.path.exists(result["html"])
    again = _action({"collect": True, "dest": dest}).run(task_vars={"hostvars": _hostvars()})
    assert again["changed"] is False


def test_without_collect_only_the_arguments_count_and_check_mode_writes_nothing(tmp_path):
    dest = str(tmp_path / "report")
    result = _action({"dest": dest, "unreachable": {"db1": "refused"}}, check_mode=True).run(
        task_vars={"hostvars": _hostvars()})
    assert result["changed"] is True and result["hosts"] == 1
    assert not os.path.exists(dest)


def test_a_bad_argument_fails_the_task(tmp_path):
    with pytest.raises(AnsibleActionFail):
        _action({"dest": str(tmp_path), "collect": "maybe"}).run(task_vars={})


def test_only_the_recorded_play_hosts_are_read_when_localhost_has_them():
    """An inventory of 50 000 hosts and a play limited to 3: the action reads 4 hosts' variables."""
    hostvars = _hostvars()
    hostvars.hosts["elsewhere"] = {"tcp_tuning_result": _result()}  # a host of an earlier play
    read = []
    raw_get = hostvars.raw_get
    hostvars.raw_get = lambda name: read.append(name) or raw_get(name)
    assert sorted(recorded_vars(hostvars)) == ["localhost", "web1", "web2"]
    assert sorted(read) == ["localhost", "web1", "web2", "web3"]
    del hostvars.implicit["localhost"]  # no play hosts recorded on localhost: every inventory host
    read[:] = []
    assert sorted(recorded_vars(hostvars)) == ["elsewhere", "web1", "web2"]
    assert sorted(read) == ["elsewhere", "localhost", "web1", "web2", "web3"]
