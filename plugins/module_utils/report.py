# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet report: what happened on every host of the play -> one report dict (docs/report-schema.json).

Pure functions over plain data. ``collect`` turns what the play recorded (hostvars, or what the callback
saw) into the inputs of ``build_report``, for the report task and the callback alike; every host gets one
entry (report_host) and the fleet views (outliers, key_values, finding_counts). The files are rendered
by report_text and report_html and written by report_write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import Counter

from ansible_collections.tcptune.linux.plugins.module_utils.report_host import STATUSES, host_entry
from ansible_collections.tcptune.linux.plugins.module_utils.report_rows import as_dict, as_list

SCHEMA_VERSION = "2.1"
SEVERITIES = ("critical", "warning", "info")
# Fleet views name at most this many hosts, and this many values per key; report.json has them all.
FLEET_NAMES = 20
FLEET_VALUES = 6


def _values_by_key(hosts):
    """sysctl key -> {host: value}: each host's value after the run (else before), hosts in report order."""
    values = {}
    for host in hosts:
        for row in host["keys"]:
            value = row["after"] or row["before"]
            if value:
                values.setdefault(row["key"], {})[host["host"]] = value
    return values


def _ranked(by_host):
    """[(value, hosts)] of one key, most common first, ties by value."""
    return sorted(Counter(by_host.values()).items(), key=lambda item: (-item[1], item[0]))


def outliers(hosts, values=None):
    """Per sysctl key, the hosts whose value (after the run, else before) differs from the fleet majority."""
    values = _values_by_key(hosts) if values is None else values
    out = {}
    for key in sorted(values):
        by_host = values[key]
        if len(by_host) < 2:
            continue
        majority, count = _ranked(by_host)[0]
        differ = dict((name, value) for name, value in sorted(by_host.items()) if value != majority)
        if differ:
            out[key] = {"majority": majority, "majority_hosts": count, "differ": differ}
    return out


def key_values(hosts, values=None):
    """Per sysctl key, the distribution of its values across the fleet: [{value, hosts}], most common
    first (the first is the majority); every key any host reported."""
    values = _values_by_key(hosts) if values is None else values
    return dict((key, [{"value": value, "hosts": count} for value, count in _ranked(values[key])])
                for key in sorted(values))


def finding_counts(hosts):
    """finding id -> {severity, hosts}: the hosts that have it, most frequent finding first."""
    counts, seen = {}, {}
    for host in hosts:
        for finding in host["findings"]:
            entry = counts.setdefault(finding["id"], {"severity": finding["severity"], "hosts": []})
            names = seen.setdefault(finding["id"], set())
            if host["host"] not in names:
                names.add(host["host"])
                entry["hosts"].append(host["host"])
    return dict(sorted(counts.items(), key=lambda item: (-len(item[1]["hosts"]), item[0])))


def build_report(results, title="TCP tuning report", failures=None, unreachable=None, play_hosts=None,
                 generated=""):
    """``results``: host -> tcp_tuning_result; ``failures``: host -> {task, message, plan?};
    ``unreachable``: host -> message; ``play_hosts``: every host of the play (the ones absent from all
    three are "not reached"). Hosts are sorted by name, so the output is deterministic."""
    results = as_dict(results)
    failures = as_dict(failures)
    unreachable = as_dict(unreachable)
    names = set(results) | set(failures) | set(unreachable) | set(play_hosts or [])
    hosts = [host_entry(name, results.get(name), failures.get(name), unreachable.get(name))
             for name in sorted(names)]
    status_counts = dict((status, sum(1 for h in hosts if h["status"] == status)) for status in STATUSES)
    values = _values_by_key(hosts)
    return {
        "schema_version": SCHEMA_VERSION,
        "title": title,
        "generated": generated,
        "summary": {
            "hosts": len(hosts),
            "status": status_counts,
            "keys_changed": sum(1 for h in hosts for r in h["keys"] if r["status"] in ("changed", "would change")),
            "keys_skipped": sum(1 for h in hosts for r in h["keys"] if r["status"] == "skipped"),
            "findings": dict((s, sum(1 for h in hosts for f in h["findings"] if f["severity"] == s))
                             for s in SEVERITIES),
        },
        "finding_counts": finding_counts(hosts),
        "key_values": key_values(hosts, values),
        "outliers": outliers(hosts, values),
        "hosts": hosts,
    }


def hosts_by_status(report):
    """status -> hosts of the statuses some host has, in ``STATUSES`` order: what the run says at its end."""
    return dict((status, count) for status, count in report["summary"]["status"].items() if count)


# ---------------------------------------------------------------- what the play recorded

# The variables tune_tcp.yml records per host (and, once per batch, on the controller) for the report.
RECORDED = ("tcp_tuning_result", "tcp_tuning_failure", "tcp_tuning_unreachable", "tcp_tuning_play_hosts",
            "tcp_tuning_report_dest", "tcp_tuning_report_name")
DEFAULT_TITLE = "TCP tuning report"


def collect(recorded, failed_tasks=None, unreachable=None, given=None):
    """The report's inputs from what the play recorded, for the report task and the callback alike.

    ``recorded``: host -> {name: value} for the names in ``RECORDED`` (a host's hostvars, or the facts a
    callback saw); ``failed_tasks``: host -> {task, message} of tasks that failed outside the play's
    rescue; ``unreachable``: host -> connection error. Returns {results, failures, unreachable,
    play_hosts, dest, title}: ``play_hosts`` is the union of every recorded ``tcp_tuning_play_hosts``
    in their order, ``dest`` and ``title`` the first recorded ones (None and the default title when
    none). A host's recorded failure wins over a failed task; an unreachable host has no failure.

    ``given``: {results, failures, unreachable, play_hosts} given to the report task as arguments; they
    win over what was recorded for the same host, and their play hosts come after the recorded ones."""
    recorded = as_dict(recorded)
    play_hosts, seen, results = [], set(), {}
    failures = dict(as_dict(failed_tasks))
    lost = dict((str(name), message) for name, message in as_dict(unreachable).items())
    dests, titles = [], []
    for name in sorted(recorded):
        item = as_dict(recorded[name])
        for host in as_list(item.get("tcp_tuning_play_hosts")):
            if host not in seen:
                seen.add(host)
                play_hosts.append(host)
        if as_dict(item.get("tcp_tuning_result")):
            results[name] = item["tcp_tuning_result"]
        if item.get("tcp_tuning_failure"):
            failures[name] = item["tcp_tuning_failure"]
        if item.get("tcp_tuning_unreachable"):
            lost[name] = item["tcp_tuning_unreachable"]
        if item.get("tcp_tuning_report_dest"):
            dests.append(str(item["tcp_tuning_report_dest"]))
        if item.get("tcp_tuning_report_name"):
            titles.append(str(item["tcp_tuning_report_name"]))
    given = as_dict(given)
    results.update(as_dict(given.get("results")))
    failures.update(as_dict(given.get("failures")))
    lost.update(as_dict(given.get("unreachable")))
    for host in as_list(given.get("play_hosts")):
        if host not in seen:
            seen.add(host)
            play_hosts.append(host)
    for name in lost:
        failures.pop(name, None)
    return {"results": results, "failures": failures, "unreachable": lost, "play_hosts": play_hosts,
            "dest": dests[0] if dests else None, "title": titles[0] if titles else DEFAULT_TITLE}
