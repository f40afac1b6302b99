# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One real fleet run through playbooks/tune-tcp.yml (report_fleet.py): two healthy Podman containers, a
drifted one (net.core.somaxconn changed by hand after the first tuned run), a refused override, an
infeasible target and an unreachable inventory entry (a closed 127.0.0.1 ssh port) all appear in one
report with their reasons, across serial batches; the exit status still reports the failure. A serial run stopped by
max_fail_percentage still writes the report (callback), listing the hosts never reached.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import xml.dom.minidom

import pytest

import report_fleet

REPO = report_fleet.REPO
OUTPUT = os.path.join(REPO, "tests", "output", "report-fleet")


def _image_present():
    if not shutil.which("podman"):
        return False
    return subprocess.run(["podman", "image", "exists", "localhost/tcptune-debian:12"], check=False).returncode == 0


pytestmark = pytest.mark.skipif(not _image_present(), reason="podman or localhost/tcptune-debian:12 missing "
                                                             "(bash tests/testbed.sh)")


@pytest.fixture(scope="module")
def phases():
    return report_fleet.fleet_run(2, OUTPUT, audit_serial=2)  # the audit runs in 3 batches


def _hosts(report):
    return dict((h["host"], h) for h in report["hosts"])


def test_first_run_tunes_every_healthy_host(phases):
    tune = phases["tune"]
    assert tune["returncode"] == 0, tune["log"]
    hosts = _hosts(tune["report"])
    assert sorted(h["status"] for h in hosts.values()) == ["tuned"] * 3
    assert all(h["reason"].startswith("changed ") for h in hosts.values())


def test_idempotent_rerun_is_one_remote_module_run_per_host(phases):
    """Issue #13: an idempotent run of tune-tcp.yml reaches each host once (tcp_tune), no reachability ping."""
    retune = phases["retune"]
    assert retune["returncode"] == 0, retune["log"]
    assert set(retune["remote_runs"]) == set(_hosts(retune["report"]))
    for host, actions in retune["remote_runs"].items():
        assert actions == ["tcptune.linux.tcp_tune"], (host, actions)
        assert retune["stats"][host]["changed"] == 0, (host, retune["stats"][host])
    assert sorted(h["status"] for h in _hosts(retune["report"]).values()) == ["unchanged"] * 3


def test_audit_report_has_every_host_with_its_status_and_reason(phases):
    audit = phases["audit"]
    assert audit["returncode"] == 4, audit["log"]  # unreachable (and failed) hosts fail the run
    hosts = _hosts(audit["report"])
    prefix = report_fleet.PREFIX
    assert set(hosts) == {prefix + "ok00", prefix + "ok01", prefix + "drift", prefix + "failed",
                          prefix + "infeasible", prefix + "unreachable"}
    assert hosts[prefix + "ok00"]["status"] == "unchanged"
    assert hosts[prefix + "ok01"]["status"] == "unchanged"
    drift = hosts[prefix + "drift"]
    assert drift["status"] == "drift"
    assert drift["drift"][report_fleet.DRIFT_KEY]["live"] == report_fleet.DRIFT_VALUE
    assert "%s: persisted " % report_fleet.DRIFT_KEY in drift["reason"]
    failed = hosts[prefix + "failed"]
    assert failed["status"] == "failed"
    assert failed["failure"]["task"] == "Audit TCP in one module run (the same path in check mode, with diff)"
    assert "net.ipv4.tcp_mem" in failed["reason"] and "must not decrease" in failed["reason"]
    infeasible = hosts[prefix + "infeasible"]
    assert infeasible["status"] == "infeasible"
    assert "50000000 connections need" in infeasible["reason"]
    unreachable = hosts[prefix + "unreachable"]
    assert unreachable["status"] == "unreachable"
    assert "Connection refused" in unreachable["reason"]


def test_audit_report_files_junit_and_schema(phases):
    jsonschema = pytest.importorskip("jsonschema")
    directory = os.path.join(OUTPUT, "audit")
    with open(os.path.join(REPO, "docs", "report-schema.json")) as handle:
        jsonschema.validate(phases["audit"]["report"], json.load(handle))
    dom = xml.dom.minidom.parse(os.path.join(directory, "report.junit.xml"))
    failing = sorted(c.getAttribute("name") for c in dom.getElementsByTagName("testcase")
                     if c.getElementsByTagName("failure"))
    prefix = report_fleet.PREFIX
    assert failing == sorted(prefix + name for name in ("drift", "failed", "infeasible", "unreachable"))
    with open(os.path.join(directory, "report.md")) as handle:
        assert "| %sunreachable | **unreachable** |" % prefix in handle.read()


def test_run_stopped_by_max_fail_percentage_still_writes_the_report(phases):
    stopped = phases["stopped"]
    assert stopped["returncode"] == 4, stopped["log"]
    assert "Fleet report (the run stopped before its report play)" in stopped["log"]
    statuses = dict((name, host["status"]) for name, host in _hosts(stopped["report"]).items())
    prefix = report_fleet.PREFIX
    assert statuses == {prefix + "unreachable": "unreachable", prefix + "ok00": "not reached",
                        prefix + "drift": "not reached"}
