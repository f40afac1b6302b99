# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_facts.py: the facts assembled once, and the counters sampled for rates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import host_facts


def test_sampling_gives_rates_for_counters_softnet_and_conntrack(fixture_tree, monkeypatch):
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    netstat = os.path.join(proc_path, "net/netstat")

    clock = [1000.0]

    def grow_overflows(seconds):
        clock[0] += seconds
        with open(netstat) as handle:
            text = handle.read()
        with open(netstat, "w") as handle:
            handle.write(text.replace(" 557 1 22 1806 1806 ", " 557 1 22 1856 1806 "))

    monkeypatch.setattr(host_facts.time, "sleep", grow_overflows)
    monkeypatch.setattr(host_facts.time, "monotonic", lambda: clock[0])
    facts = host_facts.gather(proc_path, sys_path, sample_seconds=5, sockets=False)
    assert facts["sample_seconds"] == 5.0
    assert facts["counters"]["TcpExt.ListenOverflows"] == 1856
    assert facts["rates"]["TcpExt.ListenOverflows"] == 10.0  # 50 events over the 5 s sample
    assert facts["rates"]["TcpExt.ListenDrops"] == 0
    assert facts["rates"]["softnet.dropped"] == 0
    assert facts["rates"]["conntrack.drop"] == 0


def test_rated_counters_add_softnet_and_conntrack_drops_to_snmp_and_netstat(fixture_tree):
    proc_path, _sys_path = fixture_tree("linux-5.15-busy")
    counters = host_facts.rated_counters(proc_path)
    assert counters["TcpExt.ListenOverflows"] == 1806
    assert counters["softnet.dropped"] == 0x1f4a
    assert (counters["conntrack.drop"], counters["conntrack.insert_failed"]) == (0x300 + 0xe8, 4)
    old_proc, _sys_path = fixture_tree("linux-3.10-old")
    assert not [name for name in host_facts.rated_counters(old_proc) if name.startswith("conntrack.")]


def test_a_namespace_the_caller_read_is_not_read_again(fixture_tree, monkeypatch):
    """tcp_tune reads the namespace first (is /proc/sys writable?) and hands it to gather (issue 20)."""
    proc_path, sys_path = fixture_tree("linux-5.15-busy")
    read = host_facts.detect_namespace(proc_path)

    def refuse(*_args, **_kwargs):
        raise AssertionError("gather read the namespace its caller gave")

    monkeypatch.setattr(host_facts, "detect_namespace", refuse)
    facts = host_facts.gather(proc_path, sys_path, sockets=False, namespace=read)
    assert facts["namespace"] == read
