# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring pack with the real tools (issue 19): Debian's promtool checks the rule pack and runs unit tests
in which every alert fires after its for:, keeps firing in its hysteresis band and resolves, with the summary's
numbers as Prometheus computes them; promtool checks the collector's output; Debian's node_exporter serves it.

make test installs prometheus (promtool) and prometheus-node-exporter (tests/run-all.sh). The promtool test
output goes to tests/output/monitor/ for the issue's note."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
import yaml

from ansible_collections.tcptune.linux.plugins.module_utils import alert_rules, metrics

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RULES = os.path.join(REPO, "files", "prometheus", "tcptune-alerts.yml")
PROMETHEUS_RULE = os.path.join(REPO, "files", "prometheus", "tcptune-prometheusrule.yml")
FIXTURES = os.path.join(REPO, "tests", "unit", "fixtures")
OUTPUT = os.path.join(REPO, "tests", "output", "monitor")
PROMTOOL = shutil.which("promtool")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
INSTANCE = "host1:9100"
SELECTOR = 'instance="%s",job="node"' % INSTANCE

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package prometheus; tests/run-all.sh installs it)")


def promtool(*args):
    return subprocess.run([PROMTOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def keep(name, text):
    os.makedirs(OUTPUT, exist_ok=True)
    with open(os.path.join(OUTPUT, name), "w") as handle:
        handle.write(text)


@needs_promtool
def test_promtool_checks_the_shipped_rule_files(tmp_path):
    checked = promtool("check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout
    assert "SUCCESS: %d rules found" % sum(len(group["rules"]) for group in alert_rules.rule_groups()) in checked.stdout
    with open(PROMETHEUS_RULE) as handle:
        spec = yaml.safe_load(handle)["spec"]
    (tmp_path / "operator.yml").write_text(yaml.safe_dump(spec))
    operator = promtool("check", "rules", str(tmp_path / "operator.yml"))
    assert operator.returncode == 0, operator.stdout


# -- promtool test rules ---------------------------------------------------------------------------------------
# Values the numbers of the summaries are computed from: gauges constant, counters growing linearly from a base.
GAUGES = {
    "tcptune_somaxconn": 4096, "tcptune_tcp_max_syn_backlog": 2048, "tcptune_tcp_sockets{state=SYN_RECV}": 1200,
    "tcptune_tcp_mem_pressure_bytes": 1048576000, "tcptune_tcp_mem_max_bytes": 1572864000,
    "tcptune_tcp_max_orphans": 65536, "tcptune_tcp_max_tw_buckets": 262144, "tcptune_tcp_time_wait_sockets": 250000,
    "tcptune_ephemeral_ports_in_use": 20000, "tcptune_ip_local_port_range_ports": 28232,
    "tcptune_fs_files_allocated": 800000, "tcptune_fs_file_max": 1000000, "tcptune_nf_conntrack_max": 262144,
}
SLOPES = {  # increase per minute
    "tcptune_tcp_listen_overflows_total": 90, "tcptune_tcp_listen_drops_total": 120,
    "tcptune_tcp_syncookies_sent_total": 30, "tcptune_tcp_request_queue_full_drops_total": 6,
    "tcptune_tcp_memory_pressures_total": 3, "tcptune_tcp_aborts_on_memory_total": 12,
    "tcptune_tcp_rst_send_failures_total": 9, "tcptune_tcp_time_wait_overflows_total": 300,
    "tcptune_nf_conntrack_drops_total": 60, "tcptune_nf_conntrack_early_drops_total": 30,
    "tcptune_nf_conntrack_insert_failed_total": 15, "tcptune_softnet_dropped_total": 600,
    "tcptune_softnet_time_squeezed_total": 180, "tcptune_tcp_retransmitted_segments_total": 2400,
    "tcptune_tcp_sent_segments_total": 60000,
}
# The use behind each hysteresis (its ratio's numerator) takes these fractions of its denominator.
USE = {alert_rules.TCP_MEMORY_OF_PRESSURE: ("tcptune_tcp_memory_bytes", "tcptune_tcp_mem_pressure_bytes"),
       alert_rules.ORPHANS_OF_MAX: ("tcptune_tcp_orphan_sockets", "tcptune_tcp_max_orphans"),
       alert_rules.CONNTRACK_OF_MAX: ("tcptune_nf_conntrack_entries", "tcptune_nf_conntrack_max")}
USE_DEFAULT = {"tcptune_tcp_memory_bytes": 0.9, "tcptune_tcp_orphan_sockets": 0.3, "tcptune_nf_conntrack_entries": 0.8}


def minutes(duration):
    number, unit = int(duration[:-1]), duration[-1]
    return number * {"s": 1 / 60.0, "m": 1, "h": 60}[unit]


def series_name(key):
    if "{" in key:
        name, label = key[:-1].split("{")
        label_name, value = label.split("=")
        return '%s{%s,%s="%s"}' % (name, SELECTOR, label_name, value)
    return "%s{%s}" % (key, SELECTOR)


def evaluate(query, values, t):
    """A number of a summary for the inputs at minute t: rate() is the counter's slope per second (the series
    are long and linear), a gauge its value at t, then the arithmetic in Python."""
    text = re.sub(r"rate\((\w+)\{SEL\}\[\w+\]\)", lambda m: repr(SLOPES[m.group(1)] / 60.0), query)
    text = re.sub(r'(\w+)\{SEL,(\w+)="(\w+)"\}', lambda m: repr(values["%s{%s=%s}" % m.groups()](t)), text)
    text = re.sub(r"(tcptune_\w+)\{SEL\}", lambda m: repr(values[m.group(1)](t)), text)
    return eval(text)  # pylint: disable=eval-used  # numbers and + - * / only, from NUMBERS


def expected_summary(finding, values, t):
    def number(match):
        if match.group(1) == "instance":
            return INSTANCE
        query, fmt = alert_rules.NUMBERS[match.group(1)]
        return fmt % evaluate(query, values, t)

    return re.sub(r"\{(\w+)\}", number, alert_rules.TEXTS[finding][0])


def finding_case(rule):
    """One promtool test group for one alert: (quiet band) -> the finding at its severity for its for: -> at a
    worse severity -> gone (-> still firing in the hysteresis band -> below the clear level)."""
    finding, severity = rule["labels"]["finding"], rule["labels"]["severity"]
    hold = int(minutes(rule["for"]))
    use, clear = alert_rules.HYSTERESIS.get((finding, severity), (None, None))
    fire_level = 1.2 if severity == "critical" and finding == "tcp_memory_pressure" else 0.95
    band = (clear + fire_level) / 2 if use else None
    start = 16  # the summaries' rate windows (15m at most) are full from here
    worse = alert_rules.SEVERITIES[finding][-1]
    active_end = start + hold + 5
    worse_end = active_end + (5 if worse != severity else 0)
    band_end = worse_end + (6 if use else 0)
    end = band_end + 6
    timeline = []  # severity of the finding per minute (None: not raised)
    for minute in range(end + 1):
        timeline.append(severity if start <= minute <= active_end else worse if active_end < minute <= worse_end
                        else None)
    series = []
    for level in alert_rules.SEVERITIES[finding] + ("none",):
        tokens, previous = [], None
        for minute, current in enumerate(timeline):
            now = (current or "none") == level
            tokens.append(("1" if level != "none" else "0") if now else ("stale" if previous else "_"))
            previous = now
        series.append({"series": 'tcptune_finding{finding="%s",severity="%s",%s}' % (finding, level, SELECTOR),
                       "values": " ".join(tokens)})
    values = dict((key, constant(value)) for key, value in GAUGES.items())
    use_metric = USE[use][0] if use else None
    for numerator, default in USE_DEFAULT.items():
        denominator = dict(USE.values())[numerator]

        def used(t, numerator=numerator, default=default, denominator=denominator):
            """The use as a fraction of its limit: in the band before the alert ever fired (the band alone must
            not fire it), above the firing level while the finding is raised, in the band, then below it."""
            if numerator != use_metric:
                fraction = default
            elif t < start:
                fraction = band
            elif t <= worse_end:
                fraction = fire_level
            else:
                fraction = band if t <= band_end else clear / 2
            return fraction * GAUGES[denominator]
        values[numerator] = used
    for key, get in values.items():
        series.append({"series": series_name(key), "values": " ".join("%r" % float(get(t)) for t in range(end + 1))})
    for key, slope in SLOPES.items():
        series.append({"series": series_name(key), "values": "1000000+%dx%d" % (slope, end)})
    same_name = rules_of(finding)

    def severity_at(t):
        return timeline[t] if 0 <= t < len(timeline) else None

    def use_at(t, other):
        key = (finding, other["labels"]["severity"])
        if key not in alert_rules.HYSTERESIS:
            return None
        numerator = USE[alert_rules.HYSTERESIS[key][0]][0]
        return values[numerator](t) / GAUGES[dict(USE.values())[numerator]]

    def fires(other, t):
        """Prometheus' alerting rule evaluated every minute: active while its expression holds (the finding at
        its severity or worse; or, while firing, the use at or above the clear level), firing after for:."""
        level = alert_rules.SEVERITY_ORDER.index(other["labels"]["severity"])
        key = (finding, other["labels"]["severity"])
        active_since, firing = None, False
        for minute in range(t + 1):
            raised = severity_at(minute) is not None and alert_rules.SEVERITY_ORDER.index(severity_at(minute)) >= level
            held = firing and key in alert_rules.HYSTERESIS and use_at(minute, other) >= alert_rules.HYSTERESIS[key][1]
            if raised or held:
                active_since = minute if active_since is None else active_since
                firing = minute - active_since >= minutes(other["for"])
            else:
                active_since, firing = None, False
        return firing

    def check(t):
        expected = []
        for other in same_name:
            if fires(other, t):
                annotations = dict(other["annotations"], summary=expected_summary(finding, values, t))
                expected.append({"exp_labels": {"finding": finding, "severity": other["labels"]["severity"],
                                                "instance": INSTANCE, "job": "node"},
                                 "exp_annotations": annotations})
        return {"eval_time": "%dm" % t, "alertname": rule["alert"], "exp_alerts": expected}

    times = [start - 1, start + hold - 1, start + hold, active_end, worse_end, worse_end + 1]
    if use:
        times += [band_end, band_end + 1]
    checks = [check(t) for t in times]
    # the rule under test: quiet before, pending (not listed) until its for:, firing, then resolved
    own = [any(alert["exp_labels"]["severity"] == severity for alert in item["exp_alerts"]) for item in checks]
    assert own[:5] == [False, False, True, True, True], (rule["alert"], severity, own)
    assert own[5:] == ([True, True, False] if use else [False]), (rule["alert"], severity, own)
    return {"interval": "1m", "input_series": series, "alert_rule_test": checks}


def constant(value):
    def get(_t):
        return value
    return get


def rules_of(finding):
    return [rule for rule in alert_rules.finding_rules() if rule["labels"]["finding"] == finding]


def collector_cases(rules):
    stale, drift = rules
    assert (stale["alert"], drift["alert"]) == ("TcptuneCollectorStale", "TcptuneSysctlDrift")
    # last written at 0 s until minute 10, then at every minute; 60 s interval: stale from 3 intervals (> 180 s)
    stale_case = {"interval": "1m", "input_series": [
        {"series": "tcptune_collector_last_success_timestamp_seconds{%s}" % SELECTOR, "values": "0x10 660+60x10"},
        {"series": "tcptune_collector_interval_seconds{%s}" % SELECTOR, "values": "60x20"}],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": stale["alert"], "exp_alerts": []},
            {"eval_time": "6m", "alertname": stale["alert"], "exp_alerts": [{
                "exp_labels": {"severity": "warning", "instance": INSTANCE, "job": "node"},
                "exp_annotations": dict(stale["annotations"], summary=(
                    "The tcptune textfile of %s was last written 360 s ago: the collector fails or its timer stopped."
                    % INSTANCE))}]},
            {"eval_time": "12m", "alertname": stale["alert"], "exp_alerts": []}]}
    drift_case = {"interval": "1m", "input_series": [
        {"series": 'tcptune_sysctl_drift{%s,key="net.core.somaxconn"}' % SELECTOR, "values": "1x14 0x10"},
        {"series": 'tcptune_sysctl_drift{%s,key="net.ipv4.tcp_mem"}' % SELECTOR, "values": "0x24"}],
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": drift["alert"], "exp_alerts": []},
            {"eval_time": "10m", "alertname": drift["alert"], "exp_alerts": [{
                "exp_labels": {"severity": "warning", "instance": INSTANCE, "job": "node", "key": "net.core.somaxconn"},
                "exp_annotations": dict(drift["annotations"], summary=(
                    "net.core.somaxconn on %s is no longer the value tcptune.linux persisted." % INSTANCE))}]},
            {"eval_time": "15m", "alertname": drift["alert"], "exp_alerts": []}]}
    return [stale_case, drift_case]


@needs_promtool
def test_promtool_every_alert_fires_after_its_for_holds_in_its_band_and_resolves(tmp_path):
    groups = dict((group["name"], group["rules"]) for group in alert_rules.rule_groups())
    tests = [finding_case(rule) for rule in groups[alert_rules.GROUP_FINDINGS]]
    tests += collector_cases(groups[alert_rules.GROUP_COLLECTOR])
    shutil.copy(RULES, str(tmp_path / "tcptune-alerts.yml"))
    document = {"rule_files": ["tcptune-alerts.yml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tcptune-alerts.test.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    done = promtool("test", "rules", str(tmp_path / "tcptune-alerts.test.yml"))
    keep("promtool-test-rules.txt", "$ promtool test rules tcptune-alerts.test.yml  (%d alerts, %d checks)\n%s"
         % (len(tests), sum(len(case["alert_rule_test"]) for case in tests), done.stdout))
    keep("tcptune-alerts.test.yml", (tmp_path / "tcptune-alerts.test.yml").read_text())
    assert done.returncode == 0, done.stdout[-6000:]
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_promtool_catches_a_wrong_expectation(tmp_path):
    """The generated expectations are checked for real: a summary off by one digit fails."""
    groups = dict((group["name"], group["rules"]) for group in alert_rules.rule_groups())
    case = finding_case(groups[alert_rules.GROUP_FINDINGS][0])
    case["alert_rule_test"][2]["exp_alerts"][0]["exp_annotations"]["summary"] += "!"
    shutil.copy(RULES, str(tmp_path / "tcptune-alerts.yml"))
    document = {"rule_files": ["tcptune-alerts.yml"], "evaluation_interval": "1m", "tests": [case]}
    (tmp_path / "t.yml").write_text(yaml.safe_dump(document))
    assert promtool("test", "rules", str(tmp_path / "t.yml")).returncode != 0


# -- the collector's output ------------------------------------------------------------------------------------
def collect(name, tmp_path):
    """The collector's first run on a fixture tree (read in place: the collector only reads)."""
    settings = {"textfile_dir": str(tmp_path), "interval": 60, "python": "/usr/bin/python3",
                "sysctl_path": os.path.join(FIXTURES, "nonexistent.conf"), "services": [], "sockets": True,
                "proc_path": os.path.join(FIXTURES, "proc", name), "sys_path": os.path.join(FIXTURES, "sys", name),
                "first_sample_seconds": 0.05}
    return metrics.collect(settings)[0]


@needs_promtool
@pytest.mark.parametrize("name", ["linux-5.15-busy", "linux-6.18-host", "linux-6.18-container", "linux-3.10-old"])
def test_promtool_check_metrics_accepts_the_collectors_output(tmp_path, name):
    text = collect(name, tmp_path)
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert checked.returncode == 0 and checked.stdout == "", checked.stdout


@needs_promtool
def test_promtool_check_metrics_on_this_hosts_own_output(tmp_path):
    """This machine's /proc and netlink, as the timer would read them (read-only)."""
    settings = {"textfile_dir": str(tmp_path), "interval": 60, "python": "/usr/bin/python3",
                "sysctl_path": "/etc/sysctl.d/60-tcptune.conf", "services": [], "sockets": True,
                "first_sample_seconds": 0.2}
    text = metrics.collect(settings)[0]
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    keep("this-host.prom", text)
    keep("promtool-check-metrics.txt", "$ promtool check metrics < this-host.prom  (%d series)\nexit %d\n%s"
         % (len([line for line in text.splitlines() if not line.startswith("#")]), checked.returncode, checked.stdout))
    assert checked.returncode == 0 and checked.stdout == "", checked.stdout


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(
    NODE_EXPORTER is None, reason="prometheus-node-exporter is not installed (tests/run-all.sh installs it)")
def test_node_exporter_serves_the_textfile(tmp_path):
    """Debian's node_exporter with only its textfile collector, on a loopback port, for at most 30 s."""
    text = collect("linux-5.15-busy", tmp_path / "textfile")
    os.makedirs(str(tmp_path / "textfile"), exist_ok=True)
    (tmp_path / "textfile" / "tcptune.prom").write_text(text)
    port = _free_port()
    exporter = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
                                 "--collector.disable-defaults", "--collector.textfile",
                                 "--collector.textfile.directory=%s" % (tmp_path / "textfile")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, scraped = time.monotonic() + 30, None
        while scraped is None and time.monotonic() < deadline:
            try:
                scraped = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
            except OSError:
                time.sleep(0.2)
    finally:
        exporter.terminate()
        exporter.wait(10)
    assert scraped is not None, exporter.stderr.read().decode()
    ours = [line for line in scraped.splitlines() if line.startswith("tcptune_")]
    written = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(ours) == len(written)
    assert 'tcptune_finding{finding="conntrack_pressure",severity="critical"} 1' in ours
    assert re.search(r'^node_textfile_scrape_error 0$', scraped, re.M)
    keep("node-exporter-scrape.txt", "\n".join(ours) + "\n")
    keep("node-exporter-scrape.json", json.dumps({"series": len(ours)}))
