# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revert (state: absent), then reboot: the original values are back, our files are gone, logins work.
Runs after test_1_tuned.py: the revert playbook (../revert.yml) runs once, for every guest."""
import os
import subprocess

import pytest

from vmdata import catalogue, kernel_version, load, our_files

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module", autouse=True)
def reverted():
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    playbook = os.path.join(os.path.dirname(HERE), "revert.yml")
    done = subprocess.run(["ansible-playbook", "-i", inventory, playbook], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    print(done.stdout.decode(errors="replace")[-4000:])
    return done.returncode


def _catalogue_values(snapshot, kernel):
    cat = catalogue()
    version = kernel_version(kernel)
    return dict((k, v) for k, v in snapshot["sysctl"].items()
                if k in cat.CATALOGUE and cat.exists_on(cat.CATALOGUE[k], version))


def _tcp_mem_close(before, after):
    """tcp_mem at boot follows the free pages at that moment: equal within 1 % across boots."""
    return all(abs(int(a) - int(b)) <= int(b) // 100 for a, b in zip(after.split(), before.split()))


def test_revert_ran_and_restored_the_values_live(host):
    kernel = load("apply-result", host)["kernel"]
    original = _catalogue_values(load("original", host), kernel)
    now = _catalogue_values(load("revert", host), kernel)
    assert now == original


def test_after_revert_and_reboot_the_original_values_are_back(host):
    kernel = load("apply-result", host)["kernel"]
    original = _catalogue_values(load("original", host), kernel)
    now = _catalogue_values(load("revert-reboot", host), kernel)
    assert _tcp_mem_close(original.pop("net.ipv4.tcp_mem"), now.pop("net.ipv4.tcp_mem"))
    assert now == original
    assert load("revert-reboot", host)["txqueuelen"] == load("original", host)["txqueuelen"]


def test_after_revert_every_file_is_as_before(host):
    original, now = load("original", host)["files"], load("revert-reboot", host)["files"]
    assert not our_files(now), our_files(now)
    assert now == original


def test_after_revert_logins_work_with_the_original_limits(host):
    original = load("original", host)
    for snapshot in ("revert", "revert-reboot"):
        for user in ("tcptune", "root"):
            rc, out = load(snapshot, host)["logins"][user]
            assert rc == 0, "%s login failed after %s: %s" % (user, snapshot, out)
    assert load("revert-reboot", host)["logins"] == original["logins"]
    assert load("revert-reboot", host)["systemd"] == original["systemd"]


def test_revert_removed_the_textfile_collector(host):
    """Issue 19: tcp_tuning_state absent removes the timer, the unit, the script and the textfile (recorded right
    after the revert, before the reboot empties /run)."""
    left = load("monitor-revert", host)
    assert not any(left["exists"].values()), left["exists"]
    assert left["systemd"].count("LoadState=not-found") == 2, left["systemd"]
    assert not host.file("/usr/local/lib/tcptune").exists
    assert not host.file("/var/lib/prometheus/node-exporter/tcptune.prom").exists
