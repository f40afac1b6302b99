# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""txqueuelen: select interfaces, set /sys/class/net/IFACE/tx_queue_len, persist it (txqueue_persist),
record previous values and revert them.

A .link file is only written for an interface no other .link file may match: systemd-udevd applies
the first .link file (by name) that matches a device and no other, so ours would either take the
place of an admin's file (its Name= lost at boot) or never apply (link_match.link_conflicts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (
    ApplyError, Lock, atomic_write, read_file, write_text)
from ansible_collections.tcptune.linux.plugins.module_utils.host_detect import SYSTEMD_LIB_DIRS
from ansible_collections.tcptune.linux.plugins.module_utils.interfaces import interface_names, is_virtual
from ansible_collections.tcptune.linux.plugins.module_utils.link_match import (
    conflict_text, link_conflicts, link_search_dirs)
from ansible_collections.tcptune.linux.plugins.module_utils.txqueue_persist import (
    DEFAULT_LINK_PATH, DEFAULT_RULES_PATH, choose_persist, link_file_of, link_files, owned_link_files, persisted_values,
    render_udev)

try:
    from typing import Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

MAXIMUM = 2147483647


def select(sys_path, patterns, include_virtual=False):
    # type: (str, List[str], bool) -> Tuple[List[str], Dict[str, str], List[str]]
    """(selected names, skipped {name: reason}, patterns that matched nothing)."""
    names = interface_names(sys_path)
    selected, skipped, unmatched = [], {}, []
    for pattern in patterns:
        matches = [name for name in names if fnmatch.fnmatchcase(name, pattern)]
        if not matches:
            unmatched.append(pattern)
        for name in matches:
            if name in selected or name in skipped:
                continue
            if is_virtual(sys_path, name, device_link_only=True) and not include_virtual:
                skipped[name] = "virtual interface (set include_virtual to change it)"
            elif not os.path.exists(_queue_file(sys_path, name)):
                skipped[name] = "no tx_queue_len attribute"
            else:
                selected.append(name)
    return sorted(selected), skipped, unmatched


def _queue_file(sys_path, name):
    return os.path.join(sys_path, "class/net", name, "tx_queue_len")


def read_len(sys_path, name):
    # type: (str, str) -> int
    return int(read_file(_queue_file(sys_path, name)).strip())


def wanted_values(sys_path, patterns=None, value=None, values=None, include_virtual=False, allow_lower=False):
    # type: (str, Optional[List[str]], Optional[int], Optional[Dict[str, int]], bool, bool) -> Tuple[Dict[str, int], Dict[str, int], Dict[str, str], List[str]]
    """(wanted {name: value}, current {name: live value}, skipped {name: reason}, unmatched).

    ``values`` {name: value} (exact names) or ``patterns`` with one ``value``. An interface whose
    live value is above the wanted one is left alone unless ``allow_lower``."""
    if values is not None:
        targets = dict((name, values[name]) for name in values)
        names = set(interface_names(sys_path))
        unmatched = sorted(name for name in targets if name not in names)
        selected, skipped, dummy = select(sys_path, sorted(name for name in targets if name in names),
                                          include_virtual)
    else:
        selected, skipped, unmatched = select(sys_path, patterns or [], include_virtual)
        targets = dict((name, value) for name in selected)
    errors = ["%s: %r is outside the accepted range 1..%d" % (name, targets[name], MAXIMUM)
              for name in sorted(targets) if not isinstance(targets[name], int) or not 1 <= targets[name] <= MAXIMUM]
    if errors:
        raise ApplyError("invalid txqueuelen, nothing was changed: " + "; ".join(errors), {"errors": errors})
    wanted, current = {}, {}
    for name in selected:
        current[name] = read_len(sys_path, name)
        if current[name] > targets[name] and not allow_lower:
            skipped[name] = ("live %d is above %d; left alone (allow_lower to lower it)"
                             % (current[name], targets[name]))
        else:
            wanted[name] = targets[name]
    return wanted, current, skipped, unmatched


def state_path(state_dir):
    return os.path.join(state_dir, "txqueuelen.json")


def kept_values(sys_path, wanted, rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH):
    # type: (str, Dict[str, int], str, str) -> Dict[str, int]
    """{name: value} an earlier run persisted for an interface this run does not set (left alone, its
    live value above the requested one, or not selected at all) while its live value still equals
    it. The persistence is rebuilt from the values on every run: what is persisted is what is live,
    so such a value stays until a run lowers it (allow_lower) or state=absent."""
    kept = {}  # type: Dict[str, int]
    for name, value in sorted(persisted_values(sys_path, rules_path, link_path).items()):
        if name in wanted or not os.path.exists(_queue_file(sys_path, name)):
            continue
        try:
            live = read_len(sys_path, name)
        except (AttributeError, ValueError):
            continue
        if live == value:
            kept[name] = value
    return kept


def split_persistence(sys_path, values, persist, method, link_path=DEFAULT_LINK_PATH, rules_path=DEFAULT_RULES_PATH,
                      link_dirs=None):
    # type: (str, Dict[str, int], str, str, str, str, Optional[Tuple[str, ...]]) -> Tuple[Dict, Dict, Dict, List[str]]
    """(udev values, .link values, conflicts, warnings) for ``values`` and the resolved ``method``.

    With link, an interface another .link file matches or may match (link_conflicts) gets no .link
    entry. ``persist`` auto puts it in the udev rule file instead (the rule sets ATTR{tx_queue_len}
    and leaves naming alone) and warns; persist link raises ApplyError naming the other file."""
    if method == "udev":
        return dict(values), {}, {}, []
    if method != "link" or not values:
        return {}, {}, {}, []
    ours = link_file_of(values, link_path)
    dirs = tuple(link_dirs) if link_dirs is not None else link_search_dirs(link_path)
    conflicts = link_conflicts(sys_path, sorted(values), ours, dirs)
    texts = dict((name, [conflict_text(name, item, os.path.basename(ours[name])) for item in conflicts[name]])
                 for name in conflicts)
    if conflicts and persist == "link":
        every = [text for name in sorted(texts) for text in texts[name]]
        raise ApplyError("persist=link refused: systemd-udevd applies only the first .link file that matches a "
                         "device, and another .link file may match %s: %s. Use persist=udev or auto (a udev rule, "
                         "which leaves naming alone), or change that file. Nothing was changed."
                         % (", ".join(sorted(conflicts)), "; ".join(every)), {"link_conflicts": conflicts})
    warnings = ["txqueuelen of %s is persisted by the udev rule %s, not a .link file: %s"
                % (name, rules_path, "; ".join(texts[name])) for name in sorted(conflicts)]
    return (dict((name, values[name]) for name in conflicts),
            dict((name, value) for name, value in values.items() if name not in conflicts), conflicts, warnings)


def apply_txqueuelen(patterns=None, value=None, include_virtual=False, persist="auto", sys_path="/sys",
                     rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH, run_path="/run",
                     lib_dirs=SYSTEMD_LIB_DIRS,
                     state_dir="/var/lib/tcptune", check_mode=False, lock_timeout=30.0, writer=None,
                     values=None, allow_lower=False, link_dirs=None):
    """state=present, for ``patterns`` with one ``value`` or for ``values`` {name: value}. Every
    interface goes into one persistence (one udev file, or one .link file per value), and that is
    the only tcptune txqueuelen persistence afterwards (persist=none removes it), except an
    interface another .link file may match, which goes into the udev file (split_persistence).
    Values an earlier run persisted for interfaces this run leaves alone stay while live (kept_values).
    ``link_dirs``: the .link directories (default: link_search_dirs(link_path)). Raises ApplyError
    and rolls back live values on failure."""
    writer = writer or write_text
    method = choose_persist(persist, run_path, lib_dirs)
    with Lock(state_dir, lock_timeout, create=not check_mode) as lock:
        try:
            wanted, current, skipped, unmatched = wanted_values(sys_path, patterns, value, values, include_virtual,
                                                                allow_lower)
            kept = kept_values(sys_path, wanted, rules_path, link_path) if method != "none" else {}
            udev, link, conflicts, warnings = split_persistence(sys_path, dict(kept, **wanted), persist, method,
                                                                link_path, rules_path, link_dirs)
        except ApplyError:
            lock.remove_if_alone()  # refused: leave no state_dir behind either
            raise
        for name in sorted(kept):
            if name in skipped:
                skipped[name] += "; its persisted %d is kept (it is the live value)" % kept[name]
        changes = [name for name in sorted(wanted) if current[name] != wanted[name]]
        new_files = {}  # type: Dict[str, str]
        if udev:
            new_files[rules_path] = render_udev(udev)
        if link:
            new_files.update(link_files(sys_path, link, link_path))
        files = []  # (path, old text, new text or None to remove)
        for path in sorted(set(new_files) | set([rules_path] + owned_link_files(link_path))):
            old, new = read_file(path), new_files.get(path)
            if old != new:
                files.append((path, old, new))
        result = {
            "changed": bool(changes or files),
            "interfaces": sorted(wanted),
            "applied": wanted,
            "changed_interfaces": changes,
            "previous": dict((name, current[name]) for name in changes),
            "skipped_interfaces": skipped,
            "unmatched": unmatched,
            "persist": method,
            "persisted_path": sorted(new_files)[0] if new_files else None,
            "persisted_paths": sorted(new_files),
            "kept": kept,
            "persisted_with": dict([(name, "udev") for name in udev] + [(name, "link") for name in link]),
            "link_conflicts": conflicts,
            "persist_warnings": warnings,
            "diff": _diff(current, dict((name, wanted[name]) for name in changes), files),
        }
        if check_mode:
            return result
        _record(state_dir, result["previous"])
        done = []
        for name in changes:
            try:
                writer(_queue_file(sys_path, name), str(wanted[name]))
                if read_len(sys_path, name) != wanted[name]:
                    raise ApplyError("read back %d" % read_len(sys_path, name))
            except (OSError, IOError, ApplyError) as exc:
                for back in reversed(done):
                    writer(_queue_file(sys_path, back), str(current[back]))
                raise ApplyError("%s: setting tx_queue_len %d failed (%s); the %d interface(s) set "
                                 "before it were rolled back" % (name, wanted[name], _reason(exc), len(done)))
            done.append(name)
        _write_files(files)
    return result


def _reason(exc):
    if isinstance(exc, (OSError, IOError)):
        return "%s: %s" % (exc.filename, exc.strerror) if exc.filename else str(exc.strerror or exc)
    return str(exc)


def revert_txqueuelen(sys_path="/sys", rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH,
                      state_dir="/var/lib/tcptune", check_mode=False, lock_timeout=30.0, writer=None):
    """state=absent: restore recorded live values, remove the persisted files and the record."""
    writer = writer or write_text
    with Lock(state_dir, lock_timeout, create=False):
        text = read_file(state_path(state_dir))
        previous = json.loads(text)["previous"] if text else {}
        current, restores = {}, {}
        for name, old in sorted(previous.items()):
            if os.path.exists(_queue_file(sys_path, name)):
                current[name] = read_len(sys_path, name)
                if current[name] != old:
                    restores[name] = old
        files = [(path, read_file(path), None) for path in [rules_path] + owned_link_files(link_path)
                 if read_file(path) is not None]
        result = {
            "changed": bool(restores or files or text is not None),
            "interfaces": sorted(previous),
            "changed_interfaces": sorted(restores),
            "previous": dict((name, current[name]) for name in restores),
            "skipped_interfaces": dict((name, "interface not present") for name in previous
                                       if name not in current),
            "unmatched": [],
            "persist": "none",
            "applied": {},
            "persisted_path": None,
            "persisted_paths": [],
            "kept": {},
            "persisted_with": {},
            "link_conflicts": {},
            "persist_warnings": [],
            "diff": _diff(current, restores, files),
        }
        if check_mode:
            return result
        for name in sorted(restores):
            writer(_queue_file(sys_path, name), str(restores[name]))
        _write_files(files)
        if text is not None:
            os.unlink(state_path(state_dir))
    return result


def _record(state_dir, previous):
    """First value seen per interface wins, so a revert goes back to before tcptune."""
    path = state_path(state_dir)
    text = read_file(path)
    record = json.loads(text) if text else {"owner": "txqueuelen", "previous": {}}
    new = dict((name, old) for name, old in previous.items() if name not in record["previous"])
    if new or text is None:
        record["previous"].update(new)
        atomic_write(path, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600)


def _write_files(files):
    for path, dummy_b, new in files:
        try:
            if new is None:
                if os.path.exists(path):
                    os.unlink(path)
            else:
                atomic_write(path, new)
        except (IOError, OSError) as exc:
            raise ApplyError("%s: %s (the live values are set; run again once the path is writable)"
                             % (path, exc.strerror or exc), {"failed_path": path})


def _diff(current, after, files):
    live = {"before_header": "tx_queue_len (live)", "after_header": "tx_queue_len (live)",
            "before": "".join("%s %d\n" % (name, current[name]) for name in sorted(after)),
            "after": "".join("%s %d\n" % (name, after[name]) for name in sorted(after))}
    return [live] + [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
                     for path, old, new in files]
