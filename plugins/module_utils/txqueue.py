# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""txqueuelen: select interfaces, set /sys/class/net/IFACE/tx_queue_len, persist it with a udev
rule or a systemd .link file, record previous values and revert them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import json
import os
import re

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (
    ApplyError, Lock, atomic_write, read_file, write_text)

try:
    from typing import Dict, List, Optional, Tuple  # noqa: F401 (type comments)
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


# Where distributions install libsystemd-shared-<version>.so (Debian/Ubuntu, Fedora/EL, others).
SYSTEMD_LIB_DIRS = ("/lib/systemd", "/usr/lib/systemd", "/usr/lib64/systemd")
LINK_TXQUEUELEN_SINCE = 248  # systemd 248 added TransmitQueueLength= to .link files; 247 ignores it


def systemd_version(lib_dirs=SYSTEMD_LIB_DIRS):
    # type: (Tuple[str, ...]) -> Optional[int]
    """systemd's version from the name of its shared library, without running a process; None when absent."""
    versions = []
    for directory in lib_dirs:
        for path in glob.glob(os.path.join(glob.escape(directory), "libsystemd-shared-*.so")):
            number = os.path.basename(path)[len("libsystemd-shared-"):-len(".so")].split(".")[0]
            if number.isdigit():
                versions.append(int(number))
    return max(versions) if versions else None


def choose_persist(persist, run_path="/run", lib_dirs=SYSTEMD_LIB_DIRS):
    # type: (str, str, Tuple[str, ...]) -> str
    """auto: a .link file where systemd-networkd manages the links and systemd reads TransmitQueueLength=,
    else a udev rule (udev applies ATTR{tx_queue_len} on every systemd version)."""
    if persist == "auto":
        version = systemd_version(lib_dirs)
        link_works = version is not None and version >= LINK_TXQUEUELEN_SINCE
        return "link" if networkd_manages_links(run_path) and link_works else "udev"
    return persist


def render_udev(values):
    # type: (Dict[str, int]) -> str
    """Two rules per name: KERNEL matches unrenamed devices and re-triggers after rename, NAME
    matches at boot once 80-net-setup-link.rules chose the predictable name."""
    lines = [OWNER_LINE]
    for name in sorted(values):
        for match in ("KERNEL", "NAME"):
            lines.append('ACTION=="add", SUBSYSTEM=="net", %s=="%s", ATTR{tx_queue_len}="%d"\n'
                         % (match, name, values[name]))
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


def link_files(sys_path, values, link_path):
    # type: (str, Dict[str, int], str) -> Dict[str, str]
    """{path: text}. A .link file has one [Link] section, so interfaces are grouped by value: one
    value gives ``link_path``; several give ``<link_path without .link>-<value>.link`` each."""
    groups = {}  # type: Dict[int, List[str]]
    for name, value in values.items():
        groups.setdefault(value, []).append(name)
    stem = link_path[:-len(".link")] if link_path.endswith(".link") else link_path
    return dict((link_path if len(groups) == 1 else "%s-%d.link" % (stem, value),
                 render_link(sys_path, sorted(names), value)) for value, names in groups.items())


def owned_link_files(link_path):
    # type: (str) -> List[str]
    """``link_path`` and its per-value siblings that carry our header."""
    stem = link_path[:-len(".link")] if link_path.endswith(".link") else link_path
    found = set(path for path in glob.glob(glob.escape(stem) + "-*.link")
                if (read_file(path) or "").startswith(OWNER_LINE))
    if os.path.exists(link_path):
        found.add(link_path)
    return sorted(found)


def persisted_values(sys_path, rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH):
    # type: (str, str, str) -> Dict[str, int]
    """{name: value} our udev rule file or .link files hold for the interfaces present now (.link
    files match MAC addresses, mapped back to today's names; OriginalName= matches names)."""
    found = {}  # type: Dict[str, int]
    rules = read_file(rules_path) or ""
    if rules.startswith(OWNER_LINE):
        for line in rules.splitlines():
            match = re.search(r'(?:KERNEL|NAME)=="([^"]+)", ATTR\{tx_queue_len\}="(\d+)"', line)
            if match:
                found[match.group(1)] = int(match.group(2))
    by_mac = dict((mac_address(sys_path, name), name) for name in interface_names(sys_path))
    for path in owned_link_files(link_path):
        fields = {}  # type: Dict[str, str]
        for line in (read_file(path) or "").splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                fields[key.strip()] = value.strip()
        if not fields.get("TransmitQueueLength", "").isdigit():
            continue
        names = [by_mac[mac] for mac in fields.get("MACAddress", "").split() if mac in by_mac]
        names += fields.get("OriginalName", "").split()
        for name in names:
            found[name] = int(fields["TransmitQueueLength"])
    return found


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


def apply_txqueuelen(patterns=None, value=None, include_virtual=False, persist="auto", sys_path="/sys",
                     rules_path=DEFAULT_RULES_PATH, link_path=DEFAULT_LINK_PATH, run_path="/run",
                     lib_dirs=SYSTEMD_LIB_DIRS,
                     state_dir="/var/lib/tcptune", check_mode=False, lock_timeout=30.0, writer=None,
                     values=None, allow_lower=False):
    """state=present, for ``patterns`` with one ``value`` or for ``values`` {name: value}. Every
    interface goes into one persistence (one udev file, or one .link file per value), and that is
    the only tcptune txqueuelen persistence afterwards (persist=none removes it). Raises
    ApplyError and rolls back live values on failure."""
    writer = writer or write_text
    method = choose_persist(persist, run_path, lib_dirs)
    with Lock(state_dir, lock_timeout, create=not check_mode):
        wanted, current, skipped, unmatched = wanted_values(sys_path, patterns, value, values, include_virtual,
                                                            allow_lower)
        changes = [name for name in sorted(wanted) if current[name] != wanted[name]]
        new_files = {}  # type: Dict[str, str]
        if wanted and method == "udev":
            new_files[rules_path] = render_udev(wanted)
        elif wanted and method == "link":
            new_files.update(link_files(sys_path, wanted, link_path))
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
