# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textfile collector (role variable ``tcp_tuning_monitor``): facts, findings and drift as
Prometheus series for node_exporter's textfile collector, and the collector's command line.

The facts are ``procfs.gather``'s, the findings ``diagnosis.diagnose``'s and the drift
``sysctld.drifted``'s: this file reads nothing of its own but the previous run's counters. Counter
findings are judged on rates over the time since the previous run (the state file, in /run: a reboot
resets the kernel's counters and empties /run alike), so a finding reports what happens now, not what
happened once since boot. The first run after a boot samples ``FIRST_SAMPLE_SECONDS`` instead.

The series are bounded: one per finding id, per counter, per limit and use gauge, per TCP state, per
catalogue key our sysctl.d file persists, and four about the collector (``max_series()``; the list is
in docs/monitoring.md). Nothing is labelled by a listener, a process, an address or a port.

The role installs this file and the module_utils it imports (``COLLECTOR_MODULE_UTILS``) on the target,
with roles/tcp_tuning/files/tcptune-textfile.py as the entry point, a settings file and a systemd timer;
``monitor_plan`` is what the role does, decided here (the role's Jinja compares nothing).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import sys
import time
from collections import namedtuple

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, diagnosis, procfs, sockdiag, sysctld
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import atomic_write, read_file

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

# What the role installs (monitor_plan's paths). The module_utils go flat into MODULE_UTILS_DIR; the entry
# point maps the collection's package name onto that directory, so no other ansible_collections on the
# target can shadow them.
INSTALL_DIR = "/usr/local/lib/tcptune"
MODULE_UTILS_DIR = INSTALL_DIR + "/module_utils"
SCRIPT = INSTALL_DIR + "/tcptune-textfile.py"
SETTINGS_FILE = INSTALL_DIR + "/tcptune-textfile.json"
UNIT = "tcptune-textfile"
UNIT_DIR = "/etc/systemd/system"
RUNTIME_DIR = "/run/" + UNIT  # systemd's RuntimeDirectory=, kept between runs (RuntimeDirectoryPreserve=yes)
STATE_FILE = RUNTIME_DIR + "/counters.json"
TEXTFILE_NAME = "tcptune.prom"
# This file and every module_utils file it imports, directly or not (a unit test checks the closure).
COLLECTOR_MODULE_UTILS = ("catalogue", "catalogue_checks", "catalogue_values", "diagnosis", "fileutil", "kernel_defaults",
                          "kernel_release", "metrics", "port_ranges", "procfs", "sockdiag", "sysctld")
PACKAGE = "ansible_collections.tcptune.linux.plugins.module_utils"

DEFAULT_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"  # Debian's prometheus-node-exporter default
DEFAULT_INTERVAL = 60
# Below 10 s the socket dump and the fsync of every run cost more than a finding gains; above a day the
# rates say nothing about now.
INTERVAL_MIN = 10
INTERVAL_MAX = 86400
# systemd stops a run after this (TimeoutStartSec=): far above a run's cost (tens of milliseconds on a host,
# seconds under emulation), and not the interval, which a slow first run (its 5 s sample) could exceed.
RUN_TIMEOUT_SECONDS = 300
FIRST_SAMPLE_SECONDS = 5.0  # no previous run in this boot: sample this long, as tcp_facts' sample_seconds
MIN_WINDOW_SECONDS = 1.0  # a previous run closer than this: sample instead (a rate over 0.1 s is noise)
# A path node_exporter reads and systemd's ReadWritePaths= takes as it is: no spaces, quotes, '%' or '\'.
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+@:/-]*$")
# The tcp_tuning_* variable behind each setting, for error messages.
ROLE_VARIABLE_OF = {"textfile_dir": "tcp_tuning_monitor_textfile_dir", "interval": "tcp_tuning_monitor_interval",
                    "python": "tcp_tuning_monitor_python", "sysctl_path": "tcp_tuning_sysctl_path",
                    "services": "tcp_tuning_services", "sockets": "tcp_tuning_sockets",
                    "monitor": "tcp_tuning_monitor", "state": "tcp_tuning_state"}

Metric = namedtuple("Metric", "name kind help")

FINDING_METRIC = Metric(
    "tcptune_finding", "gauge",
    "1 while tcp_facts' finding is present, labelled with its severity; 0 with severity=none while it is not. "
    "Counter findings are judged on rates over the time since the previous run.")
# The counters behind the findings: (name in the facts' counters, metric, finding).
COUNTERS = (
    ("TcpExt.ListenOverflows", "tcptune_tcp_listen_overflows_total", "listen_queue_overflow"),
    ("TcpExt.ListenDrops", "tcptune_tcp_listen_drops_total", "listen_queue_overflow"),
    ("TcpExt.SyncookiesSent", "tcptune_tcp_syncookies_sent_total", "syn_queue_pressure"),
    ("TcpExt.TCPReqQFullDrop", "tcptune_tcp_request_queue_full_drops_total", "syn_queue_pressure"),
    ("TcpExt.TCPMemoryPressures", "tcptune_tcp_memory_pressures_total", "tcp_memory_pressure"),
    ("TcpExt.TCPAbortOnMemory", "tcptune_tcp_aborts_on_memory_total", "tcp_memory_pressure"),
    ("TcpExt.TCPAbortFailed", "tcptune_tcp_rst_send_failures_total", "rst_send_failed"),
    ("TcpExt.TCPTimeWaitOverflow", "tcptune_tcp_time_wait_overflows_total", "time_wait_overflow"),
    ("conntrack.drop", "tcptune_nf_conntrack_drops_total", "conntrack_pressure"),
    ("conntrack.early_drop", "tcptune_nf_conntrack_early_drops_total", "conntrack_pressure"),
    ("conntrack.insert_failed", "tcptune_nf_conntrack_insert_failed_total", "conntrack_pressure"),
    ("softnet.dropped", "tcptune_softnet_dropped_total", "backlog_drops"),
    ("softnet.time_squeeze", "tcptune_softnet_time_squeezed_total", "backlog_drops"),
    ("Tcp.RetransSegs", "tcptune_tcp_retransmitted_segments_total", "retransmission_rate"),
    ("Tcp.OutSegs", "tcptune_tcp_sent_segments_total", "retransmission_rate"),
)


def _sysctl(facts, name, index=None):
    value = (facts.get("sysctl") or {}).get(name)
    if value is None or index is None:
        return value
    return value[index] if len(value) > index else None


def _pages(facts, name, index):
    pages = _sysctl(facts, name, index)
    return None if pages is None else pages * (facts.get("kernel") or {}).get("page_size", 4096)


def _port_range_size(facts):
    port_range = _sysctl(facts, "net.ipv4.ip_local_port_range")
    return None if not port_range else port_range[1] - port_range[0] + 1


def _sockets_read(facts):
    return (facts.get("sockets") or {}).get("source") in ("netlink", "proc")


def _conntrack(facts, name):
    conntrack = facts.get("conntrack") or {}
    return conntrack.get(name) if conntrack.get("available") else None


# Limits in force and their use: (metric, getter of the value from the facts; None = no series).
GAUGES = (
    (Metric("tcptune_tcp_mem_pressure_bytes", "gauge",
            "net.ipv4.tcp_mem[1] in bytes: above it TCP prunes buffers (memory pressure)."),
     lambda facts: _pages(facts, "net.ipv4.tcp_mem", 1)),
    (Metric("tcptune_tcp_mem_max_bytes", "gauge",
            "net.ipv4.tcp_mem[2] in bytes: above it TCP aborts connections (TCPAbortOnMemory)."),
     lambda facts: _pages(facts, "net.ipv4.tcp_mem", 2)),
    (Metric("tcptune_tcp_memory_bytes", "gauge", "Memory TCP sockets hold (/proc/net/sockstat TCP mem), in bytes."),
     lambda facts: ((facts.get("sockstat") or {}).get("tcp") or {}).get("mem_bytes")),
    (Metric("tcptune_somaxconn", "gauge", "net.core.somaxconn: the largest accept queue a listen() gets."),
     lambda facts: _sysctl(facts, "net.core.somaxconn")),
    (Metric("tcptune_tcp_max_syn_backlog", "gauge", "net.ipv4.tcp_max_syn_backlog: half-open connections per listener."),
     lambda facts: _sysctl(facts, "net.ipv4.tcp_max_syn_backlog")),
    (Metric("tcptune_ip_local_port_range_ports", "gauge", "Ports in net.ipv4.ip_local_port_range (high - low + 1)."),
     _port_range_size),
    (Metric("tcptune_ephemeral_ports_in_use", "gauge",
            "Distinct local ports of ip_local_port_range that TCP sockets hold (a lower bound of the pressure on one "
            "destination)."),
     lambda facts: (facts["sockets"].get("local_ports_in_ephemeral_range") if _sockets_read(facts) else None)),
    (Metric("tcptune_nf_conntrack_max", "gauge", "net.netfilter.nf_conntrack_max (only while nf_conntrack is loaded)."),
     lambda facts: _conntrack(facts, "max")),
    (Metric("tcptune_nf_conntrack_entries", "gauge", "Connection tracking entries (nf_conntrack_count)."),
     lambda facts: _conntrack(facts, "count")),
    (Metric("tcptune_fs_nr_open", "gauge", "fs.nr_open: the highest RLIMIT_NOFILE a process may get."),
     lambda facts: (facts.get("files") or {}).get("nr_open")),
    (Metric("tcptune_fs_file_max", "gauge", "fs.file-max: the system-wide file table size."),
     lambda facts: (facts.get("files") or {}).get("max")),
    (Metric("tcptune_fs_files_allocated", "gauge", "Allocated file handles (fs.file-nr, first field)."),
     lambda facts: (facts.get("files") or {}).get("allocated")),
    (Metric("tcptune_tcp_max_orphans", "gauge", "net.ipv4.tcp_max_orphans: orphaned sockets before they are reset."),
     lambda facts: _sysctl(facts, "net.ipv4.tcp_max_orphans")),
    (Metric("tcptune_tcp_orphan_sockets", "gauge", "Orphaned TCP sockets (/proc/net/sockstat TCP orphan)."),
     lambda facts: ((facts.get("sockstat") or {}).get("tcp") or {}).get("orphan")),
    (Metric("tcptune_tcp_max_tw_buckets", "gauge", "net.ipv4.tcp_max_tw_buckets: TIME_WAIT sockets before overflow."),
     lambda facts: _sysctl(facts, "net.ipv4.tcp_max_tw_buckets")),
    (Metric("tcptune_tcp_time_wait_sockets", "gauge", "TIME_WAIT sockets (/proc/net/sockstat TCP tw)."),
     lambda facts: ((facts.get("sockstat") or {}).get("tcp") or {}).get("tw")),
)
STATE_METRIC = Metric("tcptune_tcp_sockets", "gauge",
                      "TCP sockets of this network namespace by state (netlink sock_diag, like ss -tan).")
STATES = sockdiag.STATE_NAMES[1:]
DRIFT_METRIC = Metric("tcptune_sysctl_drift", "gauge",
                      "1 when the live value of a key our sysctl.d file persists differs from the file (changed by "
                      "hand, or another file won at boot); 0 when they agree.")
COLLECTOR = (
    Metric("tcptune_collector_last_success_timestamp_seconds", "gauge",
           "When the collector last wrote this file (Unix time)."),
    Metric("tcptune_collector_duration_seconds", "gauge", "How long the collector's last run took."),
    Metric("tcptune_collector_interval_seconds", "gauge", "How often the collector runs (tcp_tuning_monitor_interval)."),
    Metric("tcptune_collector_rate_window_seconds", "gauge",
           "The window the counter findings' rates cover: the time since the previous run, or the first run's sample."),
)


def max_series():
    # type: () -> int
    """The most series one host's textfile can hold (docs/monitoring.md states it)."""
    return (len(diagnosis.FINDING_IDS) + len(COUNTERS) + len(GAUGES) + len(STATES) + len(catalogue.CATALOGUE)
            + len(COLLECTOR))


def metric_names():
    # type: () -> List[str]
    """Every metric name the collector can write."""
    return ([FINDING_METRIC.name] + [name for _key, name, _finding in COUNTERS] + [metric.name for metric, _get in GAUGES]
            + [STATE_METRIC.name, DRIFT_METRIC.name] + [metric.name for metric in COLLECTOR])


def drift(persisted_text, live):
    # type: (Optional[str], Dict[str, Any]) -> Dict[str, int]
    """{key: 1 or 0} for every catalogue key our sysctl.d file sets whose live value is known: 1 where
    sysctld.drifted finds the live value different from the file."""
    differs = sysctld.drifted(persisted_text, live)
    return dict((name, int(name in differs)) for name in sysctld.parse_sysctl_file(persisted_text or "")
                if name in catalogue.CATALOGUE and live.get(name) is not None)


def series(facts, findings, counters, drifted, collector):
    # type: (Dict[str, Any], List[Dict[str, Any]], Dict[str, int], Dict[str, int], Dict[str, float]) -> List[Tuple[Metric, Dict[str, str], float]]
    """(metric, labels, value) for one run; pure. ``counters`` are the totals read for rates
    (procfs._rated), ``drifted`` is drift()'s, ``collector`` holds the COLLECTOR values by name."""
    found = dict((finding["id"], finding["severity"]) for finding in findings)
    out = []
    for finding_id in diagnosis.FINDING_IDS:
        out.append((FINDING_METRIC, {"finding": finding_id, "severity": found.get(finding_id, "none")},
                    1 if finding_id in found else 0))
    for key, name, finding_id in COUNTERS:
        if counters.get(key) is not None:
            text = "%s (%s), behind the finding %s." % (key, diagnosis.counter_source(key), finding_id)
            out.append((Metric(name, "counter", text), {}, counters[key]))
    for metric, get in GAUGES:
        value = get(facts)
        if value is not None:
            out.append((metric, {}, value))
    if _sockets_read(facts):
        states = facts["sockets"].get("states") or {}
        for state in STATES:
            out.append((STATE_METRIC, {"state": state}, states.get(state, 0)))
    for key in sorted(drifted):
        out.append((DRIFT_METRIC, {"key": key}, drifted[key]))
    for metric in COLLECTOR:
        if collector.get(metric.name) is not None:
            out.append((metric, {}, collector[metric.name]))
    return out


def _escape(value, quote=True):
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quote else text


def _number(value):
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render(samples):
    # type: (List[Tuple[Metric, Dict[str, str], float]]) -> str
    """The text exposition format (version 0.0.4), one HELP and TYPE per metric, metrics sorted by name."""
    by_name = {}
    for metric, labels, value in samples:
        by_name.setdefault(metric.name, (metric, []))[1].append((labels, value))
    lines = []
    for name in sorted(by_name):
        metric, rows = by_name[name]
        lines.append("# HELP %s %s" % (name, _escape(metric.help, quote=False)))
        lines.append("# TYPE %s %s" % (name, metric.kind))
        for labels, value in rows:
            text = ",".join('%s="%s"' % (key, _escape(labels[key])) for key in sorted(labels))
            lines.append("%s%s %s" % (name, "{%s}" % text if text else "", _number(value)))
    return "\n".join(lines) + "\n"


def rates_between(previous, current, seconds):
    # type: (Dict[str, int], Dict[str, int], float) -> Dict[str, float]
    """Per-second rates of the counters both readings have. A counter that went down was reset (a module
    reloaded) and counted from zero, as Prometheus' rate() does."""
    return dict((name, float(value - previous[name] if value >= previous[name] else value) / seconds)
                for name, value in current.items() if name in previous)


def _boot_id(proc_path):
    return (read_file(os.path.join(proc_path, "sys/kernel/random/boot_id")) or "").strip()


def load_state(text, boot_id, now):
    # type: (Optional[str], str, float) -> Optional[Dict[str, Any]]
    """The previous run's {counters, seconds since} if it ran in this boot at least MIN_WINDOW_SECONDS
    before ``now`` (time.monotonic, which counts from the boot), else None."""
    try:
        state = json.loads(text or "")
        seconds = now - float(state["monotonic"])
    except (ValueError, TypeError, KeyError):
        return None
    if state.get("boot_id") != boot_id or not isinstance(state.get("counters"), dict) or seconds < MIN_WINDOW_SECONDS:
        return None
    return {"counters": state["counters"], "seconds": seconds}


def collect(settings, previous_text=None, clock=time.monotonic, wall=time.time):
    # type: (Dict[str, Any], Optional[str], Any, Any) -> Tuple[str, str]
    """One run: (the textfile's text, the state text for the next run). Reads the host; writes nothing."""
    started = clock()
    proc_path, sys_path = settings.get("proc_path", "/proc"), settings.get("sys_path", "/sys")
    boot_id = _boot_id(proc_path)
    first_sample = settings.get("first_sample_seconds", FIRST_SAMPLE_SECONDS)  # tests shorten it
    facts = procfs.gather(proc_path=proc_path, sys_path=sys_path,
                          sample_seconds=0.0 if load_state(previous_text, boot_id, started) else first_sample,
                          sockets=settings.get("sockets", True), services=settings.get("services") or ())
    read_at = clock()
    counters = procfs._rated(proc_path)  # pylint: disable=protected-access  # the counters gather samples
    previous = load_state(previous_text, boot_id, read_at)
    if not facts["rates"] and previous:
        facts["rates"] = rates_between(previous["counters"], counters, previous["seconds"])
        facts["sample_seconds"] = round(previous["seconds"], 3)
        facts["findings"] = diagnosis.diagnose(facts)
    drifted = drift(read_file(settings.get("sysctl_path") or sysctld.DEFAULT_PATH), facts["sysctl"])
    collector = {"tcptune_collector_last_success_timestamp_seconds": round(wall(), 3),
                 "tcptune_collector_duration_seconds": round(clock() - started, 3),
                 "tcptune_collector_interval_seconds": settings.get("interval", DEFAULT_INTERVAL),
                 "tcptune_collector_rate_window_seconds": facts["sample_seconds"]}
    text = render(series(facts, facts["findings"], counters, drifted, collector))
    state = json.dumps({"boot_id": boot_id, "monotonic": read_at, "counters": counters}, sort_keys=True)
    return text, state


def settings_errors(settings):
    # type: (Dict[str, Any]) -> List[str]
    """One message per bad setting, naming the role variable it comes from."""
    errors = []
    interval = settings.get("interval")
    if isinstance(interval, bool) or not isinstance(interval, int) or not INTERVAL_MIN <= interval <= INTERVAL_MAX:
        errors.append("%s: must be a whole number of seconds from %d to %d, got %r"
                      % (ROLE_VARIABLE_OF["interval"], INTERVAL_MIN, INTERVAL_MAX, interval))
    for name in ("textfile_dir", "python", "sysctl_path"):
        value = settings.get(name)
        if not isinstance(value, str) or not SAFE_PATH.match(value) or os.path.normpath(value) != value:
            errors.append("%s: must be an absolute, normalised path of letters, digits and ._+@:/- only (it goes "
                          "into a systemd unit as it is), got %r" % (ROLE_VARIABLE_OF[name], value))
    services = settings.get("services")
    if not isinstance(services, list) or not all(isinstance(item, str) and item for item in services):
        errors.append("%s: must be a list of service names, got %r" % (ROLE_VARIABLE_OF["services"], services))
    if not isinstance(settings.get("sockets"), bool):
        errors.append("%s: must be true or false, got %r" % (ROLE_VARIABLE_OF["sockets"], settings.get("sockets")))
    return errors


def _whole(value):
    """An int from an int or a string of digits (``-e tcp_tuning_monitor_interval=30`` is a string); else as given."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _boolean(value):
    """A bool from a bool or the words Ansible takes for one ("-e" gives strings); else as given."""
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return value


def monitor_plan(variables, installed=None):
    # type: (Dict[str, Any], Optional[Dict[str, Any]]) -> Dict[str, Any]
    """What the role does about the collector, from its variables (``monitor``, ``state``, ``audit_only``,
    ``interval``, ``textfile_dir``, ``python``, ``sysctl_path``, ``services``, ``sockets``) and the settings
    file as installed (``installed``, None when there is none).

    install: state present and monitor on (not in audit mode); remove: state absent (whatever monitor says:
    a revert leaves nothing behind). ``touch`` says whether the role must look at the target at all (a
    host without the collector that does not want it costs no module run). ``stale`` lists textfiles an
    earlier install wrote elsewhere (the directory changed). Raises ValueError naming the variables."""
    settings = {"textfile_dir": variables.get("textfile_dir"), "interval": _whole(variables.get("interval")),
                "python": variables.get("python"), "sysctl_path": variables.get("sysctl_path"),
                "services": variables.get("services"), "sockets": _boolean(variables.get("sockets")),
                "state_file": STATE_FILE}
    state = variables.get("state")
    if state not in ("present", "absent"):
        raise ValueError("%s: must be present or absent, got %r" % (ROLE_VARIABLE_OF["state"], state))
    monitor = _boolean(variables.get("monitor"))
    if not isinstance(monitor, bool):
        raise ValueError("%s: must be true or false, got %r" % (ROLE_VARIABLE_OF["monitor"], variables.get("monitor")))
    audit = _boolean(variables.get("audit_only")) is True
    install = state == "present" and monitor and not audit
    remove = state == "absent" and not audit
    if install:
        errors = settings_errors(settings)
        if errors:
            raise ValueError("; ".join(errors) + ". Nothing was changed.")
    textfile = os.path.join(settings["textfile_dir"] or DEFAULT_TEXTFILE_DIR, TEXTFILE_NAME)
    before = None
    if isinstance(installed, dict) and isinstance(installed.get("textfile_dir"), str):
        before = os.path.join(installed["textfile_dir"], TEXTFILE_NAME)
    if remove:
        stale = sorted(set(path for path in (textfile, before) if path))
    else:
        stale = [before] if install and before and before != textfile else []
    paths = {"install_dir": INSTALL_DIR, "module_utils": MODULE_UTILS_DIR, "script": SCRIPT, "settings": SETTINGS_FILE,
             "service": "%s/%s.service" % (UNIT_DIR, UNIT), "timer": "%s/%s.timer" % (UNIT_DIR, UNIT),
             "runtime_dir": RUNTIME_DIR}
    return {
        "input": dict(variables), "install": bool(install), "remove": bool(remove), "touch": bool(install or remove),
        "settings": settings, "python": settings["python"], "interval": settings["interval"],
        "timeout": RUN_TIMEOUT_SECONDS,
        "textfile": textfile, "stale": stale, "module_utils": [name + ".py" for name in COLLECTOR_MODULE_UTILS],
        "paths": paths, "unit": UNIT, "runtime_directory": os.path.basename(RUNTIME_DIR),
        # Removal order: the units, the textfiles, the runtime directory, and the install directory last, so
        # that its absence means nothing is left (an interrupted removal is finished by the next one).
        "remove_paths": [paths["timer"], paths["service"]] + stale + [RUNTIME_DIR, INSTALL_DIR] if remove else [],
    }


def main(argv=None, settings_path=SETTINGS_FILE, out=None, err=None):
    # type: (Optional[List[str]], str, Any, Any) -> int
    """tcptune-textfile.py [--settings FILE] [--stdout | --check]: write the textfile (atomically, next to
    the temp file node_exporter never reads), print it instead, or only check the settings.
    Exit 0, 1 when the run failed (the textfile is left as it was, so its timestamp ages), 2 for bad
    settings."""
    import argparse  # noqa: local import keeps the module import set small for the other callers

    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="tcptune-textfile", description=main.__doc__.split("\n", 1)[0])
    parser.add_argument("--settings", default=settings_path, help="the JSON settings the role wrote")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdout", action="store_true", help="print the metrics, write nothing")
    mode.add_argument("--check", action="store_true", help="check the settings, write nothing")
    args = parser.parse_args(argv)
    try:
        with open(args.settings) as handle:
            settings = json.load(handle)
    except (IOError, OSError, ValueError) as error:
        err.write("tcptune-textfile: cannot read the settings %s: %s\n" % (args.settings, error))
        return 2
    errors = settings_errors(settings) if isinstance(settings, dict) else ["the settings are not a JSON object"]
    if errors:
        err.write("tcptune-textfile: %s: %s\n" % (args.settings, "; ".join(errors)))
        return 2
    if args.check:
        return 0
    state_file = settings.get("state_file") or STATE_FILE
    try:
        text, state = collect(settings, read_file(state_file))
        if args.stdout:
            out.write(text)
            return 0
        atomic_write(os.path.join(settings["textfile_dir"], TEXTFILE_NAME), text, mode=0o644)
        atomic_write(state_file, state, mode=0o600)
    except (IOError, OSError, ValueError, KeyError) as error:
        err.write("tcptune-textfile: %s\n" % error)
        return 1
    return 0
