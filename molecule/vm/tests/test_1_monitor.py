# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 19 on the monitored guest (molecule.yml host_vars: vm-debian12, kernel 6.1): the role's textfile
collector, a real node_exporter and a real Prometheus server with the rule pack. Before tuning, seed 000's
tcp_mem load makes tcp_memory_pressure 1 in the textfile and in a scrape, and TcptuneTcpMemoryPressure goes
pending and firing during the load and resolves after; after tuning and a reboot the timer runs the collector
by itself and the same load leaves the gauge at 0 with no alert. Recorded by prepare.yml and side_effect.yml
(tasks/monitor_load.yml, files/monitor_watch.py). The unmonitored guests must have none of it."""
import hashlib
import json
import os

import pytest
from vmdata import PROJECT, load, module_util, name_of, text

FINDING = 'tcptune_finding{finding="tcp_memory_pressure"'
MODULE_UTILS = module_util("collector_plan").COLLECTOR_MODULE_UTILS
MAX_SERIES = 97
# molecule.yml: tcp_tuning_monitor is true for this guest only; the others must have none of it.
MONITORED = ("vm-debian12",)


@pytest.fixture(autouse=True)
def _monitored(request, host):
    unmonitored_test = request.node.name.startswith("test_unmonitored_")
    if (name_of(host) in MONITORED) == unmonitored_test:
        pytest.skip("for the %s guests" % ("unmonitored" if unmonitored_test else "monitored"))


def test_unmonitored_guests_got_no_collector(host):
    """tcp_tuning_monitor false (the default): no timer, no unit, no script, no textfile."""
    for path in ("/etc/systemd/system/tcptune-textfile.timer", "/etc/systemd/system/tcptune-textfile.service",
                 "/usr/local/lib/tcptune", "/var/lib/prometheus/node-exporter/tcptune.prom"):
        assert not host.file(path).exists, path
    assert [path for path in load("apply", host)["files"] if "tcptune-textfile" in path or path.endswith(".prom")] == []


def _sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _line_value(lines, prefix):
    values = [float(line.rsplit(" ", 1)[1]) for line in lines or [] if line.startswith(prefix)]
    return values[0] if values else None


def test_the_collector_is_installed_as_the_collection_has_it(host):
    header = module_util("collector_plan").BUNDLE_HEADER
    installed = host.file("/usr/local/lib/tcptune/module_utils.bundle").content_string
    assert installed.startswith(header)
    bundle = json.loads(installed[len(header):])
    assert sorted(bundle) == sorted(MODULE_UTILS)
    for name in MODULE_UTILS:
        with open(os.path.join(PROJECT, "plugins", "module_utils", name + ".py"), encoding="utf-8") as handle:
            assert bundle[name] == handle.read(), name
    # prepare.yml left the directory an earlier install copied the files into; the upgrade removed it
    assert not host.file("/usr/local/lib/tcptune/module_utils").exists
    script = os.path.join(PROJECT, "roles", "tcp_tuning", "files", "tcptune-textfile.py")
    assert host.file("/usr/local/lib/tcptune/tcptune-textfile.py").sha256sum == _sha256(script)
    settings = json.loads(host.file("/usr/local/lib/tcptune/tcptune-textfile.json").content_string)
    assert (settings["interval"], settings["textfile_dir"]) == (10, "/var/lib/prometheus/node-exporter")
    assert settings["services"] == ["tcptune-web"]
    assert host.service("tcptune-textfile.timer").is_enabled
    assert host.service("tcptune-textfile.timer").is_running
    textfile = host.file("/var/lib/prometheus/node-exporter/tcptune.prom")
    assert (textfile.mode, textfile.user) == (0o644, "root")


def test_check_mode_and_audit_installed_nothing_and_the_snapshots_would_see_it(host):
    def ours(snapshot):
        return sorted(path for path in load(snapshot, host)["files"]
                      if path.startswith("/usr/local/lib/tcptune/") or "tcptune-textfile" in path or path.endswith(".prom"))

    for snapshot in ("original", "after-check", "after-audit", "after-failed"):
        assert ours(snapshot) == [], snapshot
    installed = ours("apply")
    assert "/var/lib/prometheus/node-exporter/tcptune.prom" in installed
    assert "/etc/systemd/system/timers.target.wants/tcptune-textfile.timer" in installed
    assert "/usr/local/lib/tcptune/module_utils.bundle" in installed


def test_the_guests_promtool_accepts_the_textfile_and_the_pack(host):
    for phase in ("before", "after"):
        lines = load("monitor-" + phase, host)["promtool"]
        assert "check metrics: exit 0" in lines, lines
        assert any("SUCCESS" in line for line in lines), lines
        series, mode = int(lines[-2]), lines[-1]
        assert 60 <= series <= MAX_SERIES and mode == "644 root", lines


def test_before_tuning_seed000_raises_the_finding_and_the_alert_fires_then_resolves(host):
    watch = load("monitor-before", host)
    events = watch["events"]
    assert watch["load"]["delta"]["TCPAbortOnMemory"] > 0, watch["load"]["delta"]  # seed 000 reproduced
    assert watch["tcp_mem_during"] == "200 300 400"
    assert watch["tcp_mem_restored"] == watch["tcp_mem_original"]
    # the collector's gauge, and the same in a real scrape of node_exporter
    assert "textfile_finding_1" in events and "exporter_finding_1" in events, events
    up = watch["scrape_while_up"]
    assert _line_value(up, FINDING) == 1
    assert _line_value(up, "node_textfile_scrape_error") == 0
    assert _line_value(up, "tcptune_tcp_memory_bytes") > _line_value(up, "tcptune_tcp_mem_pressure_bytes")
    # Prometheus: pending or firing while the load ran, firing, then resolved after tcp_mem was written back
    during = [events[key]["epoch"] for key in ("alert_pending", "alert_firing") if key in events]
    assert during and min(during) < events["load_ended"]["epoch"], events
    assert "alert_firing" in events, events
    assert "resolved" in events, events
    assert events["resolved"]["epoch"] > max(events["alert_firing"]["epoch"], events["tcp_mem_restored"]["epoch"])
    states = set((item["severity"], item["alertstate"]) for item in watch["alerts_history"])
    assert ("warning", "firing") in states or ("critical", "firing") in states, watch["alerts_history"]
    assert _line_value(watch["scrape_last"], FINDING) == 0


def test_after_tuning_the_same_load_leaves_the_gauge_at_0_and_fires_nothing(host):
    watch = load("monitor-after", host)
    assert [key for key in watch["events"] if key not in ("load_started", "load_ended")] == [], watch["events"]
    seen = [sample for sample in watch["samples"] if sample["exporter"] is not None]
    assert len(seen) >= 5, watch["samples"]  # node_exporter answered throughout
    assert all(sample["exporter"] == [0, "none"] and sample["textfile"] == [0, "none"] for sample in seen), seen
    assert all(sample["alerts"] == [] for sample in watch["samples"]), watch["samples"]
    assert watch["alerts_history"] == []


def test_the_timer_runs_the_collector_after_a_reboot(host):
    # one property per line; LastTriggerUSec holds spaces ("Mon 2026-12-07 00:56:52 UTC")
    timer = dict(line.split("=", 1) for line in text("monitor-timer", host).splitlines() if "=" in line)
    assert (timer["ActiveState"], timer["UnitFileState"]) == ("active", "enabled"), timer
    assert timer["LastTriggerUSec"] not in ("", "n/a", "0"), timer
    last = load("monitor-after", host)["scrape_last"]
    # rates over the time since the previous run: about the 10 s interval, not the first run's 5 s sample
    assert 8 <= _line_value(last, "tcptune_collector_rate_window_seconds") <= 40, last
