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
  - This callback notes what the play recorded for each host (C(tcp_tuning_result), C(tcp_tuning_failure),
    C(tcp_tuning_unreachable), C(tcp_tuning_play_hosts)), the unreachable messages and the failed tasks,
    and at the end of the run, when no C(tcp_report) task ran, writes the same report into
    C(tcp_tuning_report_dir). Hosts of the play it heard nothing of are listed as C(not reached).
  - It keeps no copy of a host's result (about 20 KB each, so hundreds of MB for a large fleet); it reads
    the results back from the play's variables only when it has to write the report.
  - The playbook C(tcptune.linux.tune_tcp) loads it from the C(callback_plugins) directory next to it;
    with your own playbook, enable it in C(callbacks_enabled).
requirements:
  - enable in configuration, or run the collection's tune_tcp playbook
"""

from ansible.plugins.callback import CallbackBase
from ansible_collections.tcptune.linux.plugins.module_utils.report import RECORDED, build_report, collect, hosts_by_status
from ansible_collections.tcptune.linux.plugins.module_utils.report_write import write_report

REPORT_ACTIONS = ("tcptune.linux.tcp_report", "tcp_report")
# Recorded per host and large: read back from the variable manager at the end, not copied per result.
READ_BACK = ("tcp_tuning_result", "tcp_tuning_failure")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "tcptune.linux.tcp_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super(CallbackModule, self).__init__(display=display, options=options)
        self.recorded = {}
        self.hosts = {}  # name -> the Host whose READ_BACK facts were set
        self.variable_manager = None
        self.failed_tasks = {}
        self.unreachable = {}
        self.report_written = False

    def v2_playbook_on_play_start(self, play):
        self.variable_manager = play.get_variable_manager()

    def v2_runner_on_ok(self, result):
        facts = result._result.get("ansible_facts") or {}
        name = result._host.get_name()
        for key in RECORDED:
            if key not in facts:
                continue
            item = self.recorded.setdefault(name, {})
            if key in READ_BACK and self.variable_manager is not None:
                self.hosts[name] = result._host
                item[key] = None  # read back in read_back()
            else:
                item[key] = facts[key]
        if result._task.action in REPORT_ACTIONS:
            self.report_written = True

    def read_back(self):
        """The READ_BACK facts of every host that set them, as the play holds them now."""
        for name, host in self.hosts.items():
            variables = self.variable_manager.get_vars(host=host, include_hostvars=False)
            for key in READ_BACK:
                if key in self.recorded[name]:
                    self.recorded[name][key] = variables.get(key)
        self.hosts = {}

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self.failed_tasks[result._host.get_name()] = {
                "task": result._task.get_name(), "message": str(result._result.get("msg", "failed"))}

    def v2_runner_on_unreachable(self, result):
        self.unreachable.setdefault(result._host.get_name(), str(result._result.get("msg", "unreachable")))

    def report(self):
        """The report of what was recorded, and its directory; (None, None) when there is nothing to report."""
        self.read_back()
        found = collect(self.recorded, self.failed_tasks, self.unreachable)
        if not found["play_hosts"] or not found["dest"]:
            return None, None
        report = build_report(found["results"], found["title"], failures=found["failures"],
                              unreachable=found["unreachable"], play_hosts=found["play_hosts"])
        return report, found["dest"]

    def v2_playbook_on_stats(self, stats):
        if self.report_written:
            return
        report, dest = self.report()
        if report is None:
            return
        try:
            dummy, paths = write_report(report, dest)
        except (IOError, OSError) as error:
            self._display.warning("tcptune.linux.tcp_report: cannot write the report into %s: %s" % (dest, error))
            return
        counts = ", ".join("%d %s" % (n, s) for s, n in hosts_by_status(report).items())
        self._display.display("Fleet report (the run stopped before its report play): %s (%d hosts: %s)"
                              % (paths["html"], len(report["hosts"]), counts))
