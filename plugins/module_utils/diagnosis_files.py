# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file descriptor finding: the system file table and each named process's RLIMIT_NOFILE.

Each function takes the facts and their Counters and returns a finding or None; the thresholds are
diagnosis.py's, the order of the findings diagnosis_rules.RULES'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import (
    FILE_NR_FRACTION_WARNING, FILE_NR_FRACTION_CRITICAL, PROCESS_FD_FRACTION_WARNING,
    PROCESS_FD_FRACTION_CRITICAL, PROCESS_NOFILE_LOW_INFO)
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis_evidence import (
    Evidence, fraction_of, make_finding, worst_severity)


def fd_pressure(facts, counters):
    evidence = Evidence()
    severity = None
    files = facts.get("files") or {}
    fraction = fraction_of(files.get("allocated"), files.get("max"))
    if fraction is not None and fraction >= FILE_NR_FRACTION_WARNING:
        evidence.add("files.allocated", files["allocated"], "/proc/sys/fs/file-nr")
        evidence.add("files.max", files["max"], "/proc/sys/fs/file-nr")
        severity = "critical" if fraction >= FILE_NR_FRACTION_CRITICAL else "warning"
    nofile = facts.get("nofile") or {}
    processes = [("pid %s" % pid, entry, "/proc/%s/limits" % pid) for pid, entry in (nofile.get("pids") or {}).items()]
    processes += [("service %s" % name, entry, "/proc/%s/limits" % entry.get("pid"))
                  for name, entry in (nofile.get("services") or {}).items() if entry]
    for label, entry, source in processes:
        if not entry or entry.get("soft") in (None, -1):
            continue
        used = fraction_of(entry.get("open"), entry["soft"])
        if used is not None and used >= PROCESS_FD_FRACTION_WARNING:
            evidence.add(label + " open", entry["open"], source.replace("limits", "fd"))
            evidence.add(label + " nofile soft", entry["soft"], source)
            severity = worst_severity(severity, "critical" if used >= PROCESS_FD_FRACTION_CRITICAL else "warning")
        elif entry["soft"] < PROCESS_NOFILE_LOW_INFO:
            evidence.add(label + " nofile soft", entry["soft"], source)
            severity = worst_severity(severity, "info")
    if not severity:
        return None
    return make_finding(
        "fd_pressure", severity,
        "File descriptors are short: the system table or a process's RLIMIT_NOFILE is close to full, or a "
        "named service runs with a soft nofile below %d." % PROCESS_NOFILE_LOW_INFO,
        evidence,
        "Raise fs.file-max and fs.nr_open on the host, and the service's nofile limit (systemd "
        "LimitNOFILE=, or limits.d for login sessions; see tcptune.linux.nofile_limits). On the "
        "application side close leaked descriptors and raise its own soft limit up to the hard one.")
