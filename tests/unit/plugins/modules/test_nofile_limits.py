# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nofile_limits module end to end under a temporary root, with a fake systemctl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import limits
from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import run_module, run_module_as_user


def fake_systemctl(tmpdir):
    bin_dir = tmpdir.join("bin").ensure(dir=True)
    script = bin_dir.join("systemctl")
    script.write("#!/bin/sh\necho \"$@\" >> %s\n" % tmpdir.join("systemctl.log"))
    os.chmod(str(script), 0o755)
    return {"PATH": "%s:%s" % (bin_dir, os.environ.get("PATH", ""))}


def args_for(tmpdir, **extra):
    tmpdir.join("root/proc/sys/fs/nr_open").write("1048576\n", ensure=True)
    args = {"hard": 1048576, "services": ["nginx"], "root": str(tmpdir.join("root")),
            "proc_path": str(tmpdir.join("root/proc"))}
    args.update(extra)
    return args


def test_daemon_reload_only_when_systemd_is_pid1_and_changed(tmpdir):
    env = fake_systemctl(tmpdir)
    result = run_module("nofile_limits", args_for(tmpdir), tmpdir, env=env)
    assert result["changed"] is True and result["daemon_reload_needed"] is True
    assert result["daemon_reloaded"] is False and not tmpdir.join("systemctl.log").check()

    tmpdir.join("root/run/systemd/system").ensure(dir=True)
    result = run_module("nofile_limits", args_for(tmpdir, hard=1000000), tmpdir, env=env)
    assert result["daemon_reloaded"] is True
    assert tmpdir.join("systemctl.log").read() == "daemon-reload\n"

    unchanged = run_module("nofile_limits", args_for(tmpdir, hard=1000000), tmpdir, env=env)
    assert unchanged["changed"] is False and unchanged["daemon_reloaded"] is False
    assert tmpdir.join("systemctl.log").read() == "daemon-reload\n"


def test_login_soft_defaults_to_1024(tmpdir):
    run_module("nofile_limits", args_for(tmpdir), tmpdir)
    conf = tmpdir.join("root/etc/security/limits.d/60-tcptune-nofile.conf").read()
    assert "*      soft nofile 1024\n" in conf and "root   hard nofile 1048576\n" in conf
    assert "DefaultLimitNOFILE=1024:1048576" in tmpdir.join("root/etc/systemd/system.conf.d/60-tcptune-nofile.conf").read()


def test_refuses_above_nr_open(tmpdir):
    result = run_module("nofile_limits", args_for(tmpdir, hard=2000000), tmpdir)
    assert result["failed"] is True and "above fs.nr_open 1048576" in result["msg"]
    assert not tmpdir.join("root/etc").check()


def test_nr_open_option_counts_only_in_check_mode(tmpdir):
    """Outside check mode the live fs.nr_open is what the kernel enforces, whatever nr_open says."""
    applied = run_module("nofile_limits", args_for(tmpdir, soft=1024, hard=2000000, nr_open=4194304), tmpdir)
    assert applied["failed"] is True and "above fs.nr_open 1048576" in applied["msg"]
    checked = run_module("nofile_limits", args_for(tmpdir, hard=2000000, nr_open=4194304), tmpdir, check=True)
    assert checked["changed"] is True and checked["nr_open"] == 4194304, checked
    assert not tmpdir.join("root/etc").check()


def test_without_root_one_clear_message_and_nothing_written(tmpdir, monkeypatch, capsys):
    monkeypatch.setattr(limits, "sync_limits", None)  # must not be reached
    result = run_module_as_user("nofile_limits", {"hard": 65536}, monkeypatch, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("nofile_limits: writing /etc/security/limits.d and /etc/systemd needs root")
