# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, diagnosis, diagnosis_rules, host_facts


def gather(fixture_tree, name, **kwargs):
    proc_path, sys_path = fixture_tree(name)
    return host_facts.gather(proc_path, sys_path, page_size=4096, **kwargs)


def summary_of(findings):
    return [(finding["id"], finding["severity"]) for finding in findings]


def by_id(findings):
    return dict((finding["id"], finding) for finding in findings)


def test_every_catalogue_finding_id_exists():
    used = set(finding for row in catalogue.CATALOGUE.values() for finding in row.findings)
    assert used <= set(diagnosis.FINDING_IDS)


def test_the_issue_ids_are_all_defined_once():
    assert len(diagnosis.FINDING_IDS) == len(set(diagnosis.FINDING_IDS)) == 15


def test_one_rule_per_finding_id_in_id_order():
    """Each family file's rule is named after its finding; diagnose runs them in FINDING_IDS order."""
    assert [rule.__name__ for rule in diagnosis_rules.RULES] == list(diagnosis.FINDING_IDS)


def test_healthy_host_has_no_warning_or_critical(fixture_tree):
    assert gather(fixture_tree, "linux-6.18-host")["findings"] == []


def test_busy_server_findings_exactly(fixture_tree):
    findings = gather(fixture_tree, "linux-5.15-busy")["findings"]
    assert summary_of(findings) == [
        ("conntrack_pressure", "critical"),
        ("rst_send_failed", "critical"),
        ("backlog_drops", "warning"),
        ("ephemeral_port_pressure", "warning"),
        ("fd_pressure", "warning"),
        ("link_problem", "warning"),
        ("listen_queue_overflow", "warning"),
        ("orphan_pressure", "warning"),
        ("retransmission_rate", "warning"),
        ("syn_queue_pressure", "warning"),
        ("tcp_memory_pressure", "warning"),
        ("time_wait_overflow", "warning"),
        ("buffer_cap_low", "info"),
    ]


def test_busy_server_evidence_names_counters_and_files(fixture_tree):
    findings = by_id(gather(fixture_tree, "linux-5.15-busy")["findings"])
    overflow = findings["listen_queue_overflow"]
    assert overflow["evidence"] == {"TcpExt.ListenOverflows": 1806, "TcpExt.ListenDrops": 1806,
                                    "net.core.somaxconn": 4096}
    assert overflow["evidence_source"] == {"TcpExt.ListenOverflows": "/proc/net/netstat",
                                           "TcpExt.ListenDrops": "/proc/net/netstat",
                                           "net.core.somaxconn": "/proc/sys/net/core/somaxconn"}
    assert "since boot" in overflow["summary"]
    assert "net.core.somaxconn" in overflow["recommendation"] and "listen()" in overflow["recommendation"]
    rst = findings["rst_send_failed"]
    assert rst["evidence"]["TcpExt.TCPAbortFailed"] == 28736
    assert "unable to send RST" in rst["summary"]
    assert findings["retransmission_rate"]["evidence"] == {"Tcp.RetransSegs": 1600000, "Tcp.OutSegs": 50000000}
    assert findings["retransmission_rate"]["evidence_source"]["Tcp.OutSegs"] == "/proc/net/snmp"
    assert findings["link_problem"]["evidence"] == {"eth1.duplex": "half"}
    assert findings["conntrack_pressure"]["evidence"]["conntrack.drop"] == 0x300 + 0xe8
    assert findings["orphan_pressure"]["evidence"] == {
        "sockstat.tcp.orphan": 40000, "net.ipv4.tcp_max_orphans": 65536, "net.ipv4.tcp_fin_timeout": 60}


def test_every_recommendation_names_a_catalogue_key(fixture_tree):
    findings = gather(fixture_tree, "linux-5.15-busy")["findings"] + gather(fixture_tree, "linux-3.10-old")["findings"]
    for finding in findings:
        assert finding["id"] in diagnosis.FINDING_IDS
        if finding["id"] != "link_problem":
            assert any(name in finding["recommendation"] for name in catalogue.CATALOGUE), finding["id"]
        assert set(finding["evidence"]) == set(finding["evidence_source"])


def test_old_kernel_with_tw_recycle(fixture_tree):
    findings = gather(fixture_tree, "linux-3.10-old")["findings"]
    assert summary_of(findings) == [("tw_recycle_enabled", "critical"), ("buffer_cap_low", "info")]
    assert findings[0]["evidence"] == {"net.ipv4.tcp_tw_recycle": 1}


def test_container_sees_the_hosts_global_softnet_drops_and_nothing_else(fixture_tree):
    # softnet_stat is global: the real capture shows drops caused on the host by other load.
    assert summary_of(gather(fixture_tree, "linux-6.18-container")["findings"]) == [("backlog_drops", "warning")]


def test_tw_recycle_on_a_new_kernel_is_not_a_finding(fixture_tree):
    facts = gather(fixture_tree, "linux-3.10-old")
    facts["kernel"]["version"] = [4, 12, 0]
    assert "tw_recycle_enabled" not in by_id(diagnosis_rules.diagnose(facts))


def _quiet(fixture_tree):
    return gather(fixture_tree, "linux-6.18-host")


def test_rates_replace_totals_when_sampled(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["counters"]["TcpExt.ListenOverflows"] = 5000000  # a bad day long ago
    assert by_id(diagnosis_rules.diagnose(facts))["listen_queue_overflow"]["severity"] == "critical"
    facts["rates"] = {"TcpExt.ListenOverflows": 0.0, "TcpExt.ListenDrops": 0.0}
    facts["sample_seconds"] = 5.0
    assert "listen_queue_overflow" not in by_id(diagnosis_rules.diagnose(facts))
    facts["rates"]["TcpExt.ListenOverflows"] = 2.5
    finding = by_id(diagnosis_rules.diagnose(facts))["listen_queue_overflow"]
    assert finding["severity"] == "warning"
    assert finding["evidence"]["TcpExt.ListenOverflows/s"] == 2.5
    assert "per second over the last 5 s" in finding["summary"]


@pytest.mark.parametrize("count,expected", [(100, None), (200000, "warning"), (240000, "critical")])
def test_conntrack_fill_thresholds(fixture_tree, count, expected):
    facts = _quiet(fixture_tree)
    facts["conntrack"]["count"] = count
    finding = by_id(diagnosis_rules.diagnose(facts)).get("conntrack_pressure")
    assert (finding or {}).get("severity") == expected


@pytest.mark.parametrize("orphans,expected", [(1000, None), (40000, "warning"), (120000, "critical")])
def test_orphan_thresholds(fixture_tree, orphans, expected):
    facts = _quiet(fixture_tree)
    facts["sockstat"]["tcp"]["orphan"] = orphans  # tcp_max_orphans 131072
    assert (by_id(diagnosis_rules.diagnose(facts)).get("orphan_pressure") or {}).get("severity") == expected


def test_tcp_memory_near_the_hard_limit_is_critical(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["sockstat"]["tcp"]["mem_pages"] = 560000  # tcp_mem[2] 575802
    assert by_id(diagnosis_rules.diagnose(facts))["tcp_memory_pressure"]["severity"] == "critical"
    facts["sockstat"]["tcp"]["mem_pages"] = 320000  # above 0.8 x tcp_mem[1] 383868
    assert by_id(diagnosis_rules.diagnose(facts))["tcp_memory_pressure"]["severity"] == "warning"


def test_listener_backlog_capped_and_full_queue(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["sockets"]["listeners"] = [{"family": "inet", "address": "0.0.0.0", "port": 80, "backlog": 4096, "queue": 0}]
    finding = by_id(diagnosis_rules.diagnose(facts))["listener_backlog_capped"]
    assert finding["severity"] == "info"
    assert finding["evidence"]["listener 0.0.0.0:80 backlog"] == 4096
    facts["sockets"]["listeners"][0].update(backlog=511, queue=512)
    assert by_id(diagnosis_rules.diagnose(facts))["listener_backlog_capped"]["severity"] == "warning"
    facts["sockets"]["listeners"][0].update(backlog=511, queue=10)
    assert "listener_backlog_capped" not in by_id(diagnosis_rules.diagnose(facts))


def test_syn_recv_against_max_syn_backlog(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["sockets"]["states"]["SYN_RECV"] = 1500  # tcp_max_syn_backlog 2048
    finding = by_id(diagnosis_rules.diagnose(facts))["syn_queue_pressure"]
    assert finding["severity"] == "warning"
    assert finding["evidence"]["sockets.states.SYN_RECV"] == 1500


def test_carrier_down_on_an_up_interface(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["interfaces"]["eth0"]["carrier"] = 0
    assert by_id(diagnosis_rules.diagnose(facts))["link_problem"]["evidence"] == {"eth0.carrier": 0}
    facts["interfaces"]["eth0"]["admin_up"] = False
    assert "link_problem" not in by_id(diagnosis_rules.diagnose(facts))


def test_process_fd_use_and_low_service_limit(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["nofile"]["services"] = {"nginx": {"soft": 1024, "hard": 4096, "open": 12, "pid": 200}}
    finding = by_id(diagnosis_rules.diagnose(facts))["fd_pressure"]
    assert finding["severity"] == "info"
    assert finding["evidence_source"] == {"service nginx nofile soft": "/proc/200/limits"}
    facts["nofile"]["pids"] = {"300": {"soft": 20000, "hard": 20000, "open": 19500}}
    finding = by_id(diagnosis_rules.diagnose(facts))["fd_pressure"]
    assert finding["severity"] == "critical"
    assert finding["evidence"]["pid 300 open"] == 19500


def test_ephemeral_ports_not_judged_without_enumeration(fixture_tree):
    facts = gather(fixture_tree, "linux-5.15-busy", sockets=False)
    assert "ephemeral_port_pressure" not in by_id(facts["findings"])


def test_retransmissions_need_enough_segments(fixture_tree):
    facts = _quiet(fixture_tree)
    facts["counters"].update({"Tcp.OutSegs": 5000, "Tcp.RetransSegs": 2500})
    assert "retransmission_rate" not in by_id(diagnosis_rules.diagnose(facts))
    facts["counters"].update({"Tcp.OutSegs": 50000, "Tcp.RetransSegs": 6000})
    assert by_id(diagnosis_rules.diagnose(facts))["retransmission_rate"]["severity"] == "critical"


def test_diagnose_does_not_modify_facts(fixture_tree):
    facts = gather(fixture_tree, "linux-5.15-busy")
    before = copy.deepcopy(facts)
    diagnosis_rules.diagnose(facts)
    assert facts == before


def test_orphan_summary_names_the_timer_penalty_not_memory_pressure(fixture_tree):
    # tcp_out_of_resources() shifts the orphan count for a silent peer and for a soft ICMP error;
    # tcp_too_many_orphans() knows nothing of memory pressure.
    facts = _quiet(fixture_tree)
    facts["sockstat"]["tcp"]["orphan"] = 40000
    summary = by_id(diagnosis_rules.diagnose(facts))["orphan_pressure"]["summary"]
    assert "memory pressure" not in summary
    assert "silent" in summary and "soft ICMP error" in summary and "half or a quarter" in summary
