# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# Written by files/workload/generate.py from plugins/module_utils/workload_options.py: edit there, then run it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The workload options of tcp_sizing and tcp_tune; their argument spec is
    # workload_options.WORKLOAD_ARGUMENT_SPEC.
    DOCUMENTATION = r"""
options:
  profile:
    description:
      - Workload preset (numbers, not sysctl values). Explicit workload options override its values.
      - V(balanced) has no numbers; the others are listed in docs/profiles.md.
    type: str
    choices: [balanced, bulk_transfer, high_concurrency_server, outbound_client, proxy]
    default: balanced
  target_connections:
    description: Concurrent connections the host must hold. At least 1 and at most 100000000.
    type: int
  accept_rate:
    description:
      - New inbound connections per second (0 or more, finite).
      - At most 1073741824 (2^30), the rate whose one-second accept queue still fits C(somaxconn).
    type: float
  outbound_rate:
    description:
      - New outbound connections per second to one destination ip:port (0 or more, finite).
      - The connections, accepts and outbound closes must fit the largest C(nf_conntrack_buckets) the kernel takes
        (INT_MAX/8); the error names the number to lower.
    type: float
  bandwidth_mbps:
    description:
      - Bandwidth of one bulk flow in Mbit/s, for the bandwidth-delay product. Needs O(rtt_ms).
      - At most 4294967294 (the kernel reports link speed as a 32-bit number of Mbit/s).
    type: float
  rtt_ms:
    description:
      - Round-trip time of a bulk flow in milliseconds. Needs O(bandwidth_mbps).
      - At most 120000 (TCP_RTO_MAX, 120 s).
    type: float
  socket_buffer_bytes:
    description:
      - Largest SO_RCVBUF/SO_SNDBUF applications set (QUIC, UDP, fixed-buffer TCP); raises C(net.core.rmem_max) and
        C(wmem_max) to it. Without it they stay, since TCP autotuning never reads them.
    type: int
  userspace_bytes_per_connection:
    description:
      - Memory the application holds per connection (TLS state, buffers); counted in the feasibility check. Default 0.
    type: int
  services:
    description:
      - systemd services that hold the connections; they get nofile soft = hard (C(plan.limits.services)), and
        M(tcptune.linux.tcp_tune) writes their C(LimitNOFILE) drop-in.
    type: list
    elements: str
  reserved_ports:
    description: Listening ports (or C(low-high) ranges) to keep out of the ephemeral range.
    type: list
    elements: str
  sockets_per_connection:
    description:
      - V(1) when the peer is another host (a server's client connections), V(2) when the host holds two sockets per
        connection (a proxy with client and upstream sockets, or loopback tests). V(proxy) presets 2.
    type: int
    choices: [1, 2]
  tw_reuse:
    description:
      - V(true) plans C(net.ipv4.tcp_tw_reuse=1); V(false) never plans it; unset, it is planned when the outbound rate
        needs more ports than the range gives in 60 s and C(tcp_timestamps=1).
    type: bool
  busy_fraction:
    description:
      - Share of the connections moving data at the same moment, above 0 and at most 1. Each busy connection holds its
        default buffers (C(tcp_rmem[1]) + C(tcp_wmem[1])), an idle one none; C(plan.memory_estimate) counts the busy
        buffers apart from the idle footprint, at most C(tcp_mem) max, and C(tcp_mem) pressure is sized for the busy
        sockets' guaranteed minimum.
      - V(high_concurrency_server) presets 0.05 (mostly idle clients), the other profiles 1.0; without a profile value
        it is 1.0.
    type: float
  memory_budget_percent:
    description:
      - Ceiling, in percent of RAM, that C(tcp_mem) max may be raised to (above 0, at most 50). It is not a reason to
        raise it.
    type: float
  allow_lower:
    description:
      - Allow values below the live ones (sysctl keys; with M(tcptune.linux.tcp_tune) also nofile hard limits and
        txqueuelen). Without it C(plan.explain) shows what a lowered value would have been.
    type: bool
    default: false
"""
