# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""link_match.py: the .link files systemd-udevd reads, their [Match] sections and what they match.
The conflicts as a txqueuelen run meets them are in test_txqueue.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import link_match


def test_link_search_dirs_follow_the_root_of_link_path():
    assert link_match.link_search_dirs("/etc/systemd/network/60-x.link") == link_match.LINK_DIRS
    assert link_match.link_search_dirs("/r/etc/systemd/network/60-x.link") == tuple("/r" + d for d in link_match.LINK_DIRS)
    assert link_match.link_search_dirs("/srv/x/60-x.link") == ("/srv/x",)  # never read by systemd


def test_parse_link_match_sections_comments_and_continuations():
    text = ("# MACAddress=00:00:00:00:00:01\n[Link]\nMACAddress=00:00:00:00:00:02\n[Match]\n; comment\n"
            "MACAddress = aa:bb:cc:dd:ee:01 \\\n  aa:bb:cc:dd:ee:02\nOriginalName=eth*\n[Link]\nName=x\n"
            "[Match]\nDriver=e1000e\n")
    assert link_match.parse_link_match(text) == [("MACAddress", "aa:bb:cc:dd:ee:01  aa:bb:cc:dd:ee:02"),
                                                 ("OriginalName", "eth*"), ("Driver", "e1000e")]


ETH = {"name": "eth0", "mac": "52:54:00:12:34:56", "addr_assign_type": None, "name_assign_type": None,
       "driver": "virtio_net", "type_name": "ether", "virtual": False, "usb": False}


@pytest.mark.parametrize("entries, expected", [
    ([], (True, [])),  # an empty [Match] matches everything
    ([("MACAddress", "00:11:22:33:44:55 52-54-00-12-34-56")], (True, [])),
    ([("MACAddress", "5254.0012.3456")], (True, [])),
    ([("MACAddress", "00:11:22:33:44:55")], (False, [])),
    ([("MACAddress", ETH["mac"]), ("MACAddress", ""), ("MACAddress", "00:11:22:33:44:55")], (False, [])),
    ([("MACAddress", "00:11:22:33:44:55"), ("Host", "db1")], (False, [])),
    ([("OriginalName", "eth*"), ("Host", "db1"), ("Path", "pci-*")], (None, ["Host", "Path"])),
    ([("OriginalName", "!eth*")], (False, [])),
    ([("Driver", "virtio*"), ("Type", "ether")], (True, [])),
    ([("Driver", "e1000e ixgbe")], (False, [])),
    ([("Type", "wlan")], (False, [])),
    ([("Kind", "vlan")], (False, [])),
    ([("Kind", "!vlan")], (True, [])),
    ([("PermanentMACAddress", "00:11:22:33:44:55")], (None, ["PermanentMACAddress"])),
    ([("Property", "ID_BUS=pci")], (None, ["Property"])),
    ([("SomethingNew", "x")], (None, ["SomethingNew"])),
])
def test_match_link_keys(entries, expected):
    assert link_match.match_link(entries, ETH) == expected


def test_match_link_facts_that_are_not_what_boot_sees():
    renamed = dict(ETH, name_assign_type=link_match.NET_NAME_RENAMED)  # ens3 today, eth0 at boot
    assert link_match.match_link([("OriginalName", "wlan*")], renamed) == (None, ["OriginalName"])
    set_mac = dict(ETH, addr_assign_type=link_match.NET_ADDR_SET)  # a bond port: its own MAC at boot
    assert link_match.match_link([("MACAddress", "00:11:22:33:44:55")], set_mac) == (None, ["MACAddress"])
    own_mac = dict(ETH, addr_assign_type=link_match.NET_ADDR_PERM)
    assert link_match.match_link([("PermanentMACAddress", "00:11:22:33:44:55")], own_mac) == (False, [])
    assert link_match.match_link([("Driver", "virtio_net")], dict(ETH, driver=None, virtual=True)) == (None, ["Driver"])


def test_link_facts_from_sysfs(tmpdir):
    net = tmpdir.join("sys/class/net")
    for name, mac, arphrd in (("eth0", ETH["mac"], 1), ("eth1", "52:54:00:12:34:57", 1), ("lo", "00:00:00:00:00:00", 772)):
        net.join(name, "address").write(mac + "\n", ensure=True)
        net.join(name, "type").write("%d\n" % arphrd)
    eth0 = net.join("eth0")
    eth0.join("device").ensure(dir=True)
    eth0.join("device/driver").mksymlinkto(tmpdir.join("sys/bus/virtio/drivers/virtio_net").ensure(dir=True))
    eth0.join("uevent").write("INTERFACE=eth0\nIFINDEX=2\n")
    net.join("eth1/uevent").write("DEVTYPE=wlan\nINTERFACE=eth1\n")
    sys_path = str(tmpdir.join("sys"))
    facts = link_match.link_facts(sys_path, "eth0")
    assert facts["driver"] == "virtio_net" and facts["type_name"] == "ether" and facts["mac"] == ETH["mac"]
    assert facts["virtual"] is False and facts["usb"] is False
    assert link_match.link_facts(sys_path, "eth1")["type_name"] == "wlan"
    assert link_match.link_facts(sys_path, "eth1")["virtual"] is True  # no device link
    assert link_match.link_facts(sys_path, "lo")["type_name"] == "loopback"
