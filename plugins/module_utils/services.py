# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes read from /proc: a systemd service's main PID and the open-file limits of a PID."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file

UNLIMITED = -1  # how an "unlimited" rlimit is reported


def _limit(text):
    return UNLIMITED if text == "unlimited" else int(text)


def read_pid_nofile(proc_path, pid):
    """{soft, hard, open} of a PID from /proc/PID/limits and /proc/PID/fd, or None if it is gone."""
    text = read_file(os.path.join(proc_path, str(pid), "limits"))
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("Max open files"):
            parts = line[len("Max open files"):].split()
            try:
                opened = len(os.listdir(os.path.join(proc_path, str(pid), "fd")))
            except OSError:
                opened = None
            return {"soft": _limit(parts[0]), "hard": _limit(parts[1]), "open": opened}
    return None


def self_nofile():
    import resource  # noqa: local import keeps the module import set small

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return {"soft": UNLIMITED if soft == infinity else soft, "hard": UNLIMITED if hard == infinity else hard}


def _pids(proc_path):
    try:
        return [int(entry) for entry in os.listdir(proc_path) if entry.isdigit()]
    except OSError:
        return []


def _ppid(proc_path, pid):
    for line in (read_file(os.path.join(proc_path, str(pid), "status")) or "").splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return None


def find_service_pid(proc_path, name):
    """The main PID of a systemd service, read from /proc only (no systemctl, no shell).

    1. processes whose /proc/PID/cgroup names ``<name>.service``;
    2. else processes whose /proc/PID/comm is ``name`` (comm is cut to 15 characters).
    Of those, the one whose parent is not in the set (the top of the tree), lowest PID first.
    """
    unit = "/" + (name if name.endswith(".service") else name + ".service")
    short = name[:-len(".service")] if name.endswith(".service") else name
    by_cgroup = []
    by_comm = []
    for pid in _pids(proc_path):
        cgroup = read_file(os.path.join(proc_path, str(pid), "cgroup")) or ""
        if any(line.endswith(unit) or (unit + "/") in line for line in cgroup.splitlines()):
            by_cgroup.append(pid)
        elif (read_file(os.path.join(proc_path, str(pid), "comm")) or "").strip() == short[:15]:
            by_comm.append(pid)
    members = sorted(by_cgroup or by_comm)
    for pid in members:
        if _ppid(proc_path, pid) not in members:
            return pid
    return members[0] if members else None
