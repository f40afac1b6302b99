#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_sizing
short_description: Compute safe TCP sysctls, file limits and queue lengths from RAM and workload
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - A pure, explainable computation. It changes nothing on the host and always returns C(changed=false).
  - Takes the host facts from O(facts) (the C(ansible_facts.tcp) of M(tcptune.linux.tcp_facts)); without
    them it reads RAM, page size, CPUs, kernel release, interface speeds, the current sysctl values and
    the network namespace from C(/proc) and C(/sys) itself. Each host fact can be overridden by an option.
  - The workload comes from a O(profile) preset; any workload option given explicitly overrides the preset.
    See docs/profiles.md for the presets and for how to read RV(plan.explain).
  - "Do no harm: every planned change names its reason, a workload number (declared, or from the chosen preset)
    or a finding of M(tcptune.linux.tcp_facts) with its evidence. No reason, no change: V(balanced) with nothing
    declared on a host without findings plans nothing. A live value is never lowered unless O(allow_lower)."
  - Rules (one function each, named by the catalogue row of each key) are in docs/profiles.md; memory rules
    (C(tcp_mem) max at most 50 % of RAM, buffer maxima at most C(tcp_mem) max / 8, C(tcp_max_tw_buckets) within
    the established hash and memory) are the ones M(tcptune.linux.tcp_sysctl) applies to overrides.
  - Keys the kernel does not have, and global keys inside a container, go to RV(plan.skipped) with the
    reason instead of RV(plan.sysctl). C(net.ipv4.tcp_tw_recycle) is never emitted.
  - Bad input fails with a message naming the option and the rule it breaks.
attributes:
  check_mode:
    description: Pure computation; check mode returns the same plan.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
options:
  facts:
    description:
      - C(ansible_facts.tcp) as returned by M(tcptune.linux.tcp_facts). Read from the host when omitted.
      - Pass V({}) to plan for another machine from the override options only, without the current values
        of the machine the module runs on.
    type: dict
  memory_bytes:
    description: Override RAM in bytes.
    type: int
  memory_limit_bytes:
    description: Override the cgroup memory limit in bytes (C(ansible_facts.tcp.cgroup.memory_max_bytes)).
    type: int
  page_size:
    description: Override the page size in bytes.
    type: int
  cpus:
    description: Override the number of CPUs.
    type: int
  kernel_release:
    description: Override the kernel release, for example C(6.1.0-18-amd64).
    type: str
  interfaces:
    description: Override interface speeds, name to Mbit/s (null for virtual or unknown).
    type: dict
  in_init_netns:
    description: Override whether the plan is for the host's own network namespace (false inside a container).
    type: bool
extends_documentation_fragment:
  - tcptune.linux.linux_platform
  - tcptune.linux.workload
notes:
  - Supports check mode; it never changes anything in any mode.
  - The kernel memory per idle socket comes from one measured row per kernel line (5.10, 6.1, 6.12, 6.18; a kernel
    between two lines uses the nearest older one); C(plan.memory_estimate.per_socket_source) names the line, its
    date, connection count and method (docs/profiles.md, "Memory per socket, per kernel line").
seealso:
  - module: tcptune.linux.tcp_facts
  - module: tcptune.linux.tcp_sysctl
"""

EXAMPLES = r"""
- name: Plan for a proxy from gathered facts
  tcptune.linux.tcp_sizing:
    facts: "{{ ansible_facts.tcp }}"
    profile: proxy
    target_connections: 200000
    reserved_ports: [8080, "9000-9010"]
  register: plan

- name: Would one million loopback connections fit on this host?
  tcptune.linux.tcp_sizing:
    profile: high_concurrency_server
    target_connections: 1000000
    sockets_per_connection: 2
  register: million

- name: Plan for another machine without touching it
  tcptune.linux.tcp_sizing:
    facts: {}
    profile: bulk_transfer
    bandwidth_mbps: 25000
    rtt_ms: 80
    memory_bytes: "{{ 64 * 1024 ** 3 }}"
    kernel_release: 6.8.0-45-generic
    cpus: 32
    interfaces: {eth0: 25000}
"""

RETURN = r"""
plan:
  description: The plan (docs/internals.md). The role reads it as C(tcp_tuning_sizing.plan).
  returned: always
  type: dict
  contains:
    sysctl:
      description: Key to value string in the kernel's canonical form, settable keys only, in apply order.
      type: dict
      sample: {"net.core.somaxconn": "8192", "net.ipv4.ip_local_reserved_ports": "8080-8082"}
    skipped:
      description: Keys the plan wanted but cannot set here, with the reason.
      type: dict
      sample: {"fs.nr_open": "global key: set it on the host (a container cannot set it for itself)"}
    changes:
      description: One entry per planned change with the live value before it and its reason.
      type: list
      elements: dict
      sample: [{"key": "net.core.somaxconn", "before": "4096", "planned": "8192",
                "reason": {"kind": "workload", "detail": "accept_rate 5000/s x 1 s = 5000, rounded up to 8192",
                           "from": {"accept_rate": "declared"}}}]
    limits:
      description: Empty when nothing asks for a limit; else login and services nofile plus C(nr_open) and C(file_max).
      type: dict
      sample: {"login": {"soft": 1024, "hard": 111616}, "services": {"soft": 111616, "hard": 111616},
               "nr_open": 1048576, "file_max": 2466183}
    txqueuelen:
      description: Interface to the txqueuelen to set; only interfaces that change.
      type: dict
      sample: {"eth0": 10000}
    explain:
      description:
        - Per key the planned value (null when unchanged), live value, kernel default, need, formula, inputs,
          source, findings, C(reason) (C(kind) workload, finding or dependency, and C(detail)) and a C(note).
      type: dict
    workload:
      description: The workload in force (preset numbers and declared options merged).
      type: dict
    workload_sources:
      description: For each workload number, C(declared) or C(preset <profile>).
      type: dict
      sample: {"accept_rate": "preset proxy", "target_connections": "declared"}
    memory_estimate:
      description:
        - Two parts against min(RAM, cgroup limit) - the idle footprint (C(idle_bytes) - socket slab, userspace,
          TIME_WAIT, conntrack) and the busy buffers (C(buffer_bytes) - busy sockets x (tcp_rmem[1] + tcp_wmem[1]),
          at most tcp_mem max) - with C(headroom_bytes) or C(shortfall_bytes), and C(summary), one sentence of both.
        - C(per_socket_line) is the measured kernel line the slab figure comes from.
      type: dict
      sample: {"sockets": 60000, "idle_bytes": 232000000, "buffer_bytes": 442000000, "busy_fraction": 0.05,
               "total_bytes": 674000000, "headroom_bytes": 11000000000}
    predicted:
      description: Rates and capacities the plan implies (for example C(sustainable_outbound_rate_per_destination)).
      type: dict
    feasible:
      description: Whether the target fits; false comes with the numbers in the first warning.
      type: bool
    warnings:
      description: What the plan cannot do and what to do about it.
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import (
    host_facts, module_errors, sizing, sizing_inputs, workload_options)


def read_host_facts():
    """ansible_facts.tcp of the host the module runs on (findings included), as tcp_facts gathers it."""
    return host_facts.gather("/proc", "/sys")


def _speeds(interfaces):
    """interfaces option {name: Mbit/s} -> ints (YAML may give strings); bad values fail in sizing."""
    if interfaces is None:
        return None
    speeds = {}
    for name, speed in interfaces.items():
        if isinstance(speed, str) and speed.strip().isdigit():
            speed = int(speed)
        speeds[str(name)] = speed
    return speeds


def main():
    module = AnsibleModule(
        argument_spec=dict(
            facts=dict(type="dict"),
            memory_bytes=dict(type="int"),
            memory_limit_bytes=dict(type="int"),
            page_size=dict(type="int"),
            cpus=dict(type="int"),
            kernel_release=dict(type="str"),
            interfaces=dict(type="dict"),
            in_init_netns=dict(type="bool"),
            **workload_options.WORKLOAD_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        facts = params["facts"] if params["facts"] is not None else read_host_facts()
        overrides = dict((key, params[key]) for key in
                         ("memory_bytes", "memory_limit_bytes", "page_size", "cpus", "kernel_release", "interfaces",
                          "in_init_netns"))
        overrides["interfaces"] = _speeds(overrides["interfaces"])
        host = sizing_inputs.host_from_facts(facts, overrides)
        workload = sizing_inputs.workload_from_params(params)
        plan = sizing.compute_plan(host, workload)
    except sizing_inputs.SizingInputError as error:
        module.fail_json(**module_errors.failure(error))
    for message in plan["warnings"]:
        if message.startswith("infeasible"):
            module.warn(message)
    module.exit_json(changed=False, plan=plan)


if __name__ == "__main__":
    main()
