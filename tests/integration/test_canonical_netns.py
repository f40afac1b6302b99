# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan's text is what the kernel reads back: per-netns keys written in `unshare --net` only.

ip_local_reserved_ports and ip_local_port_range are per network namespace, so a throwaway
namespace is safe. Each case writes the raw input, reads back the kernel's text, and compares it
with catalogue_values.coerce_value (reserved ports) and with sizing's planned port range.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values, sizing
from preconditions import needs_unshare

RESERVED = "/proc/sys/net/ipv4/ip_local_reserved_ports"
PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"


pytestmark = needs_unshare()


def kernel_reads_back(path, text):
    """Write ``text`` to a per-netns key inside a new network namespace; return what it reads back.

    The value goes through argv of a fixed program (no shell), and the namespace dies with it.
    """
    program = ("import sys\n"
               "fd = open(sys.argv[1], 'w'); fd.write(sys.argv[2] + '\\n'); fd.close()\n"
               "sys.stdout.write(open(sys.argv[1]).read())\n")
    assert path in (RESERVED, PORT_RANGE)
    result = subprocess.run(["unshare", "--net", "python3", "-c", program, path, text],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return result.stdout.decode("utf-8").strip()


@pytest.mark.parametrize("text", [
    "8080,8081,8082",
    "9000-9010,9005-9020,1",
    "8082, 8080,30000-32767,8081",
    "10250,11211,15001,15006,16379,27017",
    "",
])
def test_reserved_ports_canonical_form_is_the_kernels(text):
    ours = catalogue_values.coerce_value(catalogue.get("net.ipv4.ip_local_reserved_ports"), text)
    if " " not in text:  # the kernel refuses spaces (EINVAL); apply writes our form, which has none
        assert kernel_reads_back(RESERVED, text) == ours
    assert kernel_reads_back(RESERVED, ours) == ours


def test_planned_reserved_ports_read_back_equal():
    plan = sizing.compute_plan(sizing_inputs.host_from_facts(None, {"memory_bytes": 8 << 30, "kernel_release": "6.18.0"}),
                               {"reserved_ports": [8080, 8081, 8082, "9000-9010", "9005-9020"]})
    text = plan["sysctl"]["net.ipv4.ip_local_reserved_ports"]
    assert kernel_reads_back(RESERVED, text) == text == "8080-8082,9000-9020"


def test_planned_port_range_reads_back_equal():
    plan = sizing.compute_plan(
        sizing_inputs.host_from_facts(None, {"memory_bytes": 8 << 30, "kernel_release": "6.18.0", "listening_ports": [20000],
                                      "sysctl": {"net.ipv4.tcp_timestamps": 0}}),
        {"outbound_rate": 600})
    text = plan["sysctl"]["net.ipv4.ip_local_port_range"]
    low, high = [int(part) for part in text.split()]
    assert low % 2 != high % 2
    assert kernel_reads_back(PORT_RANGE, text).split() == text.split()
