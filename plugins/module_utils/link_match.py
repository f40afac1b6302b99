# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Other .link files: could systemd-udevd apply one of them, and not ours, to an interface?

systemd-udevd applies the first .link file (by name) whose [Match] fits a device and no other, so a
.link file of ours would either take the place of an admin's file or never apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import re
import stat

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file
from ansible_collections.tcptune.linux.plugins.module_utils.interfaces import is_virtual, mac_address
from ansible_collections.tcptune.linux.plugins.module_utils.txqueue_persist import OWNER_LINE

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

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
    virtual = is_virtual(sys_path, name, device_link_only=True)
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
