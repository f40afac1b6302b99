# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The txqueuelen module end to end on a temporary /sys tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import run_module, run_module_as_user


def test_set_persist_and_absent(tmpdir):
    tmpdir.join("sys/class/net/eth0/tx_queue_len").write("1000\n", ensure=True)
    tmpdir.join("sys/class/net/eth0/device").ensure(dir=True)
    tmpdir.join("sys/class/net/lo/tx_queue_len").write("1000\n", ensure=True)
    args = {"interfaces": ["e*", "lo", "nope*"], "value": 10000, "persist": "udev",
            "sys_path": str(tmpdir.join("sys")), "run_path": str(tmpdir.join("run")),
            "rules_path": str(tmpdir.join("rules/90-t.rules")), "link_path": str(tmpdir.join("net/60-t.link")),
            "state_dir": str(tmpdir.join("state"))}
    result = run_module("txqueuelen", args, tmpdir, diff=True)
    assert result["changed"] is True and result["changed_interfaces"] == ["eth0"], result
    assert result["skipped_interfaces"] == {"lo": "virtual interface (set include_virtual to change it)"}
    assert result["unmatched"] == ["nope*"] and "nope* matches no interface" in json.dumps(result["warnings"])
    assert tmpdir.join("sys/class/net/eth0/tx_queue_len").read() == "10000\n"
    assert run_module("txqueuelen", args, tmpdir)["changed"] is False
    reverted = run_module("txqueuelen", dict(args, state="absent", value=None), tmpdir)
    assert reverted["changed"] is True
    assert tmpdir.join("sys/class/net/eth0/tx_queue_len").read() == "1000\n"
    assert not tmpdir.join("rules/90-t.rules").check()


def test_value_required_when_present(tmpdir):
    result = run_module("txqueuelen", {"interfaces": ["eth0"]}, tmpdir)
    assert result["failed"] is True and "value" in result["msg"]


def _two_nics(tmpdir):
    for name in ("eth0", "eth1"):
        tmpdir.join("sys/class/net", name, "tx_queue_len").write("1000\n", ensure=True)
        tmpdir.join("sys/class/net", name, "device").ensure(dir=True)
    return {"persist": "udev", "sys_path": str(tmpdir.join("sys")), "run_path": str(tmpdir.join("run")),
            "rules_path": str(tmpdir.join("rules/90-t.rules")), "link_path": str(tmpdir.join("net/60-t.link")),
            "state_dir": str(tmpdir.join("state"))}


def test_values_map_in_one_call_persists_both_nics(tmpdir):
    args = dict(_two_nics(tmpdir), values={"eth0": 10000, "eth1": "4000"})
    result = run_module("txqueuelen", args, tmpdir)
    assert result["changed"] is True and result["applied"] == {"eth0": 10000, "eth1": 4000}, result
    rules = tmpdir.join("rules/90-t.rules").read()
    assert 'NAME=="eth0", ATTR{tx_queue_len}="10000"' in rules and 'NAME=="eth1", ATTR{tx_queue_len}="4000"' in rules
    assert run_module("txqueuelen", args, tmpdir)["changed"] is False


def test_values_and_value_are_exclusive(tmpdir):
    result = run_module("txqueuelen", dict(_two_nics(tmpdir), values={"eth0": 1}, value=5), tmpdir)
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    bad = run_module("txqueuelen", dict(_two_nics(tmpdir), values={"eth0": "fast"}), tmpdir)
    assert bad["failed"] is True and "values: eth0 must be a number of packets" in bad["msg"]
    # YAML's yes is a boolean, not the 1 int(True) made of it (review 2026-12-03, defect 15)
    yes = run_module("txqueuelen", dict(_two_nics(tmpdir), values={"eth0": True}), tmpdir)
    assert yes["failed"] is True and "values: eth0 must be a number of packets" in yes["msg"], yes


def test_without_root_one_clear_message(monkeypatch, capsys):
    monkeypatch.setattr(txqueue, "apply_txqueuelen", None)  # must not be reached
    result = run_module_as_user("txqueuelen", {"values": {"eth0": 5000}}, monkeypatch, capsys)
    assert result["failed"] is True and result["msg"].startswith("txqueuelen: writing /sys/class/net")
