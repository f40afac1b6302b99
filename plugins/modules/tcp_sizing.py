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
    See docs/profiles.md for the presets and for how to read RV(explain).
  - Computes C(net.ipv4.tcp_mem) in pages from O(memory_budget_percent), never above half of RAM and never
    below its current value unless O(allow_lower); socket buffer maxima from the bandwidth-delay product
    (twice the BDP before Linux 6.6); backlogs from O(accept_rate) and a 1 s worst-case accept delay;
    the ephemeral port range and C(tcp_tw_reuse) from O(outbound_rate) (TIME_WAIT is fixed at 60 s);
    C(tcp_max_tw_buckets), conntrack sizes, C(fs.nr_open), C(fs.file-max) and nofile limits from the
    connection target; txqueuelen per interface from its speed.
  - Keys the kernel does not have, and global keys inside a container, go to RV(skipped_keys) (and C(plan.skipped)) with the
    reason instead of RV(sysctl). C(net.ipv4.tcp_tw_recycle) is never emitted.
  - Bad input fails with a message naming the option and the rule it breaks.
options:
  facts:
    description:
      - C(ansible_facts.tcp) as returned by M(tcptune.linux.tcp_facts). Read from the host when omitted.
      - Pass V({}) to plan for another machine from the override options only, without the current values
        of the machine the module runs on.
    type: dict
  profile:
    description: Workload preset. Explicit workload options override its values.
    type: str
    choices: [balanced, high_concurrency_server, outbound_client, proxy, bulk_transfer]
    default: balanced
  target_connections:
    description: Concurrent connections the host must hold. Must be at least 1 and at most 100000000.
    type: int
  accept_rate:
    description: New inbound connections per second (0 or more).
    type: float
  outbound_rate:
    description: New outbound connections per second to one destination ip:port (0 or more).
    type: float
  bandwidth_mbps:
    description: Bandwidth of one bulk flow in Mbit/s, for the bandwidth-delay product. Needs O(rtt_ms).
    type: float
  rtt_ms:
    description: Round-trip time of a bulk flow in milliseconds. Needs O(bandwidth_mbps).
    type: float
  memory_budget_percent:
    description:
      - Share of RAM that TCP socket buffers may use (C(tcp_mem) max). Above 0 and at most 90.
      - Default from the profile (20 for V(balanced)); C(tcp_mem) max is also capped at 50 % of RAM and
        at what is left of 80 % of RAM after the kernel memory of the target sockets.
    type: float
  reserved_ports:
    description: Listening ports (or C(low-high) ranges) to keep out of the ephemeral range.
    type: list
    elements: str
  allow_lower:
    description: Allow values below the current ones (C(tcp_mem), buffer maxima, backlogs, conntrack).
    type: bool
  sockets_per_connection:
    description:
      - V(1) when the peer is another host (a server's client connections), V(2) when both ends of every
        connection are on this host (loopback tests), which doubles the socket memory and descriptors.
    type: int
    choices: [1, 2]
  tw_reuse:
    description:
      - Force C(net.ipv4.tcp_tw_reuse=1) on or leave it to the profile and the outbound rate.
      - The profiles V(outbound_client) and V(proxy) turn it on.
    type: bool
  memory_bytes:
    description: Override RAM in bytes.
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
notes:
  - Supports check mode; it never changes anything in any mode.
  - Idle sockets cost about 4.7 KB of kernel memory each on Linux 6.x (measured on 6.18 with two million
    loopback sockets); RV(memory_estimate) uses that figure.
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
sysctl:
  description: Key to value string, ready to apply; settable keys only, in apply order.
  returned: always
  type: dict
  sample: {"net.core.somaxconn": "8192", "net.ipv4.tcp_mem": "771377 1028503 1542755"}
plan:
  description:
    - The whole plan exactly as C(sizing.compute_plan) returns it (docs/internals.md), including its
      C(skipped) and C(warnings) keys; pass this to the apply modules and the report.
  returned: always
  type: dict
skipped_keys:
  description:
    - Keys the plan wanted but cannot set here, with the reason (C(plan.skipped)).
    - Not called C(skipped) at the top level because Ansible reserves that name for a skipped task.
  returned: always
  type: dict
  sample: {"net.ipv4.tcp_mem": "global key: set it on the host (a container cannot set it for itself)"}
limits:
  description: nofile limits for services and login sessions and the C(fs.nr_open) and C(fs.file-max) they need.
  returned: always
  type: dict
  sample: {"nofile_soft": 65536, "nofile_hard": 65536, "nr_open": 1048576, "file_max": 2466183,
           "login": {"soft": 1024, "hard": 65536}, "services": {"soft": 65536, "hard": 65536}}
txqueuelen:
  description: Interface to txqueuelen, or null where the qdisc ignores it, the interface is virtual or its speed unknown.
  returned: always
  type: dict
  sample: {"eth0": 10000, "lo": null}
explain:
  description: Per key the value, formula, inputs, the kernel's own default, the source and related finding ids.
  returned: always
  type: dict
memory_estimate:
  description: Kernel memory of the target sockets plus worst-case buffers at the planned defaults, against RAM.
  returned: always
  type: dict
  sample: {"per_socket_bytes": 4700, "sockets": 2000000, "slab_bytes": 9400000000, "buffer_bytes": 6319124480,
           "total_bytes": 15719124480, "ram_bytes": 25276510208, "fraction_of_ram": 0.6219}
predicted:
  description:
    - Rates and capacities the plan implies, for the kernel defaults, the current values and the plan
      (for example C(sustainable_outbound_rate_per_destination), C(file_max_suffices)).
  returned: always
  type: dict
feasible:
  description: Whether the target fits in RAM; false comes with the numbers in RV(plan_warnings).
  returned: always
  type: bool
plan_warnings:
  description:
    - What the plan cannot do, and what happens under pressure (C(plan.warnings)). Infeasibility is
      also raised as an Ansible warning.
    - Not called C(warnings) at the top level because Ansible reserves that name.
  returned: always
  type: list
  elements: str
workload:
  description: The workload after the profile defaults and the explicit options were merged.
  returned: always
  type: dict
host:
  description: The host inputs the plan was computed from.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import procfs, sizing

WORKLOAD_TYPES = {"target_connections": int, "sockets_per_connection": int}


def read_host_facts():
    """The minimal part of ansible_facts.tcp that sizing needs, from /proc and /sys."""
    kernel = procfs.read_kernel("/proc", "/sys")
    namespace = procfs.detect_namespace("/proc")
    sysctl, _writable, unavailable = procfs.read_sysctls(
        "/proc", tuple(kernel["version"]), namespace["init_netns"])
    return {"kernel": kernel, "namespace": namespace, "sysctl": sysctl, "sysctl_unavailable": unavailable,
            "files": procfs.read_files("/proc"), "conntrack": procfs.read_conntrack("/proc"),
            "interfaces": procfs.read_interfaces("/sys")}


def _workload(params):
    workload = {"profile": params["profile"]}
    for key in sizing.WORKLOAD_OPTIONS:
        value = params.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        workload[key] = value
    return workload


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
            profile=dict(type="str", default="balanced", choices=sorted(sizing.PROFILES)),
            target_connections=dict(type="int"),
            accept_rate=dict(type="float"),
            outbound_rate=dict(type="float"),
            bandwidth_mbps=dict(type="float"),
            rtt_ms=dict(type="float"),
            memory_budget_percent=dict(type="float"),
            reserved_ports=dict(type="list", elements="str"),
            allow_lower=dict(type="bool"),
            sockets_per_connection=dict(type="int", choices=[1, 2]),
            tw_reuse=dict(type="bool"),
            memory_bytes=dict(type="int"),
            page_size=dict(type="int"),
            cpus=dict(type="int"),
            kernel_release=dict(type="str"),
            interfaces=dict(type="dict"),
            in_init_netns=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        facts = params["facts"] if params["facts"] is not None else read_host_facts()
        overrides = dict((key, params[key]) for key in
                         ("memory_bytes", "page_size", "cpus", "kernel_release", "interfaces", "in_init_netns"))
        overrides["interfaces"] = _speeds(overrides["interfaces"])
        host = sizing.host_from_facts(facts, overrides)
        workload = _workload(params)
        plan = sizing.compute_plan(host, workload)
        resolved = sizing.resolve_workload(workload)
    except sizing.SizingInputError as error:
        module.fail_json(msg=str(error))
    resolved["reserved_ports"] = [list(item) for item in resolved["reserved_ports"]]
    host_summary = dict((key, host[key]) for key in
                        ("memory_bytes", "page_size", "cpus", "kernel_release", "kernel", "in_init_netns", "interfaces"))
    # 'skipped' and 'warnings' are reserved result keys in Ansible (a bool, and the warning display):
    # they are returned as skipped_keys and plan_warnings, and unchanged inside 'plan'.
    top = dict((key, value) for key, value in plan.items() if key not in ("skipped", "warnings"))
    for message in plan["warnings"]:
        if message.startswith("infeasible"):
            module.warn(message)
    module.exit_json(changed=False, plan=plan, skipped_keys=plan["skipped"], plan_warnings=plan["warnings"],
                     workload=resolved, host=host_summary, **top)


if __name__ == "__main__":
    main()
