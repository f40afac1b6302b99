# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_tune end to end on a copy of a real host's /proc and /sys: facts, plan and one transaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible_collections.tcptune.linux.plugins.module_utils import tune
from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import (
    run_module, run_module_as_user, tune_args)

ROLE_SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "roles", "tcp_tuning",
                          "meta", "argument_specs.yml")


def make_args(fixture_tree, tmpdir, **extra):
    args = tune_args(fixture_tree, tmpdir, profile="proxy", target_connections=20000, accept_rate=6000,
                     reserved_ports=["8080", "8081"], services=["nginx"], nofile_hard=600000, txqueuelen="off")
    args.update(extra)
    return args


def _live(args, key):
    with open(os.path.join(args["proc_path"], "sys", key.replace(".", "/"))) as handle:
        return " ".join(handle.read().split())


def test_one_run_applies_and_the_second_changes_nothing(fixture_tree, tmpdir):
    args = make_args(fixture_tree, tmpdir)
    first = run_module("tcp_tune", args, tmpdir)
    assert first["changed"] is True, first
    result = first["result"]
    assert result["mode"] == "apply" and result["components"] == ["sysctl", "limits", "txqueuelen"]
    assert "net.core.somaxconn" in result["applied"]["changed_keys"]
    assert _live(args, "net.core.somaxconn") == result["settings"]["net.core.somaxconn"]
    # Adjacent reserved ports, as the kernel reads them back.
    assert _live(args, "net.ipv4.ip_local_reserved_ports") == "8080-8081"
    assert result["limits"]["changed"] is True
    limits_file = os.path.join(args["root"], "etc/security/limits.d/60-tcptune-nofile.conf")
    assert "hard nofile 600000" in " ".join(open(limits_file).read().split())
    assert result["facts_after"]["sysctl"]["net.core.somaxconn"] == int(result["settings"]["net.core.somaxconn"])
    assert len(json.dumps(result)) < 20000, len(json.dumps(result))
    second = run_module("tcp_tune", args, tmpdir)
    assert second["changed"] is False, second["result"]["applied"]
    assert second["result"]["applied"]["changed_keys"] == []


def test_a_rerun_with_nothing_declared_keeps_what_the_first_run_persisted(fixture_tree, tmpdir):
    """A fleet-wide default run (balanced, nothing declared) after a tuned one: it rewrote the sysctl.d file
    without the tuned keys and removed the limit files, so the next boot and the next login undid the tuning."""
    args = make_args(fixture_tree, tmpdir, txqueuelen="5000", txqueuelen_include_virtual=True)
    first = run_module("tcp_tune", args, tmpdir)
    assert first["changed"] is True
    queued = first["result"]["txqueuelen"]["applied"]
    assert queued and set(queued.values()) == {5000}, first["result"]["txqueuelen"]
    rules = os.path.join(args["root"], "etc/udev/rules.d/90-tcptune-txqueuelen.rules")
    with open(rules) as handle:
        persisted_queues = handle.read()
    with open(args["sysctl_path"]) as handle:
        persisted = handle.read()
    limits_file = os.path.join(args["root"], "etc/security/limits.d/60-tcptune-nofile.conf")
    dropin = os.path.join(args["root"], "etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf")
    assert os.path.exists(limits_file) and os.path.exists(dropin)
    plain = dict((key, value) for key, value in args.items()
                 if key not in ("target_connections", "accept_rate", "reserved_ports", "services", "nofile_hard"))
    plain.update(profile="balanced", txqueuelen="auto")
    again = run_module("tcp_tune", plain, tmpdir)
    assert again["changed"] is False, again["result"]
    with open(args["sysctl_path"]) as handle:
        assert handle.read() == persisted
    with open(rules) as handle:
        assert handle.read() == persisted_queues
    assert os.path.exists(limits_file) and os.path.exists(dropin)
    reasons = dict((change["key"], change["reason"]["kind"]) for change in again["result"]["plan"]["changes"])
    assert set(reasons.values()) == {"persisted"}
    assert "net.core.somaxconn" in reasons


def test_check_mode_writes_nothing_and_returns_the_diff(fixture_tree, tmpdir):
    args = make_args(fixture_tree, tmpdir)
    before = _live(args, "net.core.somaxconn")
    predicted = run_module("tcp_tune", args, tmpdir, check=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["result"]["mode"] == "check"
    assert any("somaxconn" in item["after"] for item in predicted["diff"])
    assert _live(args, "net.core.somaxconn") == before
    assert not os.path.exists(args["sysctl_path"]) and not os.path.exists(args["state_dir"])
    assert not os.path.exists(os.path.join(args["root"], "etc/security"))


def test_limits_tag_alone_checks_the_live_nr_open(fixture_tree, tmpdir):
    """--tags limits: fs.nr_open is not written in this run, so a hard limit above the live one is refused
    before anything is written, even though the plan (or sysctl in the same run) would raise it."""
    args = make_args(fixture_tree, tmpdir, nofile_hard=2000000, run_tags=["limits"],
                     sysctl_overrides={"fs.nr_open": 4194304})
    refused = run_module("tcp_tune", args, tmpdir)
    assert refused["failed"] is True and "fs.nr_open" in refused["msg"], refused
    assert "nofile_hard: 2000000 is above fs.nr_open" in refused["msg"]
    from_role = run_module("tcp_tune", dict(args, option_names="role"), tmpdir)
    assert "tcp_tuning_nofile_hard: 2000000 is above fs.nr_open" in from_role["msg"], from_role
    assert not os.path.exists(os.path.join(args["root"], "etc/security"))
    assert not os.path.exists(args["state_dir"]), "a refused run leaves no trace, not even the lock file"
    # With sysctl in the same transaction, the fs.nr_open written there is the ceiling.
    args.pop("run_tags")
    applied = run_module("tcp_tune", args, tmpdir)
    assert applied["changed"] is True, applied
    assert _live(args, "fs.nr_open") == "4194304"


def test_a_failure_in_the_last_step_rolls_back_all_three(fixture_tree, tmpdir):
    # somaxconn is written for sure (an override above the live value), so the rollback has a key to put back.
    args = make_args(fixture_tree, tmpdir, txqueuelen="5000", txqueuelen_interfaces=["*"],
                     txqueuelen_include_virtual=True, txqueuelen_persist="link")
    before = _live(args, "net.core.somaxconn")
    args["sysctl_overrides"] = {"net.core.somaxconn": int(before) * 2}
    # The .link directory is a file: the txqueuelen step fails after sysctl and limits were written (the sysctl
    # step's own udev rule for late modules lives in etc/udev, so that must stay writable).
    os.makedirs(os.path.join(args["root"], "etc/systemd"))
    open(os.path.join(args["root"], "etc/systemd/network"), "w").close()
    failed = run_module("tcp_tune", args, tmpdir)
    assert failed["failed"] is True and "rolled back" in failed["msg"], failed
    assert failed["completed"] == ["limits", "sysctl"], failed  # the failure came in the last step
    assert failed["rollback_failed"] == [], failed
    assert _live(args, "net.core.somaxconn") == before
    assert not os.path.exists(args["sysctl_path"])
    assert not os.path.exists(os.path.join(args["root"], "etc/security/limits.d/60-tcptune-nofile.conf"))
    for name in os.listdir(os.path.join(args["sys_path"], "class/net")):
        path = os.path.join(args["sys_path"], "class/net", name, "tx_queue_len")
        if os.path.exists(path):
            assert open(path).read().strip() != "5000", name


def test_revert_through_the_same_module(fixture_tree, tmpdir):
    args = make_args(fixture_tree, tmpdir)
    before = _live(args, "net.core.somaxconn")
    run_module("tcp_tune", args, tmpdir)
    reverted = run_module("tcp_tune", dict(args, state="absent"), tmpdir)
    assert reverted["changed"] is True
    assert reverted["result"]["mode"] == "revert"
    assert "net.core.somaxconn" in reverted["result"]["reverted"]["sysctl_changed_keys"]
    assert _live(args, "net.core.somaxconn") == before
    assert not os.path.exists(args["sysctl_path"])
    assert not os.path.exists(os.path.join(args["root"], "etc/security/limits.d/60-tcptune-nofile.conf"))
    # nothing of ours is left behind, not even the lock or the state directory
    assert not os.path.exists(args["state_dir"])


def test_bad_txqueuelen_names_the_role_variable(fixture_tree, tmpdir):
    args = make_args(fixture_tree, tmpdir, txqueuelen="fast", option_names="role")
    failed = run_module("tcp_tune", args, tmpdir)
    assert failed["failed"] is True and failed["msg"].startswith("tcp_tuning_txqueuelen: "), failed
    alone = run_module("tcp_tune", dict(args, option_names="module"), tmpdir)
    assert alone["failed"] is True and alone["msg"].startswith("txqueuelen: "), alone


def test_without_write_access_one_message_before_anything(fixture_tree, tmpdir):
    args = make_args(fixture_tree, tmpdir)
    os.chmod(os.path.join(args["proc_path"], "sys/net/core/somaxconn"), 0o444)
    refused = run_module("tcp_tune", args, tmpdir)
    assert refused["failed"] is True and "not writable for this user" in refused["msg"], refused
    assert "Traceback" not in json.dumps(refused)
    assert not os.path.exists(args["state_dir"]) and not os.path.exists(args["sysctl_path"])
    audited = run_module("tcp_tune", args, tmpdir, check=True)
    assert audited.get("failed") is not True
    assert "not writable for this user" in json.dumps(audited.get("warnings"))


def _nothing_written(args, before):
    assert _live(args, "net.core.somaxconn") == before
    assert not os.path.exists(args["sysctl_path"]) and not os.path.exists(args["state_dir"])
    assert not os.path.exists(os.path.join(args["root"], "etc/security"))
    assert not os.path.exists(os.path.join(args["root"], "etc/systemd"))
    assert not os.path.exists(os.path.join(args["root"], "etc/udev"))


# Review 2026-12-03 defect 15 and issue 17 "Bad input": each of these ended in a traceback (or, for the
# last ones, passed without a word and wrote).
BAD_INPUTS = [
    ({"sample_seconds": float("inf")}, "sample_seconds: must be a number of seconds from 0 to 3600"),
    ({"sample_seconds": -1}, "sample_seconds: must be a number of seconds"),
    ({"lock_timeout": float("nan")}, "lock_timeout: must be a number of seconds"),
    ({"plan": {"limits": {"login": {"hard": "x"}}}}, "plan: limits.login.hard must be a positive integer"),
    ({"plan": {"sysctl": ["net.core.somaxconn"]}}, "plan: sysctl must be a dict"),
    ({"plan": {"txqueuelen": {"eth0": True}}, "txqueuelen": "auto"}, "plan: txqueuelen.eth0 must be a number"),
    ({"accept_rate": 2000000000.0}, "accept_rate: must be at most 1073741824 per second"),
    ({"outbound_rate": 10000000.0}, "outbound_rate: too large"),
    ({"profile": "bulk_transfer", "bandwidth_mbps": 1e300, "rtt_ms": 1e10}, "bandwidth_mbps: must be at most"),
    ({"services": ["x.socket"]}, "services: x.socket is a socket unit, not a service"),
    ({"txqueuelen": "auto", "txqueuelen_interfaces": ["eth9"]},
     "txqueuelen_interfaces: eth9 is not an interface of this host (it has eth0, lo)"),
    ({"txqueuelen": "5000", "txqueuelen_interfaces": ["wlan*"]}, "txqueuelen_interfaces: wlan* matches no interface"),
]


@pytest.mark.parametrize("extra, expect", BAD_INPUTS, ids=[expect.split(":")[0] + "-" + str(index)
                                                           for index, (extra, expect) in enumerate(BAD_INPUTS)])
def test_bad_input_is_one_message_naming_the_option_and_nothing_is_written(fixture_tree, tmpdir, extra, expect):
    args = make_args(fixture_tree, tmpdir, **extra)
    before = _live(args, "net.core.somaxconn")
    refused = run_module("tcp_tune", args, tmpdir)
    assert refused.get("failed") is True, refused
    assert refused["msg"].startswith(expect) and refused["msg"].endswith("Nothing was changed."), refused["msg"]
    assert "Traceback" not in json.dumps(refused)
    _nothing_written(args, before)
    role = run_module("tcp_tune", dict(args, option_names="role"), tmpdir)
    name = expect.split(":")[0]
    # plan and lock_timeout are not set by the role: they keep their option name
    assert role["msg"].startswith(name if name in ("plan", "lock_timeout") else "tcp_tuning_" + name), role["msg"]
    _nothing_written(args, before)


def test_a_misspelt_role_variable_is_refused_before_anything(fixture_tree, tmpdir):
    """tcp_tuning_profle: proxy was silently ignored: the host was tuned as balanced."""
    with open(ROLE_SPECS) as handle:
        known = sorted(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
    args = make_args(fixture_tree, tmpdir, option_names="role", role_known_variables=known,
                     role_variables=["tcp_tuning_profile", "tcp_tuning_profle", "tcp_tuning_run"])
    before = _live(args, "net.core.somaxconn")
    refused = run_module("tcp_tune", args, tmpdir)
    assert refused.get("failed") is True, refused
    assert refused["msg"] == ("tcp_tuning_profle: the role tcptune.linux.tcp_tuning has no such variable, so it "
                              "would be ignored; did you mean tcp_tuning_profile? Nothing was changed.")
    _nothing_written(args, before)
    args["role_variables"] = ["tcp_tuning_profile", "tcp_tuning_run", "tcp_tuning_report_dir"]
    assert run_module("tcp_tune", args, tmpdir, check=True).get("failed") is not True


def test_a_service_without_a_unit_file_is_refused_where_systemd_runs(fixture_tree, tmpdir):
    """services: [nosuchsvc] wrote a drop-in and said "restart nosuchsvc". (Check mode: with run/systemd/system
    under root the module would run systemctl daemon-reload after a write.)"""
    args = make_args(fixture_tree, tmpdir, services=["nginx", "nosuchsvc"], option_names="role")
    os.makedirs(os.path.join(args["root"], "run/systemd/system"))
    os.makedirs(os.path.join(args["root"], "usr/lib/systemd/system"))
    open(os.path.join(args["root"], "usr/lib/systemd/system/nginx.service"), "w").close()
    refused = run_module("tcp_tune", args, tmpdir, check=True)
    assert refused.get("failed") is True, refused
    assert refused["msg"].startswith("tcp_tuning_services: no unit file for nosuchsvc in "), refused["msg"]
    assert not os.path.exists(os.path.join(args["root"], "etc/systemd")) and not os.path.exists(args["state_dir"])
    args["services"] = ["nginx"]
    assert run_module("tcp_tune", args, tmpdir, check=True).get("failed") is not True


def test_a_service_without_a_unit_file_is_a_loud_warning_without_systemd(fixture_tree, tmpdir):
    """In a container (systemd not PID 1) the name cannot be checked: the console and the report say so."""
    args = make_args(fixture_tree, tmpdir, services=["nosuchsvc"])
    result = run_module("tcp_tune", args, tmpdir, check=True)
    assert result.get("failed") is not True, result
    assert "no unit file for nosuchsvc" in json.dumps(result.get("warnings")), result.get("warnings")
    assert any("no unit file for nosuchsvc" in warning for warning in result["result"]["plan"]["warnings"])
    assert any("no unit file for nosuchsvc" in line for line in result["result"]["summary"])


def test_an_unexpected_error_is_one_message_with_the_traceback_beside_it(fixture_tree, tmpdir, monkeypatch, capsys):
    """tcp_tune.main caught ApplyError, SizingInputError and OSError only; anything else was a bare traceback."""
    def broken(params, check_mode=False):
        raise KeyError("sysctl")

    monkeypatch.setattr(tune, "run", broken)
    try:
        from ansible.module_utils._internal import _traceback
    except ImportError:  # pragma: no cover (older ansible-core: the traceback is always returned)
        pass
    else:
        monkeypatch.setattr(_traceback, "_is_traceback_enabled", lambda event: True)
    result = run_module_as_user("tcp_tune", make_args(fixture_tree, tmpdir), monkeypatch, capsys, euid=0)
    assert result["failed"] is True
    assert result["msg"].startswith("tcp_tune failed unexpectedly (KeyError: 'sysctl')"), result["msg"]
    assert "\n" not in result["msg"]
    assert "Traceback" in str(result.get("exception")) and "broken" in str(result.get("exception"))


def test_the_workload_dict_is_taken_as_the_options_it_holds(fixture_tree, tmpdir):
    """The role passes its workload variables in one dict (workload): converted and checked as the options
    are, with the same messages; null is not declared."""
    args = make_args(fixture_tree, tmpdir)
    by_option = run_module("tcp_tune", args, tmpdir, check=True)
    workload = {"profile": "proxy", "target_connections": "20000", "accept_rate": 6000, "reserved_ports": [8080, "8081"],
                "services": ["nginx"], "busy_fraction": None, "sockets_per_connection": None, "allow_lower": False}
    options = ("profile", "target_connections", "accept_rate", "reserved_ports", "services")
    by_dict = run_module("tcp_tune", dict(((key, value) for key, value in args.items() if key not in options),
                                          workload=workload), tmpdir, check=True)
    assert by_dict["result"]["plan"] == by_option["result"]["plan"]
    assert by_dict["result"]["settings"] == by_option["result"]["settings"]
    for bad in ({"sockets_per_connection": 3}, {"target_connections": "many"}, {"busy_fraction": 2}):
        refused = [run_module("tcp_tune", dict(args, **bad), tmpdir, check=True),
                   run_module("tcp_tune", dict(args, workload=bad), tmpdir, check=True)]
        assert refused[0]["failed"] and refused[0]["msg"] == refused[1]["msg"], refused
