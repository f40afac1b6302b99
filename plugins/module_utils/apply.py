# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction engine: validate, order, write /proc/sys, read back, roll back, record and
revert a batch of sysctl settings (apply_settings, revert_settings), and the one-run transaction
over sysctl keys, nofile limits and txqueuelen together (apply_all, revert_all).

Files and the lock are in fileutil.py, sysctl.d precedence and conflicts in sysctld.py; callers import
them from there (nothing is re-exported). No AnsibleModule here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import glob
import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_checks, catalogue_values, fileutil, hoststate, kernel_release, limits, memory_rules)
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils import procfs
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (
    ApplyError, Lock, atomic_write, read_file, read_text, restore, snapshot, write_text)
from ansible_collections.tcptune.linux.plugins.module_utils.host_detect import in_init_netns
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import (
    DEFAULT_PATH, DEFAULT_SYSCTL_SOURCES, MODULE_RULES_PATH, conflicts, drifted, parse_sysctl_file, render_module_rules,
    render_persist, same_value)

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

DEFAULT_STATE_DIR = "/var/lib/tcptune"
COMPONENT_NAMES = ("sysctl", "limits", "txqueuelen")


# ---------------------------------------------------------------- host probing

def kernel_version(proc_path):
    # type: (str) -> Tuple[int, int, int]
    """Kernel version of the running kernel, from proc_path/sys/kernel/osrelease or uname."""
    try:
        with open(os.path.join(proc_path, "sys/kernel/osrelease")) as handle:
            return kernel_release.parse_kernel_release(handle.read().strip())
    except (IOError, OSError):
        return kernel_release.parse_kernel_release(os.uname()[2])


def key_file(proc_path, name):
    # type: (str, str) -> str
    return os.path.join(proc_path, "sys", catalogue.proc_relpath(name))


def read_live(proc_path, name):
    """Parsed live value of ``name``, or None when the entry is absent or unreadable."""
    try:
        return catalogue_values.parse_value(catalogue.get(name), read_text(key_file(proc_path, name)))
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

def validate(settings, kernel, memory_bytes=None, page_size=4096, tcp_mem_in_force=None, context=None):
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
            value = catalogue_values.coerce_value(key, settings[name])
        except ValueError as exc:
            errors.append(str(exc))
            continue
        problems = catalogue_checks.validation_errors(key, value, kernel, page_size=page_size, context=context)
        if problems:
            errors.extend(problems)
        else:
            values[name] = value
    if memory_bytes:
        errors.extend(memory_rules.memory_errors(values, memory_bytes, page_size, tcp_mem_in_force))
    return values, errors


def plan_settings(settings, proc_path, kernel, init_netns, mode="set", memory_limit_bytes=None):
    """Validated settings -> (wanted {name: value}, current {name: value}, skipped {name: reason}).

    Memory rules use MemTotal from proc_path/meminfo (or ``memory_limit_bytes`` when smaller) and the
    live tcp_mem; they are checked again on the raised values. Raises ApplyError with every error at once.
    """
    memory_bytes = procfs.host_memory_bytes(proc_path, memory_limit_bytes)
    page_size = procfs.page_size()
    tcp_mem_live = read_live(proc_path, "net.ipv4.tcp_mem")
    context = catalogue_checks.validation_context(
        init_netns=init_netns,
        available_congestion_control=read_file(key_file(proc_path, "net.ipv4.tcp_available_congestion_control")),
        allowed_congestion_control=read_file(key_file(proc_path, "net.ipv4.tcp_allowed_congestion_control")))
    values, errors = validate(settings, kernel, memory_bytes, page_size, tcp_mem_live, context)
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
            value = catalogue_values.raised(key, current[name], value)
            problems = catalogue_checks.validation_errors(key, value, kernel, page_size=page_size, context=context)
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
            writer(path, catalogue_values.format_value(key, new))
            back = read_live(proc_path, name)
            if not same_value(key, back, new):
                raise ApplyError("read back %r instead of %r"
                                 % (catalogue_values.format_value(key, back) if back is not None else back,
                                    catalogue_values.format_value(key, new)))
        except (OSError, IOError, ApplyError) as exc:
            failed = rollback(proc_path, [(n, o) for n, dummy_b, o in done] + [(name, old)], writer)
            message = "%s: setting %s failed (%s); " % (
                name, catalogue_values.format_value(key, new), _error_text(exc))
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
            writer(key_file(proc_path, name), catalogue_values.format_value(key, old))
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

def _format(key, value):
    return catalogue_values.format_value(key, value) if value is not None else "absent"


def _live_text(values):
    return "".join("%s = %s\n" % (name, catalogue_values.format_value(catalogue.get(name), value))
                   for name, value in values.items() if value is not None)


def apply_settings(settings, path=DEFAULT_PATH, mode="set", unsupported="skip",
                   state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sysctl_sources=None,
                   check_mode=False, lock_timeout=30.0, kernel=None, init_netns=None, writer=None,
                   persist_only=None, module_rules_path=None):
    """state=present. Returns the result dict of the tcp_sysctl module; raises ApplyError.

    ``persist_only`` {key: value}: kept in the file at that value without a live write (a key changed
    by hand since an earlier run persisted it, reported as drift; a module key whose module is not
    loaded now). ``module_rules_path``: where the udev rule goes that applies the file's module keys
    when their module loads (None: no rule)."""
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
        kept = dict((name, catalogue_values.coerce_value(catalogue.get(name), value))
                    for name, value in (persist_only or {}).items() if name not in wanted)
        skipped = dict((name, reason) for name, reason in skipped.items() if name not in kept)
        # Nothing to set and no file of ours yet: a healthy host is left alone, with no file at all.
        new_file = render_persist(dict(wanted, **kept), skipped) if (wanted or kept or old_file is not None) else None
        rules = _module_rules(module_rules_path, list(wanted) + list(kept) if new_file is not None else [])
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
            "file_text": new_file,
            "persist_only": sorted(kept),
            "in_init_netns": init_netns,
            "diff": [
                {"before_header": "live values (%s/sys)" % proc_path,
                 "after_header": "live values (%s/sys)" % proc_path,
                 "before": _live_text(dict((n, current[n]) for n, dummy_b, dummy_c in changes)),
                 "after": _live_text(dict((n, new) for n, new, dummy_c in changes))},
                {"before_header": path, "after_header": path,
                 "before": old_file or "", "after": new_file or ""},
            ] + _rules_diff(rules),
        }
        result["changed"] = result["changed"] or rules[1] != rules[2]
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
        try:
            _write_rules(rules)
            if old_file != new_file:
                atomic_write(path, new_file)
        except (IOError, OSError):
            rollback(proc_path, [(name, old) for name, dummy_b, old in changes], writer or write_text)
            try:
                _write_rules((rules[0], rules[2], rules[1]))
            except (IOError, OSError):
                pass  # it was never written: the write itself failed
            record.undo()
            raise
    return result


def _module_rules(rules_path, names):
    """(path, old text, new text) of the udev rule for the module keys ``names``; (None, None, None)
    without a rules path."""
    if rules_path is None:
        return None, None, None
    root = rules_path[:-len(MODULE_RULES_PATH)] if rules_path.endswith(MODULE_RULES_PATH) else "/"
    return rules_path, read_file(rules_path), render_module_rules(names, root or "/")


def _rules_diff(rules):
    path, old, new = rules
    return [] if old == new else [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}]


def _write_rules(rules):
    path, old, new = rules
    if old != new:
        if new is None:
            os.unlink(path)
        else:
            atomic_write(path, new)


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
    written = record.setdefault("written", {})  # what this run writes live, before it writes it (I4 after a kill)
    for name, new, old in changes:
        if name not in record["previous"] and old is not None:
            record["previous"][name] = catalogue_values.format_value(catalogue.get(name), old)
            added = True
        if name in record["previous"] and written.get(name) != catalogue_values.format_value(catalogue.get(name), new):
            written[name] = catalogue_values.format_value(catalogue.get(name), new)
            added = True
    if added or before is None:
        atomic_write(record_path, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600)
    return _Record(record_path, before)


def revert_settings(path=DEFAULT_PATH, state_dir=DEFAULT_STATE_DIR, proc_path="/proc",
                    check_mode=False, lock_timeout=30.0, kernel=None, init_netns=None, writer=None,
                    module_rules_path=None):
    """state=absent: restore the recorded previous value of every key whose live value is still the one
    our file persists (anything changed since is left alone, with a warning), remove the file, its
    module rule and the record."""
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    with Lock(state_dir, lock_timeout, create=False):
        record = load_state(state_dir, path) or {"previous": {}}
        old_file = read_file(path)
        ours = parse_sysctl_file(old_file or "")
        restores, skipped, current, warnings = [], {}, {}, []
        for name in catalogue.ordered([n for n in record["previous"] if n in catalogue.CATALOGUE]):
            key = catalogue.get(name)
            reason = unsupported_reason(proc_path, key, kernel, init_netns)
            if reason:
                skipped[name] = reason
                continue
            old = catalogue_values.parse_value(key, record["previous"][name])
            current[name] = read_live(proc_path, name)
            if same_value(key, current[name], old):
                continue
            written = (record.get("written") or {}).get(name)
            if not (name in ours and same_value(key, current[name], ours[name])) and \
                    not (written is not None and same_value(key, current[name], written)):
                # Changed since our run (by hand, or by a file applied later): no longer ours to restore.
                skipped[name] = "left alone: live %s is not what this collection wrote (%s)" % (
                    _format(key, current[name]), ours.get(name) or written or "no value of ours")
                warnings.append("%s: %s; the value before tuning was %s" % (name, skipped[name], record["previous"][name]))
                continue
            restores.append((name, old, current[name]))
        restores.reverse()  # lower dependants before what they depend on (nr_open last)
        record_exists = os.path.exists(state_file(state_dir, path))
        rules = _module_rules(module_rules_path, [])
        result = {
            "changed": bool(restores) or old_file is not None or record_exists or rules[1] is not None,
            "changed_keys": [name for name, dummy_b, dummy_c in restores],
            "skipped_keys": skipped,
            "previous": dict((name, cur) for name, dummy_b, cur in restores),
            "applied": dict((name, old) for name, old, dummy_c in restores),
            "overridden_by": {},
            "drift": {},
            "path": path,
            "file_changed": old_file is not None,
            "file_text": None,
            "persist_only": [],
            "in_init_netns": init_netns,
            "warnings": warnings,
            "diff": [
                {"before_header": "live values (%s/sys)" % proc_path,
                 "after_header": "live values (%s/sys)" % proc_path,
                 "before": _live_text(dict((n, c) for n, dummy_b, c in restores)),
                 "after": _live_text(dict((n, o) for n, o, dummy_c in restores))},
                {"before_header": path, "after_header": path,
                 "before": old_file or "", "after": ""},
            ] + _rules_diff(rules),
        }
        if check_mode:
            return result
        write_live(proc_path, restores, writer)
        if old_file is not None:
            os.unlink(path)
        _write_rules(rules)
        if record_exists:
            os.unlink(state_file(state_dir, path))
    return result


# ---------------------------------------------------------------- one transaction: sysctl + limits + txqueuelen

def _txqueue_paths(result, state_dir):
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
    return [item["before_header"] for item in result["diff"][1:]] + [txqueue.state_path(state_dir)]


def _file_changes(sysctl, nofile, path):
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
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue_persist
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
              check_mode=False, lock_timeout=30.0, writer=None, kernel=None, init_netns=None, persist_only=None,
              module_rules_path=None):
    """sysctl keys, nofile limits and txqueuelen as one transaction. None leaves a component out.

    - ``settings``: {key: value} for apply_settings (keys the kernel or the namespace lacks are skipped);
      ``persist_only`` and ``module_rules_path`` as there.
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
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    sysctl_args = dict(path=path, mode=policy, unsupported="skip", state_dir=state_dir, proc_path=proc_path,
                       sysctl_sources=sysctl_sources, lock_timeout=lock_timeout, kernel=kernel,
                       init_netns=init_netns, writer=writer, persist_only=persist_only,
                       module_rules_path=module_rules_path)
    limits_args = dict(limits_request or {}, root=root, proc_path=proc_path)
    txqueue_args = dict(txqueuelen_request or {}, sys_path=sys_path, state_dir=state_dir,
                        lock_timeout=lock_timeout, writer=writer)
    # Validation and diff under the lock if there is one; the lock file (and state_dir) is created
    # only once something is to be written, so a refused or unchanged run leaves no trace.
    with Lock(state_dir, lock_timeout, create=False):
        if not check_mode:
            _remove_stale(root, path, state_dir, module_rules_path, txqueuelen_request)
        sysctl = apply_settings(settings, check_mode=True, **sysctl_args) if settings is not None else None
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
            steps = {"sysctl": lambda: apply_settings(settings, check_mode=False, **sysctl_args),
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
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
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
               check_mode=False, lock_timeout=30.0, writer=None, init_netns=None, module_rules_path=None):
    """state=absent for the selected components: the recorded sysctl values that are still ours and the
    limit files, in the order safe_order finds (the limit files first, so restoring a lower fs.nr_open
    never leaves a hard limit above it), then txqueuelen. Refused, with nothing changed, when the host
    as the revert leaves it would hold a hard nofile limit above fs.nr_open (a --tags sysctl revert under
    our own limit files, or another file's limit). Returns {changed, sysctl, limits, txqueuelen, order}."""
    from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    result = {"sysctl": None, "limits": None, "txqueuelen": None}
    steps = {
        "limits": lambda check: limits.sync_limits(root=root, proc_path=proc_path, state="absent", check_mode=check,
                                                   **(limits_request or {})),
        "sysctl": lambda check: revert_settings(path=path, state_dir=state_dir, proc_path=proc_path, check_mode=check,
                                                lock_timeout=lock_timeout, writer=writer, init_netns=init_netns,
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
