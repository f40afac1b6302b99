# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: tcp_report
type: aggregate
short_description: Writes the fleet report when a tune_tcp run stops before its report play
version_added: 1.1.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - When C(max_fail_percentage) is exceeded, or the controller host itself failed, Ansible runs no
    later play, so the report play of C(tcptune.linux.tune_tcp) never writes the report.
  - This callback keeps what the play recorded for each host (C(tcp_tuning_result), C(tcp_tuning_failure),
    C(tcp_tuning_unreachable), C(tcp_tuning_play_hosts)), the unreachable messages and the failed tasks,
    and at the end of the run, when no C(tcp_report) task ran, writes the same report into
    C(tcp_tuning_report_dir). Hosts of the play it heard nothing of are listed as C(not reached).
  - The playbook C(tcptune.linux.tune_tcp) loads it from the C(callback_plugins) directory next to it;
    with your own playbook, enable it in C(callbacks_enabled).
requirements:
  - enable in configuration, or run the collection's tune_tcp playbook
"""

import os

from ansible.plugins.callback import CallbackBase
from ansible_collections.tcptune.linux.plugins.module_utils.apply import atomic_write, read_file
from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report, report_files

RECORDED = ("tcp_tuning_result", "tcp_tuning_failure", "tcp_tuning_unreachable", "tcp_tuning_play_hosts",
            "tcp_tuning_report_dest", "tcp_tuning_report_name")
REPORT_ACTIONS = ("tcptune.linux.tcp_report", "tcp_report")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tcptune.linux.tcp_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super(CallbackModule, self).__init__(display=display, options=options)
        self.recorded = {}
        self.failed_tasks = {}
        self.unreachable = {}
        self.report_written = False

    def _host(self, result):
        return self.recorded.setdefault(result._host.get_name(), {})

    def v2_runner_on_ok(self, result):
        facts = result._result.get("ansible_facts") or {}
        for name in RECORDED:
            if name in facts:
                self._host(result)[name] = facts[name]
        if result._task.action in REPORT_ACTIONS:
            self.report_written = True

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self.failed_tasks[result._host.get_name()] = {
                "task": result._task.get_name(), "message": str(result._result.get("msg", "failed"))}

    def v2_runner_on_unreachable(self, result):
        self.unreachable.setdefault(result._host.get_name(), str(result._result.get("msg", "unreachable")))

    def report(self):
        """The report of what was recorded, and its directory; (None, None) when there is nothing to report."""
        play_hosts = []
        for name in sorted(self.recorded):
            for host in self.recorded[name].get("tcp_tuning_play_hosts") or []:
                if host not in play_hosts:
                    play_hosts.append(host)
        dests = [item["tcp_tuning_report_dest"] for item in self.recorded.values() if item.get("tcp_tuning_report_dest")]
        if not play_hosts or not dests:
            return None, None
        titles = [item["tcp_tuning_report_name"] for item in self.recorded.values() if item.get("tcp_tuning_report_name")]
        results = dict((name, item["tcp_tuning_result"]) for name, item in self.recorded.items()
                       if item.get("tcp_tuning_result"))
        failures = dict(self.failed_tasks)
        failures.update((name, item["tcp_tuning_failure"]) for name, item in self.recorded.items()
                        if item.get("tcp_tuning_failure"))
        unreachable = dict(self.unreachable)
        unreachable.update((name, item["tcp_tuning_unreachable"]) for name, item in self.recorded.items()
                           if item.get("tcp_tuning_unreachable"))
        for name in unreachable:
            failures.pop(name, None)
        report = build_report(results, titles[0] if titles else "TCP tuning report", failures=failures,
                              unreachable=unreachable, play_hosts=play_hosts)
        return report, dests[0]

    def v2_playbook_on_stats(self, stats):
        if self.report_written:
            return
        report, dest = self.report()
        if report is None:
            return
        try:
            for path, text in report_files(report, dest).values():
                if read_file(path) != text:
                    atomic_write(path, text)
        except (IOError, OSError) as error:
            self._display.warning("tcptune.linux.tcp_report: cannot write the report into %s: %s" % (dest, error))
            return
        counts = ", ".join("%d %s" % (n, s) for s, n in report["summary"]["status"].items() if n)
        self._display.display("Fleet report (the run stopped before its report play): %s (%d hosts: %s)"
                              % (os.path.join(dest, "report.html"), len(report["hosts"]), counts))
