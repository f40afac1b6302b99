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
import shutil
import subprocess
import sys

import pytest

import ansible_collections

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns_sockets.py")
SPEC = {"established": 300, "established6": 20, "close_wait": 40, "fin_wait2": 10, "time_wait": 30}


def _unshare_problem():
    if os.geteuid() != 0:
        return "needs root to create network namespaces (unshare --net)"
    for command in ("unshare", "ss", "ip"):
        if shutil.which(command) is None:
            return "the %s command is not installed" % command
    probe = subprocess.run(["unshare", "--net", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if probe.returncode != 0:
        return "unshare --net does not work here: %s" % probe.stderr.decode("utf-8", "replace").strip()
    return None


pytestmark = pytest.mark.skipif(_unshare_problem() is not None, reason=str(_unshare_problem()))


@pytest.fixture(scope="module")
def counted():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(path) for path in ansible_collections.__path__] + [env.get("PYTHONPATH", "")])
    proc = subprocess.run(["unshare", "--net", sys.executable, HELPER, json.dumps(SPEC)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    result = json.loads(proc.stdout.decode("utf-8"))
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
