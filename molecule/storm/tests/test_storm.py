# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""With defaults the storm overflows the accept queue; after tune-tcp.yml every connect completes."""
import json
import os

from testinfra.utils.ansible_runner import AnsibleRunner

CONNECTS = 6000


testinfra_hosts = ["podman://" + name
                   for name in AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")]


def test_defaults_overflow(host):
    before = json.loads(host.file("/root/storm-before.json").content_string)
    assert before["connects"] == CONNECTS
    assert before["somaxconn"] < CONNECTS
    assert before["listen_overflows"] > 0
    assert before["completed"] < CONNECTS


def test_after_tuning_every_connect_completes_without_overflow(host):
    after = json.loads(host.check_output("python3 /usr/local/lib/tcptune-storm.py %d" % CONNECTS))
    assert after["somaxconn"] >= CONNECTS
    assert after["completed"] == CONNECTS
    assert after["listen_overflows"] == 0


def test_fleet_report_written(host):
    report_dir = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tcp-report")
    with open(os.path.join(report_dir, "report.json")) as handle:
        report = json.load(handle)
    names = [entry["host"] for entry in report["hosts"]]
    assert names == [host.backend.name]
    keys = dict((row["key"], row) for row in report["hosts"][0]["keys"])
    assert keys["net.core.somaxconn"]["status"] == "changed"
    assert os.path.getsize(os.path.join(report_dir, "report.html")) > 1000
    assert os.path.exists(os.path.join(report_dir, "report.md"))
