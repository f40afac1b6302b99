# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fileutil: what a SIGKILL in the middle of atomic_write or of a revert leaves, and how the next run
removes it (issue #17, I5: "The next run also removes stale temp files. A revert leaves no file of ours.").

A killed write is a forked child that SIGKILLs itself inside atomic_write: no except or finally runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

from ansible_collections.tcptune.linux.plugins.module_utils import fileutil


def killed_write(path, text, at="replace", mode=0o644):
    """atomic_write(path, text) in a child killed by SIGKILL just before os.<at> runs."""
    pid = os.fork()
    if pid == 0:
        try:
            def die(*args, **kwargs):
                os.kill(os.getpid(), signal.SIGKILL)

            setattr(os, at, die)
            fileutil.atomic_write(path, text, mode)
        finally:
            os._exit(3)  # not reached when the kill landed
    dummy, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def dot_files(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith("."))


def write(path, text):
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        handle.write(text)


def test_a_killed_write_keeps_the_old_file_and_leaves_a_marked_temp_file_no_boot_reader_takes(tmp_path):
    path = str(tmp_path / "60-tcptune.conf")
    write(path, "net.core.somaxconn = 4096\n")
    killed_write(path, "net.core.somaxconn = 32768\n")
    assert open(path).read() == "net.core.somaxconn = 4096\n"
    temps = dot_files(str(tmp_path))
    assert len(temps) == 1 and temps[0].startswith(".60-tcptune.conf.")
    # Before: ".60-tcptune.conf.XXXXXXXX", no mark saying whose it is.
    assert temps[0].endswith(fileutil.TEMP_MARK) and not temps[0].endswith((".conf", ".rules", ".link", ".json"))
    assert fileutil.temp_target(temps[0]) == "60-tcptune.conf"


def test_remove_stale_removes_what_killed_writes_left_and_nothing_else(tmp_path):
    etc, state = str(tmp_path / "etc/sysctl.d"), str(tmp_path / "var/lib/tcptune")
    path, record = os.path.join(etc, "60-tcptune.conf"), os.path.join(state, "tcp_sysctl-60-tcptune.conf.json")
    killed_write(path, "net.core.somaxconn = 32768\n", at="fsync")
    killed_write(record, "{}\n", at="replace", mode=0o600)
    write(os.path.join(state, "lock"), "")
    old_style = os.path.join(etc, ".60-tcptune.conf.k3j4h5g6")  # as tempfile.mkstemp named it before
    write(old_style, "net.core.somaxconn = 1\n")
    others = {  # the admin's files, and a temp file of a name we were not asked about
        os.path.join(etc, "99-admin.conf"): "net.core.somaxconn = 8192\n",
        os.path.join(etc, ".60-tcptune.conf.swp"): "vim\n",
        os.path.join(etc, "60-tcptune.conf~"): "backup\n",
        os.path.join(etc, ".99-admin.conf.abcd1234" + fileutil.TEMP_MARK): "not ours to judge\n",
    }
    for other, text in others.items():
        write(other, text)
    link = os.path.join(etc, ".60-tcptune.conf.zzzzzzzz" + fileutil.TEMP_MARK)
    os.symlink(os.path.join(etc, "99-admin.conf"), link)
    stale = [os.path.join(etc, name) for name in dot_files(etc) if name.endswith(fileutil.TEMP_MARK)
             and name.startswith(".60-tcptune.conf.") and not os.path.islink(os.path.join(etc, name))]
    stale += [os.path.join(state, name) for name in dot_files(state)]
    assert len(stale) == 2

    removed = fileutil.remove_stale([path], dirs=[state])

    assert removed == sorted(stale + [old_style])
    assert os.listdir(state) == ["lock"]
    assert not os.path.exists(path)  # a killed first write: still no file at all
    for other, text in others.items():
        assert open(other).read() == text
    assert os.path.islink(link)  # not a file atomic_write makes: left alone, and not followed
    assert fileutil.remove_stale([path], dirs=[state]) == []


def test_remove_stale_leaves_a_write_in_progress_alone(tmp_path):
    path = str(tmp_path / "90-tcptune-txqueuelen.rules")
    started_r, started_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a live run, paused between its fsync and its rename
        try:
            real_replace = os.replace

            def paused(*args):
                os.write(started_w, b"x")
                os.read(go_r, 1)
                return real_replace(*args)

            os.replace = paused
            fileutil.atomic_write(path, "new\n")
            os._exit(0)
        finally:
            os._exit(1)
    try:
        assert os.read(started_r, 1) == b"x"
        temps = dot_files(str(tmp_path))
        assert len(temps) == 1
        assert fileutil.remove_stale([path]) == []
        assert dot_files(str(tmp_path)) == temps
    finally:
        os.write(go_w, b"g")
        dummy, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert open(path).read() == "new\n" and dot_files(str(tmp_path)) == []


def test_the_next_write_of_a_file_removes_the_temp_files_its_killed_writes_left(tmp_path):
    path = str(tmp_path / "60-tcptune-nofile.conf")
    killed_write(path, "*  hard nofile 600000\n", at="fsync")
    killed_write(path, "*  hard nofile 600000\n", at="replace")
    write(str(tmp_path / ".60-tcptune-nofile.conf.abcdefgh"), "left by an older version\n")
    assert len(dot_files(str(tmp_path))) == 3
    fileutil.atomic_write(path, "*  hard nofile 600000\n")
    assert open(path).read() == "*  hard nofile 600000\n"
    assert dot_files(str(tmp_path)) == []


def test_a_revert_removes_the_lock_and_state_dir_although_a_killed_run_half_wrote_a_record(tmp_path):
    # The review's crash case: a SIGKILL while the state record is written left .tcp_sysctl-*.json.XXXX
    # and the lock in /var/lib/tcptune, and a later revert left them behind.
    state = str(tmp_path / "var/lib/tcptune")
    with fileutil.Lock(state):
        killed_write(os.path.join(state, "tcp_sysctl-60-tcptune.conf.json"), "{}\n", mode=0o600)
    assert len(dot_files(state)) == 1
    with fileutil.Lock(state, create=False) as lock:
        lock.remove_if_alone()
    assert not os.path.exists(state)


def test_a_revert_killed_between_removing_the_lock_and_the_state_dir_is_finished_by_the_next_revert(tmp_path):
    state = str(tmp_path / "var/lib/tcptune")
    os.makedirs(state)  # the lock is gone, the empty directory is not
    with fileutil.Lock(state, timeout=0.3, create=False) as lock:
        assert lock.fd is None
        lock.remove_if_alone()
    assert not os.path.exists(state)
    assert os.path.isdir(str(tmp_path / "var/lib"))


def test_remove_stale_prunes_a_drop_in_directory_that_held_only_a_temp_file(tmp_path):
    system = tmp_path / "etc/systemd/system"
    ours = str(system / "redis.service.d")
    admin = str(system / "nginx.service.d")
    killed_write(os.path.join(ours, "60-tcptune-nofile.conf"), "[Service]\nLimitNOFILE=600000:600000\n")
    killed_write(os.path.join(admin, "60-tcptune-nofile.conf"), "[Service]\nLimitNOFILE=600000:600000\n")
    write(os.path.join(admin, "override.conf"), "[Service]\nEnvironment=A=1\n")
    paths = [os.path.join(directory, "60-tcptune-nofile.conf") for directory in (ours, admin)]
    assert len(fileutil.remove_stale(paths, prune=[ours, admin])) == 2
    assert not os.path.exists(ours)
    assert os.listdir(admin) == ["override.conf"]


def test_a_lock_whose_state_dir_a_revert_removes_meanwhile_is_taken_on_a_new_one(tmp_path, monkeypatch):
    state = str(tmp_path / "var/lib/tcptune")
    lock_path = os.path.join(state, "lock")
    real_open = os.open
    raced = []

    def open_after_a_revert(path, flags, *args):
        if path == lock_path and not raced:
            raced.append(True)
            os.rmdir(state)  # the holder's full revert removed it between our makedirs and our open
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_after_a_revert)
    with fileutil.Lock(state, timeout=2) as lock:
        assert lock.fd is not None and os.path.exists(lock_path)
    assert raced


def test_temp_target_names_only_atomic_write_temp_files():
    assert fileutil.temp_target(".60-tcptune.conf.ab_d1234" + fileutil.TEMP_MARK) == "60-tcptune.conf"
    assert fileutil.temp_target(".txqueuelen.json.k3j4h5g6") == "txqueuelen.json"
    for name in ("60-tcptune.conf", ".60-tcptune.conf.swp", ".bashrc", "lock", ".x.toolong12", ".x.ABCDEFGH"):
        assert fileutil.temp_target(name) is None, name
