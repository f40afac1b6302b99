# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The memory model: what the target connections hold (the idle footprint and the busy buffers), the
measured memory per socket by kernel line, and how many connections fit (docs/profiles.md, Feasibility)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import memory_rules
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.workload_options import MAX_TARGET_CONNECTIONS
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import (
    in_force)

# Kernel memory, userspace, TIME_WAIT and conntrack of the target, plus busy buffers, may take this
# share of min(RAM, cgroup memory limit). The rest is the page cache, the kernel and other processes.
SAFE_MEMORY_FRACTION = 0.75
# Kernel memory per idle ESTABLISHED socket, one row per kernel line, measured by bench/memory_model
# (bench/results/memory_model.json): slab per socket in a whole guest (5.10, 6.1, 6.12: the Debian
# 11/12/13 guests of the VM test bed) or a child netns of the host (6.18), server sockets accepted and
# registered with epoll, client sockets counted apart. ``bytes`` is the larger of the two, rounded up
# to 10 B. A kernel between two lines takes the nearest older line; one older than every line takes
# the oldest (socket_line says which).
_GUEST_METHOD = ("bench/memory_model: Debian %d guest under qemu (2 GB, 1 vCPU), /proc/meminfo Slab growth per socket, "
                 "server sockets accepted and registered with epoll, client sockets counted apart, 1 run each way")
PER_SOCKET_TABLE = (
    {"kernel": (6, 18), "bytes": 4940, "server_bytes": 4884, "client_bytes": 4936, "release": "6.18.44-fc-v1272",
     "date": "2026-12-06", "connections": 150000,
     "method": "bench/memory_model: a child netns of the 6.18 test host (shared, kernel-wide figures) against a raw "
               "packet-socket peer, /proc/meminfo Slab growth per socket, server sockets accepted and registered "
               "with epoll, client sockets counted apart, median of 3 runs each way"},
    {"kernel": (6, 12), "bytes": 4350, "server_bytes": 4220, "client_bytes": 4345, "release": "6.12.117+deb13-amd64",
     "date": "2026-12-06", "connections": 50000, "method": _GUEST_METHOD % 13},
    {"kernel": (6, 1), "bytes": 4100, "server_bytes": 4026, "client_bytes": 4094, "release": "6.1.0-50-amd64",
     "date": "2026-12-06", "connections": 50000, "method": _GUEST_METHOD % 12},
    {"kernel": (5, 10), "bytes": 4010, "server_bytes": 3952, "client_bytes": 4008, "release": "5.10.0-32-amd64",
     "date": "2026-12-06", "connections": 50000, "method": _GUEST_METHOD % 11},
)
TIME_WAIT_SECONDS = 60  # TCP_TIMEWAIT_LEN, not tunable (facts §3)
CONNTRACK_ENTRY_BYTES = 320  # nf_conn object (~300 B) plus hash node
CONNTRACK_TIME_WAIT_SECONDS = 120  # nf_conntrack_tcp_timeout_time_wait


def effective_memory(host):
    """min(RAM, cgroup memory limit): what sockets, buffers and userspace of this workload may use."""
    limit = host.get("memory_limit_bytes")
    return min(host["memory_bytes"], limit) if limit else host["memory_bytes"]


def sockets_of(work):
    if not work["target_connections"]:
        return 0
    return work["target_connections"] * work["sockets_per_connection"]


def _line_text(kernel):
    return ".".join(str(part) for part in kernel[:2])


def socket_line(kernel):
    """The PER_SOCKET_TABLE row for ``kernel`` ([major, minor, ...]) plus ``line`` ("6.1"), ``match``
    (exact, older line, oldest line) and ``source``: the sentence explain shows."""
    kernel = tuple(kernel[:2])
    rows = sorted(PER_SOCKET_TABLE, key=lambda row: row["kernel"], reverse=True)
    row = next((row for row in rows if row["kernel"] <= kernel), None)
    if row is None:
        row, match = rows[-1], "oldest line"
    else:
        match = "exact" if row["kernel"] == kernel else "older line"
    line = _line_text(row["kernel"])
    measured = ("%d B per socket measured %s on %s: %s connections, %s (server %d B, client %d B)"
                % (row["bytes"], row["date"], row["release"], row["connections"], row["method"],
                   row["server_bytes"], row["client_bytes"]))
    if match == "exact":
        source = "Linux %s line: %s" % (line, measured)
    elif match == "older line":
        source = "Linux %s line, the nearest older measured line for %s: %s" % (line, _line_text(kernel), measured)
    else:
        source = ("Linux %s line, the oldest measured line, for %s (older than every measured line: not measured "
                  "on it): %s" % (line, _line_text(kernel), measured))
    return dict(row, line=line, match=match, source=source)


def per_socket_bytes(kernel):
    """(bytes per idle socket, the sentence naming the measured line it comes from)."""
    row = socket_line(kernel)
    return row["bytes"], row["source"]


def busy_sockets(work, sockets):
    """The sockets moving data at the same moment: sockets x busy_fraction, rounded up."""
    return int(math.ceil(sockets * work["busy_fraction"])) if sockets else 0


def memory_parts(ctx, connections):
    """Bytes that ``connections`` of the workload hold with the plan in force. The idle footprint:
    socket slab (PER_SOCKET_TABLE), userspace, TIME_WAIT sockets and conntrack entries; and the busy
    buffers: busy sockets (busy_fraction) x (tcp_rmem[1] + tcp_wmem[1]), at most tcp_mem max in force.
    TIME_WAIT is counted up to memory_rules.tw_buckets_cap, the most the plan lets it reach, so
    rule_tcp_mem can call this before rule_tw_buckets has run."""
    host, work = ctx["host"], ctx["work"]
    sockets = connections * work["sockets_per_connection"]
    close_rate = (work["accept_rate"] or 0) + (work["outbound_rate"] or 0)
    tw_sockets = min(int(close_rate * TIME_WAIT_SECONDS),
                     memory_rules.tw_buckets_cap(effective_memory(host), kd.ehash_entries(host)))
    tracked = int(sockets + close_rate * CONNTRACK_TIME_WAIT_SECONDS) if host["conntrack"].get("available") else 0
    rmem, wmem = in_force(ctx, "net.ipv4.tcp_rmem"), in_force(ctx, "net.ipv4.tcp_wmem")
    return {"slab_bytes": sockets * per_socket_bytes(host["kernel"])[0],
            "userspace_bytes": connections * work["userspace_bytes_per_connection"],
            "time_wait_bytes": tw_sockets * memory_rules.TW_SOCK_BYTES,
            "conntrack_bytes": tracked * CONNTRACK_ENTRY_BYTES,
            "buffer_bytes": min(busy_sockets(work, sockets) * (rmem[1] + wmem[1]),
                                in_force(ctx, "net.ipv4.tcp_mem")[2] * host["page_size"])}


# The idle footprint: what the connections hold whether or not they move data. The rest of
# memory_parts is "buffer_bytes", the busy buffers.
IDLE_PARTS = ("slab_bytes", "userspace_bytes", "time_wait_bytes", "conntrack_bytes")


def idle_bytes(parts):
    return sum(parts[name] for name in IDLE_PARTS)


def connections_in_memory(ctx, limit=MAX_TARGET_CONNECTIONS):
    """The most connections, at most ``limit``, whose memory_parts fit in SAFE_MEMORY_FRACTION of
    min(RAM, cgroup limit): the figure the infeasible message and the nofile limits use."""
    safe = int(effective_memory(ctx["host"]) * SAFE_MEMORY_FRACTION)
    low, high = 0, int(limit)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(memory_parts(ctx, middle).values()) <= safe:
            low = middle
        else:
            high = middle - 1
    return low


def conntrack_entries(work):
    """Entries a workload keeps: every socket's flow, plus closed ones for 120 s."""
    close_rate = (work["accept_rate"] or 0) + (work["outbound_rate"] or 0)
    return sockets_of(work) + close_rate * CONNTRACK_TIME_WAIT_SECONDS


def sockets_that_fit(ctx):
    """(sockets of the workload, at most those of the connections that fit in memory; the connections
    that fit, or None when all of them do). Limits are never raised to a level whose sockets would
    exhaust memory."""
    work = ctx["work"]
    sockets = sockets_of(work)
    if not sockets:
        return 0, None
    fit = connections_in_memory(ctx, work["target_connections"])
    if fit >= work["target_connections"]:
        return sockets, None
    return max(fit, 1) * work["sockets_per_connection"], fit
