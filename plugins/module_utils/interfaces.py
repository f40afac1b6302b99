# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network interfaces as /sys/class/net shows them: their names, which are virtual, their MAC address,
their attributes and root qdisc (the facts' ``interfaces``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import sockdiag
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file
from ansible_collections.tcptune.linux.plugins.module_utils.procfs import read_int

try:
    from typing import Any, Dict, List, Optional  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass


def interface_names(sys_path):
    # type: (str) -> List[str]
    """The entries of sys_path/class/net, sorted (bonding_masters too, a file); [] when unreadable."""
    try:
        return sorted(os.listdir(os.path.join(sys_path, "class/net")))
    except OSError:
        return []


def is_virtual(sys_path, name, device_link_only=False):
    # type: (str, str, bool) -> bool
    """No bus device behind the interface: lo, veth, bridges.

    A /sys/class/net entry that is a symlink (a real /sys) is virtual when it points under
    /devices/virtual/, so a device whose parent is itself virtual (mac80211_hwsim) is virtual too.
    Otherwise, or with ``device_link_only`` (txqueuelen's selection and .link matching), it is
    virtual when it has no 'device' link to a bus device.
    """
    path = os.path.join(sys_path, "class/net", name)
    if not device_link_only and os.path.islink(path):
        return "/devices/virtual/" in os.readlink(path)
    return not os.path.exists(os.path.join(path, "device"))


def mac_address(sys_path, name):
    # type: (str, str) -> str
    text = read_file(os.path.join(sys_path, "class/net", name, "address"))
    return (text or "").strip().lower()


def live_qdiscs(sys_path):
    # type: (str) -> Dict[str, Dict[str, Any]]
    """{interface name: {"qdisc", "qdisc_leaves"}} from this network namespace's RTM_GETQDISC dump.

    Empty for a sys root other than the real /sys, or when the dump is refused. The dump names
    interfaces by index, which is mapped to names in this netns (if_nameindex); /sys/class/net is
    joined by name, since a /sys mounted in another netns (``unshare --net`` without a new
    mount) lists that netns' interfaces.
    """
    if os.path.realpath(sys_path) != "/sys":
        return {}
    try:
        by_index = sockdiag.read_qdiscs()
        names = sockdiag.ifindex_names()
    except (OSError, ValueError):
        return {}
    return dict((names[index], entry) for index, entry in by_index.items() if index in names)


def read_interfaces(sys_path, qdiscs=None):
    # type: (str, Optional[Dict[str, Dict[str, Any]]]) -> Dict[str, Dict[str, Any]]
    """/sys/class/net/*: txqueuelen, mtu, speed, duplex, operstate, carrier, admin_up, virtual, and
    the root qdisc with the leaves of an mq/mqprio root from ``qdiscs`` (default: live_qdiscs()).
    """
    names = interface_names(sys_path)
    if not names:
        return {}
    if qdiscs is None:
        qdiscs = live_qdiscs(sys_path)
    interfaces = {}
    for name in names:
        path = os.path.join(sys_path, "class/net", name)
        speed = read_int(os.path.join(path, "speed"))
        flags = (read_file(os.path.join(path, "flags")) or "").strip()
        qdisc = qdiscs.get(name) or {}
        interfaces[name] = {
            "txqueuelen": read_int(os.path.join(path, "tx_queue_len")),
            "mtu": read_int(os.path.join(path, "mtu")),
            "speed_mbps": speed if speed is not None and speed > 0 else None,
            "duplex": (read_file(os.path.join(path, "duplex")) or "").strip() or None,
            "operstate": (read_file(os.path.join(path, "operstate")) or "").strip() or None,
            "carrier": read_int(os.path.join(path, "carrier")),
            "admin_up": bool(int(flags, 16) & 1) if flags else None,
            "virtual": is_virtual(sys_path, name),
            "qdisc": qdisc.get("qdisc"),
            "qdisc_leaves": list(qdisc.get("qdisc_leaves") or []),
        }
    return interfaces
