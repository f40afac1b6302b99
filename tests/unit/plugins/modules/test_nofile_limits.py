# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nofile_limits module end to end under a temporary root, with a fake systemctl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import run_module


def fake_systemctl(tmpdir):
    bin_dir = tmpdir.join("bin").ensure(dir=True)
    script = bin_dir.join("systemctl")
    script.write("#!/bin/sh\necho \"$@\" >> %s\n" % tmpdir.join("systemctl.log"))
    os.chmod(str(script), 0o755)
    return {"PATH": "%s:%s" % (bin_dir, os.environ.get("PATH", ""))}


def args_for(tmpdir, **extra):
    tmpdir.join("root/proc/sys/fs/nr_open").write("1048576\n", ensure=True)
    args = {"soft": 65536, "hard": 524288, "services": ["nginx"], "root": str(tmpdir.join("root")),
            "proc_path": str(tmpdir.join("root/proc"))}
    args.update(extra)
    return args


def test_daemon_reload_only_when_systemd_is_pid1_and_changed(tmpdir):
    env = fake_systemctl(tmpdir)
    result = run_module("nofile_limits", args_for(tmpdir), tmpdir, env=env)
    assert result["changed"] is True and result["daemon_reload_needed"] is True
    assert result["daemon_reloaded"] is False and not tmpdir.join("systemctl.log").check()

    tmpdir.join("root/run/systemd/system").ensure(dir=True)
    result = run_module("nofile_limits", args_for(tmpdir, soft=1024), tmpdir, env=env)
    assert result["daemon_reloaded"] is True
    assert tmpdir.join("systemctl.log").read() == "daemon-reload\n"

    unchanged = run_module("nofile_limits", args_for(tmpdir, soft=1024), tmpdir, env=env)
    assert unchanged["changed"] is False and unchanged["daemon_reloaded"] is False
    assert tmpdir.join("systemctl.log").read() == "daemon-reload\n"


def test_refuses_above_nr_open(tmpdir):
    result = run_module("nofile_limits", args_for(tmpdir, hard=2000000), tmpdir)
    assert result["failed"] is True and "above fs.nr_open 1048576" in result["msg"]
    assert not tmpdir.join("root/etc").check()
