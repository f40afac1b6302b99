# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""limits.py on a temporary root."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import limits
from ansible_collections.tcptune.linux.plugins.module_utils.apply import ApplyError


@pytest.fixture
def root(tmpdir):
    tmpdir.join("proc/sys/fs/nr_open").write("1048576\n", ensure=True)
    return tmpdir


def sync(root, **kwargs):
    kwargs.setdefault("proc_path", str(root.join("proc")))
    return limits.sync_limits(root=str(root), **kwargs)


def test_renders_login_root_and_systemd_files(root):
    result = sync(root, soft=65536, hard=1048576, services=["nginx.service", "haproxy"])
    assert result["changed"] is True and result["daemon_reload_needed"] is True
    assert result["restart_needed"] == ["haproxy.service", "nginx.service"]
    conf = root.join(limits.LIMITS_FILE).read()
    assert conf.startswith(limits.HEADER)
    lines = [line.split() for line in conf.splitlines() if not line.startswith("#")]
    assert lines == [["*", "soft", "nofile", "65536"], ["*", "hard", "nofile", "1048576"],
                     ["root", "soft", "nofile", "65536"], ["root", "hard", "nofile", "1048576"]]
    assert "[Manager]\nDefaultLimitNOFILE=65536:1048576\n" in root.join(limits.SYSTEM_DROPIN).read()
    dropin = root.join("etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf")
    assert "[Service]\nLimitNOFILE=65536:1048576\n" in dropin.read()
    assert stat.S_IMODE(os.stat(str(dropin)).st_mode) == 0o644

    again = sync(root, soft=65536, hard=1048576, services=["nginx", "haproxy"])
    assert again["changed"] is False and again["daemon_reload_needed"] is False


def test_refuses_above_nr_open_and_soft_above_hard(root):
    with pytest.raises(ApplyError) as caught:
        sync(root, soft=4000000, hard=2000000, services=["bad/name"])
    message = str(caught.value)
    assert "soft: 4000000 is above hard 2000000" in message
    assert "hard: 2000000 is above fs.nr_open 1048576" in message
    assert "'bad/name' is not a systemd service name" in message
    assert not root.join("etc").check()


def test_nr_open_set_in_same_run_is_accepted(root):
    result = sync(root, soft=2000000, hard=2000000, nr_open=4194304, login=False, default_limit=False,
                  services=["nginx"])
    assert result["nr_open"] == 4194304 and result["changed"] is True


def test_stale_service_dropins_and_disabled_files_are_removed(root):
    sync(root, soft=1024, hard=65536, services=["nginx", "haproxy"])
    foreign = root.join("etc/systemd/system/haproxy.service.d/10-local.conf")
    foreign.write("[Service]\nNice=5\n")
    result = sync(root, soft=1024, hard=65536, services=["nginx"], login=False)
    assert sorted(result["removed_files"]) == sorted([
        str(root.join("etc/systemd/system/haproxy.service.d/60-tcptune-nofile.conf")),
        str(root.join(limits.LIMITS_FILE))])
    assert foreign.check() and result["restart_needed"] == ["haproxy.service"]


def test_absent_removes_everything_and_is_idempotent(root):
    sync(root, soft=1024, hard=65536, services=["nginx"])
    result = sync(root, state="absent")
    assert result["changed"] is True and len(result["removed_files"]) == 3
    assert not root.join("etc/systemd/system/nginx.service.d").check()
    assert sync(root, state="absent")["changed"] is False


def test_check_mode_writes_nothing(root):
    result = sync(root, soft=1024, hard=65536, services=["nginx"], check_mode=True)
    assert result["changed"] is True and len(result["diff"]) == 3
    assert not root.join("etc").check()


def test_systemd_is_pid1(tmpdir):
    assert not limits.systemd_is_pid1(str(tmpdir))
    tmpdir.join("run/systemd/system").ensure(dir=True)
    assert limits.systemd_is_pid1(str(tmpdir))
