#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_facts
short_description: Read TCP-related facts of a Linux host and diagnose them with evidence
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - Reads the kernel and host (release, page size, RAM, CPUs), the network namespace, every sysctl the
    collection can tune (value, whether it is writable here, and why not), all counters of
    C(/proc/net/snmp) and C(/proc/net/netstat) (named like C(TcpExt.ListenOverflows)), C(sockstat),
    C(fs.file-nr), RLIMIT_NOFILE of itself and of given PIDs and services, conntrack, C(softnet_stat),
    interfaces from C(/sys/class/net) with each one's qdisc, the memory limit of its cgroup, and per-state
    TCP socket counts with the listeners and listening ports.
  - Sockets are read over netlink C(NETLINK_SOCK_DIAG) in pure Python, keeping counts and a port bitmap
    only, so memory stays bounded with 100 000+ sockets. When netlink is unavailable, or O(proc_path) is
    not this process's own C(/proc), it parses C(proc_path/net/tcp) and C(tcp6) line by line instead.
  - Over netlink the ESTABLISHED and TIME_WAIT sockets are not dumped one by one. ESTABLISHED is
    C(sockstat) C(TCP inuse) plus C(TCP6 inuse) (every hashed full socket) less the other hashed states,
    which a small dump counts. C(Tcp.CurrEstab) is not used because since Linux 6.10 (and in stable
    backports) it counts CLOSE_WAIT sockets too. TIME_WAIT is C(sockstat) C(tw) less the FIN_WAIT2
    timewait sockets. Both are exact on a quiet host; a socket that opens, closes or changes state between
    the C(sockstat) read and the end of the dump (about a millisecond) puts them off by one each, never
    below 0 (a burst of new connects can make the difference negative; it is clamped).
  - Qdiscs come from an rtnetlink C(RTM_GETQDISC) dump of the module's own network namespace. Only
    when O(sys_path) is the real C(/sys); otherwise they are null.
  - The cgroup memory limit is the tightest C(memory.max) (cgroup v2) or C(memory.limit_in_bytes)
    (v1) from the cgroup in C(proc_path/self/cgroup) up to the top of the hierarchy visible here.
    The kernel charges socket memory to that cgroup, and C(kernel.mem_total_bytes) is the host's RAM
    even inside a container.
  - Returns the facts as C(ansible_facts.tcp) with a C(findings) list. Finding ids are stable - C(listen_queue_overflow),
    C(syn_queue_pressure), C(tcp_memory_pressure), C(rst_send_failed), C(orphan_pressure),
    C(time_wait_overflow), C(ephemeral_port_pressure), C(fd_pressure), C(conntrack_pressure),
    C(backlog_drops), C(retransmission_rate), C(listener_backlog_capped), C(tw_recycle_enabled),
    C(link_problem), C(buffer_cap_low). docs/findings.md explains each one and its thresholds.
  - The init network namespace is recognised by the presence of the global-only keys
    C(net/ipv4/tcp_mem) and C(net/core/netdev_max_backlog) under C(proc_path/sys) (a child netns, such as a
    container's, does not have them). Comparing C(/proc/self/ns/net) with C(/proc/1/ns/net) would not work
    inside a container, where PID 1 is the container's own. A container is also recognised by
    C(/run/.containerenv), C(/.dockerenv), C(container=) in PID 1's environment or a runtime in PID 1's cgroup.
  - The main PID of a service in O(services) is found from C(/proc) only, without systemctl or a shell -
    the processes whose C(/proc/PID/cgroup) names C(<name>.service), else those whose C(/proc/PID/comm) is
    the name; of those, the one whose parent is not in the set.
  - Never changes anything; C(changed) is always false.
attributes:
  check_mode:
    description: Reads only; check mode runs the same reads and returns the same facts.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
extends_documentation_fragment:
  - tcptune.linux.linux_platform
options:
  proc_path:
    description: Root of the proc file system to read. Another value lets tests use fixture trees.
    type: path
    default: /proc
  sys_path:
    description: Root of the sys file system to read.
    type: path
    default: /sys
  sample_seconds:
    description:
      - When above 0, read the counters twice this many seconds apart and return per-second rates in
        C(rates), as nstat does; counter findings are then based on the rates instead of totals since boot.
    type: float
    default: 0
  sockets:
    description: Enumerate TCP sockets (per-state counts, listeners, ephemeral ports in use). False skips it.
    type: bool
    default: true
  pids:
    description: PIDs whose RLIMIT_NOFILE and open descriptor count to report.
    type: list
    elements: int
    default: []
  services:
    description: systemd service names (with or without C(.service)) whose main process limits to report.
    type: list
    elements: str
    default: []
  listeners_max:
    description: Most listeners returned, fullest accept queue first. Counts still cover all sockets.
    type: int
    default: 100
notes:
  - Supports check mode; it only reads.
  - Over netlink the kernel reports the sockets of the module's own network namespace. Inside a container
    that is the container's.
  - C(local_ports_in_ephemeral_range) counts distinct local ports, a lower bound of the pressure on one
    destination.
seealso:
  - module: tcptune.linux.tcp_sizing
"""

EXAMPLES = r"""
- name: Read TCP facts and findings
  tcptune.linux.tcp_facts:

- name: Base findings on what happens now, and check nginx's file limit
  tcptune.linux.tcp_facts:
    sample_seconds: 5
    services: [nginx]

- name: Show warnings and critical findings
  ansible.builtin.debug:
    msg: "{{ ansible_facts.tcp.findings | selectattr('severity', 'ne', 'info') | list }}"

- name: Counters only, cheap whatever the socket count
  tcptune.linux.tcp_facts:
    sockets: false
"""

RETURN = r"""
ansible_facts:
  description: Facts under the C(tcp) key, as described in docs/internals.md.
  returned: always
  type: dict
  contains:
    tcp:
      description: TCP facts and findings.
      type: dict
      returned: always
      contains:
        kernel:
          description: release, version (list of 3 ints), page_size, mem_total_bytes, mem_available_bytes, cpus.
          type: dict
          returned: always
        namespace:
          description: init_netns, proc_sys_writable, container (booleans).
          type: dict
          returned: always
        sysctl:
          description: Parsed values of the catalogue keys present here (ints, lists of ints or strings).
          type: dict
          returned: always
          sample: {"net.core.somaxconn": 4096, "net.ipv4.tcp_mem": [287901, 383868, 575802]}
        sysctl_writable:
          description: Present keys -> whether they can be set here.
          type: dict
          returned: always
        sysctl_unavailable:
          description: Keys absent or not settable here -> the reason.
          type: dict
          returned: always
          sample: {"net.ipv4.tcp_mem": "global key: set it on the host (a container cannot set it for itself)"}
        counters:
          description: All of /proc/net/snmp and /proc/net/netstat as C(Prefix.Name) -> int.
          type: dict
          returned: always
          sample: {"TcpExt.ListenOverflows": 1806, "Tcp.RetransSegs": 227}
        rates:
          description: Per-second rates of the counters (and of softnet and conntrack drops) when O(sample_seconds) > 0.
          type: dict
          returned: always
        sample_seconds:
          description: The sampling interval used (0 when none).
          type: float
          returned: always
        sockstat:
          description: sockets_used; tcp inuse, orphan, tw, alloc, mem_pages, mem_bytes; tcp6 inuse; udp inuse, mem_pages, mem_bytes; udp6 inuse.
          type: dict
          returned: always
        files:
          description: allocated, max (from fs.file-nr) and nr_open.
          type: dict
          returned: always
        nofile:
          description: self {soft, hard}; pids {pid {soft, hard, open}}; services {name {soft, hard, open, pid}}. -1 means unlimited.
          type: dict
          returned: always
        conntrack:
          description: available, count, max, buckets, drop, early_drop, insert_failed.
          type: dict
          returned: always
        softnet:
          description: processed, dropped, time_squeeze, per_cpu list.
          type: dict
          returned: always
        interfaces:
          description:
            - Per interface txqueuelen, mtu, speed_mbps, duplex, operstate, carrier, admin_up, virtual, qdisc
              and qdisc_leaves.
            - qdisc is the kind of the root qdisc (for example C(fq_codel), C(mq), C(pfifo_fast), C(noqueue)).
              It is null when the rtnetlink dump is refused, for a fixture O(sys_path), and for an interface
              that is down with no qdisc attached yet.
            - qdisc_leaves is the sorted list of the distinct kinds of an C(mq) or C(mqprio) root's children,
              one per transmit queue; it is empty for any other root.
          type: dict
          returned: always
          sample: {"eth0": {"txqueuelen": 1000, "mtu": 1500, "speed_mbps": 10000, "duplex": "full",
                            "operstate": "up", "carrier": 1, "admin_up": true, "virtual": false,
                            "qdisc": "mq", "qdisc_leaves": ["fq_codel"]}}
        cgroup:
          description:
            - version (1, 2 or null), path (this process's memory cgroup from C(/proc/self/cgroup), or null),
              memory_max_bytes (the tightest memory limit from that cgroup up to the top of the hierarchy
              visible here; null when there is none) and memory_max_file (the file that sets it).
            - C(max) in C(memory.max), and a C(memory.limit_in_bytes) of 2**62 or more, mean no limit.
          type: dict
          returned: always
          sample: {"version": 2, "path": "/system.slice/web.service", "memory_max_bytes": 536870912,
                   "memory_max_file": "/sys/fs/cgroup/system.slice/web.service/memory.max"}
        sockets:
          description:
            - source (netlink, proc, disabled or unavailable), total, states (per TCP state), listeners
              (family, address, port, backlog, queue), listening_ports, local_ports_in_ephemeral_range.
            - listeners holds at most O(listeners_max) entries, fullest accept queue first;
              listening_ports is the sorted list of every TCP port in LISTEN (IPv4 and IPv6), complete
              even when listeners is cut short.
          type: dict
          returned: always
        findings:
          description: Findings, most severe first; each has id, severity (info, warning, critical), summary,
            evidence, evidence_source and recommendation.
          type: list
          elements: dict
          returned: always
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import host_facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            proc_path=dict(type="path", default="/proc"),
            sys_path=dict(type="path", default="/sys"),
            sample_seconds=dict(type="float", default=0),
            sockets=dict(type="bool", default=True),
            pids=dict(type="list", elements="int", default=[]),
            services=dict(type="list", elements="str", default=[]),
            listeners_max=dict(type="int", default=100),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["sample_seconds"] < 0 or params["sample_seconds"] > 3600:
        module.fail_json(msg="sample_seconds: must be between 0 and 3600, got %s" % params["sample_seconds"])
    if params["listeners_max"] < 0:
        module.fail_json(msg="listeners_max: must be 0 or more, got %d" % params["listeners_max"])
    if not os.path.isdir(params["proc_path"]):
        module.fail_json(msg="proc_path: %s is not a directory" % params["proc_path"])
    facts = host_facts.gather(
        proc_path=params["proc_path"], sys_path=params["sys_path"], sample_seconds=params["sample_seconds"],
        sockets=params["sockets"], pids=params["pids"], services=params["services"],
        listeners_max=params["listeners_max"])
    module.exit_json(changed=False, ansible_facts={"tcp": facts})


if __name__ == "__main__":
    main()
