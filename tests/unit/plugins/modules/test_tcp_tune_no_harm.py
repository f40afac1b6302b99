# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""#17, do no harm on every path, through the real tcp_tune module on a copy of a host's /proc and /sys
with a fake root: revert, re-runs after a hand change, a lowering run, conntrack, outdated values,
containers. Each test is one defect of review-2026-12-03 (its number in the name's docstring)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

from ansible_collections.tcptune.linux.plugins.module_utils import sysctld
from ansible_collections.tcptune.linux.plugins.module_utils import apply
from ansible_collections.tcptune.linux.tests.unit.plugins.modules.module_runner import run_module, tune_args

BIG_HARD = 1211392  # 1.1 M connections in one process: above the kernel's nr_open default 1048576


def make_args(fixture_tree, tmpdir, **extra):
    args = tune_args(fixture_tree, tmpdir, **{"profile": "high_concurrency_server", "target_connections": 1100000, "txqueuelen": "off"})
    args.update(extra)
    return args


def live(args, key):
    with open(os.path.join(args["proc_path"], "sys", key.replace(".", "/"))) as handle:
        return " ".join(handle.read().split())


def set_live(args, key, value):
    with open(os.path.join(args["proc_path"], "sys", key.replace(".", "/")), "w") as handle:
        handle.write("%s\n" % value)


def read(path):
    with open(path) as handle:
        return handle.read()


def persisted(args):
    return sysctld.parse_sysctl_file(read(args["sysctl_path"]))


def under(args, path):
    return os.path.join(args["root"], path)


def tuned(fixture_tree, tmpdir, **extra):
    args = make_args(fixture_tree, tmpdir, **extra)
    first = run_module("tcp_tune", args, tmpdir)
    assert first["changed"] is True, first
    assert live(args, "fs.nr_open") == str(BIG_HARD)
    assert persisted(args)["fs.nr_open"] == str(BIG_HARD)
    assert "hard nofile %d" % BIG_HARD in " ".join(read(under(args, "etc/security/limits.d/60-tcptune-nofile.conf")).split())
    return args


def revert_args(args, **extra):
    keep = ("proc_path", "sys_path", "root", "sysctl_path", "state_dir", "sockets", "txqueuelen")
    reverted = dict((key, args[key]) for key in keep)
    reverted.update(state="absent", **extra)
    return reverted


def test_a_sysctl_tagged_revert_refuses_to_lower_nr_open_under_our_limits(fixture_tree, tmpdir):
    """Defect 1: --tags sysctl with state=absent lowered fs.nr_open under our own limits.d hard 1211392."""
    args = tuned(fixture_tree, tmpdir)
    files_before = read(args["sysctl_path"])
    refused = run_module("tcp_tune", revert_args(args, run_tags=["sysctl"]), tmpdir)
    assert refused.get("failed") is True, refused
    assert "60-tcptune-nofile.conf sets a hard nofile of %d" % BIG_HARD in refused["msg"]
    assert "Nothing was changed" in refused["msg"]
    assert live(args, "fs.nr_open") == str(BIG_HARD)
    assert read(args["sysctl_path"]) == files_before


def test_a_full_revert_refuses_to_lower_nr_open_under_another_files_limit(fixture_tree, tmpdir):
    """Defect 1: a full revert removed our limits but lowered fs.nr_open under an application's limit."""
    args = tuned(fixture_tree, tmpdir)
    app = under(args, "etc/security/limits.d/90-app.conf")
    with open(app, "w") as handle:
        handle.write("app hard nofile 1200000\n")
    refused = run_module("tcp_tune", revert_args(args), tmpdir)
    assert refused.get("failed") is True, refused
    assert "90-app.conf sets a hard nofile of 1200000" in refused["msg"]
    assert live(args, "fs.nr_open") == str(BIG_HARD)
    assert os.path.exists(under(args, "etc/security/limits.d/60-tcptune-nofile.conf"))
    os.unlink(app)
    done = run_module("tcp_tune", revert_args(args), tmpdir)
    assert done["changed"] is True, done
    assert live(args, "fs.nr_open") == "1048576"
    assert not os.path.exists(args["sysctl_path"]) and not os.path.exists(args["state_dir"])


def test_a_rerun_after_a_hand_raise_keeps_nr_open_in_the_file(fixture_tree, tmpdir):
    """Defect 2: after `sysctl -w fs.nr_open=2000000`, a balanced re-run rewrote the file without fs.nr_open
    while our limits.d kept hard 1211392: the next boot locked logins out."""
    args = tuned(fixture_tree, tmpdir)
    set_live(args, "fs.nr_open", 2000000)
    plain = dict((key, value) for key, value in args.items() if key != "target_connections")
    plain["profile"] = "balanced"
    again = run_module("tcp_tune", plain, tmpdir)
    assert again.get("failed") is not True, again
    assert persisted(args)["fs.nr_open"] == str(BIG_HARD)
    assert live(args, "fs.nr_open") == "2000000", "never lowered live"
    assert os.path.exists(under(args, "etc/security/limits.d/60-tcptune-nofile.conf"))
    assert again["result"]["applied"]["drift"]["fs.nr_open"] == {"persisted": str(BIG_HARD), "live": "2000000"}
    # our limits.d still needs it: a dependency, not an outdated value
    assert not any("fs.nr_open: outdated" in warning for warning in again["result"]["plan"]["warnings"])


def test_a_rerun_of_the_same_workload_keeps_somaxconn_raised_by_hand(fixture_tree, tmpdir):
    """Defect 2: somaxconn raised by hand above the plan was dropped from the file: 4096 after a reboot."""
    args = tuned(fixture_tree, tmpdir, accept_rate=30000)
    planned = persisted(args)["net.core.somaxconn"]
    assert int(planned) > 4096
    set_live(args, "net.core.somaxconn", 65535)
    again = run_module("tcp_tune", args, tmpdir)
    assert persisted(args)["net.core.somaxconn"] == planned
    assert live(args, "net.core.somaxconn") == "65535"
    assert "net.core.somaxconn" in again["result"]["applied"]["drift"]


def test_a_lowering_run_writes_the_limit_files_before_nr_open(fixture_tree, tmpdir):
    """Defect 5: a run that lowers both fs.nr_open and the hard limits wrote nr_open first: a kill between
    the two steps left hard 1211392 above nr_open 1048576. safe_order now picks limits first."""
    args = tuned(fixture_tree, tmpdir)
    sysctl = {"changed_keys": ["fs.nr_open"], "applied": {"fs.nr_open": 1048576}, "file_changed": True,
              "file_text": "fs.nr_open = 1048576\n"}
    limits_file = under(args, "etc/security/limits.d/60-tcptune-nofile.conf")
    dropin = under(args, "etc/systemd/system.conf.d/60-tcptune-nofile.conf")
    nofile = {"diff": [{"before_header": limits_file, "after": "* hard nofile 600000\n"},
                       {"before_header": dropin, "after": "[Manager]\nDefaultLimitNOFILE=1024:600000\n"}],
              "removed_files": []}
    first, dummy = apply.safe_order(args["root"], args["proc_path"], sysctl, nofile, args["sysctl_path"])
    assert first == "limits"
    # and the raise is the other way round
    sysctl_up = dict(sysctl, applied={"fs.nr_open": 4000000}, file_text="fs.nr_open = 4000000\n")
    nofile_up = {"diff": [{"before_header": limits_file, "after": "* hard nofile 3000000\n"},
                          {"before_header": dropin, "after": "[Manager]\nDefaultLimitNOFILE=1024:3000000\n"}],
                 "removed_files": []}
    first, dummy = apply.safe_order(args["root"], args["proc_path"], sysctl_up, nofile_up, args["sysctl_path"])
    assert first == "sysctl"


def test_a_lowering_run_through_the_module_ends_with_limits_below_nr_open(fixture_tree, tmpdir):
    args = tuned(fixture_tree, tmpdir)
    lower = dict(args, nofile_hard=600000, allow_lower=True, sysctl_overrides={"fs.nr_open": 1048576})
    done = run_module("tcp_tune", lower, tmpdir)
    assert done.get("failed") is not True, done
    assert live(args, "fs.nr_open") == "1048576"
    assert "hard nofile 600000" in " ".join(read(under(args, "etc/security/limits.d/60-tcptune-nofile.conf")).split())


def test_conntrack_keys_stay_in_the_file_while_the_module_is_unloaded_and_apply_when_it_loads(fixture_tree, tmpdir):
    """Defect 7: a re-run with nf_conntrack unloaded dropped its keys from the file; and a module loaded
    after systemd-sysctl never got them at boot. The file keeps them, and a udev rule applies them when the
    module loads (sysctl.d(5))."""
    args = tuned(fixture_tree, tmpdir)
    keys = persisted(args)
    assert "net.netfilter.nf_conntrack_max" in keys
    rule = read(under(args, "etc/udev/rules.d/60-tcptune-sysctl.rules"))
    assert 'SUBSYSTEM=="module", KERNEL=="nf_conntrack"' in rule and "--prefix=/net/netfilter" in rule
    shutil.rmtree(os.path.join(args["proc_path"], "sys/net/netfilter"))  # rmmod nf_conntrack
    again = run_module("tcp_tune", args, tmpdir)
    assert again.get("failed") is not True, again
    after = persisted(args)
    for key in ("net.netfilter.nf_conntrack_max", "net.netfilter.nf_conntrack_buckets"):
        assert after[key] == keys[key], key
    assert os.path.exists(under(args, "etc/udev/rules.d/60-tcptune-sysctl.rules"))
    reverted = run_module("tcp_tune", revert_args(args), tmpdir)
    assert reverted["changed"] is True
    assert not os.path.exists(under(args, "etc/udev/rules.d/60-tcptune-sysctl.rules"))


def test_values_an_older_version_persisted_are_reported_outdated(fixture_tree, tmpdir):
    """Defect 8: a 1.0.0 file (tcp_rmem[1] lowered to 16384, rmem_max 32 MiB) stayed forever with reason
    'persisted'. Now: a value below the kernel default is raised back to it (reason outdated); one no
    workload asks for is kept, with a warning naming what the current policy plans."""
    args = make_args(fixture_tree, tmpdir, profile="balanced")
    del args["target_connections"]
    old = "net.core.rmem_max = 33554432\nnet.ipv4.tcp_rmem = 4096 16384 6291456\n"
    with open(args["sysctl_path"], "w") as handle:
        handle.write("# Managed by tcptune.linux (tcp_sysctl). Do not edit: the next run overwrites this file.\n" + old)
    set_live(args, "net.core.rmem_max", 33554432)
    set_live(args, "net.ipv4.tcp_rmem", "4096\t16384\t6291456")
    result = run_module("tcp_tune", args, tmpdir)
    plan = result["result"]["plan"]
    reasons = dict((change["key"], change["reason"]["kind"]) for change in plan["changes"])
    assert reasons["net.ipv4.tcp_rmem"] == "outdated"
    assert live(args, "net.ipv4.tcp_rmem") == "4096 131072 33554432"  # the kernel default since 6.16
    assert any("net.core.rmem_max: outdated" in warning for warning in plan["warnings"])
    assert live(args, "net.core.rmem_max") == "33554432", "never lowered without allow_lower"


def test_revert_leaves_a_value_changed_since_our_run_alone(fixture_tree, tmpdir):
    """Defect 10: revert wrote back the value from before tuning over one an admin set after our run."""
    args = tuned(fixture_tree, tmpdir, accept_rate=30000)
    set_live(args, "net.core.somaxconn", 65535)
    reverted = run_module("tcp_tune", revert_args(args), tmpdir)
    assert reverted.get("failed") is not True, reverted
    assert live(args, "net.core.somaxconn") == "65535"
    assert any("net.core.somaxconn: left alone" in str(warning) for warning in reverted.get("warnings", []))


def test_a_host_network_container_plans_no_global_key(fixture_tree, tmpdir):
    """Defect 12: a privileged --network=host container (init netns, container=podman in pid 1's
    environment) planned and persisted host-global keys inside itself."""
    args = make_args(fixture_tree, tmpdir)
    os.makedirs(os.path.join(args["proc_path"], "1"))
    with open(os.path.join(args["proc_path"], "1/environ"), "w") as handle:
        handle.write("container=podman\0PATH=/usr/bin\0")
    result = run_module("tcp_tune", args, tmpdir, check=True)
    planned = result["result"]["settings"]
    for key in ("fs.nr_open", "net.ipv4.tcp_mem", "net.netfilter.nf_conntrack_max", "fs.file-max"):
        assert key not in planned, key
    assert result["result"]["container"] is True


def test_a_sysctl_path_the_boot_never_reads_is_refused_naming_the_role_variable(fixture_tree, tmpdir):
    """Defect 13 through tcp_tune: /etc/tcptune/sysctl.conf is never read by systemd-sysctl."""
    args = make_args(fixture_tree, tmpdir, option_names="role",
                     sysctl_path=os.path.join(str(tmpdir.join("root")), "etc/tcptune/sysctl.conf"))
    refused = run_module("tcp_tune", args, tmpdir, check=True)
    assert refused.get("failed") is True, refused
    assert refused["msg"].startswith("tcp_tuning_sysctl_path"), refused["msg"]
    assert not os.path.exists(args["sysctl_path"])


def test_a_sysctl_tagged_revert_goes_ahead_where_systemd_pid1_raises_nr_open_at_boot(fixture_tree, tmpdir):
    """Debian 13: systemd PID 1 sets fs.nr_open to 1073741816 at every boot, so removing our file lowers
    nothing: the revert is not refused (it was, on the VM, while the model assumed the kernel default)."""
    args = make_args(fixture_tree, tmpdir)
    set_live(args, "fs.nr_open", 1073741816)
    pid1 = under(args, "usr/lib/systemd/systemd")
    os.makedirs(os.path.dirname(pid1))
    with open(pid1, "wb") as handle:
        handle.write(b"\x7fELF...Successfully bumped fs.nr_open to %i\x00")
    assert run_module("tcp_tune", args, tmpdir)["changed"] is True
    assert persisted(args)["fs.nr_open"] == "1073741816"
    done = run_module("tcp_tune", revert_args(args, run_tags=["sysctl"]), tmpdir)
    assert done.get("failed") is not True, done
    assert not os.path.exists(args["sysctl_path"])
    assert live(args, "fs.nr_open") == "1073741816"
