# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""txqueuelen: select interfaces, set /sys/class/net/IFACE/tx_queue_len, persist it with a udev
rule or a systemd .link file, record previous values and revert them.

A .link file is only written for an interface no other .link file may match: systemd-udevd applies
the first .link file (by name) that matches a device and no other, so ours would either take the
place of an admin's file (its Name= lost at boot) or never apply (link_conflicts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import json
import os
import re
import stat

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import (
    ApplyError, Lock, atomic_write, read_file, write_text)

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
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


def link_file_of(values, link_path):
    # type: (Dict[str, int], str) -> Dict[str, str]
    """{name: path of the .link file that holds it}. A .link file has one [Link] section, so interfaces
    are grouped by value: one value gives ``link_path``; several give ``<link_path without .link>-<value>.link``."""
    stem = link_path[:-len(".link")] if link_path.endswith(".link") else link_path
    several = len(set(values.values())) > 1
    return dict((name, "%s-%d.link" % (stem, value) if several else link_path) for name, value in values.items())


def link_files(sys_path, values, link_path):
    # type: (str, Dict[str, int], str) -> Dict[str, str]
    """{path: text}, one file per value (link_file_of)."""
    groups = {}  # type: Dict[str, List[str]]
    for name, path in link_file_of(values, link_path).items():
        groups.setdefault(path, []).append(name)
    return dict((path, render_link(sys_path, sorted(names), values[names[0]])) for path, names in groups.items())


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


# ---------------------------------------------------------------- other .link files (first match wins)

# systemd.link(5): the .link files of these directories are merged by file name (the first directory
# holding a name wins, a symlink to /dev/null or an empty file masks it) and sorted by name, and only
# the first file whose [Match] fits a device applies to it. /lib/systemd/network is read too where
# systemd is built for a split /usr (Debian 11 and 12 install 99-default.link there).
LINK_DIRS = ("/etc/systemd/network", "/run/systemd/network", "/usr/local/lib/systemd/network",
             "/usr/lib/systemd/network", "/lib/systemd/network")
VENDOR_LINK_DIRS = ("/usr/lib/systemd/network", "/lib/systemd/network")
# The distribution's catch-all files our .link file is meant to come before (it repeats 99-default's
# naming policies). Only their vendor copies: an admin's copy in /etc, /run or /usr/local is a file like any other.
DEFAULT_LINK = "99-default.link"
USB_LINK = "73-usb-net-by-mac.link"  # Property=ID_BUS=usb: only a USB device can match it
# [Match] keys evaluated from the interface's facts; any other key (Path=, Property=, Host=,
# Virtualization=, KernelCommandLine=, KernelVersion=, Architecture=, Firmware=, Credential=, or one
# this code does not know) may be true, so a file with it may match.
INVERTIBLE = ("OriginalName", "Driver", "Type", "Kind", "Path", "Property")
# systemd's arphrd_to_name() in lower case, for Type= when the device has no DEVTYPE.
ARPHRD_NAMES = {1: "ether", 24: "ieee1394", 32: "infiniband", 280: "can", 512: "ppp", 519: "rawip",
                768: "tunnel", 769: "tunnel6", 772: "loopback", 776: "sit", 778: "ipgre", 801: "ieee80211",
                803: "ieee80211_radiotap", 804: "ieee802154", 823: "ip6gre", 825: "6lowpan",
                65534: "none", 65535: "void"}
NET_ADDR_PERM = 0  # /sys/class/net/IF/addr_assign_type: the address is the device's own (as at boot)
NET_ADDR_STOLEN, NET_ADDR_SET = 2, 3  # taken from another device, or set since (bond ports, macchanger)
NET_NAME_RENAMED = 4  # /sys/class/net/IF/name_assign_type: renamed by user space, so not the original name


def link_search_dirs(link_path):
    # type: (str) -> Tuple[str, ...]
    """The directories systemd-udevd reads .link files from, under the root ``link_path`` lives in
    (``<root>/etc/systemd/network/NAME.link``). A ``link_path`` outside them is never read by
    systemd, so it can take no other file's place: only its own directory is returned."""
    directory = os.path.normpath(os.path.dirname(link_path) or ".")
    for known in LINK_DIRS:
        if directory == known or directory.endswith(known):
            root = directory[:-len(known)]
            return tuple(root + other for other in LINK_DIRS)
    return (directory,)


def _masked(path):
    # type: (str) -> bool
    """A symlink to /dev/null, an empty file or one that cannot be read: systemd skips it."""
    try:
        info = os.stat(path)
    except OSError:
        return True
    return stat.S_ISCHR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_size == 0)


def _merged(dirs, suffix, subdir=""):
    # type: (Tuple[str, ...], str, str) -> List[Tuple[str, str]]
    """[(file name, path)] sorted by name, the first directory holding a name winning (a mask too)."""
    chosen = {}  # type: Dict[str, str]
    for directory in dirs:
        directory = os.path.join(directory, subdir) if subdir else directory
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            if name.endswith(suffix) and not name.startswith(".") and name not in chosen and not os.path.isdir(path):
                chosen[name] = path
    return [(name, chosen[name]) for name in sorted(chosen)]


def link_file_order(dirs):
    # type: (Tuple[str, ...]) -> List[Tuple[str, str, bool, bool]]
    """[(file name, path, masked, vendor)] of the .link files in ``dirs`` (LINK_DIRS order), in the
    order systemd-udevd tries them. A masked name (symlink to /dev/null, empty file) is never
    applied; vendor: the file is the distribution's (/usr/lib or /lib, not /usr/local/lib)."""
    return [(name, path, _masked(path), _is_vendor(os.path.dirname(path))) for name, path in _merged(dirs, ".link")]


def _is_vendor(directory):
    # type: (str) -> bool
    return directory.endswith(VENDOR_LINK_DIRS) and not directory.endswith("/usr/local/lib/systemd/network")


def link_dropins(dirs, name):
    # type: (Tuple[str, ...], str) -> List[str]
    """``NAME.d/*.conf`` of every directory, merged by name like the files, parsed after NAME."""
    return [path for dummy, path in _merged(dirs, ".conf", name + ".d") if not _masked(path)]


def parse_link_match(text):
    # type: (str) -> List[Tuple[str, str]]
    """(key, value) of the [Match] sections of a .link file, in file order: comment lines (# ;) and
    other sections left out, a line ending in a backslash continued on the next one."""
    entries = []  # type: List[Tuple[str, str]]
    section, pending = None, ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == "Match" and "=" in line:
            key, value = line.split("=", 1)
            entries.append((key.strip(), value.strip()))
    return entries


def _hw_address(text):
    # type: (str) -> Optional[str]
    """aa:bb:..., aa-bb-... or aabb.ccdd.eeff as lower-case colon form; None when not an address."""
    text = text.strip().lower()
    if re.match(r"^[0-9a-f]{1,2}([:-][0-9a-f]{1,2})+$", text):
        return ":".join(part.zfill(2) for part in re.split(r"[:-]", text))
    if re.match(r"^[0-9a-f]{4}(\.[0-9a-f]{4})+$", text):
        digits = text.replace(".", "")
        return ":".join(digits[i:i + 2] for i in range(0, len(digits), 2))
    return None


def _test_strv(patterns, string):
    # type: (List[str], Optional[str]) -> bool
    """systemd's net_condition_test_strv: a "!" pattern that matches excludes; with a positive pattern
    one must match; with only "!" patterns anything else matches. No ``string`` matches no pattern."""
    matched, positive = False, False
    for pattern in patterns:
        invert = pattern.startswith("!")
        pattern = pattern[1:] if invert else pattern
        positive = positive or not invert
        if string is not None and fnmatch.fnmatchcase(string, pattern):
            if invert:
                return False
            matched = True
    return matched if positive else True


def _evaluate(key, patterns, facts):
    # type: (str, List[str], Dict[str, Any]) -> Optional[bool]
    """One [Match] key: True, False, or None when the facts cannot tell (counts as a possible match)."""
    if key in ("MACAddress", "PermanentMACAddress"):
        addresses = [_hw_address(word) for word in patterns]
        mac = _hw_address(facts.get("mac") or "")
        if mac is not None and mac in addresses:
            return True
        assigned = facts.get("addr_assign_type")
        # MACAddress= sees the address at boot: today's unless it was set or taken from another device since.
        # PermanentMACAddress= is today's address only when the kernel says it is the device's own.
        reliable = assigned == NET_ADDR_PERM if key == "PermanentMACAddress" \
            else assigned not in (NET_ADDR_STOLEN, NET_ADDR_SET)
        return False if mac is not None and reliable and None not in addresses else None
    if key == "OriginalName":
        # The kernel's name at creation: today's name unless user space renamed the device.
        renamed = facts.get("name_assign_type") == NET_NAME_RENAMED
        return None if renamed or not facts.get("name") else _test_strv(patterns, facts["name"])
    if key == "Driver":
        return None if not facts.get("driver") else _test_strv(patterns, facts["driver"])
    if key == "Type":
        return None if not facts.get("type_name") else _test_strv(patterns, facts["type_name"])
    if key == "Kind":
        # A physical device (a bus device behind it) has no rtnetlink kind; a virtual one's is unknown here.
        return None if facts.get("virtual", True) else _test_strv(patterns, None)
    return None


def match_link(entries, facts):
    # type: (List[Tuple[str, str]], Dict[str, Any]) -> Tuple[Optional[bool], List[str]]
    """Could a .link file whose [Match] holds ``entries`` (parse_link_match) match the interface
    ``facts`` (link_facts) describe? (True: it matches; False: it cannot; None: it may), and the
    keys that could not be evaluated. Each key holds a list (an empty value resets it); every key
    must match; an empty [Match] matches every device (conservatively: systemd 246+ ignores such a file)."""
    lists = {}  # type: Dict[str, List[str]]
    for key, value in entries:
        if not value:
            lists[key] = []
            continue
        invert = key in INVERTIBLE and value.startswith("!")
        words = [word.strip("\"'") for word in (value[1:] if invert else value).split()]
        lists.setdefault(key, []).extend(("!" + word) if invert else word for word in words if word)
    results = dict((key, _evaluate(key, patterns, facts)) for key, patterns in lists.items() if patterns)
    if any(result is False for result in results.values()):
        return False, []
    unknown = sorted(key for key, result in results.items() if result is None)
    return (None if unknown else True), unknown


def _int_or_none(text):
    # type: (Optional[str]) -> Optional[int]
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def link_facts(sys_path, name):
    # type: (str, str) -> Dict[str, Any]
    """What a .link [Match] is evaluated against, from /sys/class/net/NAME: name, MAC address
    (``address``, and ``addr_assign_type``), ``name_assign_type``, driver (``device/driver`` link),
    type (``uevent`` DEVTYPE, else the ``type`` ARPHRD number as systemd names it), virtual (no
    ``device``) and usb (the device sits on a USB bus)."""
    base = os.path.join(sys_path, "class/net", name)
    device = os.path.join(base, "device")
    driver = os.path.join(device, "driver")
    devtype = None
    for line in (read_file(os.path.join(base, "uevent")) or "").splitlines():
        if line.startswith("DEVTYPE="):
            devtype = line[len("DEVTYPE="):].strip() or None
    arphrd = _int_or_none(read_file(os.path.join(base, "type")))
    virtual = not os.path.exists(device)
    subsystem = os.path.join(device, "subsystem")
    bus_path = os.path.realpath(device) if not virtual else ""
    return {
        "name": name,
        "mac": mac_address(sys_path, name) or None,
        "addr_assign_type": _int_or_none(read_file(os.path.join(base, "addr_assign_type"))),
        "name_assign_type": _int_or_none(read_file(os.path.join(base, "name_assign_type"))),
        "driver": os.path.basename(os.path.realpath(driver)) if os.path.islink(driver) else None,
        "type_name": devtype or ARPHRD_NAMES.get(arphrd),
        "virtual": virtual,
        "usb": not virtual and (os.path.basename(os.path.realpath(subsystem)) == "usb"
                                or "/usb" in bus_path),
    }


def first_match_conflicts(files, facts, ours):
    # type: (List[Tuple[str, str, bool, bool, List[Any]]], Dict[str, Dict[str, Any]], Dict[str, str]) -> Dict[str, Any]
    """Pure: for each interface of ``facts`` {name: link_facts}, whose entry would go into the file
    named ``ours`` {name: file name}, the other .link files that match it or may match it.

    ``files``: [(file name, path, masked, vendor, [Match] entries)] in systemd's order (link_file_order),
    our own files left out. Any such file is a conflict: one sorting before ours is applied instead
    of ours (our TransmitQueueLength never applies); one after ours stops applying (its Name= and
    the rest lost at boot). The vendor 99-default.link, and 73-usb-net-by-mac.link for a device not
    on USB, are the files ours is meant to come before. A masked 99-default.link is a conflict too:
    our file would bring back the naming policy the admin turned off.
    Returns {name: [{file, order: before|after, match: yes|may, unknown: [keys]}]}, only names with one."""
    conflicts = {}  # type: Dict[str, List[Dict[str, Any]]]
    for name in sorted(facts):
        found = []
        for file_name, path, masked, vendor, entries in files:
            if masked:
                if file_name == DEFAULT_LINK:
                    found.append({"file": path, "order": "masked", "match": "yes", "unknown": []})
                continue
            if vendor and (file_name == DEFAULT_LINK or (file_name == USB_LINK and not facts[name].get("usb"))):
                continue
            result, unknown = match_link(entries, facts[name])
            if result is not False:
                found.append({"file": path, "order": "before" if file_name < ours[name] else "after",
                              "match": "yes" if result else "may", "unknown": unknown})
        if found:
            conflicts[name] = found
    return conflicts


def link_conflicts(sys_path, names, ours, dirs):
    # type: (str, List[str], Dict[str, str], Tuple[str, ...]) -> Dict[str, List[Dict[str, Any]]]
    """first_match_conflicts over the .link files (and drop-ins) of ``dirs`` as they are on disk,
    leaving out the files of ``ours`` {interface: path of our file for it} (by name: ours, in the first
    directory, takes the place of any other of that name) and any file carrying our header."""
    files = []  # type: List[Tuple[str, str, bool, bool, List[Tuple[str, str]]]]
    own = set(os.path.basename(path) for path in ours.values())
    for file_name, path, masked, vendor in link_file_order(dirs):
        if file_name in own:
            continue
        entries = []  # type: List[Tuple[str, str]]
        if not masked:
            text = read_file(path) or ""
            if text.startswith(OWNER_LINE):
                continue
            entries = parse_link_match(text)
            for dropin in link_dropins(dirs, file_name):
                entries += parse_link_match(read_file(dropin) or "")
        files.append((file_name, path, masked, vendor, entries))
    return first_match_conflicts(files, dict((name, link_facts(sys_path, name)) for name in names),
                                 dict((name, os.path.basename(path)) for name, path in ours.items()))


def conflict_text(name, conflict, our_file):
    # type: (str, Dict[str, Any], str) -> str
    """One conflict (first_match_conflicts) in words."""
    if conflict["order"] == "masked":
        return ("%s: %s masks %s (predictable names turned off); a .link file of ours would bring its naming "
                "policy back for %s" % (name, conflict["file"], DEFAULT_LINK, name))
    how = "matches it" if conflict["match"] == "yes" else \
        "may match it (%s= cannot be evaluated here)" % "=, ".join(conflict["unknown"])
    if conflict["order"] == "before":
        return ("%s: %s %s and comes before %s, so systemd-udevd would apply it and never ours (our "
                "TransmitQueueLength would not apply at boot)" % (name, conflict["file"], how, our_file))
    return ("%s: %s %s and comes after %s, so ours would be applied instead of it and its settings (Name= and "
            "the rest) would be lost at the next boot" % (name, conflict["file"], how, our_file))


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
