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
  - Fleet views, sorting and filters by status, finding, kernel and profile, the hosts whose value of a key
    differs from the majority, and the finding counts.
  - The JSON follows the versioned schema in docs/report-schema.json. The HTML page is one
    self-contained file (inline CSS, SVG and script) that loads nothing.
  - Files are written atomically and only when their content changes.
  - "Runs on the controller, usually with C(delegate_to: localhost) and C(run_once: true)."
notes:
  - Check mode is supported; nothing is written then.
options:
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
    description: Directory for the report files. Created when missing.
    type: path
    required: true
  title:
    description: Title of the report.
    type: str
    default: TCP tuning report
"""

EXAMPLES = r"""
- name: Write the fleet report
  tcptune.linux.tcp_report:
    results: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'tcp_tuning_result'))) }}"
    unreachable: {db3: "Failed to connect to the host via ssh: Connection timed out"}
    failures: {db4: {task: "Apply every sysctl key in one call", message: "net.ipv4.tcp_mem: the three values must not decrease"}}
    play_hosts: "{{ ansible_play_hosts_all }}"
    dest: ./tcp-report
  delegate_to: localhost
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
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tcptune.linux.plugins.module_utils.apply import atomic_write, read_file
from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report, report_files


def main():
    module = AnsibleModule(
        argument_spec=dict(
            results=dict(type="dict", default={}),
            failures=dict(type="dict", default={}),
            unreachable=dict(type="dict", default={}),
            play_hosts=dict(type="list", elements="str", default=[]),
            dest=dict(type="path", required=True),
            title=dict(type="str", default="TCP tuning report"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"]
    report = build_report(params["results"], params["title"], failures=params["failures"],
                          unreachable=params["unreachable"], play_hosts=params["play_hosts"])
    outputs = report_files(report, dest)
    changed = not os.path.isdir(dest)
    try:
        for path, text in outputs.values():
            if read_file(path) != text:
                changed = True
                if not module.check_mode:
                    atomic_write(path, text)
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot write the report into %s: %s" % (dest, error))
    result = dict((name, output[0]) for name, output in outputs.items())
    module.exit_json(changed=changed, hosts=len(report["hosts"]), summary=report["summary"], **result)


if __name__ == "__main__":
    main()
