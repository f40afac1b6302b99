# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tune.py's requests: a re-run never drops what an earlier run persisted and is still live."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import tune


def test_txqueuelen_auto_keeps_a_persisted_live_value_the_plan_leaves_out():
    # Before: values {} rewrote (removed) the udev file, and the next boot undid eth0's 10000.
    request = tune.txqueuelen_request("auto", {"txqueuelen": {}}, persisted={"eth0": 10000}, live={"eth0": 10000})
    assert request["values"] == {"eth0": 10000}


def test_txqueuelen_auto_keeps_a_persisted_value_the_plan_would_lower():
    plan = {"txqueuelen": {"eth0": 4000, "eth1": 4000}}
    request = tune.txqueuelen_request("auto", plan, persisted={"eth0": 10000}, live={"eth0": 10000, "eth1": 1000})
    assert request["values"] == {"eth0": 10000, "eth1": 4000}
    lowered = tune.txqueuelen_request("auto", plan, allow_lower=True, persisted={"eth0": 10000}, live={"eth0": 10000})
    assert lowered["values"] == {"eth0": 4000, "eth1": 4000}


def test_txqueuelen_a_value_changed_by_hand_since_is_not_kept():
    assert tune.txqueuelen_request("auto", {}, persisted={"eth0": 10000}, live={"eth0": 1000}) is None


def test_txqueuelen_nothing_planned_nothing_persisted_leaves_the_files_alone():
    assert tune.txqueuelen_request("auto", {"txqueuelen": {}}) is None
    assert tune.txqueuelen_request("off", {"txqueuelen": {"eth0": 4000}}) is None


def test_limits_without_any_hard_leave_the_files_of_an_earlier_run_alone():
    # Before: state absent removed the login file and the services' drop-ins on a run that declared less.
    assert tune.limits_request({"limits": {}}) is None
    request = tune.limits_request({"limits": {"login": {"soft": 1024, "hard": 200000}}}, services=["nginx"])
    assert request["state"] == "present" and request["hard"] == 200000 and request["services"] == ["nginx"]
