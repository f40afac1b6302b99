# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction engine: validate, order, write /proc/sys, read back, roll back, record and
revert a batch of sysctl settings (apply_settings, revert_settings), and the one-run transaction
over sysctl keys, nofile limits and txqueuelen together (apply_all, revert_all).

Files and the lock are in fileutil.py, sysctl.d precedence and conflicts in sysctld.py; their
names are re-exported here for the modules that import them from apply. No AnsibleModule here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, memory_rules
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (  # noqa: F401 (re-exported)
    ApplyError, Lock, atomic_write, read_file, read_text, restore, snapshot, write_text)
from ansible_collections.tcptune.linux.plugins.module_utils.procfs import in_init_netns
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import (  # noqa: F401 (re-exported)
    DEFAULT_PATH, DEFAULT_SYSCTL_SOURCES, conflicts, drifted, parse_sysctl_file, render_persist, same_value)

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

DEFAULT_STATE_DIR = "/var/lib/tcptune"


# ---------------------------------------------------------------- host probing

def kernel_version(proc_path):
    # type: (str) -> Tuple[int, int, int]
    """Kernel version of the running kernel, from proc_path/sys/kernel/osrelease or uname."""
    try:
        with open(os.path.join(proc_path, "sys/kernel/osrelease")) as handle:
            return catalogue.parse_kernel_release(handle.read().strip())
    except (IOError, OSError):
        return catalogue.parse_kernel_release(os.uname()[2])


def key_file(proc_path, name):
    # type: (str, str) -> str
    return os.path.join(proc_path, "sys", catalogue.proc_relpath(name))


def read_live(proc_path, name):
    """Parsed live value of ``name``, or None when the entry is absent or unreadable."""
    try:
        return catalogue.parse_value(catalogue.get(name), read_text(key_file(proc_path, name)))
    except (IOError, OSError, ValueError):
        return None


def unsupported_reason(proc_path, key, kernel, init_netns):
    """Why ``key`` cannot be written here, or None. Global keys are refused in a child netns
    even when their file is writable (fs.* in a container is the host's)."""
    reason = catalogue.absent_reason(key, kernel, init_netns)
    if reason:
        return reason
    path = key_file(proc_path, key.name)
    if not os.path.exists(path):
        return "not present in %s on this host" % os.path.join(proc_path, "sys")
    if not os.access(path, os.W_OK):
        return "read-only here (%s is not writable)" % path
    return None


# ---------------------------------------------------------------- validation and plan

def validate(settings, kernel, memory_bytes=None, page_size=4096, tcp_mem_in_force=None):
    # type: (Dict[str, Any], Tuple[int, int, int], Optional[int], int, Optional[List[int]]) -> Tuple[Dict[str, Any], List[str]]
    """Coerce every setting and collect every error (unknown key, type, range, refusal, memory).

    With ``memory_bytes`` (MemTotal, or a smaller cgroup limit) the memory rules of
    memory_rules.memory_errors apply too, the same rules the plan is sized by.
    """
    values, errors = {}, []
    for name in sorted(settings):
        try:
            key = catalogue.get(name)
        except KeyError as exc:
            errors.append(str(exc.args[0]))
            continue
        try:
            value = catalogue.coerce_value(key, settings[name])
        except ValueError as exc:
            errors.append(str(exc))
            continue
        problems = catalogue.validation_errors(key, value, kernel)
        if problems:
            errors.extend(problems)
        else:
            values[name] = value
    if memory_bytes:
        errors.extend(memory_rules.memory_errors(values, memory_bytes, page_size, tcp_mem_in_force))
    return values, errors


def raised(key, current, wanted):
    """mode=raise: never lower. Element-wise max (tuned's '>'), then keep the elements ordered."""
    if current is None or key.shape == catalogue.TEXT:
        return wanted
    if key.shape == catalogue.INT:
        return max(current, wanted)
    result = [max(old, new) for old, new in zip(current, wanted)]
    for index in range(1, len(result)):
        result[index] = max(result[index], result[index - 1])
    return result


def plan_settings(settings, proc_path, kernel, init_netns, mode="set", memory_limit_bytes=None):
    """Validated settings -> (wanted {name: value}, current {name: value}, skipped {name: reason}).

    Memory rules use MemTotal from proc_path/meminfo (or ``memory_limit_bytes`` when smaller) and the
    live tcp_mem; they are checked again on the raised values. Raises ApplyError with every error at once.
    """
    memory_bytes = memory_rules.host_memory_bytes(proc_path, memory_limit_bytes)
    page_size = memory_rules.page_size()
    tcp_mem_live = read_live(proc_path, "net.ipv4.tcp_mem")
    values, errors = validate(settings, kernel, memory_bytes, page_size, tcp_mem_live)
    if errors:
        raise ApplyError("invalid settings, nothing was changed: " + "; ".join(errors),
                         {"errors": errors})
    wanted, current, skipped = {}, {}, {}
    for name in catalogue.ordered(values):
        key = catalogue.get(name)
        reason = unsupported_reason(proc_path, key, kernel, init_netns)
        if reason:
            skipped[name] = reason
            continue
        current[name] = read_live(proc_path, name)
        value = values[name]
        if mode == "raise":
            value = raised(key, current[name], value)
            problems = catalogue.validation_errors(key, value, kernel)
            if problems:
                errors.extend(problems)
        wanted[name] = value
    if mode == "raise" and memory_bytes:
        errors.extend(memory_rules.memory_errors(wanted, memory_bytes, page_size, tcp_mem_live))
    if errors:
        raise ApplyError("invalid settings after raise, nothing was changed: " + "; ".join(errors),
                         {"errors": errors})
    return wanted, current, skipped


# ---------------------------------------------------------------- live writes with rollback

def write_live(proc_path, changes, writer=None):
    """Write ``changes`` [(name, new, old)] in the given order, reading each back.

    On the first failure every key already written goes back to its old value (reverse
    order) and ApplyError names the failing key. ``writer`` defaults to write_text.
    """
    writer = writer or write_text
    done = []
    for name, new, old in changes:
        key = catalogue.get(name)
        path = key_file(proc_path, name)
        try:
            writer(path, catalogue.format_value(key, new))
            back = read_live(proc_path, name)
            if not same_value(key, back, new):
                raise ApplyError("read back %r instead of %r"
                                 % (catalogue.format_value(key, back) if back is not None else back,
                                    catalogue.format_value(key, new)))
        except (OSError, IOError, ApplyError) as exc:
            failed = rollback(proc_path, [(n, o) for n, dummy_b, o in done] + [(name, old)], writer)
            message = "%s: setting %s failed (%s); " % (
                name, catalogue.format_value(key, new), _error_text(exc))
            if failed:
                message += "rollback FAILED for %s" % ", ".join(failed)
            else:
                message += "the %d key(s) written before it were rolled back" % len(done)
            raise ApplyError(message, {"failed_key": name, "rolled_back": [n for n, dummy_b, dummy_c in done]})
        done.append((name, new, old))


def rollback(proc_path, restores, writer):
    """Put back [(name, old)] in reverse order; returns the names that could not be restored."""
    failed = []
    for name, old in reversed(restores):
        if old is None:
            continue
        key = catalogue.get(name)
        if same_value(key, read_live(proc_path, name), old):
            continue
        try:
            writer(key_file(proc_path, name), catalogue.format_value(key, old))
        except (OSError, IOError):
            failed.append(name)
    return failed


def _error_text(exc):
    if isinstance(exc, (OSError, IOError)) and exc.errno:
        return "%s: %s" % (errno.errorcode.get(exc.errno, exc.errno), exc.strerror)
    return str(exc)


# ---------------------------------------------------------------- state record and lock

def state_file(state_dir, path):
    # type: (str, str) -> str
    return os.path.join(state_dir, "tcp_sysctl-%s.json" % os.path.basename(path))


def load_state(state_dir, path):
    text = read_file(state_file(state_dir, path))
    if text is None:
        return None
    return json.loads(text)


# ---------------------------------------------------------------- the two operations

def _live_text(values):
    return "".join("%s = %s\n" % (name, catalogue.format_value(catalogue.get(name), value))
                   for name, value in values.items() if value is not None)


def apply_settings(settings, path=DEFAULT_PATH, mode="set", unsupported="skip",
                   state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sysctl_sources=None,
                   check_mode=False, lock_timeout=30.0, kernel=None, init_netns=None, writer=None):
    """state=present. Returns the result dict of the tcp_sysctl module; raises ApplyError."""
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    sources = DEFAULT_SYSCTL_SOURCES if sysctl_sources is None else sysctl_sources
    wanted, current, skipped = plan_settings(settings, proc_path, kernel, init_netns, mode)
    if skipped and unsupported == "fail":
        raise ApplyError("unsupported keys here, nothing was changed: "
                         + "; ".join("%s: %s" % item for item in sorted(skipped.items())),
                         {"skipped_keys": skipped})
    with Lock(state_dir, lock_timeout, create=not check_mode):
        current = dict((name, read_live(proc_path, name)) for name in wanted)  # under the lock
        changes = [(name, wanted[name], current[name]) for name in catalogue.ordered(wanted)
                   if not same_value(catalogue.get(name), current[name], wanted[name])]
        old_file = read_file(path)
        # Nothing to set and no file of ours yet: a healthy host is left alone, with no file at all.
        new_file = render_persist(wanted, skipped) if (wanted or old_file is not None) else None
        persisted_live = dict((name, current[name] if name in current else read_live(proc_path, name))
                              for name in parse_sysctl_file(old_file or "") if name in catalogue.CATALOGUE)
        result = {
            "changed": bool(changes) or old_file != new_file,
            "changed_keys": [name for name, dummy_b, dummy_c in changes],
            "skipped_keys": skipped,
            "previous": dict((name, old) for name, dummy_b, old in changes),
            "applied": dict((name, wanted[name]) for name in wanted),
            "overridden_by": conflicts(path, wanted, sources),
            "drift": drifted(old_file, persisted_live),
            "path": path,
            "file_changed": old_file != new_file,
            "in_init_netns": init_netns,
            "diff": [
                {"before_header": "live values (%s/sys)" % proc_path,
                 "after_header": "live values (%s/sys)" % proc_path,
                 "before": _live_text(dict((n, current[n]) for n, dummy_b, dummy_c in changes)),
                 "after": _live_text(dict((n, new) for n, new, dummy_c in changes))},
                {"before_header": path, "after_header": path,
                 "before": old_file or "", "after": new_file or ""},
            ],
        }
        result["warnings"] = ["%s: %s sets %s and is applied after %s at boot, so it wins"
                              % (name, item["file"], item["value"], path)
                              for name, items in sorted(result["overridden_by"].items())
                              for item in items]
        if check_mode:
            return result
        record = _record_previous(state_dir, path, changes, owner="tcp_sysctl")
        try:
            write_live(proc_path, changes, writer)
        except ApplyError:
            record.undo()
            raise
        if old_file != new_file:
            atomic_write(path, new_file)
    return result


class _Record(object):
    """The state record as it was before this run, so a rolled-back run can put it back."""

    def __init__(self, path, before):
        self.path = path
        self.before = before

    def undo(self):
        if self.before is None:
            if os.path.exists(self.path):
                os.unlink(self.path)
        else:
            atomic_write(self.path, self.before, 0o600)


def _record_previous(state_dir, path, changes, owner):
    """Add the previous value of every newly touched key; earlier records are never overwritten."""
    record_path = state_file(state_dir, path)
    before = read_file(record_path)
    record = json.loads(before) if before else {"owner": owner, "path": path, "previous": {}}
    added = False
    for name, dummy_b, old in changes:
        if name not in record["previous"] and old is not None:
            record["previous"][name] = catalogue.format_value(catalogue.get(name), old)
            added = True
    if added or before is None:
        atomic_write(record_path, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600)
    return _Record(record_path, before)


def revert_settings(path=DEFAULT_PATH, state_dir=DEFAULT_STATE_DIR, proc_path="/proc",
                    check_mode=False, lock_timeout=30.0, kernel=None, init_netns=None, writer=None):
    """state=absent: restore recorded previous values, remove the persist file and the record."""
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    with Lock(state_dir, lock_timeout, create=False):
        record = load_state(state_dir, path) or {"previous": {}}
        restores, skipped, current = [], {}, {}
        for name in catalogue.ordered([n for n in record["previous"] if n in catalogue.CATALOGUE]):
            key = catalogue.get(name)
            reason = unsupported_reason(proc_path, key, kernel, init_netns)
            if reason:
                skipped[name] = reason
                continue
            old = catalogue.parse_value(key, record["previous"][name])
            current[name] = read_live(proc_path, name)
            if not same_value(key, current[name], old):
                restores.append((name, old, current[name]))
        restores.reverse()  # lower dependants before what they depend on (nr_open last)
        old_file = read_file(path)
        record_exists = os.path.exists(state_file(state_dir, path))
        result = {
            "changed": bool(restores) or old_file is not None or record_exists,
            "changed_keys": [name for name, dummy_b, dummy_c in restores],
            "skipped_keys": skipped,
            "previous": dict((name, cur) for name, dummy_b, cur in restores),
            "applied": dict((name, old) for name, old, dummy_c in restores),
            "overridden_by": {},
            "drift": {},
            "path": path,
            "file_changed": old_file is not None,
            "in_init_netns": init_netns,
            "warnings": [],
            "diff": [
                {"before_header": "live values (%s/sys)" % proc_path,
                 "after_header": "live values (%s/sys)" % proc_path,
                 "before": _live_text(dict((n, c) for n, dummy_b, c in restores)),
                 "after": _live_text(dict((n, o) for n, o, dummy_c in restores))},
                {"before_header": path, "after_header": path,
                 "before": old_file or "", "after": ""},
            ],
        }
        if check_mode:
            return result
        write_live(proc_path, restores, writer)
        if old_file is not None:
            os.unlink(path)
        if record_exists:
            os.unlink(state_file(state_dir, path))
    return result


# ---------------------------------------------------------------- one transaction: sysctl + limits + txqueuelen

def _txqueue_paths(result, state_dir):
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
    return [item["before_header"] for item in result["diff"][1:]] + [txqueue.state_path(state_dir)]


def _nr_open_lockout(root, nr_open, rewritten):
    """Configured hard nofile limits above ``nr_open``, leaving out the files this run rewrites
    (their new limits are checked against ``nr_open`` by limits.sync_limits)."""
    from ansible_collections.tcptune.linux.plugins.module_utils import limits
    return ["%s sets a hard nofile of %d" % (path, value) for value, path in limits.hard_nofile_settings(root)
            if value > nr_open and path not in rewritten]


def apply_all(settings=None, limits_request=None, txqueuelen_request=None, path=DEFAULT_PATH, policy="set",
              state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sys_path="/sys", root="/", sysctl_sources=None,
              check_mode=False, lock_timeout=30.0, writer=None, kernel=None, init_netns=None):
    """sysctl keys, nofile limits and txqueuelen as one transaction. None leaves a component out.

    - ``settings``: {key: value} for apply_settings (keys the kernel or the namespace lacks are skipped).
    - ``limits_request``: keyword arguments of limits.sync_limits (hard, login_soft, services, login,
      default_limit, allow_lower, state).
    - ``txqueuelen_request``: keyword arguments of txqueue.apply_txqueuelen (values, or patterns and
      value; include_virtual, persist, allow_lower, rules_path, link_path, run_path).

    Every component is validated and diffed first (nothing written when any is refused): the hard
    nofile limit against the fs.nr_open written in the same run, else the live and persisted one;
    an fs.nr_open below a hard limit configured elsewhere is refused. Then sysctl (live, read back,
    persisted, recorded), limits, txqueuelen (live, read back, persisted, recorded). On a failure
    anywhere, the live sysctl and txqueuelen values written so far and every file the run touched
    are put back, and ApplyError says so. Returns {changed, sysctl, limits, txqueuelen} (None for a
    component left out). Check mode stops after the validation and diff.
    """
    from ansible_collections.tcptune.linux.plugins.module_utils import limits, txqueue
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    sysctl_args = dict(path=path, mode=policy, unsupported="skip", state_dir=state_dir, proc_path=proc_path,
                       sysctl_sources=sysctl_sources, lock_timeout=lock_timeout, kernel=kernel,
                       init_netns=init_netns, writer=writer)
    limits_args = dict(limits_request or {}, root=root, proc_path=proc_path)
    txqueue_args = dict(txqueuelen_request or {}, sys_path=sys_path, state_dir=state_dir,
                        lock_timeout=lock_timeout, writer=writer)
    # Validation and diff under the lock if there is one; the lock file (and state_dir) is created
    # only once something is to be written, so a refused or unchanged run leaves no trace.
    with Lock(state_dir, lock_timeout, create=False):
        sysctl = apply_settings(settings, check_mode=True, **sysctl_args) if settings is not None else None
        nr_open = None
        if sysctl is not None and "fs.nr_open" in sysctl["applied"]:
            nr_open = int(sysctl["applied"]["fs.nr_open"])
        nofile = limits.sync_limits(check_mode=True, nr_open=nr_open, **limits_args) \
            if limits_request is not None else None
        if sysctl is not None and "fs.nr_open" in sysctl["changed_keys"] and init_netns:
            broken = _nr_open_lockout(root, nr_open, set(nofile["changed_files"]) if nofile else set())
            if broken:
                raise ApplyError("fs.nr_open: %d refused, it is below hard nofile limits that depend on it (logins "
                                 "and units would fail): %s. Lower or remove those limits first. Nothing was "
                                 "changed." % (nr_open, "; ".join(broken)), {"errors": broken})
        queues = txqueue.apply_txqueuelen(check_mode=True, **txqueue_args) \
            if txqueuelen_request is not None else None
        planned = {"sysctl": sysctl, "limits": nofile, "txqueuelen": queues}
        changed = any(item["changed"] for item in planned.values() if item is not None)
        if check_mode or not changed:
            return dict(planned, changed=changed)
        with Lock(state_dir, lock_timeout, create=True):
            files = []
            if sysctl is not None:
                files += [path, state_file(state_dir, path)]
            if nofile is not None:
                files += nofile["changed_files"]
            if queues is not None:
                files += _txqueue_paths(queues, state_dir)
            saved = snapshot(files)
            done = {}
            try:
                if sysctl is not None:
                    done["sysctl"] = apply_settings(settings, check_mode=False, **sysctl_args)
                if nofile is not None:
                    done["limits"] = limits.sync_limits(check_mode=False, nr_open=None, **limits_args)
                if queues is not None:
                    done["txqueuelen"] = txqueue.apply_txqueuelen(check_mode=False, **txqueue_args)
            except (ApplyError, IOError, OSError) as exc:
                failed = _undo(proc_path, sys_path, done, queues, saved, writer)
                message = "%s; %s" % (exc.args[0] if isinstance(exc, ApplyError) else _os_error_text(exc),
                                      "rolled back: live sysctl keys, txqueuelen and every file of this run"
                                      if not failed else "rollback FAILED for %s" % ", ".join(failed))
                raise ApplyError(message, dict(getattr(exc, "result", {}), rollback_failed=failed,
                                               completed=sorted(done)))
    return dict(planned, changed=True, **done)


def _os_error_text(exc):
    return "%s: %s" % (exc.filename or "(no path)", exc.strerror or exc)


def _undo(proc_path, sys_path, done, queues, saved, writer):
    """Put back what apply_all wrote: live sysctl values, live txqueuelen, then the files."""
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
    writer = writer or write_text
    failed = []
    if "sysctl" in done:
        previous = done["sysctl"]["previous"]
        failed += rollback(proc_path, [(name, catalogue.coerce_value(catalogue.get(name), previous[name]))
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
               check_mode=False, lock_timeout=30.0, writer=None):
    """state=absent for the selected components: the limit files first (so restoring a lower fs.nr_open
    never leaves a hard limit above it), then the recorded sysctl values, then txqueuelen.
    Returns {changed, sysctl, limits, txqueuelen}."""
    from ansible_collections.tcptune.linux.plugins.module_utils import limits, txqueue
    result = {"sysctl": None, "limits": None, "txqueuelen": None}
    with Lock(state_dir, lock_timeout, create=False) as lock:
        if "limits" in components:
            result["limits"] = limits.sync_limits(root=root, proc_path=proc_path, state="absent",
                                                  check_mode=check_mode, **(limits_request or {}))
        if "sysctl" in components:
            result["sysctl"] = revert_settings(path=path, state_dir=state_dir, proc_path=proc_path,
                                               check_mode=check_mode, lock_timeout=lock_timeout, writer=writer)
        if "txqueuelen" in components:
            result["txqueuelen"] = txqueue.revert_txqueuelen(sys_path=sys_path, state_dir=state_dir,
                                                             check_mode=check_mode, lock_timeout=lock_timeout,
                                                             writer=writer, **(txqueuelen_request or {}))
        if not check_mode:
            lock.remove_if_alone()  # a full revert leaves nothing of ours behind, not even the lock
    result["changed"] = any(item["changed"] for item in result.values() if item is not None)
    return result
