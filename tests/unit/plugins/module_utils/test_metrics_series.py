# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collector's series (metrics_series.py): drift, bounded series, every metric documented, and each
counter one its finding rests on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, diagnosis, diagnosis_rules, metrics_series

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")


def test_drift_is_one_per_persisted_catalogue_key_with_a_live_value():
    text = ("# Managed by tcptune.linux\nnet.core.somaxconn = 8192\nnet.ipv4.tcp_mem = 1 2 3\n"
            "net.ipv4.tcp_rmem = 4096\t131072 6291456\nkernel.unknown = 1\nnet.netfilter.nf_conntrack_max = 10\n")
    live = {"net.core.somaxconn": 4096, "net.ipv4.tcp_mem": [1, 2, 3], "net.ipv4.tcp_rmem": [4096, 131072, 6291456]}
    assert metrics_series.drift(text, live) == {"net.core.somaxconn": 1, "net.ipv4.tcp_mem": 0, "net.ipv4.tcp_rmem": 0}
    assert metrics_series.drift(None, live) == {}


def _maximal_facts():
    facts = {
        "kernel": {"page_size": 4096, "version": [6, 1, 0]},
        "sysctl": {"net.ipv4.tcp_mem": [1, 2, 3], "net.core.somaxconn": 1, "net.ipv4.tcp_max_syn_backlog": 1,
                   "net.ipv4.ip_local_port_range": [10, 20], "net.ipv4.tcp_max_orphans": 1,
                   "net.ipv4.tcp_max_tw_buckets": 1},
        "sockstat": {"tcp": {"mem_bytes": 1, "orphan": 1, "tw": 1}},
        "sockets": {"source": "netlink", "states": {}, "local_ports_in_ephemeral_range": 1},
        "conntrack": {"available": True, "count": 1, "max": 2},
        "files": {"nr_open": 1, "max": 1, "allocated": 1},
    }
    findings = [{"id": finding, "severity": "warning"} for finding in diagnosis.FINDING_IDS]
    counters = dict((key, 1) for key, _name, _finding in metrics_series.COUNTERS)
    drifted = dict((key, 1) for key in catalogue.CATALOGUE)
    collector = dict((metric.name, 1) for metric in metrics_series.COLLECTOR)
    return facts, findings, counters, drifted, collector


def test_series_are_bounded_by_max_series_and_nothing_is_labelled_by_a_socket():
    """Every finding, counter, gauge, state, catalogue key and collector value at once is the maximum."""
    samples = metrics_series.series(*_maximal_facts())
    assert len(samples) == metrics_series.max_series() == 97
    labels = set(key for _metric, labels, _value in samples for key in labels)
    assert labels == {"finding", "severity", "state", "key"}
    assert len(set(labels_["state"] for _m, labels_, _v in samples if "state" in labels_)) == 12


def test_max_series_is_what_the_docs_and_the_role_say():
    for path in ("docs/monitoring.md", "docs/reference.md", "roles/tcp_tuning/meta/argument_specs.yml"):
        with open(os.path.join(REPO, path)) as handle:
            assert "%d series" % metrics_series.max_series() in " ".join(handle.read().split()), path


def test_every_metric_is_documented_in_monitoring_md():
    with open(os.path.join(REPO, "docs", "monitoring.md")) as handle:
        text = handle.read()
    missing = [name for name in metrics_series.metric_names() if "`%s" % name not in text]
    assert missing == []


@pytest.mark.parametrize("key, name, finding", metrics_series.COUNTERS)
def test_each_counter_is_one_the_finding_rests_on(key, name, finding):
    """A rate of this counter alone raises the finding, with the counter in its evidence."""
    rates = dict((other, 0.0) for other, _name, _finding in metrics_series.COUNTERS)
    rates.update({"Tcp.OutSegs": 1000.0, key: 1000.0})
    if key == "Tcp.OutSegs":
        rates["Tcp.RetransSegs"] = 1000.0
    facts = {"kernel": {"version": [6, 1, 0]}, "sysctl": {}, "counters": {}, "sample_seconds": 60.0, "rates": rates,
             "conntrack": {"available": True, "count": 0, "max": 100}, "softnet": {}}
    quiet = dict(rates)
    quiet.update({key: 0.0, "Tcp.RetransSegs": 0.0})
    assert diagnosis_rules.diagnose(dict(facts, rates=quiet)) == []
    found = dict((item["id"], item) for item in diagnosis_rules.diagnose(facts))
    assert finding in found
    assert key + "/s" in found[finding]["evidence"]
    assert name.endswith("_total") and name.startswith("tcptune_")
