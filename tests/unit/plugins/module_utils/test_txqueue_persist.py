# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""txqueue_persist.py: the udev rule and .link file texts, their names, and which of the two a host gets.
Writing and reading them back through a run is in test_txqueue.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import txqueue_persist


def test_render_udev_two_rules_per_name_after_the_owner_line():
    text = txqueue_persist.render_udev({"eth1": 4000, "eth0": 10000})
    assert text == txqueue_persist.OWNER_LINE + "".join(
        'ACTION=="add", SUBSYSTEM=="net", %s=="%s", ATTR{tx_queue_len}="%d"\n' % (match, name, value)
        for name, value in (("eth0", 10000), ("eth1", 4000)) for match in ("KERNEL", "NAME"))


def test_render_link_matches_macs_and_names_without_one(tmpdir):
    net = tmpdir.join("sys/class/net")
    net.join("eth0/address").write("52:54:00:12:34:56\n", ensure=True)
    net.join("tun0/address").write("\n", ensure=True)
    text = txqueue_persist.render_link(str(tmpdir.join("sys")), ["eth0", "tun0"], 5000)
    assert text.startswith(txqueue_persist.OWNER_LINE)
    assert "[Match]\nMACAddress=52:54:00:12:34:56\nOriginalName=tun0\n" in text
    assert text.endswith(txqueue_persist.LINK_DEFAULTS + "TransmitQueueLength=5000\n")


def test_one_link_file_per_value():
    path = "/etc/systemd/network/60-t.link"
    assert txqueue_persist.link_file_of({"eth0": 5000, "eth1": 5000}, path) == {"eth0": path, "eth1": path}
    assert txqueue_persist.link_file_of({"eth0": 5000, "eth1": 4000}, path) == {
        "eth0": "/etc/systemd/network/60-t-5000.link", "eth1": "/etc/systemd/network/60-t-4000.link"}


def test_choose_persist_auto_needs_networkd_and_systemd_248(tmpdir):
    lib = tmpdir.join("lib/systemd")
    lib.join("libsystemd-shared-252.so").write("", ensure=True)
    run = tmpdir.join("run")
    assert txqueue_persist.choose_persist("auto", str(run), (str(lib),)) == "udev"  # networkd not running
    run.join("systemd/netif/links").ensure(dir=True)
    assert txqueue_persist.choose_persist("auto", str(run), (str(lib),)) == "link"
    assert txqueue_persist.choose_persist("auto", str(run), (str(tmpdir.join("absent")),)) == "udev"
    assert txqueue_persist.choose_persist("udev", str(run), (str(lib),)) == "udev"
