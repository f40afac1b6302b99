# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alert rule pack (alert_rules.py, issue 19): generated from the findings catalogue, shipped as generated,
every alert labelled with its finding and severity, thresholds from diagnosis.py, runbooks that exist.
tests/integration/test_monitor_promtool.py runs promtool on it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import re

import pytest
import yaml

from ansible_collections.tcptune.linux.plugins.module_utils import alert_rules, diagnosis, diagnosis_rules, metrics_series

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
GENERATE = os.path.join(REPO, "files", "prometheus", "generate.py")


def generator():
    spec = importlib.util.spec_from_file_location("tcptune_generate_rules", GENERATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_files_are_the_generators_output():
    """Change diagnosis.py or alert_rules.py without running files/prometheus/generate.py, and this fails."""
    generate = generator()
    for path, text in generate.outputs().items():
        with open(path) as handle:
            assert handle.read() == text, "%s is stale: run python3 files/prometheus/generate.py" % path
    assert generate.main(["--check"]) == 0


def test_the_yaml_is_what_the_generator_means():
    url = "https://example.invalid/x/blob/main/"
    assert yaml.safe_load(alert_rules.render_rules(url)) == {"groups": alert_rules.rule_groups(url)}
    operator = yaml.safe_load(alert_rules.render_prometheus_rule(url))
    assert operator["kind"] == "PrometheusRule" and operator["spec"]["groups"] == alert_rules.rule_groups(url)
    for line in alert_rules.render_rules(url).splitlines():
        assert len(line) <= 160 and line == line.rstrip(), line  # yamllint


def test_the_runbook_links_point_at_the_repository_of_galaxy_yml():
    with open(os.path.join(REPO, "galaxy.yml")) as handle:
        repository = yaml.safe_load(handle)["repository"]
    assert generator().docs_url() == repository.rstrip("/") + "/blob/main/"


def _rules():
    return dict((group["name"], group["rules"]) for group in alert_rules.rule_groups())


def test_one_alert_per_finding_and_severity_it_can_have():
    rules = _rules()[alert_rules.GROUP_FINDINGS]
    pairs = [(rule["labels"]["finding"], rule["labels"]["severity"]) for rule in rules]
    assert sorted(pairs) == sorted((finding, severity) for finding in diagnosis.FINDING_IDS
                                   for severity in alert_rules.SEVERITIES[finding])
    assert set(alert_rules.SEVERITIES) == set(alert_rules.FOR) == set(alert_rules.TEXTS) == set(diagnosis.FINDING_IDS)
    for rule in rules:
        finding = rule["labels"]["finding"]
        assert rule["alert"] == alert_rules.alert_name(finding)
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert rule["annotations"]["runbook_url"].endswith("docs/findings.md#" + finding)
        assert re.match(r"^[0-9]+[mh]$", rule["for"])
        assert 'finding="%s"' % finding in rule["expr"]


def test_every_runbook_anchor_is_a_section_of_the_docs():
    docs = {}
    for name in ("findings.md", "monitoring.md"):
        with open(os.path.join(REPO, "docs", name)) as handle:
            docs[name] = set(re.sub(r"[^a-z0-9_ -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
                             for line in handle if line.startswith("#"))
    for group in alert_rules.rule_groups():
        for rule in group["rules"]:
            page, anchor = rule["annotations"]["runbook_url"].rsplit("/docs/", 1)[1].split("#")
            assert anchor in docs[page], rule["annotations"]["runbook_url"]


def test_the_expressions_and_summaries_use_only_series_the_collector_writes():
    written = set(metrics_series.metric_names()) | {"ALERTS"}
    for group in alert_rules.rule_groups():
        for rule in group["rules"]:
            text = rule["expr"] + rule["annotations"]["summary"]
            used = set(re.findall(r"\b(tcptune_[a-z_]+|ALERTS)\b", text))
            assert used and used <= written, (rule["alert"], used - written)


def test_hysteresis_where_the_anchors_have_it_clearing_below_the_firing_level():
    fire = {("tcp_memory_pressure", "warning"): diagnosis.TCP_MEM_PRESSURE_FRACTION_WARNING,
            ("orphan_pressure", "warning"): diagnosis.ORPHAN_FRACTION_WARNING,
            ("orphan_pressure", "critical"): diagnosis.ORPHAN_FRACTION_CRITICAL,
            ("conntrack_pressure", "warning"): diagnosis.CONNTRACK_FRACTION_WARNING,
            ("conntrack_pressure", "critical"): diagnosis.CONNTRACK_FRACTION_CRITICAL}
    assert set(alert_rules.HYSTERESIS) == set(fire) | {("tcp_memory_pressure", "critical")}
    for key, level in fire.items():
        assert 0 < alert_rules.HYSTERESIS[key][1] < level, key
    # critical TCP memory fires at 90 % of tcp_mem[2], which is 1.35 x tcp_mem[1] with the kernel's defaults
    # (max = 2 x min = 1.5 x pressure), and clears below tcp_mem[1]
    assert alert_rules.HYSTERESIS[("tcp_memory_pressure", "critical")][1] < diagnosis.TCP_MEM_MAX_FRACTION_CRITICAL * 1.5
    rules = dict(((rule["labels"]["finding"], rule["labels"]["severity"]), rule)
                 for rule in _rules()[alert_rules.GROUP_FINDINGS])
    for key, (use, clear) in alert_rules.HYSTERESIS.items():
        assert "%s >= %g" % (use, clear) in rules[key]["expr"]
        assert 'ALERTS{alertname="%s", alertstate="firing", severity="%s"}' % (rules[key]["alert"], key[1]) \
            in rules[key]["expr"]
    assert "ALERTS" not in rules[("listen_queue_overflow", "warning")]["expr"]


def test_the_descriptions_state_the_findings_thresholds():
    rules = dict(((rule["labels"]["finding"], rule["labels"]["severity"]), rule)
                 for rule in _rules()[alert_rules.GROUP_FINDINGS])
    assert "80% of tcp_mem[1], clearing below 64%" in rules[("tcp_memory_pressure", "warning")]["annotations"]["description"]
    assert "Warning at 75% or any drop" in rules[("conntrack_pressure", "warning")]["annotations"]["description"]
    assert "%d times" % diagnosis.BUFFER_CAP_RATIO_INFO in rules[("buffer_cap_low", "info")]["annotations"]["summary"]


def test_for_override_shortens_every_for_and_nothing_else():
    short = alert_rules.rule_groups(for_override="10s")
    normal = alert_rules.rule_groups()
    for group_short, group in zip(short, normal):
        for rule_short, rule in zip(group_short["rules"], group["rules"]):
            assert rule_short["for"] == "10s"
            assert dict(rule_short, **{"for": rule["for"]}) == rule


def _facts(**extra):
    facts = {"kernel": {"version": [6, 1, 0], "page_size": 4096}, "sysctl": {}, "counters": {}, "rates": {},
             "sample_seconds": 0.0, "sockstat": {"tcp": {}}, "files": {}, "conntrack": {}, "softnet": {},
             "sockets": {"source": "disabled"}, "interfaces": {}, "nofile": {}}
    facts.update(extra)
    return facts


def _sampled(**rates):
    base = dict((key, 0.0) for key, _name, _finding in metrics_series.COUNTERS)
    base.update(rates)
    return {"rates": base, "sample_seconds": 60.0}


# Facts that make diagnosis.py give each (finding, severity) of alert_rules.SEVERITIES.
REACH = {
    ("listen_queue_overflow", "warning"): _facts(**_sampled(**{"TcpExt.ListenOverflows": 0.02})),
    ("listen_queue_overflow", "critical"): _facts(**_sampled(**{"TcpExt.ListenOverflows": 20.0})),
    ("syn_queue_pressure", "warning"): _facts(**_sampled(**{"TcpExt.SyncookiesSent": 1.0})),
    ("tcp_memory_pressure", "warning"): _facts(**_sampled(**{"TcpExt.TCPMemoryPressures": 0.02})),
    ("tcp_memory_pressure", "critical"): _facts(**_sampled(**{"TcpExt.TCPAbortOnMemory": 0.02})),
    ("rst_send_failed", "warning"): _facts(**_sampled(**{"TcpExt.TCPAbortFailed": 0.02})),
    ("rst_send_failed", "critical"): _facts(**_sampled(**{"TcpExt.TCPAbortFailed": 5.0})),
    ("orphan_pressure", "warning"): _facts(sockstat={"tcp": {"orphan": 30}}, sysctl={"net.ipv4.tcp_max_orphans": 100}),
    ("orphan_pressure", "critical"): _facts(sockstat={"tcp": {"orphan": 90}}, sysctl={"net.ipv4.tcp_max_orphans": 100}),
    ("time_wait_overflow", "warning"): _facts(**_sampled(**{"TcpExt.TCPTimeWaitOverflow": 0.02})),
    ("time_wait_overflow", "critical"): _facts(**_sampled(**{"TcpExt.TCPTimeWaitOverflow": 20.0})),
    ("ephemeral_port_pressure", "warning"): _facts(
        sockets={"source": "netlink", "states": {}, "local_ports_in_ephemeral_range": 60},
        sysctl={"net.ipv4.ip_local_port_range": [1, 100]}),
    ("ephemeral_port_pressure", "critical"): _facts(
        sockets={"source": "netlink", "states": {}, "local_ports_in_ephemeral_range": 90},
        sysctl={"net.ipv4.ip_local_port_range": [1, 100]}),
    ("fd_pressure", "info"): _facts(nofile={"services": {"web": {"soft": 1024, "hard": 4096, "open": 1, "pid": 1}}}),
    ("fd_pressure", "warning"): _facts(files={"allocated": 75, "max": 100}),
    ("fd_pressure", "critical"): _facts(files={"allocated": 95, "max": 100}),
    ("conntrack_pressure", "warning"): _facts(conntrack={"available": True, "count": 80, "max": 100}),
    ("conntrack_pressure", "critical"): _facts(conntrack={"available": True, "count": 95, "max": 100}),
    ("backlog_drops", "info"): _facts(**_sampled(**{"softnet.time_squeeze": 5.0})),
    ("backlog_drops", "warning"): _facts(**_sampled(**{"softnet.dropped": 0.02})),
    ("backlog_drops", "critical"): _facts(**_sampled(**{"softnet.dropped": 200.0})),
    ("retransmission_rate", "warning"): _facts(**_sampled(**{"Tcp.OutSegs": 1000.0, "Tcp.RetransSegs": 30.0})),
    ("retransmission_rate", "critical"): _facts(**_sampled(**{"Tcp.OutSegs": 1000.0, "Tcp.RetransSegs": 200.0})),
    ("listener_backlog_capped", "info"): _facts(
        sysctl={"net.core.somaxconn": 4096},
        sockets={"source": "netlink", "states": {}, "listeners": [{"address": "0.0.0.0", "port": 80, "backlog": 4096,
                                                                   "queue": 0}]}),
    ("listener_backlog_capped", "warning"): _facts(
        sockets={"source": "netlink", "states": {}, "listeners": [{"address": "0.0.0.0", "port": 80, "backlog": 128,
                                                                   "queue": 120}]}),
    ("tw_recycle_enabled", "critical"): _facts(kernel={"version": [4, 9, 0]}, sysctl={"net.ipv4.tcp_tw_recycle": 1}),
    ("link_problem", "warning"): _facts(interfaces={"eth0": {"duplex": "half"}}),
    ("buffer_cap_low", "info"): _facts(sysctl={"net.core.rmem_max": 1000, "net.ipv4.tcp_rmem": [4096, 87380, 6291456]}),
}


@pytest.mark.parametrize("finding, severity", sorted(REACH))
def test_every_alerted_severity_is_one_the_finding_can_have(finding, severity):
    found = dict((item["id"], item["severity"]) for item in diagnosis_rules.diagnose(REACH[(finding, severity)]))
    assert found.get(finding) == severity, found


def test_reach_covers_every_alert():
    assert sorted(REACH) == sorted((finding, severity) for finding in diagnosis.FINDING_IDS
                                   for severity in alert_rules.SEVERITIES[finding])
