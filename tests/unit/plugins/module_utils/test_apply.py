# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply.py on temporary /proc trees: validation, order, rollback, conflicts, revert, lock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import stat
import time

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import (
    apply, catalogue, catalogue_values, fileutil, host_detect, sysctl_apply, sysctl_check, sysctl_live, sysctld)

# Kernel-formatted text: triples and pairs are tab-separated, like the real /proc/sys.
LIVE = {
    "fs.nr_open": "1048576",
    "fs.file-max": "2466183",
    "net.core.somaxconn": "4096",
    "net.core.rmem_max": "212992",
    "net.ipv4.tcp_mem": "285495\t380661\t570990",
    "net.ipv4.tcp_rmem": "4096\t131072\t6291456",
    "net.ipv4.tcp_fin_timeout": "60",
    "net.ipv4.ip_local_port_range": "32768\t60999",
    "net.ipv4.ip_local_reserved_ports": "",
    "net.ipv4.tcp_congestion_control": "cubic",
}


def make_proc(root, init=True, release="6.18.44-test"):
    proc = root.join("proc")
    for name, text in LIVE.items():
        if name == "net.ipv4.tcp_mem" and not init:
            continue
        path = proc.join("sys", catalogue.proc_relpath(name))
        path.dirpath().ensure(dir=True)
        path.write(text + "\n")
    proc.join("sys/kernel/osrelease").write(release + "\n", ensure=True)
    return str(proc)


def live(proc, name):
    with open(os.path.join(proc, "sys", catalogue.proc_relpath(name))) as handle:
        return handle.read()


def snapshot(root):
    """Every file under ``root`` with its bytes, for 'nothing changed' checks."""
    files = {}
    for dirpath, dummy_b, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                files[path] = handle.read()
    return files


@pytest.fixture
def env(tmpdir):
    proc = make_proc(tmpdir)
    sysctl_d = tmpdir.join("etc/sysctl.d").ensure(dir=True)
    return {
        "root": tmpdir,
        "proc_path": proc,
        "path": str(sysctl_d.join("60-tcptune.conf")),
        "state_dir": str(tmpdir.join("state")),
        "sysctl_sources": [str(sysctl_d), str(tmpdir.join("etc/sysctl.conf"))],
    }


def run(env, settings, **kwargs):
    args = dict((k, env[k]) for k in ("proc_path", "path", "state_dir", "sysctl_sources"))
    args.update(kwargs)
    return sysctl_apply.apply_settings(settings, **args)


def revert(env, **kwargs):
    args = dict((k, env[k]) for k in ("proc_path", "path", "state_dir"))
    args.update(kwargs)
    return sysctl_apply.revert_settings(**args)


def test_nothing_to_set_leaves_a_host_without_our_file_untouched(env):
    """An empty plan (a healthy host, nothing declared) wrote a header-only sysctl.d file, created the
    state directory and reported changed: the fleet report then called the host "tuned"."""
    before = snapshot(env["root"])
    everything = apply.apply_all(settings={}, path=env["path"], state_dir=env["state_dir"],
                                 proc_path=env["proc_path"], sysctl_sources=env["sysctl_sources"],
                                 root=str(env["root"]))
    assert everything["changed"] is False and snapshot(env["root"]) == before
    assert not os.path.exists(env["path"]) and not os.path.exists(env["state_dir"])
    assert run(env, {})["changed"] is False and not os.path.exists(env["path"])  # tcp_sysctl alone


# ------------------------------------------------------------------ values

def test_same_value_compares_values_not_text():
    rmem = catalogue.get("net.ipv4.tcp_rmem")
    assert sysctld.same_value(rmem, "4096\t131072\t6291456", [4096, 131072, 6291456])
    assert not sysctld.same_value(rmem, "4096 131072 6291456", "4096 131072 6291457")
    ports = catalogue.get("net.ipv4.ip_local_reserved_ports")
    assert sysctld.same_value(ports, "8080,9000-9010", "8080, 9000-9010")
    assert not sysctld.same_value(catalogue.get("net.core.somaxconn"), None, 4096)


def test_raise_is_elementwise_and_keeps_triples_ordered():
    rmem = catalogue.get("net.ipv4.tcp_rmem")
    assert catalogue_values.raised(rmem, [4096, 131072, 6291456], [8192, 87380, 16777216]) == [8192, 131072, 16777216]
    assert catalogue_values.raised(rmem, [4096, 900000, 1000000], [4096, 16384, 2000000]) == [4096, 900000, 2000000]
    somaxconn = catalogue.get("net.core.somaxconn")
    assert catalogue_values.raised(somaxconn, 4096, 1024) == 4096
    assert catalogue_values.raised(somaxconn, 4096, 65535) == 65535


def test_in_init_netns_follows_global_only_entries(tmpdir):
    # apply uses host_detect's detector; the trees it builds must read as the namespace they model
    assert host_detect.in_init_netns(make_proc(tmpdir.join("a"), init=True))
    assert not host_detect.in_init_netns(make_proc(tmpdir.join("b"), init=False))


def test_parse_sysctl_file_syntax():
    text = "# c\n; c\nnet.core.somaxconn = 1024\n-net/ipv4/tcp_fin_timeout=30\n\nbad line\n"
    assert sysctld.parse_sysctl_file(text) == {"net.core.somaxconn": "1024",
                                               "net.ipv4.tcp_fin_timeout": "30"}


# ------------------------------------------------------------------ validation

def test_all_errors_reported_at_once_and_nothing_changed(env):
    before = snapshot(env["root"])
    with pytest.raises(fileutil.ApplyError) as caught:
        run(env, {"net.ipv4.no_such_key": 1,
                  "net.core.somaxconn": "many",
                  "net.ipv4.tcp_rmem": [4096, 87380, 65536],
                  "net.ipv4.tcp_fin_timeout": 1,
                  "net.ipv4.tcp_tw_recycle": 1})
    message = str(caught.value)
    errors = caught.value.result["errors"]
    assert len(errors) == 6, errors  # tcp_tw_recycle=1 breaks two rules
    for needle in ("net.ipv4.no_such_key: not a key", "net.core.somaxconn: expected one integer",
                   "net.ipv4.tcp_rmem: the three values must not decrease",
                   "net.ipv4.tcp_fin_timeout: 1 is outside the accepted range",
                   "net.ipv4.tcp_tw_recycle: removed in Linux 4.12"):
        assert needle in message
    assert snapshot(env["root"]) == before


# ------------------------------------------------------------------ apply

def test_apply_writes_reads_back_persists_and_is_idempotent(env):
    settings = {"net.ipv4.tcp_rmem": "4096 131072 33554432", "net.core.somaxconn": 65535,
                "net.ipv4.tcp_fin_timeout": 60, "fs.nr_open": 2097152}
    result = run(env, settings)
    assert result["changed"] is True
    assert result["changed_keys"] == ["fs.nr_open", "net.core.somaxconn", "net.ipv4.tcp_rmem"]
    assert result["previous"] == {"fs.nr_open": 1048576, "net.core.somaxconn": 4096,
                                  "net.ipv4.tcp_rmem": [4096, 131072, 6291456]}
    assert live(env["proc_path"], "net.core.somaxconn").strip() == "65535"
    assert live(env["proc_path"], "net.ipv4.tcp_rmem").split() == ["4096", "131072", "33554432"]
    with open(env["path"]) as handle:
        text = handle.read()
    assert text.startswith("# Managed by tcptune.linux (tcp_sysctl). Do not edit")
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == ["fs.nr_open = 2097152", "net.core.somaxconn = 65535",
                    "net.ipv4.tcp_rmem = 4096 131072 33554432", "net.ipv4.tcp_fin_timeout = 60"]
    assert stat.S_IMODE(os.stat(env["path"]).st_mode) == 0o644
    inode = os.stat(env["path"]).st_ino

    # The kernel reads back with tabs; the second run sees equal values and an equal file.
    os.chmod(os.path.join(env["proc_path"], "sys/net/core/somaxconn"), 0o644)
    again = run(env, settings)
    assert again["changed"] is False
    assert again["changed_keys"] == [] and again["previous"] == {}
    assert os.stat(env["path"]).st_ino == inode


def test_drift_names_keys_changed_by_hand_since_the_last_run(env):
    settings = {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": 30}
    assert run(env, settings)["drift"] == {}  # no file of ours yet: nothing to drift from
    with open(os.path.join(env["proc_path"], "sys/net/ipv4/tcp_fin_timeout"), "w") as handle:
        handle.write("45\n")
    result = run(env, settings, check_mode=True)
    assert result["drift"] == {"net.ipv4.tcp_fin_timeout": {"persisted": "30", "live": "45"}}
    assert result["changed_keys"] == ["net.ipv4.tcp_fin_timeout"]
    run(env, settings)
    assert run(env, settings)["drift"] == {}


def test_writes_follow_catalogue_order_and_skip_equal_values(env):
    written = []

    def recording_writer(path, text):
        written.append(os.path.relpath(path, env["proc_path"]))
        fileutil.write_text(path, text)

    run(env, {"net.ipv4.tcp_fin_timeout": 30, "net.core.somaxconn": 8192, "fs.nr_open": 2097152,
              "net.ipv4.ip_local_port_range": [32768, 60999]}, writer=recording_writer)
    assert written == ["sys/fs/nr_open", "sys/net/core/somaxconn", "sys/net/ipv4/tcp_fin_timeout"]


def test_raise_mode_never_lowers(env):
    result = run(env, {"net.core.somaxconn": 1024, "net.ipv4.tcp_rmem": [8192, 65536, 16777216]},
                 mode="raise")
    assert result["changed_keys"] == ["net.ipv4.tcp_rmem"]
    assert live(env["proc_path"], "net.core.somaxconn").strip() == "4096"
    assert live(env["proc_path"], "net.ipv4.tcp_rmem").split() == ["8192", "131072", "16777216"]
    assert "net.core.somaxconn = 4096" in open(env["path"]).read()


def test_diff_shows_live_values_and_file(env):
    result = run(env, {"net.core.somaxconn": 65535})
    live_diff, file_diff = result["diff"]
    assert live_diff["before"] == "net.core.somaxconn = 4096\n"
    assert live_diff["after"] == "net.core.somaxconn = 65535\n"
    assert file_diff["before"] == "" and "net.core.somaxconn = 65535" in file_diff["after"]


def test_check_mode_writes_nothing_and_predicts(env):
    before = snapshot(env["root"])
    result = run(env, {"net.core.somaxconn": 65535, "fs.nr_open": 1048576}, check_mode=True)
    assert result["changed"] is True and result["changed_keys"] == ["net.core.somaxconn"]
    assert snapshot(env["root"]) == before
    assert not os.path.exists(env["state_dir"])


# ------------------------------------------------------------------ containers and unsupported keys

def test_global_key_never_written_from_child_netns_even_if_writable(tmpdir):
    proc = make_proc(tmpdir, init=False)
    path = str(tmpdir.join("60-tcptune.conf"))
    result = sysctl_apply.apply_settings({"fs.file-max": 4000000, "net.core.rmem_max": 67108864,
                                          "net.core.somaxconn": 65535},
                                         path=path, state_dir=str(tmpdir.join("s")), proc_path=proc,
                                         sysctl_sources=[])
    assert result["in_init_netns"] is False
    assert set(result["skipped_keys"]) == {"fs.file-max", "net.core.rmem_max"}
    assert result["skipped_keys"]["fs.file-max"].startswith("global key: set it on the host")
    assert live(proc, "fs.file-max") == "2466183\n"
    assert live(proc, "net.core.rmem_max") == "212992\n"
    assert result["changed_keys"] == ["net.core.somaxconn"]
    text = open(path).read()
    assert "# fs.file-max not set: global key: set it on the host" in text
    assert "\nfs.file-max" not in text


def test_unsupported_fail_stops_before_any_change(tmpdir):
    proc = make_proc(tmpdir, init=False)
    before = snapshot(tmpdir)
    with pytest.raises(fileutil.ApplyError) as caught:
        sysctl_apply.apply_settings({"fs.file-max": 4000000, "net.core.somaxconn": 65535},
                                    path=str(tmpdir.join("x.conf")), state_dir=str(tmpdir.join("s")),
                                    proc_path=proc, unsupported="fail", sysctl_sources=[])
    assert "fs.file-max: global key" in str(caught.value)
    assert snapshot(tmpdir) == before


def test_absent_and_read_only_keys_are_skipped(env, monkeypatch):
    real_access = os.access
    read_only = os.path.join(env["proc_path"], "sys/net/ipv4/tcp_fin_timeout")
    monkeypatch.setattr(sysctl_live.os, "access",
                        lambda path, how: False if path == read_only else real_access(path, how))
    result = run(env, {"net.ipv4.tcp_fin_timeout": 30, "net.ipv4.tcp_keepalive_time": 600})
    assert result["skipped_keys"]["net.ipv4.tcp_fin_timeout"].startswith("read-only here")
    assert result["skipped_keys"]["net.ipv4.tcp_keepalive_time"].startswith("not present")
    assert live(env["proc_path"], "net.ipv4.tcp_fin_timeout") == "60\n"


# ------------------------------------------------------------------ rollback

def test_failed_write_rolls_back_and_leaves_files(env):
    def failing_writer(path, text):
        if path.endswith("tcp_rmem"):
            raise OSError(22, "Invalid argument")
        fileutil.write_text(path, text)

    with pytest.raises(fileutil.ApplyError) as caught:
        run(env, {"fs.nr_open": 2097152, "net.core.somaxconn": 65535,
                  "net.ipv4.tcp_rmem": [4096, 131072, 33554432], "net.ipv4.tcp_fin_timeout": 30},
            writer=failing_writer)
    message = str(caught.value)
    assert message.startswith("net.ipv4.tcp_rmem: setting 4096 131072 33554432 failed (EINVAL")
    assert "the 2 key(s) written before it were rolled back" in message
    assert caught.value.result["rolled_back"] == ["fs.nr_open", "net.core.somaxconn"]
    assert live(env["proc_path"], "fs.nr_open") == "1048576\n"
    assert live(env["proc_path"], "net.core.somaxconn") == "4096\n"
    assert live(env["proc_path"], "net.ipv4.tcp_fin_timeout") == "60\n"
    assert not os.path.exists(env["path"])
    assert not os.path.exists(sysctl_apply.state_file(env["state_dir"], env["path"]))


def test_read_back_mismatch_rolls_back(env):
    def lying_writer(path, text):
        fileutil.write_text(path, "7" if text == "30" else text)

    with pytest.raises(fileutil.ApplyError) as caught:
        run(env, {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": 30}, writer=lying_writer)
    assert "net.ipv4.tcp_fin_timeout" in str(caught.value) and "read back '7'" in str(caught.value)
    assert live(env["proc_path"], "net.core.somaxconn") == "4096\n"
    assert live(env["proc_path"], "net.ipv4.tcp_fin_timeout") == "60\n"


def test_rollback_keeps_earlier_state_record(env):
    run(env, {"net.core.somaxconn": 8192})
    record = open(sysctl_apply.state_file(env["state_dir"], env["path"])).read()
    persisted = open(env["path"]).read()

    def failing_writer(path, text):
        if path.endswith("fin_timeout"):
            raise OSError(13, "Permission denied")
        fileutil.write_text(path, text)

    with pytest.raises(fileutil.ApplyError):
        run(env, {"net.core.somaxconn": 8192, "fs.nr_open": 2097152, "net.ipv4.tcp_fin_timeout": 30},
            writer=failing_writer)
    assert open(sysctl_apply.state_file(env["state_dir"], env["path"])).read() == record
    assert open(env["path"]).read() == persisted
    assert live(env["proc_path"], "fs.nr_open") == "1048576\n"


# ------------------------------------------------------------------ conflicts

def test_later_boot_files_with_other_values_are_reported(env):
    root = env["root"]
    root.join("etc/sysctl.d/10-early.conf").write("net.core.somaxconn = 1024\n")
    root.join("etc/sysctl.d/99-late.conf").write("net.core.somaxconn=2048\nnet.ipv4.tcp_fin_timeout = 30\n")
    root.join("etc/sysctl.d/70-same.conf").write("net.core.somaxconn = 65535\n")
    root.join("etc/sysctl.conf").write("net/ipv4/tcp_rmem = 4096 87380 6291456\n")
    result = run(env, {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": 30,
                       "net.ipv4.tcp_rmem": "4096\t131072\t6291456"})
    late = str(root.join("etc/sysctl.d/99-late.conf"))
    assert result["overridden_by"] == {
        "net.core.somaxconn": [{"file": late, "value": "2048"}],
        "net.ipv4.tcp_rmem": [{"file": str(root.join("etc/sysctl.conf")), "value": "4096 87380 6291456"}],
    }
    assert any("99-late.conf sets 2048" in warning for warning in result["warnings"])


def test_boot_file_order_merges_directories_by_name(tmpdir):
    etc = tmpdir.join("etc").ensure(dir=True)
    usr = tmpdir.join("usr").ensure(dir=True)
    usr.join("50-default.conf").write("a = 1\n")
    usr.join("70-x.conf").write("a = 1\n")
    etc.join("70-x.conf").write("a = 2\n")
    conf = tmpdir.join("sysctl.conf")
    conf.write("a = 3\n")
    etc.join("99-sysctl.conf").mksymlinkto(conf)
    files = sysctld.boot_files([str(etc), str(usr), str(conf)])
    assert files == [str(usr.join("50-default.conf")), str(etc.join("70-x.conf")),
                     str(etc.join("99-sysctl.conf"))]


def test_same_name_in_higher_priority_directory_masks_our_file(tmpdir):
    etc = tmpdir.join("etc").ensure(dir=True)
    lib = tmpdir.join("lib").ensure(dir=True)
    etc.join("60-tcptune.conf").write("net.core.somaxconn = 128\n")
    found = sysctld.conflicts(str(lib.join("60-tcptune.conf")), {"net.core.somaxconn": 65535},
                              [str(etc), str(lib)])
    assert found == {"net.core.somaxconn": [{"file": str(etc.join("60-tcptune.conf")), "value": "128"}]}


# ------------------------------------------------------------------ revert

def test_revert_restores_first_recorded_values_and_removes_files(env):
    run(env, {"net.core.somaxconn": 8192})
    run(env, {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": 30})
    record = json.load(open(sysctl_apply.state_file(env["state_dir"], env["path"])))
    assert record["previous"] == {"net.core.somaxconn": "4096", "net.ipv4.tcp_fin_timeout": "60"}

    result = revert(env)
    assert result["changed"] is True
    assert result["changed_keys"] == ["net.ipv4.tcp_fin_timeout", "net.core.somaxconn"]
    assert live(env["proc_path"], "net.core.somaxconn") == "4096\n"
    assert live(env["proc_path"], "net.ipv4.tcp_fin_timeout") == "60\n"
    assert not os.path.exists(env["path"])
    assert not os.path.exists(sysctl_apply.state_file(env["state_dir"], env["path"]))
    assert revert(env)["changed"] is False


def test_revert_check_mode_changes_nothing(env):
    run(env, {"net.core.somaxconn": 8192})
    before = snapshot(env["root"])
    result = revert(env, check_mode=True)
    assert result["changed"] is True and result["changed_keys"] == ["net.core.somaxconn"]
    assert snapshot(env["root"]) == before


def test_revert_skips_global_keys_in_child_netns(env):
    run(env, {"fs.nr_open": 2097152, "net.core.somaxconn": 8192})
    result = revert(env, host=sysctl_check.host_facts(env["proc_path"], init_netns=False))
    assert result["skipped_keys"]["fs.nr_open"].startswith("global key")
    assert live(env["proc_path"], "fs.nr_open") == "2097152\n"
    assert live(env["proc_path"], "net.core.somaxconn") == "4096\n"


# ------------------------------------------------------------------ lock

def test_lock_times_out_when_held(env):
    os.makedirs(env["state_dir"])
    holder = os.open(os.path.join(env["state_dir"], "lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        with pytest.raises(fileutil.ApplyError) as caught:
            run(env, {"net.core.somaxconn": 8192}, lock_timeout=0.3)
        assert "another tcptune run holds" in str(caught.value)
        assert live(env["proc_path"], "net.core.somaxconn") == "4096\n"
    finally:
        os.close(holder)
    assert run(env, {"net.core.somaxconn": 8192}, lock_timeout=0.3)["changed"] is True


def test_a_run_waiting_while_the_holder_removes_the_lock_file_locks_the_new_file(tmpdir):
    """A full revert unlinks the lock it holds. A run that was already waiting on the old file gets its
    flock on the removed inode when the holder exits; it must see that and lock the file now at the
    path, or two runs would hold "the" lock at once."""
    state_dir = str(tmpdir.join("state"))
    lock_path = os.path.join(state_dir, "lock")
    holder = fileutil.Lock(state_dir)
    holder.__enter__()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the waiting run
        code = 1
        try:
            fileutil.Lock._held.clear()  # inherited from the holder: this process holds nothing
            with fileutil.Lock(state_dir, timeout=10) as waiter:
                held, at_path = os.fstat(waiter.fd), os.stat(lock_path)
                code = 0 if (held.st_dev, held.st_ino) == (at_path.st_dev, at_path.st_ino) else 2
        finally:
            os.write(writer, b"%d" % code)
            os._exit(0)
    os.close(writer)
    time.sleep(0.5)  # the child has opened the old file and polls for the flock
    holder.remove_if_alone()
    assert not os.path.exists(state_dir)
    holder.__exit__(None, None, None)
    os.waitpid(child, 0)
    assert os.read(reader, 8) == b"0"


def test_lock_is_kept_while_other_state_remains(tmpdir):
    state_dir = str(tmpdir.join("state"))
    with fileutil.Lock(state_dir) as lock:
        tmpdir.join("state/txqueuelen.json").write("{}")
        lock.remove_if_alone()
    assert os.path.exists(os.path.join(state_dir, "lock"))


def test_a_check_mode_lock_after_a_full_revert_locks_nothing(tmpdir):
    state_dir = str(tmpdir.join("state"))
    with fileutil.Lock(state_dir) as lock:
        lock.remove_if_alone()
    with fileutil.Lock(state_dir, timeout=0.3, create=False) as absent:
        assert absent.fd is None
    assert not os.path.exists(state_dir)
