# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-run transaction over sysctl keys, nofile limits and txqueuelen together (apply_all, revert_all),
in an order that never locks anyone out (safe_order).

The host facts come from the caller (sysctl_check.host_facts); the settings are validated once
(sysctl_check.check_settings). One sysctl batch is sysctl_apply.py, its live writes sysctl_live.py; files and
the lock are fileutil.py, sysctl.d precedence sysctld.py. No AnsibleModule here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_values, fileutil, hoststate, limits, txqueue, txqueue_persist)
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils import sysctl_check
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (
    ApplyError, Lock, restore, snapshot, write_text)
from ansible_collections.tcptune.linux.plugins.module_utils.sysctl_apply import (
    DEFAULT_STATE_DIR, apply_checked, revert_settings, state_file)
from ansible_collections.tcptune.linux.plugins.module_utils.sysctl_live import rollback
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import DEFAULT_PATH

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

COMPONENT_NAMES = ("sysctl", "limits", "txqueuelen")


def _txqueue_paths(result, state_dir):
    return [item["before_header"] for item in result["diff"][1:]] + [txqueue.state_path(state_dir)]


def _file_changes(sysctl, nofile, path):
    # type: (Optional[Dict[str, Any]], Optional[Dict[str, Any]], str) -> Tuple[Dict[str, Optional[str]], Dict[str, Optional[str]]]
    """{path: text or None} the sysctl and limits components would leave, from their check-mode results."""
    sysctl_files, limit_files = {}, {}
    if sysctl is not None and sysctl["file_changed"]:
        sysctl_files[path] = sysctl["file_text"]
    if nofile is not None:
        for item in nofile["diff"]:
            limit_files[item["before_header"]] = None if item["before_header"] in nofile["removed_files"] \
                else item["after"]
    return sysctl_files, limit_files


def _violations(files, nr_open_live, version):
    return set(hoststate.lockout_errors(files, nr_open_live, version))


def safe_order(root, proc_path, sysctl, nofile, path, reverting=False):
    # type: (str, str, Optional[Dict[str, Any]], Optional[Dict[str, Any]], str, bool) -> Tuple[str, List[str]]
    """I1 and I5: the order ("sysctl" first or "limits" first) in which every state the run passes
    through, and the one it ends in, keeps each configured hard nofile limit at most fs.nr_open, live
    and at the next boot. Limits the host already breaks before the run are left out of the check (the
    run does not make them worse), and returned as warnings. Raises ApplyError naming what would break."""
    files = hoststate.HostFiles(root)
    version = limits.systemd_version(root)
    live_before = limits.read_nr_open(proc_path) or kd.NR_OPEN_DEFAULT
    live_after = live_before
    if sysctl is not None and "fs.nr_open" in sysctl["changed_keys"]:
        live_after = int(sysctl["applied"]["fs.nr_open"])
    sysctl_files, limit_files = _file_changes(sysctl, nofile, path)
    before = _violations(files, live_before, version)
    final = _violations(files.with_changes(dict(sysctl_files, **limit_files)), live_after, version)
    if final - before:
        verb = "reverting" if reverting else "this run"
        raise ApplyError("fs.nr_open: %s would leave hard nofile limits above fs.nr_open, and pam_limits would then "
                         "refuse every login (units would fail to start): %s. Lower or remove those limits first. "
                         "Nothing was changed." % (verb, "; ".join(sorted(final - before))),
                         {"errors": sorted(final - before)})
    steps = {
        # sysctl writes live values first, then its file; limits writes its files.
        "sysctl": [(live_after, {}), (live_after, sysctl_files), (live_after, dict(sysctl_files, **limit_files))],
        "limits": [(live_before, limit_files), (live_after, limit_files), (live_after, dict(sysctl_files, **limit_files))],
    }
    for first in ("limits", "sysctl") if reverting else ("sysctl", "limits"):
        if all(not (_violations(files.with_changes(changes), live, version) - before)
               for live, changes in steps[first]):
            return first, sorted(before)
    raise ApplyError("fs.nr_open and the hard nofile limits cannot be changed in an order that keeps every login "
                     "working at each step; change fs.nr_open and the limits in two runs. Nothing was changed.")


def _remove_stale(root, path, state_dir, module_rules_path=None, txqueuelen_request=None):
    """I5: the temp files a killed run left next to every file of ours and in state_dir (fileutil.remove_stale),
    and a drop-in directory that held nothing else."""
    queue = txqueuelen_request or {}
    rules = queue.get("rules_path") or os.path.join(root, txqueue_persist.DEFAULT_RULES_PATH.lstrip("/"))
    link = queue.get("link_path") or os.path.join(root, txqueue_persist.DEFAULT_LINK_PATH.lstrip("/"))
    dropins = glob.glob(os.path.join(glob.escape(root), "etc/systemd/system/*.service.d"))
    paths = [path, os.path.join(root, limits.LIMITS_FILE), os.path.join(root, limits.SYSTEM_DROPIN), rules,
             (link[:-len(".link")] if link.endswith(".link") else link) + "*.link"]
    paths += [os.path.join(directory, limits.FILE_NAME) for directory in dropins]
    if module_rules_path:
        paths.append(module_rules_path)
    return fileutil.remove_stale(paths, dirs=[state_dir], prune=dropins)


def apply_all(settings=None, limits_request=None, txqueuelen_request=None, path=DEFAULT_PATH, policy="set",
              state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sys_path="/sys", root="/", sysctl_sources=None,
              check_mode=False, lock_timeout=30.0, writer=None, host=None, persist_only=None,
              module_rules_path=None):
    """sysctl keys, nofile limits and txqueuelen as one transaction. None leaves a component out.

    - ``host``: sysctl_check.host_facts, from the caller's facts (read here when None).
    - ``settings``: {key: value} for sysctl_apply.apply_settings (keys the kernel or the namespace lacks are
      skipped), validated once; ``persist_only`` and ``module_rules_path`` as there.
    - ``limits_request``: keyword arguments of limits.sync_limits (hard, login_soft, services, login,
      default_limit, allow_lower, state).
    - ``txqueuelen_request``: keyword arguments of txqueue.apply_txqueuelen (values, or patterns and
      value; include_virtual, persist, allow_lower, rules_path, link_path, run_path).

    Every component is validated and diffed first (nothing written when any is refused): the hard
    nofile limit against the fs.nr_open written in the same run, else the live and persisted one; then
    the host as the run leaves it, and every state on the way, must keep every configured hard nofile
    limit (ours and others') at most fs.nr_open, live and at the next boot (safe_order). Then sysctl
    and limits in that order, then txqueuelen. On a failure anywhere, the live sysctl and txqueuelen
    values written so far and every file the run touched are put back, and ApplyError says so. Returns
    {changed, sysctl, limits, txqueuelen, order, lockout_warnings} (None for a component left out).
    Check mode stops after the validation and diff.
    """
    host = host or sysctl_check.host_facts(proc_path)
    init_netns = host["init_netns"]
    sysctl_args = dict(path=path, mode=policy, unsupported="skip", state_dir=state_dir, proc_path=proc_path,
                       sysctl_sources=sysctl_sources, lock_timeout=lock_timeout, writer=writer,
                       persist_only=persist_only, module_rules_path=module_rules_path)
    limits_args = dict(limits_request or {}, root=root, proc_path=proc_path)
    txqueue_args = dict(txqueuelen_request or {}, sys_path=sys_path, state_dir=state_dir,
                        lock_timeout=lock_timeout, writer=writer)
    # Validation and diff under the lock if there is one; the lock file (and state_dir) is created
    # only once something is to be written, so a refused or unchanged run leaves no trace.
    with Lock(state_dir, lock_timeout, create=False):
        if not check_mode:
            _remove_stale(root, path, state_dir, module_rules_path, txqueuelen_request)
        checked = sysctl_check.check_settings(settings, host) if settings is not None else None
        sysctl = apply_checked(checked, host, check_mode=True, **sysctl_args) if settings is not None else None
        nr_open = None
        if sysctl is not None and "fs.nr_open" in sysctl["applied"]:
            nr_open = int(sysctl["applied"]["fs.nr_open"])
        nofile = limits.sync_limits(check_mode=True, nr_open=nr_open, **limits_args) \
            if limits_request is not None else None
        first, lockout_warnings = "sysctl", []
        if init_netns:  # fs.nr_open and the host's limit files are the host's own only in its first netns
            first, lockout_warnings = safe_order(root, proc_path, sysctl, nofile, path)
        queues = txqueue.apply_txqueuelen(check_mode=True, **txqueue_args) \
            if txqueuelen_request is not None else None
        planned = {"sysctl": sysctl, "limits": nofile, "txqueuelen": queues}
        changed = any(item["changed"] for item in planned.values() if item is not None)
        extra = {"order": first, "lockout_warnings": lockout_warnings}
        if check_mode or not changed:
            return dict(planned, changed=changed, **extra)
        with Lock(state_dir, lock_timeout, create=True):
            files = []
            if sysctl is not None:
                files += [path, state_file(state_dir, path)] + [item["before_header"] for item in sysctl["diff"][2:]]
            if nofile is not None:
                files += nofile["changed_files"]
            if queues is not None:
                files += _txqueue_paths(queues, state_dir)
            saved = snapshot(files)
            done = {}
            steps = {"sysctl": lambda: apply_checked(checked, host, check_mode=False, **sysctl_args),
                     "limits": lambda: limits.sync_limits(check_mode=False, nr_open=None, **limits_args)}
            try:
                for name in (first, "limits" if first == "sysctl" else "sysctl"):
                    if planned[name] is not None:
                        done[name] = steps[name]()
                if queues is not None:
                    done["txqueuelen"] = txqueue.apply_txqueuelen(check_mode=False, **txqueue_args)
            except (ApplyError, IOError, OSError) as exc:
                failed = _undo(proc_path, sys_path, done, queues, saved, writer)
                message = "%s; %s" % (exc.args[0] if isinstance(exc, ApplyError) else _os_error_text(exc),
                                      "rolled back: live sysctl keys, txqueuelen and every file of this run"
                                      if not failed else "rollback FAILED for %s" % ", ".join(failed))
                raise ApplyError(message, dict(getattr(exc, "result", {}), rollback_failed=failed,
                                               completed=sorted(done)))
    return dict(planned, changed=True, **dict(extra, **done))


def _os_error_text(exc):
    return "%s: %s" % (exc.filename or "(no path)", exc.strerror or exc)


def _undo(proc_path, sys_path, done, queues, saved, writer):
    """Put back what apply_all wrote: live sysctl values, live txqueuelen, then the files."""
    writer = writer or write_text
    failed = []
    if "sysctl" in done:
        previous = done["sysctl"]["previous"]
        failed += rollback(proc_path, [(name, catalogue_values.coerce_value(catalogue.get(name), previous[name]))
                                       for name in catalogue.ordered(previous)], writer)
    for name, old in sorted(((queues or {}).get("previous") or {}).items()):
        try:
            if txqueue.read_len(sys_path, name) != old:
                writer(os.path.join(sys_path, "class/net", name, "tx_queue_len"), str(old))
        except (IOError, OSError, ValueError, AttributeError):
            failed.append("txqueuelen %s" % name)
    return failed + restore(saved)


def revert_all(components=("sysctl", "limits", "txqueuelen"), limits_request=None, txqueuelen_request=None,
               path=DEFAULT_PATH, state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sys_path="/sys", root="/",
               check_mode=False, lock_timeout=30.0, writer=None, host=None, module_rules_path=None):
    """state=absent for the selected components: the recorded sysctl values that are still ours and the
    limit files, in the order safe_order finds (the limit files first, so restoring a lower fs.nr_open
    never leaves a hard limit above it), then txqueuelen. Refused, with nothing changed, when the host
    as the revert leaves it would hold a hard nofile limit above fs.nr_open (a --tags sysctl revert under
    our own limit files, or another file's limit). ``host`` as in apply_all. Returns {changed, sysctl, limits,
    txqueuelen, order}."""
    host = host or sysctl_check.host_facts(proc_path)
    init_netns = host["init_netns"]
    result = {"sysctl": None, "limits": None, "txqueuelen": None}
    steps = {
        "limits": lambda check: limits.sync_limits(root=root, proc_path=proc_path, state="absent", check_mode=check,
                                                   **(limits_request or {})),
        "sysctl": lambda check: revert_settings(path=path, state_dir=state_dir, proc_path=proc_path, check_mode=check,
                                                lock_timeout=lock_timeout, writer=writer, host=host,
                                                module_rules_path=module_rules_path),
    }
    with Lock(state_dir, lock_timeout, create=False) as lock:
        if not check_mode:
            _remove_stale(root, path, state_dir, module_rules_path, txqueuelen_request)
        for name in ("limits", "sysctl"):
            if name in components:
                result[name] = steps[name](True)
        first, result["lockout_warnings"] = "limits", []
        if init_netns:
            first, result["lockout_warnings"] = safe_order(root, proc_path, result["sysctl"], result["limits"], path,
                                                           reverting=True)
        result["order"] = first
        if not check_mode:
            for name in (first, "sysctl" if first == "limits" else "limits"):
                if result[name] is not None and result[name]["changed"]:
                    result[name] = steps[name](False)
        if "txqueuelen" in components:
            result["txqueuelen"] = txqueue.revert_txqueuelen(sys_path=sys_path, state_dir=state_dir,
                                                             check_mode=check_mode, lock_timeout=lock_timeout,
                                                             writer=writer, **(txqueuelen_request or {}))
        if not check_mode:
            lock.remove_if_alone()  # a full revert leaves nothing of ours behind, not even the lock
    result["changed"] = any(item["changed"] for name, item in result.items()
                            if name in COMPONENT_NAMES and item is not None)
    return result
