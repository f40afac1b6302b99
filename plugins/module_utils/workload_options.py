# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a workload may declare: the presets (profiles) and one row per workload option, the single
source of its module option (tcp_sizing, tcp_tune), its role variable tcp_tuning_<name>, their docs
and the bounds they state. sizing_inputs validates a workload against these; files/workload/generate.py
writes the doc fragment tcptune.linux.workload and the role's workload variables from them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections

MAX_TARGET_CONNECTIONS = 100000000
# The largest per-flow bandwidth the kernel can describe: ethtool's link speed is a u32 of Mbit/s
# (include/uapi/linux/ethtool.h), 0xffffffff being SPEED_UNKNOWN.
MAX_BANDWIDTH_MBPS = 4294967294
# An RTT above TCP_RTO_MAX (120 s, include/net/tcp.h) retransmits every segment before its ACK can arrive.
MAX_RTT_MS = 120000

# busy_fraction: the share of connections moving data at the same moment, each holding its default
# buffers (tcp_rmem[1] + tcp_wmem[1]); idle ones hold none (kernel-tcp-facts §6: sockstat mem stayed
# at 40 pages with 19 000 idle sockets). 1.0 where a preset does not know its connections to be idle.
PROFILES = {
    "balanced": {
        "description": "No workload numbers: plans only what the host's own findings show (no finding, no change).",
    },
    "high_concurrency_server": {
        "description": "Many mostly idle inbound connections (websocket, chat, push, MQTT).",
        # Its worst burst is the reconnect storm after a restart or failover: a tenth of the
        # 200 000 clients coming back each second, so the accept queue is sized for 20 000/s.
        "target_connections": 200000, "accept_rate": 20000, "outbound_rate": 0,
        # Mostly idle: a heartbeat every 30-60 s and a message now and then. 5 % of the clients moving
        # data at one instant is generous; a broadcast to all of them at once is not (declare 1.0).
        "busy_fraction": 0.05,
    },
    "outbound_client": {
        "description": "Opens many short connections to few backends (crawlers, API clients, load generators).",
        "target_connections": 20000, "accept_rate": 0, "outbound_rate": 1000,
        "busy_fraction": 1.0,  # each connection is opened to move a request and its answer
    },
    "proxy": {
        "description": "Accepts from clients and connects to backends: two sockets per connection.",
        "target_connections": 100000, "accept_rate": 5000, "outbound_rate": 1000, "sockets_per_connection": 2,
        "busy_fraction": 1.0,  # relays whatever its clients send: not known to be idle
    },
    "bulk_transfer": {
        "description": "Few long fast flows over long paths (backup, replication, data transfer).",
        "target_connections": 1000, "accept_rate": 100, "outbound_rate": 100,
        "bandwidth_mbps": 10000, "rtt_ms": 100,
        "busy_fraction": 1.0,  # every flow moves data all the time
    },
}
DEFAULT_PROFILE = "balanced"

# The workload options of the tcp_sizing and tcp_tune modules and of the role's tcp_tuning_<name>
# variables, one row each: ``spec`` is the argument_spec entry (no default means "not declared": the
# preset's number, if any, applies), ``unset`` the value when neither declared nor preset, ``number``
# whether it is a workload number (a reason for a change) rather than a way to plan, ``doc`` and
# ``role_doc`` the descriptions of the module option and of the role variable. files/workload/generate.py
# writes the doc fragment tcptune.linux.workload and the role's defaults, argument_specs and vars from
# these rows; a unit test fails while they are stale.
WorkloadOption = collections.namedtuple("WorkloadOption", ("name", "spec", "unset", "number", "doc", "role_doc"))

PROFILE_OPTION = WorkloadOption(
    "profile", dict(type="str", default=DEFAULT_PROFILE, choices=sorted(PROFILES)), DEFAULT_PROFILE, False,
    ("Workload preset (numbers, not sysctl values). Explicit workload options override its values.",
     "V(balanced) has no numbers; the others are listed in docs/profiles.md."),
    "Workload preset for tcp_sizing. Explicit workload variables override the preset.")

WORKLOAD_TABLE = (
    WorkloadOption(
        "target_connections", dict(type="int"), None, True,
        "Concurrent connections the host must hold. At least 1 and at most %d." % MAX_TARGET_CONNECTIONS,
        "Concurrent TCP connections the host must hold. Unset takes the profile's value."),
    WorkloadOption(
        "accept_rate", dict(type="float"), None, True,
        ("New inbound connections per second (0 or more, finite).",
         "At most 1073741824 (2^30), the rate whose one-second accept queue still fits C(somaxconn)."),
        ("New inbound connections per second. Sizes somaxconn and tcp_max_syn_backlog (the rate x 1 s, rounded up to "
         "a power of two, so at most 1073741824/s, as somaxconn is an int).",
         "With I(tcp_tuning_outbound_rate) and the sockets, at most what nf_conntrack_buckets can hash (the error "
         "says how much).")),
    WorkloadOption(
        "outbound_rate", dict(type="float"), None, True,
        ("New outbound connections per second to one destination ip:port (0 or more, finite).",
         "The connections, accepts and outbound closes must fit the largest C(nf_conntrack_buckets) the kernel "
         "takes (INT_MAX/8); the error names the number to lower."),
        ("New outbound connections per second to one destination ip:port. Sizes the ephemeral port range.",
         "Every closed connection stays in conntrack for 120 s; a rate whose entries nf_conntrack_buckets cannot hash "
         "is refused, naming the most it can be.")),
    WorkloadOption(
        "bandwidth_mbps", dict(type="float"), None, True,
        ("Bandwidth of one bulk flow in Mbit/s, for the bandwidth-delay product. Needs O(rtt_ms).",
         "At most %d (the kernel reports link speed as a 32-bit number of Mbit/s)." % MAX_BANDWIDTH_MBPS),
        ("Per-flow bandwidth in Mbit/s for bulk flows; with I(tcp_tuning_rtt_ms) it gives the BDP. Above 0, at most "
         "%d (the largest link speed the kernel reports)." % MAX_BANDWIDTH_MBPS,)),
    WorkloadOption(
        "rtt_ms", dict(type="float"), None, True,
        ("Round-trip time of a bulk flow in milliseconds. Needs O(bandwidth_mbps).",
         "At most %d (TCP_RTO_MAX, 120 s)." % MAX_RTT_MS),
        ("Round-trip time in milliseconds of bulk flows. Needs I(tcp_tuning_bandwidth_mbps). Above 0, at most %d "
         "(TCP_RTO_MAX)." % MAX_RTT_MS,)),
    WorkloadOption(
        "socket_buffer_bytes", dict(type="int"), None, True,
        ("Largest SO_RCVBUF/SO_SNDBUF applications set (QUIC, UDP, fixed-buffer TCP); raises C(net.core.rmem_max) "
         "and C(wmem_max) to it. Without it they stay, since TCP autotuning never reads them.",),
        ("SO_RCVBUF/SO_SNDBUF the application sets itself (QUIC/UDP servers). Only then are net.core.rmem_max "
         "and wmem_max raised.",)),
    WorkloadOption(
        "userspace_bytes_per_connection", dict(type="int"), 0, True,
        ("Memory the application holds per connection (TLS state, buffers); counted in the feasibility check. "
         "Default 0.",),
        ("Memory the application holds per connection (TLS state, buffers), counted in the feasibility check. "
         "Unset takes the sizing default.",)),
    WorkloadOption(
        "services", dict(type="list", elements="str"), [], True,
        ("systemd services that hold the connections; they get nofile soft = hard (C(plan.limits.services)), and "
         "M(tcptune.linux.tcp_tune) writes their C(LimitNOFILE) drop-in.",),
        ("systemd services that get a LimitNOFILE drop-in (restart them yourself to pick it up).",
         "Service names only (C(nginx) or C(nginx.service)); another unit type such as C(x.socket) is refused. A "
         "service without a unit file in systemd's unit directories is refused while systemd runs, and warned about "
         "otherwise (a container).")),
    WorkloadOption(
        "reserved_ports", dict(type="list", elements="str"), [], True,
        "Listening ports (or C(low-high) ranges) to keep out of the ephemeral range.",
        "Listening ports or low-high ranges kept out of the ephemeral range (ip_local_reserved_ports)."),
    WorkloadOption(
        "sockets_per_connection", dict(type="int", choices=[1, 2]), 1, True,
        ("V(1) when the peer is another host (a server's client connections), V(2) when the host holds two "
         "sockets per connection (a proxy with client and upstream sockets, or loopback tests). V(proxy) presets 2.",),
        ("Sockets one connection holds, 1 or 2 (2 for a proxy, client and upstream). Unset takes the profile's value.",)),
    WorkloadOption(
        "tw_reuse", dict(type="bool"), None, True,
        ("V(true) plans C(net.ipv4.tcp_tw_reuse=1); V(false) never plans it; unset, it is planned when the "
         "outbound rate needs more ports than the range gives in 60 s and C(tcp_timestamps=1).",),
        "Plan net.ipv4.tcp_tw_reuse=1 for outbound connections. Unset takes the profile's value."),
    WorkloadOption(
        "busy_fraction", dict(type="float"), 1.0, True,
        ("Share of the connections moving data at the same moment, above 0 and at most 1. Each busy connection holds "
         "its default buffers (C(tcp_rmem[1]) + C(tcp_wmem[1])), an idle one none; C(plan.memory_estimate) counts "
         "the busy buffers apart from the idle footprint, at most C(tcp_mem) max, and C(tcp_mem) pressure is sized "
         "for the busy sockets' guaranteed minimum.",
         "V(high_concurrency_server) presets 0.05 (mostly idle clients), the other profiles 1.0; without a profile "
         "value it is 1.0."),
        ("Share of the connections moving data at the same moment (above 0, at most 1). Each busy connection "
         "holds its default buffers (tcp_rmem[1] + tcp_wmem[1]); idle ones hold none. Counted in the feasibility "
         "check and in the tcp_mem pressure the busy sockets need.",
         "Unset takes the profile's value (high_concurrency_server 0.05, the other profiles 1.0), else 1.0.")),
    WorkloadOption(
        "memory_budget_percent", dict(type="float"), None, False,
        ("Ceiling, in percent of RAM, that C(tcp_mem) max may be raised to (above 0, at most 50). It is not a "
         "reason to raise it.",),
        "Share of RAM TCP may use (tcp_mem). Unset takes the sizing default; above 0, at most 50."),
    WorkloadOption(
        "allow_lower", dict(type="bool", default=False), False, False,
        ("Allow values below the live ones (sysctl keys; with M(tcptune.linux.tcp_tune) also nofile hard limits and "
         "txqueuelen). Without it C(plan.explain) shows what a lowered value would have been.",),
        ("Allow lowering live values - sysctl keys in the plan, a txqueuelen above the planned one, and nofile hard "
         "limits below systemd's default for logins and services. Off, nothing live is lowered.",)),
)

# Options a workload may declare. The workload numbers come first (a reason for a change); the rest say
# how to plan.
WORKLOAD_NUMBERS = tuple(option.name for option in WORKLOAD_TABLE if option.number)
WORKLOAD_OPTIONS = tuple(option.name for option in WORKLOAD_TABLE)
DEFAULTS = dict((option.name, option.unset) for option in WORKLOAD_TABLE)
WORKLOAD_ARGUMENT_SPEC = dict([(PROFILE_OPTION.name, PROFILE_OPTION.spec)]
                              + [(option.name, option.spec) for option in WORKLOAD_TABLE])
