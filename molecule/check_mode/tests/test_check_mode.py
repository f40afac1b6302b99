# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode and audit mode leave /proc/sys, txqueuelen and every file byte-identical."""
import os

from testinfra.utils.ansible_runner import AnsibleRunner


testinfra_hosts = ["podman://" + name
                   for name in AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")]


def test_snapshot_identical(host):
    before = host.file("/root/tcptune-before.txt").content_string
    after = host.check_output("/usr/local/bin/tcptune-snapshot")
    assert "net/core/somaxconn=" in before
    assert before.strip() == after.strip()


def test_no_file_written(host):
    assert not host.file("/etc/sysctl.d/60-tcptune.conf").exists
    assert host.run("ls /etc/security/limits.d/ | grep -q tcptune").rc != 0
    assert not host.file("/var/lib/tcptune").exists
