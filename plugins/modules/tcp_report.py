#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_report
short_description: Write the fleet report of the tcp_tuning role as JSON, Markdown, HTML and JUnit XML
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - Writes C(report.json), C(report.md), C(report.html) and C(report.junit.xml) into O(dest).
  - Every host of the play appears with exactly one status, C(tuned), C(unchanged), C(would change),
    C(drift), C(infeasible), C(failed), C(unreachable) or C(not reached), and the reason for it.
  - Per host the report lists the findings with their evidence and fix, and per sysctl key and interface
    the value before, planned and after, with the reason and the formula and its inputs.
  - nofile limits are shown per file as written (C(soft:hard)), with what was left out and why. In a
    container, a planned hard limit above the container's own hard C(RLIMIT_NOFILE) is named in the
    host's reason (it cannot be given there), never C(already as planned).
  - An infeasible host's reason is one sentence (connections, memory needed, usable memory, how many
    fit); the memory breakdown and the plan's other warnings are listed below it.
  - "Fleet views: hosts per status; per finding its count and the hosts; per sysctl key the distribution
    of its values and the hosts off the majority. The host table sorts and filters by status, finding,
    kernel, profile, host name and a value of a key."
  - The HTML page is one self-contained file (inline CSS, SVG, data and script) that loads nothing and
    works opened from disk. It stays small and fast at any fleet size (a few MB and a first paint
    within a second at 10 000 hosts, see bench/report_scale). The host table is drawn a page at a time
    from compact data, and a host's details are built when the host is opened.
  - The JSON follows the versioned schema in docs/report-schema.json.
  - Files are written atomically and only when their content changes, one at a time.
  - This module runs on the controller as an action plugin (nothing is sent to a host); with
    O(collect=true) it reads the per-host records from hostvars itself, so a fleet's results are not
    templated into module arguments.
notes:
  - Check mode is supported; nothing is written then.
attributes:
  action:
    description: An action plugin does all of it, on the controller.
    support: full
  check_mode:
    description: Nothing is written in check mode; C(changed) says whether a file would change.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
  platform:
    description: Runs on the controller.
    support: full
    platforms: posix
options:
  collect:
    description:
      - Read what C(tcptune.linux.tune_tcp) records from the hostvars of every inventory host (and
        C(localhost)) - C(tcp_tuning_result), C(tcp_tuning_failure), C(tcp_tuning_unreachable) and
        C(tcp_tuning_play_hosts).
      - O(results), O(failures), O(unreachable) and O(play_hosts) are added to what is collected and win
        for the same host.
    type: bool
    default: false
  results:
    description: Host name to that host's C(tcp_tuning_result) fact.
    type: dict
    default: {}
  failures:
    description:
      - Host name to the failure recorded for that host, C({task, message}), and optionally the C(plan)
        (a plan with C(feasible=false) makes the host C(infeasible)).
    type: dict
    default: {}
  unreachable:
    description: Host name to the message of the connection failure.
    type: dict
    default: {}
  play_hosts:
    description:
      - Every host of the play. Hosts in this list with no result, failure or unreachable message are
        reported as C(not reached) (the run stopped before them).
    type: list
    elements: str
    default: []
  dest:
    description: Directory for the report files, on the controller. Created when missing.
    type: path
    required: true
  title:
    description: Title of the report.
    type: str
    default: TCP tuning report
"""

EXAMPLES = r"""
- name: Write the fleet report from what tune_tcp.yml recorded for every host
  tcptune.linux.tcp_report:
    collect: true
    dest: ./tcp-report
  run_once: true

- name: Write a report from results given explicitly
  tcptune.linux.tcp_report:
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'tcp_tuning_result'))) }}"
    unreachable: {db3: "Failed to connect to the host via ssh: Connection timed out"}
    failures: {db4: {task: "Apply every sysctl key in one call", message: "net.ipv4.tcp_mem: the three values must not decrease"}}
    play_hosts: "{{ ansible_play_hosts_all }}"
    dest: ./tcp-report
  run_once: true
"""

RETURN = r"""
json:
  description: Path of the JSON report.
  returned: always
  type: str
  sample: ./tcp-report/report.json
markdown:
  description: Path of the Markdown report.
  returned: always
  type: str
  sample: ./tcp-report/report.md
html:
  description: Path of the HTML report.
  returned: always
  type: str
  sample: ./tcp-report/report.html
junit:
  description: Path of the JUnit XML report (one testcase per host).
  returned: always
  type: str
  sample: ./tcp-report/report.junit.xml
hosts:
  description: Number of hosts in the report.
  returned: always
  type: int
  sample: 3
summary:
  description: Fleet totals, hosts per status, keys changed and skipped, findings by severity.
  returned: always
  type: dict
  sample: {hosts: 3, status: {tuned: 2, failed: 1}, keys_changed: 12, keys_skipped: 6}
statuses:
  description: Hosts per status, only the statuses some host has, in the order of the report's statuses.
  returned: always
  type: dict
  sample: {tuned: 2, failed: 1}
"""
