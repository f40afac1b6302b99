# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tcp_sysctl module end to end on a temporary /proc tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sysctl_apply
from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import run_module, run_module_as_user


def make_args(tmpdir):
    sys_dir = tmpdir.join("proc/sys")
    sys_dir.join("kernel/osrelease").write("6.1.0-test\n", ensure=True)
    sys_dir.join("net/core/somaxconn").write("4096\n", ensure=True)
    sys_dir.join("net/ipv4/tcp_mem").write("1\t2\t3\n", ensure=True)
    sys_dir.join("net/ipv4/tcp_fin_timeout").write("60\n")
    tmpdir.join("etc/sysctl.d/99-late.conf").write("net.core.somaxconn = 1024\n", ensure=True)
    return {"proc_path": str(tmpdir.join("proc")), "path": str(tmpdir.join("etc/sysctl.d/60-tcptune.conf")),
            "state_dir": str(tmpdir.join("state")), "sysctl_dirs": [str(tmpdir.join("etc/sysctl.d"))],
            "settings": {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": "30"}}


def test_apply_reports_keys_conflicts_and_diff(tmpdir):
    args = make_args(tmpdir)
    result = run_module("tcp_sysctl", args, tmpdir, diff=True)
    assert result["changed"] is True, result
    assert result["changed_keys"] == ["net.core.somaxconn", "net.ipv4.tcp_fin_timeout"]
    assert result["previous"] == {"net.core.somaxconn": 4096, "net.ipv4.tcp_fin_timeout": 60}
    assert result["overridden_by"]["net.core.somaxconn"][0]["value"] == "1024"
    assert "99-late.conf sets 1024" in json.dumps(result["warnings"])  # str or WarningSummary
    assert result["diff"][0]["after"] == "net.core.somaxconn = 65535\nnet.ipv4.tcp_fin_timeout = 30\n"
    assert "skipped" not in result and result["skipped_keys"] == {}
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "65535\n"
    second = run_module("tcp_sysctl", args, tmpdir)
    assert second["changed"] is False and "diff" not in second


def test_check_mode_and_absent(tmpdir):
    args = make_args(tmpdir)
    predicted = run_module("tcp_sysctl", args, tmpdir, check=True)
    assert predicted["changed"] is True and not tmpdir.join("state").check()
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "4096\n"
    run_module("tcp_sysctl", args, tmpdir)
    reverted = run_module("tcp_sysctl", dict(args, state="absent"), tmpdir)
    assert reverted["changed"] is True
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "4096\n"
    assert not tmpdir.join("etc/sysctl.d/60-tcptune.conf").check()


def test_validation_failure_names_every_key(tmpdir):
    args = make_args(tmpdir)
    args["settings"] = {"net.core.somaxconn": 1, "net.ipv4.tcp_tw_recycle": 1, "bogus.key": 3}
    result = run_module("tcp_sysctl", args, tmpdir)
    assert result["failed"] is True
    assert len(result["errors"]) == 4
    for name in ("net.core.somaxconn", "net.ipv4.tcp_tw_recycle", "bogus.key"):
        assert name in result["msg"]
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "4096\n"


def test_raise_policy_returns_and_persists_what_was_written(tmpdir):
    """applied holds the raised value (what the role must compare with), not the requested one."""
    args = make_args(tmpdir)
    tmpdir.join("proc/sys/net/core/somaxconn").write("131072\n")
    args["settings"] = {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": 90}
    result = run_module("tcp_sysctl", dict(args, policy="raise"), tmpdir)
    assert result["applied"] == {"net.core.somaxconn": 131072, "net.ipv4.tcp_fin_timeout": 90}, result
    assert result["changed_keys"] == ["net.ipv4.tcp_fin_timeout"]
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "131072\n"
    assert "net.core.somaxconn = 131072\n" in tmpdir.join("etc/sysctl.d/60-tcptune.conf").read()
    assert run_module("tcp_sysctl", dict(args, policy="raise"), tmpdir)["changed"] is False


def test_mode_is_a_deprecated_alias_of_policy(tmpdir):
    args = make_args(tmpdir)
    tmpdir.join("proc/sys/net/core/somaxconn").write("131072\n")
    result = run_module("tcp_sysctl", dict(args, mode="raise"), tmpdir)
    assert result["applied"]["net.core.somaxconn"] == 131072, result
    assert "mode" in json.dumps(result.get("deprecations", []))


def test_without_root_one_clear_message(monkeypatch, capsys):
    monkeypatch.setattr(sysctl_apply, "apply_settings", None)  # must not be reached
    result = run_module_as_user("tcp_sysctl", {"settings": {"net.core.somaxconn": 8192}}, monkeypatch, capsys)
    assert result["failed"] is True and result["msg"].startswith("tcp_sysctl: writing /proc/sys")


def test_oserror_becomes_a_failure_naming_the_path(tmpdir):
    args = make_args(tmpdir)
    tmpdir.join("etc/sysctl.d/60-tcptune.conf").ensure(dir=True)  # a directory where the file goes
    result = run_module("tcp_sysctl", args, tmpdir)
    assert result["failed"] is True and "Traceback" not in result.get("module_stderr", ""), result
    assert str(tmpdir.join("etc/sysctl.d")) in result["msg"], result


def _with_limits(tmpdir, hard):
    args = make_args(tmpdir)
    tmpdir.join("proc/sys/fs/nr_open").write("4194304\n", ensure=True)
    tmpdir.join("root/etc/security/limits.d/60-tcptune-nofile.conf").write(
        "*      soft nofile 1024\n*      hard nofile %d\n" % hard, ensure=True)
    return dict(args, root=str(tmpdir.join("root")))


def test_refuses_nr_open_below_a_configured_hard_nofile(tmpdir):
    """--tags sysctl alone must not lower fs.nr_open under the limits file: pam_limits would fail every login."""
    args = _with_limits(tmpdir, 2097152)
    result = run_module("tcp_sysctl", dict(args, settings={"fs.nr_open": 1048576, "net.core.somaxconn": 8192}), tmpdir)
    assert result["failed"] is True, result
    assert result["msg"].startswith("fs.nr_open: 1048576 refused")
    assert "60-tcptune-nofile.conf sets a hard nofile of 2097152" in result["msg"]
    assert tmpdir.join("proc/sys/fs/nr_open").read() == "4194304\n"
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "4096\n"
    fine = run_module("tcp_sysctl", dict(args, settings={"fs.nr_open": 2097152}), tmpdir)
    assert fine["changed"] is True and fine["applied"]["fs.nr_open"] == 2097152, fine


def test_revert_refuses_to_restore_nr_open_under_the_limits(tmpdir):
    """state=absent restores fs.nr_open; with the limits file still there that is a lockout."""
    args = _with_limits(tmpdir, 1048576)
    tmpdir.join("proc/sys/fs/nr_open").write("1048576\n")
    run_module("tcp_sysctl", dict(args, settings={"fs.nr_open": 4194304}), tmpdir)
    tmpdir.join("root/etc/security/limits.d/60-tcptune-nofile.conf").write("* hard nofile 4194304\n")
    refused = run_module("tcp_sysctl", dict(args, state="absent"), tmpdir)
    assert refused["failed"] is True and "4194304" in refused["msg"], refused
    assert tmpdir.join("proc/sys/fs/nr_open").read() == "4194304\n"
    tmpdir.join("root/etc/security/limits.d/60-tcptune-nofile.conf").remove()
    reverted = run_module("tcp_sysctl", dict(args, state="absent"), tmpdir)
    assert reverted["changed"] is True and tmpdir.join("proc/sys/fs/nr_open").read() == "1048576\n"


# --- review-2026-12-03 #13: a persist file the boot never reads is refused before any change ----------------------

@pytest.mark.parametrize("relpath, rule, custom_dirs", [
    ("etc/sysctl.d/60-tcptune", "reads only files named *.conf", True),
    ("etc/tcptune/sysctl.conf", "not in a directory systemd-sysctl reads at boot", True),
    ("run/sysctl.d/60-tcptune.conf", "/run is a tmpfs", False),
    ("usr/lib/sysctl.d/60-tcptune.conf", "masked by {root}/etc/sysctl.d/60-tcptune.conf,", False),
])
@pytest.mark.parametrize("check", [False, True])
def test_a_path_the_boot_never_reads_fails_before_any_change(tmpdir, relpath, rule, custom_dirs, check):
    """cc78c24 wrote the values and the file, said ok changed=True, and everything was lost at the next reboot
    (check mode predicted the same success)."""
    args = dict(make_args(tmpdir), path=str(tmpdir.join(relpath)), root=str(tmpdir))
    if not custom_dirs:
        del args["sysctl_dirs"]  # the directories systemd-sysctl reads, under root
        tmpdir.join("etc/sysctl.d/60-tcptune.conf").write("net.core.somaxconn = 8192\n", ensure=True)
    result = run_module("tcp_sysctl", args, tmpdir, check=check)
    assert result.get("failed") is True, result
    assert result["msg"].startswith("path %s: " % args["path"]), result["msg"]
    assert rule.format(root=str(tmpdir)) in result["msg"], result["msg"]
    assert result["msg"].endswith("lost at the next reboot. Nothing was changed.")
    assert tmpdir.join("proc/sys/net/core/somaxconn").read() == "4096\n"
    assert not tmpdir.join(relpath).check() and not tmpdir.join("state").check()


def test_only_a_file_the_boot_reads_is_written_and_a_revert_is_never_refused(tmpdir):
    args = dict(make_args(tmpdir), path=str(tmpdir.join("usr/local/lib/sysctl.d/60-tcptune.conf")), root=str(tmpdir))
    del args["sysctl_dirs"]
    refused = run_module("tcp_sysctl", dict(args, path=str(tmpdir.join("usr/local/lib/tcptune.conf"))), tmpdir)
    assert refused.get("failed") is True and "not in a directory systemd-sysctl reads" in refused["msg"], refused
    result = run_module("tcp_sysctl", args, tmpdir)
    assert result["changed"] is True and tmpdir.join("usr/local/lib/sysctl.d/60-tcptune.conf").check(), result
    # a later masking file does not stop a revert: state=absent is never refused for the path
    tmpdir.join("etc/sysctl.d/60-tcptune.conf").write("net.core.somaxconn = 8192\n", ensure=True)
    reverted = run_module("tcp_sysctl", dict(args, state="absent"), tmpdir)
    assert reverted["changed"] is True and tmpdir.join("proc/sys/net/core/somaxconn").read() == "4096\n", reverted
