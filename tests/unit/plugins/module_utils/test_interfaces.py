# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""interfaces.py: /sys/class/net names, the virtual test, MAC addresses, attributes and qdiscs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import host_facts, interfaces, sockdiag


def gather(fixture_tree, name, **kwargs):
    proc_path, sys_path = fixture_tree(name)
    return host_facts.gather(proc_path, sys_path, page_size=4096, **kwargs)


def test_interfaces_virtual_speed_and_duplex(fixture_tree):
    by_name = gather(fixture_tree, "linux-5.15-busy", sockets=False)["interfaces"]
    assert by_name["eth1"] == {"txqueuelen": 1000, "mtu": 1500, "speed_mbps": 100, "duplex": "half",
                               "operstate": "up", "carrier": 1, "admin_up": True, "virtual": False,
                               "qdisc": None, "qdisc_leaves": []}
    assert by_name["lo"]["virtual"] is True
    assert by_name["lo"]["speed_mbps"] is None


def test_interfaces_take_their_qdisc_by_name_and_fixture_trees_read_no_live_dump(fixture_tree, monkeypatch):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")

    def refuse():
        raise AssertionError("a fixture tree must not read this host's qdiscs")

    monkeypatch.setattr(sockdiag, "read_qdiscs", refuse)
    assert interfaces.live_qdiscs(sys_path) == {}
    by_name = interfaces.read_interfaces(sys_path, {"eth1": {"qdisc": "mq", "qdisc_leaves": ["fq_codel"]},
                                                    "gone0": {"qdisc": "noqueue", "qdisc_leaves": []}})
    assert (by_name["eth1"]["qdisc"], by_name["eth1"]["qdisc_leaves"]) == ("mq", ["fq_codel"])
    assert (by_name["lo"]["qdisc"], by_name["lo"]["qdisc_leaves"]) == (None, [])
    assert "gone0" not in by_name


def test_live_qdiscs_map_indexes_to_names_and_are_empty_when_refused(monkeypatch):
    monkeypatch.setattr(sockdiag, "read_qdiscs", lambda: {1: {"qdisc": "noqueue", "qdisc_leaves": []},
                                                          99999: {"qdisc": "mq", "qdisc_leaves": ["pfifo_fast"]}})
    monkeypatch.setattr(sockdiag, "ifindex_names", lambda: {1: "lo", 2: "eth0"})
    assert interfaces.live_qdiscs("/sys") == {"lo": {"qdisc": "noqueue", "qdisc_leaves": []}}

    def refused():
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(sockdiag, "read_qdiscs", refused)
    assert interfaces.live_qdiscs("/sys") == {}


def test_real_host_interface_with_speed_minus_one_is_null(fixture_tree):
    eth0 = gather(fixture_tree, "linux-6.18-host", sockets=False)["interfaces"]["eth0"]
    assert eth0["speed_mbps"] is None
    assert eth0["virtual"] is False


def _net(tmp_path):
    """A /sys whose class/net entries are symlinks into devices/, as on a real host."""
    sys_path = tmp_path / "sys"
    for name, device_dir, has_device_link in (("eth0", "devices/pci0000:00/0000:00:03.0/net/eth0", True),
                                              ("lo", "devices/virtual/net/lo", False),
                                              ("wlan0", "devices/virtual/mac80211_hwsim/hwsim0/net/wlan0", True)):
        (sys_path / device_dir).mkdir(parents=True)
        if has_device_link:
            (sys_path / device_dir / "device").mkdir()
        (sys_path / "class/net").mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.join("../..", device_dir), str(sys_path / "class/net" / name))
    (sys_path / "class/net/bonding_masters").write_text(u"\n")
    return str(sys_path)


def test_interface_names_list_class_net_sorted_and_nothing_when_absent(tmp_path):
    assert interfaces.interface_names(_net(tmp_path)) == ["bonding_masters", "eth0", "lo", "wlan0"]
    assert interfaces.interface_names(str(tmp_path / "absent")) == []


def test_is_virtual_follows_the_devices_path_unless_only_the_device_link_counts(tmp_path):
    sys_path = _net(tmp_path)
    assert [interfaces.is_virtual(sys_path, name) for name in ("eth0", "lo", "wlan0")] == [False, True, True]
    # txqueuelen's selection: a simulated radio with a (virtual) parent device counts as physical
    assert [interfaces.is_virtual(sys_path, name, device_link_only=True)
            for name in ("eth0", "lo", "wlan0")] == [False, True, False]


def test_is_virtual_on_a_tree_without_symlinks_looks_for_the_device_link(fixture_tree):
    _proc_path, sys_path = fixture_tree("linux-5.15-busy")
    for device_link_only in (False, True):
        assert interfaces.is_virtual(sys_path, "eth1", device_link_only) is False
        assert interfaces.is_virtual(sys_path, "lo", device_link_only) is True


def test_mac_address_is_lower_case_and_empty_when_unreadable(tmp_path):
    (tmp_path / "class/net/eth0").mkdir(parents=True)
    (tmp_path / "class/net/eth0/address").write_text(u"52:54:00:AB:CD:EF\n")
    assert interfaces.mac_address(str(tmp_path), "eth0") == "52:54:00:ab:cd:ef"
    assert interfaces.mac_address(str(tmp_path), "eth9") == ""
