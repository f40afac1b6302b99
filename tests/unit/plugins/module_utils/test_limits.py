# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""limits.py on a temporary root: what logins, services and systemd's default get, and the
fs.nr_open ceiling (live and persisted)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import hoststate, limits
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError

BIG = 2097152  # above systemd's default hard 524288


@pytest.fixture
def root(tmpdir):
    """A host whose fs.nr_open is 4 Mi live and persisted by an admin's sysctl file."""
    tmpdir.join("proc/sys/fs/nr_open").write("4194304\n", ensure=True)
    tmpdir.join("etc/sysctl.d/50-admin.conf").write("fs.nr_open = 4194304\n", ensure=True)
    return tmpdir


def sync(root, **kwargs):
    kwargs.setdefault("proc_path", str(root.join("proc")))
    return limits.sync_limits(root=str(root), **kwargs)


def entries(text):
    return [line.split() for line in text.splitlines() if not line.startswith("#")]


def test_big_hard_logins_keep_soft_1024_root_listed_services_soft_equals_hard(root):
    result = sync(root, hard=BIG, services=["nginx.service", "haproxy"])
    assert result["changed"] is True and result["daemon_reload_needed"] is True
    assert result["restart_needed"] == ["haproxy.service", "nginx.service"]
    conf = root.join(limits.LIMITS_FILE).read()
    assert conf.startswith(limits.HEADER)
    assert entries(conf) == [["*", "soft", "nofile", "1024"], ["*", "hard", "nofile", "2097152"],
                             ["root", "soft", "nofile", "1024"], ["root", "hard", "nofile", "2097152"]]
    assert root.join(limits.SYSTEM_DROPIN).read() == limits.HEADER + "[Manager]\nDefaultLimitNOFILE=1024:2097152\n"
    dropin = root.join("etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf")
    assert dropin.read() == limits.HEADER + "[Service]\nLimitNOFILE=2097152:2097152\n"
    assert stat.S_IMODE(os.stat(str(dropin)).st_mode) == 0o644
    assert result["systemd_default"] == {"soft": 1024, "hard": 524288, "source": "systemd >= 240 built-in default"}

    again = sync(root, hard=BIG, services=["nginx", "haproxy"])
    assert again["changed"] is False and again["daemon_reload_needed"] is False


def test_login_soft_when_asked(root):
    sync(root, hard=BIG, login_soft=8192, default_limit=False)
    assert entries(root.join(limits.LIMITS_FILE).read())[0] == ["*", "soft", "nofile", "8192"]


def test_hard_not_above_systemd_default_lowers_nothing(root):
    """65536 would lower the 524288 every unit and every login gets from systemd >= 240."""
    result = sync(root, hard=65536, services=["nginx"])
    assert not root.join(limits.SYSTEM_DROPIN).check()
    assert "would lower for every unit" in result["left_out"]["DefaultLimitNOFILE"]
    assert not root.join(limits.LIMITS_FILE).check() and "login" in result["left_out"]
    dropin = root.join("etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf").read()
    assert "LimitNOFILE=65536:524288\n" in dropin  # soft rises, hard is not lowered


def test_allow_lower_writes_the_planned_hard_but_never_default_limit(root):
    sync(root, hard=65536, services=["nginx"], allow_lower=True)
    assert ["*", "hard", "nofile", "65536"] in entries(root.join(limits.LIMITS_FILE).read())
    assert "LimitNOFILE=65536:65536\n" in root.join("etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf").read()
    assert not root.join(limits.SYSTEM_DROPIN).check()


def test_default_limit_follows_the_configured_systemd_default(root):
    root.join("etc/systemd/system.conf").write("[Manager]\n#DefaultLimitNOFILE=1024:524288\n", ensure=True)
    root.join("usr/lib/systemd/system.conf.d/10-vendor.conf").write("[Manager]\nDefaultLimitNOFILE=4096:1048576\n",
                                                                    ensure=True)
    assert hoststate.systemd_default_nofile(hoststate.HostFiles(str(root)), None)[:2] == (4096, 1048576)
    result = sync(root, hard=BIG, login=False)
    assert result["systemd_default"]["hard"] == 1048576
    assert "DefaultLimitNOFILE=4096:2097152\n" in root.join(limits.SYSTEM_DROPIN).read()
    # Our own drop-in does not count as systemd's default, so the second run agrees with the first.
    ours = (str(root.join(limits.SYSTEM_DROPIN)),)
    assert hoststate.systemd_default_nofile(hoststate.HostFiles(str(root)), None, exclude=ours)[:2] == (4096, 1048576)
    assert sync(root, hard=BIG, login=False)["changed"] is False
    # An admin's /etc drop-in masks the vendor one of the same name; a later name wins.
    root.join("etc/systemd/system.conf.d/10-vendor.conf").write("[Manager]\nDefaultLimitNOFILE=8192\n", ensure=True)
    assert hoststate.systemd_default_nofile(hoststate.HostFiles(str(root)), None, exclude=ours)[:2] == (8192, 8192)


def test_parse_nofile():
    assert hoststate.parse_nofile("1024:524288") == (1024, 524288)
    assert hoststate.parse_nofile("65536") == (65536, 65536)
    assert hoststate.parse_nofile("infinity")[1] == hoststate.INFINITY
    with pytest.raises(ValueError):
        hoststate.parse_nofile("1:2:3")


def test_refuses_above_live_nr_open(root):
    root.join("proc/sys/fs/nr_open").write("1048576\n")
    with pytest.raises(ApplyError) as caught:
        sync(root, login_soft=4000000, hard=2000000, services=["bad/name"])
    message = str(caught.value)
    assert "soft: 4000000 is above hard 2000000" in message
    assert "hard: 2000000 is above fs.nr_open 1048576" in message
    assert "'bad/name' is not a systemd service name" in message
    assert not root.join("etc/security").check() and not root.join("etc/systemd").check()


def test_refuses_above_persisted_nr_open(root):
    """Live 4 Mi set by hand, but the next boot comes up with the kernel default 1 Mi: pam_limits
    would then fail every login."""
    root.join("etc/sysctl.d/50-admin.conf").remove()
    with pytest.raises(ApplyError) as caught:
        sync(root, hard=BIG)
    assert "above fs.nr_open 1048576" in str(caught.value)
    assert caught.value.result["nr_open_detail"] == {"live": 4194304, "persisted": 1048576,
                                                     "persisted_by": "kernel default"}


def test_persisted_nr_open_follows_sysctl_order(root):
    root.join("etc/sysctl.d/90-later.conf").write("fs.nr_open=2097152\n")
    root.join("usr/lib/sysctl.d/99-vendor.conf").write("fs.nr_open = 8388608\n", ensure=True)
    value, source = hoststate.boot_nr_open(hoststate.HostFiles(str(root)))
    assert (value, source) == (8388608, str(root.join("usr/lib/sysctl.d/99-vendor.conf")))


def test_planned_nr_open_stands_for_live_and_persisted(root):
    """Check mode: tcp_sysctl would raise fs.nr_open in the same run."""
    root.join("proc/sys/fs/nr_open").write("1048576\n")
    result = sync(root, hard=BIG, nr_open=BIG, check_mode=True)
    assert result["nr_open"] == BIG and result["changed"] is True
    assert not root.join("etc/security").check()


def test_stale_service_dropins_and_disabled_files_are_removed(root):
    sync(root, hard=BIG, services=["nginx", "haproxy"])
    foreign = root.join("etc/systemd/system/haproxy.service.d/10-local.conf")
    foreign.write("[Service]\nNice=5\n")
    result = sync(root, hard=BIG, services=["nginx"], login=False)
    assert sorted(result["removed_files"]) == sorted([
        str(root.join("etc/systemd/system/haproxy.service.d/60-tcptune-nofile.conf")),
        str(root.join(limits.LIMITS_FILE))])
    assert foreign.check() and result["restart_needed"] == ["haproxy.service"]


def test_absent_removes_everything_and_is_idempotent(root):
    sync(root, hard=BIG, services=["nginx"])
    result = sync(root, state="absent")
    assert result["changed"] is True and len(result["removed_files"]) == 3
    assert not root.join("etc/systemd/system/nginx.service.d").check()
    assert sync(root, state="absent")["changed"] is False


def test_check_mode_writes_nothing(root):
    result = sync(root, hard=BIG, services=["nginx"], check_mode=True)
    assert result["changed"] is True and len(result["diff"]) == 3
    assert not root.join("etc/security").check() and not root.join("etc/systemd").check()


def test_unwritable_path_names_the_path(root):
    root.join("etc/security").ensure(dir=True)
    root.join("etc/security/limits.d").write("not a directory")
    with pytest.raises(ApplyError) as caught:
        sync(root, hard=BIG, default_limit=False)
    assert str(caught.value).startswith(str(root.join(limits.LIMITS_FILE)) + ": ")
    assert caught.value.result["failed_path"] == str(root.join(limits.LIMITS_FILE))


def test_systemd_is_pid1(tmpdir):
    assert not limits.systemd_is_pid1(str(tmpdir))
    tmpdir.join("run/systemd/system").ensure(dir=True)
    assert limits.systemd_is_pid1(str(tmpdir))


def test_hard_nofile_settings_and_lockout(root):
    pam = "# comment\n@staff - nofile 300000\n* soft nofile 999999\n"
    root.join("etc/security/limits.conf").write(pam, ensure=True)
    root.join("etc/security/limits.d/10-big.conf").write("root hard nofile unlimited\n", ensure=True)
    unit = "[Service]\nLimitNOFILE=2000000\n"
    root.join("etc/systemd/system/db.service.d/override.conf").write(unit, ensure=True)
    root.join("etc/systemd/system.conf").write("[Manager]\nDefaultLimitNOFILE=1024:infinity\n", ensure=True)
    configured = hoststate.configured_hard_nofile(hoststate.HostFiles(str(root)), 1048576, None)
    assert sorted(value for value, dummy in configured) == [300000, 2000000]
    files = hoststate.HostFiles(str(root))
    assert hoststate.lockout_errors(files, 1048576, None, boot=(1048576, "this run")) == [
        "%s sets a hard nofile of 2000000, above the live fs.nr_open 1048576"
        % root.join("etc/systemd/system/db.service.d/override.conf")]
    assert hoststate.lockout_errors(files, 2000000, None, boot=(2000000, "this run")) == []


def test_lockout_errors_reads_the_next_boot_from_the_files(root):
    """Live 4 Mi is enough, but the admin's file sets 1 Mi at the next boot: the limit breaks logins then."""
    root.join("etc/security/limits.d/10-big.conf").write("* hard nofile 2000000\n", ensure=True)
    root.join("etc/sysctl.d/50-admin.conf").write("fs.nr_open = 1048576\n")
    files = hoststate.HostFiles(str(root))
    assert hoststate.lockout_errors(files, 4194304, None) == [
        "%s sets a hard nofile of 2000000, above the fs.nr_open 1048576 the next boot sets (%s)"
        % (root.join("etc/security/limits.d/10-big.conf"), root.join("etc/sysctl.d/50-admin.conf"))]
    assert hoststate.lockout_errors(files.with_changes({str(root.join("etc/sysctl.d/50-admin.conf")): None}),
                                    4194304, None, boot=(4194304, "ours")) == []


# --- #17: the nofile files never lower what the host gives (review 2026-12-03, defects 3 and 17) ---

def test_limits_conf_soft_and_hard_are_never_lowered_for_logins(root):
    """limits.conf gives every session soft 1048576 / hard 2097152: our file must not bring them to
    1024 / 1211392 (pam_limits: a later '*' entry replaces an earlier one)."""
    root.join("etc/security/limits.conf").write("*  soft nofile 1048576\n*  hard nofile 2097152\n", ensure=True)
    sync(root, hard=1211392, default_limit=False)
    files = hoststate.HostFiles(str(root))
    after = hoststate.login_nofile(hoststate.pam_nofile_entries(files), (1024, 524288), 4194304)
    assert (after["soft"], after["hard"]) == (1048576, 2097152)
    # root has no line in limits.conf: its session still gets the planned hard from our file
    as_root = hoststate.login_nofile(hoststate.pam_nofile_entries(files), (1024, 524288), 4194304, root=True)
    assert as_root["hard"] == 1211392


def test_limits_conf_soft_kept_while_our_hard_rises(root):
    root.join("etc/security/limits.conf").write("*  soft nofile 1048576\n*  hard nofile 1048576\n", ensure=True)
    result = sync(root, hard=1211392, default_limit=False)
    assert entries(root.join(limits.LIMITS_FILE).read()) == [
        ["*", "hard", "nofile", "1211392"], ["root", "soft", "nofile", "1024"], ["root", "hard", "nofile", "1211392"]]
    assert "not above" in result["left_out"]["* soft"]
    after = hoststate.login_nofile(hoststate.pam_nofile_entries(hoststate.HostFiles(str(root))), (1024, 524288),
                                   4194304)
    assert (after["soft"], after["hard"]) == (1048576, 1211392)
    assert result["written"][str(root.join(limits.LIMITS_FILE))]["domains"]["*"] == {"hard": 1211392}


def test_a_later_limits_file_that_wins_over_ours_is_named(root):
    root.join("etc/security/limits.d/90-app.conf").write("* hard nofile 65536\n", ensure=True)
    result = sync(root, hard=BIG, default_limit=False)
    assert any("90-app.conf sets nofile hard 65536 after our file" in item for item in result["warnings"])


def test_unit_with_limitnofile_infinity_gets_no_lower_dropin(root):
    root.join("usr/lib/systemd/system/containerd.service").write(
        "[Service]\nExecStart=/usr/bin/containerd\nLimitNOFILE=infinity\n", ensure=True)
    result = sync(root, hard=221184, services=["containerd"])
    assert not root.join("etc/systemd/system/containerd.service.d/60-tcptune-nofile.conf").check()
    assert "infinity" in result["left_out"]["containerd.service"]
    assert result["restart_needed"] == []


def test_unit_hard_above_the_plan_is_kept_in_the_dropin(root):
    root.join("etc/systemd/system/db.service").write("[Service]\nLimitNOFILE=4096:2000000\n", ensure=True)
    result = sync(root, hard=221184, services=["db"])
    dropin = root.join("etc/systemd/system/db.service.d/60-tcptune-nofile.conf").read()
    assert "LimitNOFILE=221184:2000000\n" in dropin
    assert result["written"][str(root.join("etc/systemd/system/db.service.d/60-tcptune-nofile.conf"))] == {
        "kind": "service", "unit": "db.service", "soft": 221184, "hard": 2000000}


def test_a_later_unit_dropin_that_wins_over_ours_is_named(root):
    root.join("etc/systemd/system/db.service").write("[Service]\nExecStart=/bin/true\n", ensure=True)
    root.join("etc/systemd/system/db.service.d/99-admin.conf").write("[Service]\nLimitNOFILE=4096\n", ensure=True)
    result = sync(root, hard=221184, services=["db"])
    assert any("99-admin.conf sets LimitNOFILE after our drop-in" in item for item in result["warnings"])


def test_systemd_before_240_gives_4096_so_a_221184_limit_is_written(root):
    """RHEL 7 / Ubuntu 18.04: units and logins inherit 1024:4096, so 221184 raises both."""
    root.join("usr/lib/systemd/libsystemd-shared-237.so").write("", ensure=True)
    result = sync(root, hard=221184)
    assert result["systemd_default"]["hard"] == 4096
    assert ["*", "hard", "nofile", "221184"] in entries(root.join(limits.LIMITS_FILE).read())
    assert "DefaultLimitNOFILE=1024:221184\n" in root.join(limits.SYSTEM_DROPIN).read()


def test_login_nofile_follows_pam_limits_precedence():
    entries_ = [("a", "*", "soft", "4096"), ("a", "*", "hard", "8192"), ("b", "root", "-", "65536"),
                ("c", "*", "hard", "unlimited"), ("d", "@wheel", "hard", "16")]
    user = hoststate.login_nofile(entries_, (1024, 524288), 1048576)
    assert (user["soft"], user["hard"], user["hard_from"]) == (4096, 1048576, "c")
    as_root = hoststate.login_nofile(entries_, (1024, 524288), 1048576, root=True)
    assert (as_root["soft"], as_root["hard"]) == (65536, 65536)


def test_the_next_boot_gives_what_systemd_pid1_bumps_fs_nr_open_to_where_it_is_built_to(root):
    """Debian 13's systemd raises fs.nr_open to 1073741816 at every boot (bump_file_max_and_nr_open);
    Debian 11 and 12 build without it, so the kernel's 1048576 holds where no sysctl.d file sets it."""
    root.join("etc/sysctl.d/50-admin.conf").remove()
    root.join("usr/lib/systemd/systemd").write_binary(b"\x7fELF...Successfully bumped fs.nr_open to %i\x00", ensure=True)
    assert hoststate.boot_nr_open(hoststate.HostFiles(str(root)))[0] == 1073741816
    root.join("usr/lib/systemd/systemd").write_binary(b"\x7fELF...Skipping nothing\x00")
    assert hoststate.boot_nr_open(hoststate.HostFiles(str(root))) == (1048576, "kernel default")
    # a sysctl.d file still wins: systemd-sysctl runs after PID 1
    root.join("etc/sysctl.d/50-admin.conf").write("fs.nr_open = 2097152\n")
    assert hoststate.boot_nr_open(hoststate.HostFiles(str(root)))[0] == 2097152
