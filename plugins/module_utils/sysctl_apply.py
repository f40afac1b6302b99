# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One sysctl batch, the tcp_sysctl operations: state=present (apply_settings, or apply_checked for settings
check_settings has validated) writes the live values and persists them in the sysctl.d file, state=absent
(revert_settings) restores what the state record holds; each with its diff, under the lock, rolled back on
failure. The state record (the values before our first write) and the udev rule for module keys are here too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_values, hoststate, limits, sysctl_check)
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (
    ApplyError, Lock, atomic_write, read_file, write_text)
from ansible_collections.tcptune.linux.plugins.module_utils.sysctl_live import (
    read_live, rollback, unsupported_reason, write_live)
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import (
    DEFAULT_PATH, DEFAULT_SYSCTL_SOURCES, MODULE_RULES_PATH, conflicts, drifted, parse_sysctl_file, render_module_rules,
    render_persist, same_value)

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

DEFAULT_STATE_DIR = "/var/lib/tcptune"


def state_file(state_dir, path):
    # type: (str, str) -> str
    return os.path.join(state_dir, "tcp_sysctl-%s.json" % os.path.basename(path))


def load_state(state_dir, path):
    text = read_file(state_file(state_dir, path))
    if text is None:
        return None
    return json.loads(text)


def _format(key, value):
    return catalogue_values.format_value(key, value) if value is not None else "absent"


def _live_text(values):
    return "".join("%s = %s\n" % (name, catalogue_values.format_value(catalogue.get(name), value))
                   for name, value in values.items() if value is not None)


def apply_settings(settings, path=DEFAULT_PATH, mode="set", unsupported="skip",
                   state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sysctl_sources=None,
                   check_mode=False, lock_timeout=30.0, host=None, writer=None,
                   persist_only=None, module_rules_path=None):
    """state=present. Returns the result dict of the tcp_sysctl module; raises ApplyError.

    ``host``: sysctl_check.host_facts (read here when None). ``persist_only`` {key: value}: kept in the file
    at that value without a live write (a key changed by hand since an earlier run persisted it, reported as
    drift; a module key whose module is not loaded now). ``module_rules_path``: where the udev rule goes
    that applies the file's module keys when their module loads (None: no rule)."""
    host = host or sysctl_check.host_facts(proc_path)
    return apply_checked(sysctl_check.check_settings(settings, host), host, path, mode, unsupported,
                         state_dir, proc_path, sysctl_sources, check_mode, lock_timeout, writer, persist_only,
                         module_rules_path)


def apply_checked(checked, host, path=DEFAULT_PATH, mode="set", unsupported="skip", state_dir=DEFAULT_STATE_DIR,
                  proc_path="/proc", sysctl_sources=None, check_mode=False, lock_timeout=30.0, writer=None,
                  persist_only=None, module_rules_path=None):
    """apply_settings for settings sysctl_check.check_settings has validated (``checked``): the one-run
    transaction validates once and calls this twice, to diff and to write."""
    init_netns = host["init_netns"]
    sources = DEFAULT_SYSCTL_SOURCES if sysctl_sources is None else sysctl_sources
    wanted, current, skipped = sysctl_check.plan_settings(checked, proc_path, host, mode)
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
                    check_mode=False, lock_timeout=30.0, host=None, writer=None,
                    module_rules_path=None):
    """state=absent: restore the recorded previous value of every key whose live value is still the one
    our file persists (anything changed since is left alone, with a warning), remove the file, its
    module rule and the record. ``host``: sysctl_check.host_facts (read here when None)."""
    host = host or sysctl_check.host_facts(proc_path)
    kernel, init_netns = host["kernel"], host["init_netns"]
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


def nr_open_lockout(root, proc_path, host, state, settings, policy, state_dir, path):
    # type: (str, str, Dict[str, Any], str, Dict[str, Any], str, str, str) -> Optional[Tuple[int, List[str]]]
    """(fs.nr_open a sysctl batch run on its own would write, [hard nofile limits above it]) or None: I1 for
    tcp_sysctl, through hoststate.lockout_errors. The value comes from ``settings`` (state=present; policy
    raise never lowers a live value at least as high) or from the state record (state=absent). The batch
    persists it in its own file too, so it stands for the next boot's value. Only in the initial network
    namespace: elsewhere fs.* is never written."""
    if not host["init_netns"]:
        return None
    live = limits.read_nr_open(proc_path)
    if state == "present":
        wanted = settings.get("fs.nr_open")
    else:
        try:
            wanted = (load_state(state_dir, path) or {}).get("previous", {}).get("fs.nr_open")
        except ValueError:
            return None
    try:
        wanted = int(str(wanted).strip()) if wanted is not None else None
    except ValueError:
        return None  # check_settings names it
    if wanted is None or (policy == "raise" and state == "present" and live and live >= wanted):
        return None
    broken = hoststate.lockout_errors(hoststate.HostFiles(root), wanted, limits.systemd_version(root),
                                      boot=(wanted, path))
    return (wanted, broken) if broken else None
