# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Give veth interfaces several qdiscs in ONE network namespace, then read them with tcp_facts and tc.

Started by test_facts_netns.py as `unshare --net --mount python netns_qdiscs.py`: sysfs is mounted
again inside the private mount namespace so /sys/class/net lists this namespace's interfaces.
Uses only qdiscs this host's kernel has (pfifo_fast, mq, pfifo, tbf, htb, ingress, noqueue); a
command the kernel refuses is skipped and reported. Prints JSON: {"facts": ansible_facts.tcp
interfaces, "tc": `tc -j qdisc show`, "refused": [commands]}.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess
import sys

import netns_runner

SETUP = [
    ["ip", "link", "set", "lo", "up"],
    ["ip", "link", "add", "mq0", "numtxqueues", "4", "numrxqueues", "4", "type", "veth", "peer", "name", "peer0"],
    ["ip", "link", "add", "fifo0", "type", "veth", "peer", "name", "htb0"],
    ["ip", "link", "add", "down0", "type", "veth", "peer", "name", "down1"],
    ["ip", "link", "set", "mq0", "up"], ["ip", "link", "set", "peer0", "up"],
    ["ip", "link", "set", "fifo0", "up"], ["ip", "link", "set", "htb0", "up"],
    ["tc", "qdisc", "replace", "dev", "mq0", "root", "handle", "1:", "mq"],
    ["tc", "qdisc", "replace", "dev", "mq0", "parent", "1:2", "tbf", "rate", "1mbit", "burst", "32k", "latency", "400ms"],
    ["tc", "qdisc", "replace", "dev", "fifo0", "root", "pfifo_fast"],
    ["tc", "qdisc", "replace", "dev", "htb0", "root", "handle", "1:", "htb"],
    ["tc", "class", "add", "dev", "htb0", "parent", "1:", "classid", "1:10", "htb", "rate", "1mbit"],
    ["tc", "qdisc", "add", "dev", "htb0", "parent", "1:10", "pfifo"],
    ["tc", "qdisc", "add", "dev", "htb0", "ingress"],
]


def main():
    subprocess.run(["mount", "-t", "sysfs", "sysfs", "/sys"], check=True)
    refused = []
    for command in SETUP:
        if subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False).returncode:
            refused.append(" ".join(command))
    facts = netns_runner.run_module({"module": "tcp_facts", "args": {"sockets": False}})
    shown = subprocess.run(["tc", "-j", "qdisc", "show"], stdout=subprocess.PIPE, check=True).stdout
    json.dump({"facts": facts.get("ansible_facts", {}).get("tcp", facts).get("interfaces", facts),
               "tc": json.loads(shown.decode("utf-8") or "[]"), "refused": refused}, sys.stdout)


if __name__ == "__main__":
    main()
