# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hold TCP sockets in several states in ONE network namespace, then count them three ways.

Started by test_facts_netns.py as `unshare --net python netns_sockets.py SPEC_JSON`, so the sockets,
tcp_facts and ss all see the same throwaway namespace (loopback only). SPEC: {"established": pairs,
"established6": pairs over ::1, "close_wait": n, "fin_wait2": n, "time_wait": n}. Prints JSON:
{"facts": tcp_facts' ansible_facts.tcp, "full_dump": sockdiag summary without the sockstat shortcut,
"proc": the /proc/net/tcp summary, "ss": {state: count}, "ss_listening_ports": [...],
"currestab": Tcp.CurrEstab, "ipv6": bool}.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import resource
import socket
import subprocess
import sys
import time

import netns_runner

from ansible_collections.tcptune.linux.plugins.module_utils import procfs, sockdiag

SS_STATES = {"ESTABLISHED": "established", "SYN_SENT": "syn-sent", "SYN_RECV": "syn-recv",
             "FIN_WAIT1": "fin-wait-1", "FIN_WAIT2": "fin-wait-2", "TIME_WAIT": "time-wait",
             "CLOSE_WAIT": "close-wait", "LAST_ACK": "last-ack", "LISTEN": "listening", "CLOSING": "closing"}


def ss_lines(*args):
    proc = subprocess.run(["ss", "-tanH"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=True, timeout=30)
    return [line for line in proc.stdout.decode("utf-8").splitlines() if line.strip()]


def listener(family, address):
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((address, 0))
    server.listen(4096)
    return server


def connect(server, held):
    """One connected pair (client, accepted server side), both kept in ``held``."""
    client = socket.create_connection(server.getsockname()[:2])
    accepted = server.accept()[0]
    held.extend((client, accepted))
    return client, accepted


def wait_until(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def main():
    spec = json.loads(sys.argv[1])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    server = listener(socket.AF_INET, "127.0.0.1")
    other_port = listener(socket.AF_INET, "127.0.0.1")
    held.extend((server, other_port))
    for dummy in range(spec["established"]):
        connect(server, held)
    ipv6 = False
    if spec.get("established6"):
        try:
            server6 = listener(socket.AF_INET6, "::1")
            ipv6 = True
        except OSError:
            server6 = None  # IPv6 disabled in this kernel: the IPv4 sockets still make the point
        if server6 is not None:
            held.append(server6)
            for dummy in range(spec["established6"]):
                connect(server6, held)
    # CLOSE_WAIT on the server side: the client closes, the server does not. The client's orphan
    # then waits in FIN_WAIT2 as a timewait socket (tw_substate FIN_WAIT2).
    for dummy in range(spec["close_wait"]):
        client = connect(server, held)[0]
        held.remove(client)
        client.close()
    # A full FIN_WAIT2 socket: the client only shuts down its sending side and stays open; its
    # peer is one more CLOSE_WAIT.
    for dummy in range(spec["fin_wait2"]):
        connect(server, held)[0].shutdown(socket.SHUT_WR)
    # TIME_WAIT on the client side: the client closes first, then the server.
    for dummy in range(spec["time_wait"]):
        client, accepted = connect(server, held)
        held.remove(client)
        client.close()
        wait_until(lambda: accepted.recv(1) == b"")
        held.remove(accepted)
        accepted.close()
    expected_close_wait = spec["close_wait"] + spec["fin_wait2"]
    wait_until(lambda: len(ss_lines("state", "close-wait")) >= expected_close_wait
               and len(ss_lines("state", "time-wait")) >= spec["time_wait"])

    facts = netns_runner.run_module({"module": "tcp_facts", "args": {"listeners_max": 1}})
    full_dump = sockdiag.summarize_netlink([1, 65535], listeners_max=1)
    proc = sockdiag.summarize_proc("/proc", [1, 65535], listeners_max=1)
    counts = dict((name, len(ss_lines("state", state))) for name, state in SS_STATES.items())
    listening_ports = sorted(set(int(line.split()[2].rsplit(":", 1)[1]) for line in ss_lines("state", "listening")))
    counters, dummy = procfs.read_counters("/proc")
    json.dump({"facts": facts.get("ansible_facts", {}).get("tcp", facts), "full_dump": full_dump, "proc": proc,
               "ss": counts, "ss_listening_ports": listening_ports, "currestab": counters.get("Tcp.CurrEstab"),
               "ipv6": ipv6}, sys.stdout)
    for sock in held:
        sock.close()


if __name__ == "__main__":
    main()
