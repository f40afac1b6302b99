# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_tuning_state: absent restores the values from before the role and removes every file it wrote."""
import os

from testinfra.utils.ansible_runner import AnsibleRunner


testinfra_hosts = ["podman://" + name
                   for name in AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")]


def test_apply_really_changed_something(host):
    before = host.file("/root/tcptune-before.txt").content_string
    applied = host.file("/root/tcptune-applied.txt").content_string
    assert "60-tcptune.conf" in applied
    assert before != applied


# The apply modules' flock file stays (empty) so that a revert never races a concurrent apply.
LOCK = "/var/lib/tcptune/lock"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _without_lock(snapshot):
    lines = snapshot.strip().splitlines()
    for line in lines:
        if line.endswith(LOCK):
            assert line.startswith(EMPTY_SHA256), line
    return [line for line in lines if not line.endswith(LOCK)]


def test_values_and_files_back_to_before(host):
    before = host.file("/root/tcptune-before.txt").content_string
    after = host.check_output("/usr/local/bin/tcptune-snapshot")
    assert _without_lock(before) == _without_lock(after)


def test_persist_file_removed(host):
    assert not host.file("/etc/sysctl.d/60-tcptune.conf").exists
