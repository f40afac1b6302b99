# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for descriptors and epoll: nofile limits, fs.nr_open, fs.file-max, fs.epoll.max_user_watches."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_memory import (
    SAFE_MEMORY_FRACTION, sockets_that_fit)
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import (
    dependency_reason, finding_reason, live, plan_key, settable, workload_reason)

FD_HEADROOM_FRACTION = 0.10  # descriptors on top of the sockets (logs, pipes, epoll, ...)
EPOLL_WATCH_HEADROOM = 1.10  # watches on top of the sockets (pipes, timers, signalfds in the same event loops)
NOFILE_BASE = 1024
NOFILE_FLOOR = 65536
FILE_MAX_BASE = 65536


def rule_epoll_watches(ctx):
    """fs.epoll.max_user_watches: one user's event loops may watch every declared socket (a server's
    accepted sockets, both sides of a proxy, a client's connects), sockets x 1.10, when that passes the
    value in force. The watches' memory is in PER_SOCKET_TABLE (measured with the sockets in epoll)."""
    host = ctx["host"]
    key = "fs.epoll.max_user_watches"
    sockets, _fit = sockets_that_fit(ctx)
    need = int(math.ceil(sockets * EPOLL_WATCH_HEADROOM)) if sockets else None
    reason = None
    if need:
        reason = workload_reason(ctx["work"], ["target_connections", "sockets_per_connection"],
                                 "%d sockets in one user's epoll instances need %d watches" % (sockets, need))
    formula = "max(live, sockets x %.2f)" % EPOLL_WATCH_HEADROOM
    source = ("fs/eventpoll.c: ep_insert() fails with ENOSPC once the user's epoll_watches reach max_user_watches; "
              "eventpoll_init(): default 4 % of RAM / EP_ITEM_COST")
    if settable(host, key):
        plan_key(ctx, key, need, reason, formula, {"sockets": sockets}, source)
        return
    live_value = live(host, key)
    if need and live_value is not None and need > live_value:
        ctx["skip_wanted"][key] = need
        ctx["warnings"].append("epoll: fs.epoll.max_user_watches is %d but %d sockets in one user's epoll instances "
                               "need %d; it is global: raise it on the host" % (live_value, sockets, need))


def rule_files(ctx):
    """nofile: login soft 1024 / hard H, services soft = hard = H; fs.nr_open and fs.file-max stay in
    the plan (persisted) whenever H or the files needed pass their kernel defaults."""
    host, work = ctx["host"], ctx["work"]
    sockets, fit = sockets_that_fit(ctx)
    if fit is not None:
        ctx["warnings"].append("files: limits sized for %d connections, the most that fit in %d %% of memory, "
                               "not for the %s asked" % (fit, SAFE_MEMORY_FRACTION * 100, work["target_connections"]))
    finding = host["findings"].get("fd_pressure")
    # Only a system-wide shortage (file-nr near fs.file-max, with its evidence) raises fs.file-max; a process near
    # its own soft limit, or a service with a low soft nofile (info), is what the nofile limits address.
    evidence = (finding or {}).get("evidence") or {}
    system_wide = finding if "files.allocated" in evidence and "files.max" in evidence else None
    if not sockets and not work["services"] and not finding:
        ctx["limits"] = {}
        ctx["explain"]["limits.nofile"] = {
            "value": None, "reason": None, "note": "no declared connections or services and no fd_pressure finding"}
        return
    per_process = sockets + int(math.ceil(sockets * FD_HEADROOM_FRACTION)) + NOFILE_BASE
    hard = min(max(NOFILE_FLOOR, int(math.ceil(per_process / 1024.0)) * 1024), catalogue.NR_OPEN_MAX)
    nr_open_live = host["files"].get("nr_open") or live(host, "fs.nr_open") or kd.NR_OPEN_DEFAULT
    if sockets:
        reason = workload_reason(work, ["target_connections", "sockets_per_connection"],
                                 "%d sockets in one process need %d descriptors" % (sockets, per_process))
    elif work["services"]:
        reason = workload_reason(work, ["services"], "services declared")
    elif system_wide:
        reason = finding_reason(finding, "the system file table is near fs.file-max (%s of %s allocated)"
                                % (evidence["files.allocated"], evidence["files.max"]))
    else:
        reason = finding_reason(finding, "a process is near its nofile soft limit, or a named service runs with a "
                                         "low soft nofile")
    nr_open = nr_open_live
    # Above the kernel default, or with a live nr_open someone lowered (a file that lowers it again at boot
    # would break logins under our limit): plan it and keep it persisted while the limit depends on it.
    if hard > kd.NR_OPEN_DEFAULT or nr_open_live <= min(hard, kd.NR_OPEN_DEFAULT - 1):
        dependency = dependency_reason("nofile hard %d needs fs.nr_open >= %d (live %d, kernel default %d); it must "
                                       "stay raised and persisted or logins fail after a reboot"
                                       % (hard, hard, nr_open_live, kd.NR_OPEN_DEFAULT))
        if settable(host, "fs.nr_open"):
            nr_open = plan_key(ctx, "fs.nr_open", max(hard, nr_open_live), dependency, "max(live, nofile hard)",
                               {"nofile_hard": hard}, "facts §7 (fs/file.c sysctl_nr_open)", persist=True)
        else:
            ctx["skip_wanted"]["fs.nr_open"] = max(hard, nr_open_live)
    if hard > nr_open:
        ctx["warnings"].append(
            "files: one process may need %d descriptors but fs.nr_open is %d and cannot be raised here; nofile "
            "stays at %d (a nofile above nr_open breaks PAM logins): spread the connections over at least %d "
            "processes or raise fs.nr_open on the host"
            % (hard, nr_open, nr_open, int(math.ceil(per_process / float(nr_open)))))
        hard = nr_open
    file_max_live = host["files"].get("max") or live(host, "fs.file-max") or kd.file_max(host)
    file_need = sockets + int(math.ceil(sockets * FD_HEADROOM_FRACTION)) + FILE_MAX_BASE
    if system_wide:
        file_need = max(file_need, kd.file_max(host) * 2)  # not the live value: it would double every run
    file_max = file_max_live
    if file_need > kd.file_max(host) or system_wide:
        dependency = dependency_reason("%d open files needed; the kernel default fs.file-max here is %d"
                                       % (file_need, kd.file_max(host)))
        if system_wide and file_need == kd.file_max(host) * 2:
            dependency = finding_reason(system_wide, "the system file table is near fs.file-max (%s of %s "
                                        "allocated): twice the kernel default %d"
                                        % (evidence["files.allocated"], evidence["files.max"], kd.file_max(host)))
        if settable(host, "fs.file-max"):
            file_max = plan_key(ctx, "fs.file-max", max(file_need, file_max_live), dependency,
                                "max(live, sockets x %.2f + %d)" % (1 + FD_HEADROOM_FRACTION, FILE_MAX_BASE),
                                {"sockets": sockets}, "facts §7 (files_maxfiles_init)", persist=True)
        elif file_need > file_max_live:
            ctx["skip_wanted"]["fs.file-max"] = file_need
            ctx["warnings"].append("files: fs.file-max is %d but %d sockets need about %d open files; it is "
                                   "global: raise it on the host" % (file_max_live, sockets, file_need))
    ctx["limits"] = {"login": {"soft": min(kd.FD_SETSIZE, hard), "hard": hard},
                     "services": {"soft": hard, "hard": hard}, "nr_open": nr_open, "file_max": file_max}
    ctx["predicted"].update({"files_needed": file_need, "file_max_current": file_max_live,
                             "file_max_suffices": file_need <= file_max, "nofile_needed_per_process": per_process,
                             "nr_open_current": nr_open_live, "nr_open_suffices": per_process <= nr_open})
    ctx["explain"]["limits.nofile"] = {
        "value": ctx["limits"], "reason": reason, "note": None,
        "formula": "hard = max(%d, roundup(sockets x %.2f + %d, 1024)), never above fs.nr_open; login sessions "
                   "keep soft %d (select()); services soft = hard"
                   % (NOFILE_FLOOR, 1 + FD_HEADROOM_FRACTION, NOFILE_BASE, kd.FD_SETSIZE),
        "inputs": {"sockets": sockets, "per_process_files": per_process, "nr_open_live": nr_open_live},
        "kernel_default": {"soft": 1024, "hard": 4096}, "source": "facts §7"}
