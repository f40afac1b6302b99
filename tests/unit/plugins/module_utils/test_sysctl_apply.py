# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_apply.nr_open_lockout: tcp_sysctl on its own never writes an fs.nr_open below a configured hard nofile
(I1, through hoststate.lockout_errors). apply_settings and revert_settings are tested in test_apply.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import sysctl_apply


def _lockout_host(tmp_path, nr_open_live, hard):
    proc = tmp_path / "proc"
    (proc / "sys/fs").mkdir(parents=True)
    (proc / "sys/fs/nr_open").write_text("%d\n" % nr_open_live)
    limits_d = tmp_path / "etc/security/limits.d"
    limits_d.mkdir(parents=True)
    (limits_d / "60-tcptune-nofile.conf").write_text("* hard nofile %d\n" % hard)
    return str(proc), {"kernel": (6, 18, 0), "init_netns": True, "memory_bytes": None, "page_size": 4096}


def _lockout(tmp_path, proc, host, state="present", settings=None, policy="set"):
    return sysctl_apply.nr_open_lockout(str(tmp_path), proc, host, state, settings or {}, policy,
                                        str(tmp_path / "state"), str(tmp_path / "etc/sysctl.d/60-tcptune.conf"))


def test_nr_open_below_a_hard_limit_is_refused_in_the_first_netns_only(tmp_path):
    proc, host = _lockout_host(tmp_path, 4194304, 2097152)
    wanted, broken = _lockout(tmp_path, proc, host, settings={"fs.nr_open": "1048576"})
    assert wanted == 1048576 and len(broken) == 1 and "sets a hard nofile of 2097152" in broken[0]
    assert _lockout(tmp_path, proc, dict(host, init_netns=False), settings={"fs.nr_open": 1048576}) is None
    assert _lockout(tmp_path, proc, host, settings={"fs.nr_open": 2097152}) is None
    assert _lockout(tmp_path, proc, host, settings={"somaxconn": 1}) is None


def test_policy_raise_under_a_higher_live_nr_open_writes_nothing_so_refuses_nothing(tmp_path):
    proc, host = _lockout_host(tmp_path, 4194304, 2097152)
    assert _lockout(tmp_path, proc, host, settings={"fs.nr_open": 1048576}, policy="raise") is None
    assert _lockout(tmp_path, proc, host, settings={"fs.nr_open": 1048576}, policy="set") is not None


def test_a_revert_is_checked_against_the_recorded_nr_open(tmp_path):
    proc, host = _lockout_host(tmp_path, 4194304, 2097152)
    path = str(tmp_path / "etc/sysctl.d/60-tcptune.conf")
    (tmp_path / "state").mkdir()
    with open(sysctl_apply.state_file(str(tmp_path / "state"), path), "w") as handle:
        handle.write('{"previous": {"fs.nr_open": "1048576"}}')
    wanted, broken = _lockout(tmp_path, proc, host, state="absent")
    assert wanted == 1048576 and broken
