# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After every refused run (converge asserted each message), the container is as before."""
import os

from testinfra.utils.ansible_runner import AnsibleRunner


testinfra_hosts = ["podman://" + name
                   for name in AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")]


def test_snapshot_identical(host):
    before = host.file("/root/tcptune-before.txt").content_string
    assert "net/core/somaxconn=" in before
    assert before.strip() == host.check_output("/usr/local/bin/tcptune-snapshot").strip()


def test_no_persist_file(host):
    assert not host.file("/etc/sysctl.d/60-tcptune.conf").exists
