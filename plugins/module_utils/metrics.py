# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textfile collector's run: facts, findings and drift rendered as Prometheus series for
node_exporter's textfile collector (metrics_series.py holds the series), and the collector's command line.

The facts are ``host_facts.gather``'s, the findings ``diagnosis_rules.diagnose``'s and the drift
``sysctld.drifted``'s: this file reads nothing of its own but the previous run's counters. Counter
findings are judged on rates over the time since the previous run (the state file, in /run: a reboot
resets the kernel's counters and empties /run alike), so a finding reports what happens now, not what
happened once since boot. The first run after a boot samples ``FIRST_SAMPLE_SECONDS`` instead.

The role installs this file and the module_utils it imports on the target (collector_plan.py says where);
``main`` is what roles/tcp_tuning/files/tcptune-textfile.py runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import time

from ansible_collections.tcptune.linux.plugins.module_utils import diagnosis_rules, host_facts, metrics_series, sysctld
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import atomic_write, read_file
from ansible_collections.tcptune.linux.plugins.module_utils.collector_plan import (
    DEFAULT_INTERVAL, SETTINGS_FILE, STATE_FILE, TEXTFILE_NAME, settings_errors)

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

FIRST_SAMPLE_SECONDS = 5.0  # no previous run in this boot: sample this long, as tcp_facts' sample_seconds
MIN_WINDOW_SECONDS = 1.0  # a previous run closer than this: sample instead (a rate over 0.1 s is noise)


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
    # type: (List[Tuple[metrics_series.Metric, Dict[str, str], float]]) -> str
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
    facts = host_facts.gather(proc_path=proc_path, sys_path=sys_path,
                              sample_seconds=0.0 if load_state(previous_text, boot_id, started) else first_sample,
                              sockets=settings.get("sockets", True), services=settings.get("services") or ())
    read_at = clock()
    counters = host_facts.rated_counters(proc_path)  # the counters gather samples
    previous = load_state(previous_text, boot_id, read_at)
    if not facts["rates"] and previous:
        facts["rates"] = rates_between(previous["counters"], counters, previous["seconds"])
        facts["sample_seconds"] = round(previous["seconds"], 3)
        facts["findings"] = diagnosis_rules.diagnose(facts)
    drifted = metrics_series.drift(read_file(settings.get("sysctl_path") or sysctld.DEFAULT_PATH), facts["sysctl"])
    collector = {"tcptune_collector_last_success_timestamp_seconds": round(wall(), 3),
                 "tcptune_collector_duration_seconds": round(clock() - started, 3),
                 "tcptune_collector_interval_seconds": settings.get("interval", DEFAULT_INTERVAL),
                 "tcptune_collector_rate_window_seconds": facts["sample_seconds"]}
    text = render(metrics_series.series(facts, facts["findings"], counters, drifted, collector))
    state = json.dumps({"boot_id": boot_id, "monotonic": read_at, "counters": counters}, sort_keys=True)
    return text, state


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
