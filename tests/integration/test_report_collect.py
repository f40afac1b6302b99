# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report play of playbooks/tune_tcp.yml, run by ansible-playbook, collects every host's record from
hostvars (#21): the same report as build_report given the records directly. And the callback, when a
run stops before the report play, reads the results back from the play's variables (it keeps no copy).

No container: the hosts are inventory names whose records a play on localhost sets as their facts
(bench/report_scale/run.py does the same with 10 000 hosts).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_text import render_json
from bench.lib.playbook import collections_path, venv
from bench.report_scale.run import PLAYBOOK, RECORD_PLAY, report_play_text, write_fleet
from report_synthetic import fleet

pytestmark = pytest.mark.skipif(venv() is None, reason="no venv with ansible (make venv)")


def _run(playbook, inventory, extra, workdir, env_extra=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="False", **(env_extra or {}))
    argv = [os.path.join(venv(), "bin", "ansible-playbook"), "-i", inventory, playbook]
    for item in extra:
        argv += ["-e", item]
    return subprocess.run(argv, env=env, capture_output=True, text=True, cwd=workdir, timeout=600, check=False)


def test_the_report_play_collects_every_host_from_hostvars(tmp_path):
    size = 120
    inventory, records = write_fleet(size, str(tmp_path))
    with open(PLAYBOOK) as handle:
        playbook = tmp_path / "report.yml"
        playbook.write_text(RECORD_PLAY + report_play_text(handle.read()))
    report_dir = str(tmp_path / "report")
    extra = ["records=%s" % records, "tcp_tuning_report_dir=%s" % report_dir, "tcp_tuning_report_title=Collected"]
    done = _run(str(playbook), inventory, extra, str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Fleet report: %s/report.html (%d hosts" % (report_dir, size) in done.stdout
    results, failures, unreachable, play_hosts = fleet(size)
    expected = render_json(build_report(results, "Collected", failures, unreachable, play_hosts))
    with open(os.path.join(report_dir, "report.json")) as handle:
        written = handle.read()
    assert json.loads(written) == json.loads(expected)
    assert written == expected


STOPPED_PLAY = """---
- name: Tune in batches of one and stop at the first failure
  hosts: fleet
  serial: 1
  max_fail_percentage: 0
  gather_facts: false
  tasks:
    - name: Record the play hosts once
      ansible.builtin.set_fact:
        tcp_tuning_play_hosts: "{{ ansible_play_hosts_all }}"
        tcp_tuning_report_dest: "{{ tcp_tuning_report_dir }}"
      delegate_to: localhost
      delegate_facts: true
      run_once: true
    - name: Record the result
      ansible.builtin.set_fact:
        tcp_tuning_result: "{{ (lookup('ansible.builtin.file', records ~ '/' ~ inventory_hostname ~ '.json')
          | from_json).tcp_tuning_result }}"
      when: inventory_hostname != 'host-001.example.net'
    - name: Fail the second host
      ansible.builtin.fail:
        msg: broken on purpose
      when: inventory_hostname == 'host-001.example.net'

- name: The report play, never reached
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Never runs
      ansible.builtin.fail:
        msg: the run should have stopped
"""


def test_a_stopped_run_still_gets_its_report_from_the_callback(tmp_path):
    inventory, records = write_fleet(3, str(tmp_path))
    playbook = tmp_path / "stopped.yml"
    playbook.write_text(STOPPED_PLAY)
    report_dir = str(tmp_path / "report")
    done = _run(str(playbook), inventory, ["records=%s" % records, "tcp_tuning_report_dir=%s" % report_dir],
                str(tmp_path), {"ANSIBLE_CALLBACKS_ENABLED": "tcptune.linux.tcp_report"})
    assert done.returncode == 2, done.stdout[-3000:]
    assert "Fleet report (the run stopped before its report play)" in done.stdout
    with open(os.path.join(report_dir, "report.json")) as handle:
        hosts = dict((host["host"], host) for host in json.load(handle)["hosts"])
    assert dict((name, host["status"]) for name, host in hosts.items()) == {
        "host-000.example.net": "tuned", "host-001.example.net": "failed", "host-002.example.net": "not reached"}
    results = fleet(3)[0]
    # the callback read the first host's result back from the play's variables
    assert hosts["host-000.example.net"]["reason"] == build_report(results)["hosts"][0]["reason"]
    assert hosts["host-001.example.net"]["failure"] == {"task": "Fail the second host", "message": "broken on purpose"}
