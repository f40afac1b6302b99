# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The textfile collector (metrics.py, issue 19): rates over the time since the previous run, the exposition
text, and the entry point the role installs, run as the timer runs it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import (
    collector_plan, diagnosis, host_facts, metrics, metrics_series)

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
MODULE_UTILS = os.path.join(REPO, "plugins", "module_utils")
LAUNCHER = os.path.join(REPO, "roles", "tcp_tuning", "files", "tcptune-textfile.py")
LINE = re.compile(r'^(?P<name>[a-z_]+)(\{(?P<labels>[^}]*)\})? (?P<value>-?[0-9.e+]+)$')


def settings(proc_path, sys_path, tmp_path, **extra):
    values = {"textfile_dir": str(tmp_path / "textfile"), "interval": 60, "python": "/usr/bin/python3",
              "sysctl_path": str(tmp_path / "60-tcptune.conf"), "services": [], "sockets": True,
              "state_file": str(tmp_path / "run" / "counters.json"), "proc_path": proc_path, "sys_path": sys_path}
    values.update(extra)
    return values


def parse(text):
    """{(name, labels): value} of an exposition text, checking HELP and TYPE come once, before the samples."""
    samples, declared = {}, []
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            declared.append((line.split()[2], line.split()[1]))
            continue
        match = LINE.match(line)
        assert match, line
        assert (match.group("name"), "TYPE") in declared, line
        samples[(match.group("name"), match.group("labels") or "")] = float(match.group("value"))
    assert len(declared) == len(set(declared)) == 2 * len(set(name for name, _kind in declared))  # one HELP, one TYPE
    return samples


def state_of(counters, seconds_ago, boot_id="", now=1000.0):
    return json.dumps({"boot_id": boot_id, "monotonic": now - seconds_ago, "counters": counters})


def test_first_run_samples_and_writes_every_kind_of_series(fixture_tree, tmp_path):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    text, state = metrics.collect(settings(proc_path, sys_path, tmp_path, first_sample_seconds=0.05))
    samples = parse(text)
    names = set(name for name, _labels in samples)
    # conntrack and the socket states are there on this tree; drift needs our file (none here)
    assert names == set(metrics_series.metric_names()) - {metrics_series.DRIFT_METRIC.name}
    assert len([key for key in samples if key[0] == "tcptune_finding"]) == len(diagnosis.FINDING_IDS)
    assert samples[("tcptune_collector_rate_window_seconds", "")] == 0.05
    assert json.loads(state)["counters"]["TcpExt.ListenOverflows"] == 1806
    assert samples[("tcptune_tcp_listen_overflows_total", "")] == 1806
    # tcp_mem is in pages in the kernel, in bytes here
    tcp_mem = host_facts.gather(proc_path, sys_path, sockets=False)["sysctl"]["net.ipv4.tcp_mem"]
    assert samples[("tcptune_tcp_mem_pressure_bytes", "")] == tcp_mem[1] * os.sysconf("SC_PAGE_SIZE")


def test_counter_findings_are_about_now_not_since_boot(fixture_tree, tmp_path):
    """The busy tree's totals since boot give listen_queue_overflow, time_wait_overflow...; with the previous
    run's counters equal to these, nothing happened since and the gauges are 0; one more overflow since
    the previous run raises the finding again, judged on its rate."""
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    current = host_facts.rated_counters(proc_path)
    clock = iter([1000.0, 1000.0, 1000.2, 1000.3]).__next__
    quiet, _state = metrics.collect(settings(proc_path, sys_path, tmp_path), state_of(current, 60), clock=clock)
    samples = parse(quiet)
    since_boot = dict((item["id"], item["severity"]) for item in host_facts.gather(proc_path, sys_path)["findings"])
    for finding in ("listen_queue_overflow", "rst_send_failed", "syn_queue_pressure", "tcp_memory_pressure",
                    "backlog_drops", "retransmission_rate"):
        assert since_boot[finding] in ("warning", "critical"), finding
        assert samples[("tcptune_finding", 'finding="%s",severity="none"' % finding)] == 0, finding
    # level findings do not depend on the window: TIME_WAIT at 100 % of the buckets, orphans at 30 %
    assert samples[("tcptune_finding", 'finding="time_wait_overflow",severity="warning"')] == 1
    assert samples[("tcptune_finding", 'finding="orphan_pressure",severity="warning"')] == 1
    assert samples[("tcptune_collector_rate_window_seconds", "")] == 60.0
    before = dict(current, **{"TcpExt.ListenOverflows": current["TcpExt.ListenOverflows"] - 1})
    clock = iter([1000.0, 1000.0, 1000.2, 1000.3]).__next__
    busy = parse(metrics.collect(settings(proc_path, sys_path, tmp_path), state_of(before, 60), clock=clock)[0])
    assert busy[("tcptune_finding", 'finding="listen_queue_overflow",severity="warning"')] == 1


def test_a_state_from_another_boot_or_too_recent_is_not_used(fixture_tree, tmp_path):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    counters = host_facts.rated_counters(proc_path)
    os.makedirs(os.path.join(proc_path, "sys", "kernel", "random"))
    with open(os.path.join(proc_path, "sys", "kernel", "random", "boot_id"), "w") as handle:
        handle.write("this-boot\n")
    for text in (state_of(counters, 60, boot_id="another-boot"), state_of(counters, 0.2, boot_id="this-boot"),
                 "not json", None):
        clock = iter([1000.0, 1000.0, 1000.1, 1000.1, 1000.2]).__next__
        samples = parse(metrics.collect(settings(proc_path, sys_path, tmp_path, first_sample_seconds=0.05), text,
                                        clock=clock)[0])
        assert samples[("tcptune_collector_rate_window_seconds", "")] == 0.05, text


def test_rates_count_a_reset_counter_from_zero():
    assert metrics.rates_between({"a": 100, "b": 50, "gone": 1}, {"a": 160, "b": 20, "new": 5}, 60.0) == {
        "a": 1.0, "b": 20 / 60.0}


def test_render_escapes_and_sorts():
    metric = metrics_series.Metric("tcptune_x", "gauge", 'help with "quotes"\nand a newline \\')
    text = metrics.render([(metric, {"key": 'a"b\\c\nd'}, 1.5), (metrics_series.COLLECTOR[0], {}, 3)])
    assert text.splitlines() == [
        "# HELP tcptune_collector_last_success_timestamp_seconds When the collector last wrote this file (Unix time).",
        "# TYPE tcptune_collector_last_success_timestamp_seconds gauge",
        "tcptune_collector_last_success_timestamp_seconds 3",
        '# HELP tcptune_x help with "quotes"\\nand a newline \\\\',
        "# TYPE tcptune_x gauge",
        'tcptune_x{key="a\\"b\\\\c\\nd"} 1.5',
    ]


def install(tmp_path, values, bundle=None):
    """The files as the role lays them out: entry point, settings and the module_utils bundle, made as the
    role's filter makes it (tests/unit/plugins/filter/test_collector_sources.py checks that they agree)."""
    root = tmp_path / "usr-local-lib-tcptune"
    root.mkdir(parents=True)
    if bundle is None:
        bundle = collector_plan.bundle_text(collector_plan.read_sources(collector_plan.COLLECTOR_MODULE_UTILS,
                                                                        MODULE_UTILS))
    (root / "module_utils.bundle").write_text(bundle, encoding="utf-8")
    shutil.copy(LAUNCHER, str(root / "tcptune-textfile.py"))
    with open(str(root / "tcptune-textfile.json"), "w") as handle:
        json.dump(values, handle)
    return root


def run(root, *args, **kwargs):
    # -I, as the unit runs it: no PYTHONPATH, no user site, not even the script's directory on sys.path
    python = kwargs.get("python") or sys.executable
    return subprocess.run([python, "-I", str(root / "tcptune-textfile.py")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)


def _oldest_python():
    """Python 3.9, the oldest the role's hosts run the collector with (Debian 11), when this machine has one
    (tests/ansible-test.sh links pyenv's interpreters into .cache/pythons)."""
    for candidate in (os.path.join(REPO, ".cache", "pythons", "python3.9"), shutil.which("python3.9")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# The collector runs on the managed hosts' Python, not the controller's.
PYTHONS = [sys.executable] + ([_oldest_python()] if _oldest_python() else [])


@pytest.mark.parametrize("python", PYTHONS, ids=os.path.basename)
def test_the_installed_entry_point_runs_from_its_own_copies(fixture_tree, tmp_path, python):
    """No collection is importable under -I; the bundle is all it needs. It writes the
    textfile (0644, for node_exporter's user) and the state (0600), then judges the next run on rates."""
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    values = settings(proc_path, sys_path, tmp_path, first_sample_seconds=0.1)
    root = install(tmp_path, values)
    assert run(root, "--check", python=python).returncode == 0
    printed = run(root, "--stdout", python=python)
    assert printed.returncode == 0, printed.stderr
    assert "tcptune_finding{" in printed.stdout
    assert not os.path.exists(values["state_file"])  # --stdout writes nothing
    done = run(root, python=python)
    assert done.returncode == 0, done.stderr
    textfile = os.path.join(values["textfile_dir"], "tcptune.prom")
    assert stat.S_IMODE(os.stat(textfile).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(values["state_file"]).st_mode) == 0o600
    assert os.listdir(values["textfile_dir"]) == ["tcptune.prom"]  # no temp file left
    time.sleep(metrics.MIN_WINDOW_SECONDS)
    again = run(root, python=python)
    assert again.returncode == 0
    with open(textfile) as handle:
        window = parse(handle.read())[("tcptune_collector_rate_window_seconds", "")]
    assert window > 1.0  # not the 0.1 s sample: the second run used the first one's counters


@pytest.mark.parametrize("python", PYTHONS, ids=os.path.basename)
def test_a_failure_in_the_bundle_shows_its_file_and_line(tmp_path, python):
    """An operator reading the journal sees which module_utils failed, and the line, as with files on disk
    (before Python 3.13 only because the entry point sets sys.excepthook)."""
    broken = collector_plan.bundle_text({"metrics": "def main(argv, settings_path):\n"
                                                    "    raise RuntimeError('boom in the bundle')\n"})
    root = install(tmp_path, {}, bundle=broken)
    failed = run(root, python=python)
    assert failed.returncode == 1
    assert 'module_utils.bundle/metrics.py", line 2, in main' in failed.stderr
    assert "raise RuntimeError('boom in the bundle')" in failed.stderr


def test_the_documented_line_prints_a_source_from_the_bundle(tmp_path):
    with open(os.path.join(REPO, "docs", "monitoring.md")) as handle:
        line = re.search(r"`(python3 -c '[^`]*module_utils\.bundle metrics)`", handle.read()).group(1)
    root = install(tmp_path, {})
    argv = shlex.split(line.replace("/usr/local/lib/tcptune/module_utils.bundle", str(root / "module_utils.bundle")))
    printed = subprocess.run([sys.executable] + argv[1:], stdout=subprocess.PIPE, universal_newlines=True, check=True)
    with open(os.path.join(MODULE_UTILS, "metrics.py")) as handle:
        assert printed.stdout == handle.read() + "\n"


def test_the_entry_point_refuses_bad_settings(fixture_tree, tmp_path):
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    root = install(tmp_path, settings(proc_path, sys_path, tmp_path, interval=5))
    refused = run(root)
    assert refused.returncode == 2
    assert "tcp_tuning_monitor_interval: must be a whole number of seconds from 10 to 86400, got 5" in refused.stderr
    assert not os.path.exists(str(tmp_path / "textfile"))


def test_a_failed_run_leaves_the_textfile_as_it_was(tmp_path, monkeypatch):
    """Its timestamp then ages and TcptuneCollectorStale fires, instead of fresh-looking wrong values."""
    values = settings("/proc", "/sys", tmp_path)
    os.makedirs(values["textfile_dir"])
    textfile = os.path.join(values["textfile_dir"], "tcptune.prom")
    with open(textfile, "w") as handle:
        handle.write("old\n")
    with open(str(tmp_path / "settings.json"), "w") as handle:
        json.dump(values, handle)

    def broken(*_args, **_kwargs):
        raise OSError("netlink refused")

    monkeypatch.setattr(metrics, "collect", broken)
    out, err = [], []

    class Sink(object):
        def __init__(self, lines):
            self.write = lines.append

    assert metrics.main([], settings_path=str(tmp_path / "settings.json"), out=Sink(out), err=Sink(err)) == 1
    assert err == ["tcptune-textfile: netlink refused\n"]
    with open(textfile) as handle:
        assert handle.read() == "old\n"
