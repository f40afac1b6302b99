# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a txqueuelen survives a reboot: a udev rule file or systemd .link files, which of the two,
their text, and the values our files hold now."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file
from ansible_collections.tcptune.linux.plugins.module_utils.host_detect import SYSTEMD_LIB_DIRS, systemd_version
from ansible_collections.tcptune.linux.plugins.module_utils.interfaces import interface_names, mac_address

try:
    from typing import Dict, List, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

# 90, after 80-net-setup-link.rules, so NAME (the predictable name udev gives) is known.
DEFAULT_RULES_PATH = "/etc/udev/rules.d/90-tcptune-txqueuelen.rules"
DEFAULT_LINK_PATH = "/etc/systemd/network/60-tcptune-txqueuelen.link"
NO_MAC = ("", "00:00:00:00:00:00")
OWNER_LINE = "# Managed by tcptune.linux (txqueuelen). Do not edit: the next run overwrites this file.\n"
# A .link file replaces 99-default.link for the devices it matches (first match wins), so it
# repeats the default naming policies of systemd 249+.
LINK_DEFAULTS = ("NamePolicy=keep kernel database onboard slot path\n"
                 "AlternativeNamesPolicy=database onboard slot path\n"
                 "MACAddressPolicy=persistent\n")
LINK_TXQUEUELEN_SINCE = 248  # systemd 248 added TransmitQueueLength= to .link files; 247 ignores it


def networkd_manages_links(run_path="/run"):
    # type: (str) -> bool
    """systemd-networkd writes its per-link state under /run/systemd/netif/links."""
    return os.path.isdir(os.path.join(run_path, "systemd/netif/links"))


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
