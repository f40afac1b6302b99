# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_facts against ss in a throwaway network namespace (`unshare --net`), as root.

netns_sockets.py holds ESTABLISHED (IPv4 and IPv6), CLOSE_WAIT, full and timewait FIN_WAIT2 and
TIME_WAIT sockets at once, runs tcp_facts and counts each state with `ss -tan state X`.
Before the fix tcp_facts took ESTABLISHED from Tcp.CurrEstab, which counts CLOSE_WAIT too on
kernels with a46d0ea5c942 (6.10+, and stable backports).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

import ansible_collections
from preconditions import needs_unshare

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = {"established": 300, "established6": 20, "close_wait": 40, "fin_wait2": 10, "time_wait": 30}


pytestmark = needs_unshare(("unshare", "ss", "ip"))


def in_netns(unshare, helper, *args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(path) for path in ansible_collections.__path__] + [env.get("PYTHONPATH", "")])
    proc = subprocess.run(unshare + [sys.executable, os.path.join(HERE, helper)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout.decode("utf-8"))


@pytest.fixture(scope="module")
def counted():
    result = in_netns(["unshare", "--net"], "netns_sockets.py", json.dumps(SPEC))
    assert "sockets" in result["facts"], result["facts"]
    return result


def test_the_namespace_holds_every_state_at_once(counted):
    ss = counted["ss"]
    pairs = SPEC["established"] + (SPEC["established6"] if counted["ipv6"] else 0)
    assert ss["ESTABLISHED"] == 2 * pairs
    assert ss["CLOSE_WAIT"] == SPEC["close_wait"] + SPEC["fin_wait2"]
    assert ss["FIN_WAIT2"] == SPEC["close_wait"] + SPEC["fin_wait2"]
    assert ss["TIME_WAIT"] == SPEC["time_wait"]


def test_tcp_facts_counts_every_state_as_ss_does(counted):
    sockets = counted["facts"]["sockets"]
    assert sockets["source"] == "netlink"
    got = dict((name, sockets["states"][name]) for name in counted["ss"])
    assert got == counted["ss"]


def test_established_is_right_whichever_way_the_kernel_counts_currestab(counted):
    """CurrEstab is ESTABLISHED + CLOSE_WAIT with a46d0ea5c942, ESTABLISHED alone without it."""
    ss = counted["ss"]
    assert counted["currestab"] in (ss["ESTABLISHED"], ss["ESTABLISHED"] + ss["CLOSE_WAIT"])
    assert counted["facts"]["sockets"]["states"]["ESTABLISHED"] == ss["ESTABLISHED"]


def test_the_full_dump_and_the_proc_fallback_agree_with_ss(counted):
    for summary in (counted["full_dump"], counted["proc"]):
        assert dict((name, summary["states"][name]) for name in counted["ss"]) == counted["ss"]


def test_listening_ports_are_complete_when_listeners_are_truncated(counted):
    sockets = counted["facts"]["sockets"]
    assert len(sockets["listeners"]) == 1  # listeners_max 1
    assert sockets["listening_ports"] == counted["ss_listening_ports"]
    assert len(sockets["listening_ports"]) == (3 if counted["ipv6"] else 2)
    assert counted["full_dump"]["listening_ports"] == counted["ss_listening_ports"]
    assert counted["proc"]["listening_ports"] == counted["ss_listening_ports"]


@pytest.fixture(scope="module")
def qdiscs():
    return in_netns(["unshare", "--net", "--mount"], "netns_qdiscs.py")


def _tc_major(handle):
    return handle.split(":")[0] or "0"


def test_each_interface_qdisc_is_the_root_tc_shows(qdiscs):
    interfaces, shown = qdiscs["facts"], qdiscs["tc"]
    assert "eth0" not in interfaces  # the namespace's own /sys, not the host's
    roots = dict((entry["dev"], entry["kind"]) for entry in shown if entry.get("root"))
    assert dict((name, entry["qdisc"]) for name, entry in interfaces.items()) == \
        dict((name, roots.get(name)) for name in interfaces)
    assert interfaces["fifo0"]["qdisc"] == "pfifo_fast" and interfaces["htb0"]["qdisc"] == "htb"
    assert interfaces["lo"]["qdisc"] == "noqueue"
    assert interfaces["down0"]["qdisc"] == roots.get("down0")  # whatever tc shows for a down device, or null


def test_mq_leaves_are_its_children_as_tc_shows_them(qdiscs):
    interfaces, shown = qdiscs["facts"], qdiscs["tc"]
    if "tc qdisc replace dev mq0 root handle 1: mq" in qdiscs["refused"]:
        pytest.skip("this kernel has no mq qdisc")
    children = sorted(set(entry["kind"] for entry in shown if entry["dev"] == "mq0" and not entry.get("root")
                          and _tc_major(entry.get("parent", "")) == "1"))
    assert interfaces["mq0"]["qdisc"] == "mq"
    assert interfaces["mq0"]["qdisc_leaves"] == children
    if not any("tbf" in command for command in qdiscs["refused"]):
        assert children == ["pfifo_fast", "tbf"]
    for name in ("lo", "fifo0", "htb0", "down0"):  # not mq: no leaves, not even htb's pfifo or the ingress
        assert interfaces[name]["qdisc_leaves"] == []
