# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_sysctl inside throwaway network namespaces (`unshare --net`), as root.

Each test runs its steps in ONE new namespace through netns_runner.py, with path and state_dir in
a temp dir. Only per-netns keys are ever changed. Global keys are requested with the host's
CURRENT value, so even a faulty module could not change the host; the test asserts they are skipped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import subprocess
import sys

import pytest

import ansible_collections
from preconditions import needs_unshare

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns_runner.py")
PER_NETNS = ["net.core.somaxconn", "net.ipv4.tcp_rmem", "net.ipv4.tcp_fin_timeout",
             "net.ipv4.ip_local_port_range", "net.ipv4.tcp_congestion_control"]


pytestmark = needs_unshare()


def host(name):
    with open("/proc/sys/" + name.replace(".", "/")) as handle:
        return handle.read()


def in_netns(tmpdir, steps):
    """Run ``steps`` in one fresh network namespace; returns the list of step results."""
    steps_file = tmpdir.join("steps.json")
    steps_file.write(json.dumps(steps))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(path) for path in ansible_collections.__path__] + [env.get("PYTHONPATH", "")])
    proc = subprocess.run(["unshare", "--net", sys.executable, RUNNER, str(steps_file)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    results = json.loads(proc.stdout.decode("utf-8"))
    for result in results:
        assert not (isinstance(result, dict) and "runner_error" in result), result["runner_error"]
    return results


def files_under(root):
    found = {}
    for dirpath, dummy_b, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                found[path] = hashlib.sha256(handle.read()).hexdigest()
    return found


@pytest.fixture
def args(tmpdir):
    tmpdir.join("etc/sysctl.d").ensure(dir=True)
    return {"path": str(tmpdir.join("etc/sysctl.d/60-tcptune.conf")),
            "state_dir": str(tmpdir.join("state")),
            "sysctl_dirs": [str(tmpdir.join("etc/sysctl.d"))]}


def module(args, settings=None, **extra):
    step = {"module": "tcp_sysctl", "args": dict(args)}
    if settings is not None:
        step["args"]["settings"] = settings
    for name in ("check", "diff"):
        if name in extra:
            step[name] = extra.pop(name)
    step["args"].update(extra)
    return step


SETTINGS = {"net.core.somaxconn": 12345, "net.ipv4.tcp_fin_timeout": 17,
            "net.ipv4.tcp_rmem": "4096 87380 7777777", "net.ipv4.ip_local_port_range": [20000, 50000]}


def test_live_values_set_in_netns_idempotent_and_host_untouched(tmpdir, args):
    host_before = dict((name, host(name)) for name in PER_NETNS)
    first, values, second = in_netns(tmpdir, [module(args, SETTINGS), {"read": PER_NETNS},
                                              module(args, SETTINGS, diff=True)])
    assert first["changed"] is True and first["in_init_netns"] is False
    assert first["changed_keys"] == ["net.core.somaxconn", "net.ipv4.tcp_rmem",
                                     "net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_port_range"]
    assert values["net.core.somaxconn"] == "12345\n"
    assert values["net.ipv4.tcp_rmem"] == "4096\t87380\t7777777\n"  # the kernel prints tabs
    assert values["net.ipv4.tcp_fin_timeout"] == "17\n"
    assert values["net.ipv4.ip_local_port_range"].split() == ["20000", "50000"]
    assert second["changed"] is False and second["changed_keys"] == []
    assert "net.ipv4.tcp_rmem = 4096 87380 7777777" in tmpdir.join("etc/sysctl.d/60-tcptune.conf").read()
    assert dict((name, host(name)) for name in PER_NETNS) == host_before


def test_kernel_rejection_rolls_back_and_leaves_files(tmpdir, args):
    """The kernel refuses a local port range that starts below ip_unprivileged_port_start (EINVAL), a rule
    the validator does not model: the write fails late, after other keys were written."""
    bad = dict(SETTINGS, **{"net.ipv4.ip_local_port_range": "20000 50000"})
    before, dummy, failed, after = in_netns(tmpdir, [
        {"read": PER_NETNS}, {"write": {"net.ipv4.ip_unprivileged_port_start": 30000}}, module(args, bad),
        {"read": PER_NETNS}])
    assert failed.get("failed") is True
    assert failed["msg"].startswith("net.ipv4.ip_local_port_range: setting 20000 50000 failed (EINVAL"), failed["msg"]
    assert "the 3 key(s) written before it were rolled back" in failed["msg"]
    assert failed["rolled_back"] == ["net.core.somaxconn", "net.ipv4.tcp_rmem", "net.ipv4.tcp_fin_timeout"]
    assert after == before
    assert not os.path.exists(args["path"])
    assert not os.path.exists(os.path.join(args["state_dir"], "tcp_sysctl-60-tcptune.conf.json"))


def test_revert_restores_netns_values_and_removes_files(tmpdir, args):
    before, applied, reverted, after, again = in_netns(tmpdir, [
        {"read": PER_NETNS}, module(args, SETTINGS), module(args, state="absent"), {"read": PER_NETNS},
        module(args, state="absent")])
    assert applied["changed"] is True
    assert reverted["changed"] is True
    assert sorted(reverted["changed_keys"]) == sorted(applied["changed_keys"])
    assert after == before
    assert not os.path.exists(args["path"])
    assert os.listdir(args["state_dir"]) == ["lock"]
    assert again["changed"] is False


def test_check_mode_leaves_proc_sys_and_files_byte_identical(tmpdir, args):
    tmpdir.join("etc/sysctl.d/99-late.conf").write("net.core.somaxconn = 1024\n")
    files_before = files_under(tmpdir)
    hash_before, predicted, hash_after = in_netns(tmpdir, [
        {"hash": True}, module(args, SETTINGS, check=True, diff=True), {"hash": True}])
    assert predicted["changed"] is True and len(predicted["changed_keys"]) == 4
    assert predicted["overridden_by"]["net.core.somaxconn"][0]["value"] == "1024"
    assert "net.core.somaxconn = 12345" in predicted["diff"][0]["after"]
    assert hash_after == hash_before
    files_after = files_under(tmpdir)
    files_after.pop(str(tmpdir.join("steps.json")))
    assert files_after == files_before
    assert not os.path.exists(args["state_dir"])


def test_check_mode_revert_changes_nothing(tmpdir, args):
    dummy_apply, hash_before, predicted, hash_after, files = in_netns(tmpdir, [
        module(args, SETTINGS), {"hash": True}, module(args, state="absent", check=True),
        {"hash": True}, {"read": ["net.core.somaxconn"]}])
    assert predicted["changed"] is True and "net.core.somaxconn" in predicted["changed_keys"]
    assert hash_after == hash_before and files["net.core.somaxconn"] == "12345\n"
    assert os.path.exists(args["path"])


def test_global_keys_are_skipped_in_netns_and_host_untouched(tmpdir, args):
    # Requested at the host's current value: a faulty module would still change nothing.
    globals_now = {"fs.file-max": int(host("fs.file-max")), "net.core.rmem_max": int(host("net.core.rmem_max"))}
    result, failed = in_netns(tmpdir, [
        module(args, dict(globals_now, **{"net.core.somaxconn": 12345})),
        module(dict(args, path=args["path"][:-len(".conf")] + "-2.conf"), dict(globals_now), unsupported="fail")])
    assert set(result["skipped_keys"]) == {"fs.file-max", "net.core.rmem_max"}
    for reason in result["skipped_keys"].values():
        assert reason.startswith("global key: set it on the host")
    assert result["changed_keys"] == ["net.core.somaxconn"]
    assert "# fs.file-max not set: global key" in open(args["path"]).read()
    assert failed.get("failed") is True and "fs.file-max: global key" in failed["msg"]
    assert not os.path.exists(args["path"][:-len(".conf")] + "-2.conf")
    assert int(host("fs.file-max")) == globals_now["fs.file-max"]
    assert int(host("net.core.rmem_max")) == globals_now["net.core.rmem_max"]
