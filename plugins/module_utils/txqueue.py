# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""txqueuelen: select interfaces, set /sys/class/net/IFACE/tx_queue_len, persist it with a udev
rule or a systemd .link file, record previous values and revert them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils.apply import (
    ApplyError, Lock, atomic_write, read_file, write_text)

try:
    from typing import Dict, List, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

# 90, after 80-net-setup-link.rules, so NAME (the predictable name udev gives) is known.
DEFAULT_RULES_PATH = "/etc/udev/rules.d/90-tcptune-txqueuelen.rules"
DEFAULT_LINK_PATH = "/etc/systemd/network/60-tcptune-txqueuelen.link"
MAXIMUM = 2147483647
NO_MAC = ("", "00:00:00:00:00:00")
OWNER_LINE = "# Managed by tcptune.linux (txqueuelen). Do not edit: the next run overwrites this file.\n"
# A .link file replaces 99-default.link for the devices it matches (first match wins), so it
# repeats the default naming policies of systemd 249+.
LINK_DEFAULTS = ("NamePolicy=keep kernel database onboard slot path\n"
                 "AlternativeNamesPolicy=database onboard slot path\n"
                 "MACAddressPolicy=persistent\n")


def interface_names(sys_path):
    # type: (str) -> List[str]
    try:
        return sorted(os.listdir(os.path.join(sys_path, "class/net")))
    except OSError:
        return []


def is_virtual(sys_path, name):
    # type: (str, str) -> bool
    """Physical devices have a 'device' link to their bus device; lo, veth, bridges do not."""
    return not os.path.exists(os.path.join(sys_path, "class/net", name, "device"))


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
            if is_virtual(sys_path, name) and not include_virtual:
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


def mac_address(sys_path, name):
    text = read_file(os.path.join(sys_path, "class/net", name, "address"))
    return (text or "").strip().lower()


def networkd_manages_links(run_path="/run"):
    # type: (str) -> bool
    """systemd-networkd writes its per-link state under /run/systemd/netif/links."""
    return os.path.isdir(os.path.join(run_path, "systemd/netif/links"))


def choose_persist(persist, run_path="/run"):
    # type: (str, str) -> str
    if persist == "auto":
        return "link" if networkd_manages_links(run_path) else "udev"
    return persist


def render_udev(names, value):
    # type: (List[str], int) -> str
    """Two rules per name: KERNEL matches unrenamed devices and re-triggers after rename, NAME
    matches at boot once 80-net-setup-link.rules chose the predictable name."""
    lines = [OWNER_LINE]
    for name in names:
        for match in ("KERNEL", "NAME"):
            lines.append('ACTION=="add", SUBSYSTEM=="net", %s=="%s", ATTR{tx_queue_len}="%d"\n'
                         % (match, name, value))
    return "".join(lines)


def render_link(sys_path, names, value):
    # type: (str, List[str], int) -> str
    """One .link file (systemd >= 248 for TransmitQueueLength). Matches MAC addresses, which stay
    the same across renames; devices without one are matched by their kernel name."""
    macs = [mac_address(sys_path, name) for name in names]
    by_mac = sorted(mac for mac in macs if mac not in NO_MAC)
    by_name = sorted(name for name, mac in zip(names, macs) if mac in NO_MAC)
    match = "".join(["MACAddress=%s\n" % " ".join(by_mac)] if by_mac else []) + \
        "".join(["OriginalName=%s\n" % " ".join(by_name)] if by_name else [])
    return "%s\n[Match]\n%s\n[Link]\n%sTransmitQueueLength=%d\n" % (OWNER_LINE, match, LINK_DEFAULTS, value)


def _state_path(state_dir):
    return os.path.join(state_dir, "txqueuelen.json")


def apply_txqueuelen(patterns, value, include_virtual=False, persist="auto", sys_path="/sys",
                     rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH, run_path="/run",
                     state_dir="/var/lib/tcptune", check_mode=False, lock_timeout=30.0, writer=None):
    """state=present. The persisted file is the only tcptune txqueuelen file afterwards
    (persist=none removes both). Raises ApplyError and rolls back live values on failure."""
    if not 1 <= value <= MAXIMUM:
        raise ApplyError("value: %d is outside the accepted range 1..%d" % (value, MAXIMUM))
    writer = writer or write_text
    selected, skipped, unmatched = select(sys_path, patterns, include_virtual)
    method = choose_persist(persist, run_path)
    with Lock(state_dir, lock_timeout, create=not check_mode):
        current = dict((name, read_len(sys_path, name)) for name in selected)
        changes = [name for name in selected if current[name] != value]
        wanted = {"udev": (rules_path, render_udev(selected, value) if selected else None),
                  "link": (link_path, render_link(sys_path, selected, value) if selected else None)}
        files = []  # (path, old text, new text or None to remove)
        for kind in ("udev", "link"):
            path, text = wanted[kind]
            old = read_file(path)
            new = text if kind == method else None
            if old != new:
                files.append((path, old, new))
        result = {
            "changed": bool(changes or files),
            "interfaces": selected,
            "changed_interfaces": changes,
            "previous": dict((name, current[name]) for name in changes),
            "skipped_interfaces": skipped,
            "unmatched": unmatched,
            "persist": method,
            "persisted_path": wanted[method][0] if method in wanted and selected else None,
            "diff": _diff(current, dict((name, value) for name in changes), files),
        }
        if check_mode:
            return result
        _record(state_dir, result["previous"])
        done = []
        for name in changes:
            try:
                writer(_queue_file(sys_path, name), str(value))
                if read_len(sys_path, name) != value:
                    raise ApplyError("read back %d" % read_len(sys_path, name))
            except (OSError, IOError, ApplyError) as exc:
                for back in reversed(done):
                    writer(_queue_file(sys_path, back), str(current[back]))
                raise ApplyError("%s: setting tx_queue_len %d failed (%s); the %d interface(s) set "
                                 "before it were rolled back" % (name, value, exc, len(done)))
            done.append(name)
        _write_files(files)
    return result


def revert_txqueuelen(sys_path="/sys", rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH,
                      state_dir="/var/lib/tcptune", check_mode=False, lock_timeout=30.0, writer=None):
    """state=absent: restore recorded live values, remove the persisted files and the record."""
    writer = writer or write_text
    with Lock(state_dir, lock_timeout, create=False):
        text = read_file(_state_path(state_dir))
        previous = json.loads(text)["previous"] if text else {}
        current, restores = {}, {}
        for name, old in sorted(previous.items()):
            if os.path.exists(_queue_file(sys_path, name)):
                current[name] = read_len(sys_path, name)
                if current[name] != old:
                    restores[name] = old
        files = [(path, read_file(path), None) for path in (rules_path, link_path)
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
            "persisted_path": None,
            "diff": _diff(current, restores, files),
        }
        if check_mode:
            return result
        for name in sorted(restores):
            writer(_queue_file(sys_path, name), str(restores[name]))
        _write_files(files)
        if text is not None:
            os.unlink(_state_path(state_dir))
    return result


def _record(state_dir, previous):
    """First value seen per interface wins, so a revert goes back to before tcptune."""
    path = _state_path(state_dir)
    text = read_file(path)
    record = json.loads(text) if text else {"owner": "txqueuelen", "previous": {}}
    new = dict((name, old) for name, old in previous.items() if name not in record["previous"])
    if new or text is None:
        record["previous"].update(new)
        atomic_write(path, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600)


def _write_files(files):
    for path, dummy_b, new in files:
        if new is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            atomic_write(path, new)


def _diff(current, after, files):
    live = {"before_header": "tx_queue_len (live)", "after_header": "tx_queue_len (live)",
            "before": "".join("%s %d\n" % (name, current[name]) for name in sorted(after)),
            "after": "".join("%s %d\n" % (name, after[name]) for name in sorted(after))}
    return [live] + [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
                     for path, old, new in files]
