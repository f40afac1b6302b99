# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for TCP memory and buffers: tcp_mem, tcp_rmem/tcp_wmem, rmem_max/wmem_max."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, memory_rules
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_memory import (
    SAFE_MEMORY_FRACTION, busy_sockets, effective_memory, idle_bytes, memory_parts, sockets_of)
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import (
    dependency_reason, finding_reason, gb_text, in_force, kernel_default, live, plan_key, workload_reason)

# With allow_lower only: tcp_rmem[1] is the initial receive window's space (a337531b942b, 4.19.86+);
# 65536 keeps the first window (about half of it) above a sender's IW10 (14600 B).
RMEM_DEFAULT_FLOOR = 65536


def kernel_shape(limit):
    """tcp_init_mem's shape around a pressure of ``limit`` pages: {limit/4*3, limit, 2*(limit/4*3)}."""
    limit = max(int(limit), 128)
    return [limit // 4 * 3, limit, 2 * (limit // 4 * 3)]


def rule_tcp_mem(ctx):
    """tcp_mem (pages): the kernel default unless the busy sockets' guaranteed minimum buffers
    (tcp_rmem[0] + tcp_wmem[0] each, ip-sysctl.rst; busy = sockets x busy_fraction, since an idle socket
    holds no buffer) or a tcp_memory_pressure finding need a higher pressure; kernel shape; never above
    memory_rules.tcp_mem_cap_pages; never flattened. Lowered (allow_lower) never below the busy sockets'
    guaranteed pages; a memory_budget_percent below them is infeasible."""
    host, work = ctx["host"], ctx["work"]
    key = "net.ipv4.tcp_mem"
    page = host["page_size"]
    default = kd.tcp_mem(host)
    current = live(host, key)
    base = current or default
    ram_cap = cap = memory_rules.tcp_mem_cap_pages(host["memory_bytes"], page)
    budget = None
    if work["memory_budget_percent"]:
        budget = int(host["memory_bytes"] * work["memory_budget_percent"] / 100.0) // page
        cap = min(cap, budget)
    idle = idle_bytes(memory_parts(ctx, work["target_connections"] or 0))
    headroom = int(effective_memory(host) * SAFE_MEMORY_FRACTION - idle) // page
    sockets = busy_sockets(work, sockets_of(work))
    busy = "%d busy sockets (busy_fraction %g)" % (sockets, work["busy_fraction"])
    options = ["target_connections", "sockets_per_connection"]
    if "busy_fraction" in work["sources"]:
        options.append("busy_fraction")
    rmem_min = (live(host, "net.ipv4.tcp_rmem") or kd.tcp_rmem(host))[0]
    wmem_min = (live(host, "net.ipv4.tcp_wmem") or kd.tcp_wmem(host))[0]
    guaranteed_pages = int(math.ceil(sockets * (rmem_min + wmem_min) / float(page)))
    need, reason, compare = None, None, "raise"
    # Needs are measured against the kernel default, never the live value: a second run, on the value
    # the first one set, must plan the same (what is persisted is what is live).
    if sockets and guaranteed_pages > default[1]:
        need = kernel_shape(guaranteed_pages)
        reason = workload_reason(work, options,
                                 "%s x (tcp_rmem[0] %d + tcp_wmem[0] %d) = %d pages must fit below the "
                                 "pressure threshold (%d pages by default)"
                                 % (busy, rmem_min, wmem_min, guaranteed_pages, default[1]))
    finding = host["findings"].get("tcp_memory_pressure")
    if finding:
        # Doubled once from the kernel default: the counters behind a finding count since boot, so
        # doubling the live value would double it again on every run.
        doubled = kernel_shape(default[1] * 2)
        available = host.get("memory_available_bytes")
        grow_bytes = max(doubled[2] - base[2], 0) * page
        if available is not None and grow_bytes > available:
            ctx["warnings"].append("tcp_mem: TCP memory pressure was seen but MemAvailable (%s) cannot hold a "
                                   "doubled tcp_mem (%s more); left as is" % (gb_text(available), gb_text(grow_bytes)))
        elif need is None or doubled[2] > need[2]:
            need = doubled
            reason = finding_reason(finding, "TCP entered memory pressure: pressure twice the kernel default "
                                    "%d, %d pages" % (default[1], doubled[1]))
    lowered = kernel_shape(cap * 2 // 3)
    # Never lowered below what the declared sockets are guaranteed (pressure >= guaranteed_pages), nor above
    # the memory rule; a budget that leaves less is refused below (infeasible).
    floored = sockets and lowered[1] < guaranteed_pages
    if floored:
        lowered = kernel_shape(min(guaranteed_pages, ram_cap * 2 // 3))
    if base[2] > cap or (work["allow_lower"] and base == lowered):
        if work["allow_lower"]:
            need = lowered
            reason = dependency_reason("brought within the memory rule (max <= %d pages = %d bytes) from a live "
                                       "max above it; allow_lower is true" % (cap, cap * page))
            if floored:
                reason = workload_reason(work, options,
                                         "lowered (allow_lower), but not below %s x (tcp_rmem[0] %d + "
                                         "tcp_wmem[0] %d) = %d pages at the pressure threshold"
                                         % (busy, rmem_min, wmem_min, guaranteed_pages))
            compare = "exact"
        else:
            ctx["warnings"].append(
                "net.ipv4.tcp_mem: the live max %d pages = %d bytes is above the cap (%d pages: %d %% of RAM, or "
                "memory_budget_percent); left as is (never flattened); set allow_lower: true to bring it to %s"
                % (base[2], base[2] * page, cap, memory_rules.TCP_MEM_MAX_SHARE * 100,
                   " ".join(str(part) for part in lowered)))
            need = None
    elif need is not None and need[2] > min(cap, headroom):
        limit = max(min(cap, headroom), 0)
        left = ("leaves %d pages" % headroom if headroom >= 0 else
                "is already short by %d pages (%s) without any buffers" % (-headroom, gb_text(-headroom * page)))
        ctx["warnings"].append("net.ipv4.tcp_mem: the workload needs max %d pages (%s) but at most %d pages (%s) "
                               "fit: the memory rule allows %d pages, and %d %% of memory less the sockets, userspace, "
                               "TIME_WAIT and conntrack %s; capped"
                               % (need[2], gb_text(need[2] * page), limit, gb_text(limit * page), cap,
                                  SAFE_MEMORY_FRACTION * 100, left))
        need = kernel_shape(limit * 2 // 3) if limit > default[2] else None
    plan_key(ctx, key, need, reason,
             "kernel default (tcp_init_mem: limit = max(nr_free_buffer_pages/16, 128), [limit/4*3, limit, "
             "2*(limit/4*3)], nr_free_buffer_pages ~ MemTotal/page_size) unless busy sockets (sockets x "
             "busy_fraction) x (tcp_rmem[0] + tcp_wmem[0]) or a tcp_memory_pressure finding need a higher "
             "pressure; same shape; max <= %d %% of RAM"
             % (memory_rules.TCP_MEM_MAX_SHARE * 100),
             {"ram_pages": host["memory_bytes"] // page, "page_size": page, "sockets": sockets_of(work),
              "busy_sockets": sockets,
              "guaranteed_pages": guaranteed_pages, "cap_pages": cap, "headroom_pages": headroom,
              "max_bytes_in_force": None},
             "facts §1: net/ipv4/tcp.c tcp_init_mem(); units are pages (ip-sysctl.rst)", compare=compare)
    ctx["explain"][key]["inputs"]["max_bytes_in_force"] = in_force(ctx, key)[2] * page
    guaranteed = kernel_shape(guaranteed_pages)
    if sockets and budget is not None and guaranteed[2] > budget:
        ctx["infeasible"].append(
            "infeasible: memory_budget_percent %g leaves tcp_mem max %d pages (%s), but the %s "
            "need max %d pages (%s), the kernel's shape around the %d pages they are guaranteed (tcp_rmem[0] + "
            "tcp_wmem[0] = %d bytes each)"
            % (work["memory_budget_percent"], budget, gb_text(budget * page), busy, guaranteed[2],
               gb_text(guaranteed[2] * page), guaranteed_pages, rmem_min + wmem_min))
    planned = ctx["wanted"].get(key)
    if planned is not None and any(mine < theirs for mine, theirs in zip(planned, default)):
        ctx["warnings"].append("net.ipv4.tcp_mem: lowered to %s pages, below the kernel default %s (allow_lower): "
                               "TCP enters memory pressure at %d pages (%s) instead of %d (%s)"
                               % (" ".join(str(part) for part in planned), " ".join(str(part) for part in default),
                                  planned[1], gb_text(planned[1] * page), default[1], gb_text(default[1] * page)))


def rule_socket_buffers(ctx, key):
    """tcp_rmem / tcp_wmem: max = 2 x BDP on every kernel (window = space x scaling_ratio, ~0.5 since
    dfa2f0483360; the send buffer holds cwnd plus unsent data), at most tcp_mem max / 8. [1] is never
    lowered, except with allow_lower to fit the declared sockets into tcp_mem pressure."""
    host, work = ctx["host"], ctx["work"]
    page = host["page_size"]
    base = live(host, key) or kernel_default(host, key)
    tcp_mem = in_force(ctx, "net.ipv4.tcp_mem")
    cap = memory_rules.buffer_cap_bytes(tcp_mem[2], page)
    # with allow_lower the max follows 2 x BDP exactly (the kernel default may exceed a small tcp_mem / 8)
    need, reason, bdp, want = None, None, None, None
    compare = "exact" if work["allow_lower"] else "raise"
    if work["bandwidth_mbps"] is not None:
        bdp = int(work["bandwidth_mbps"] * 1e6 / 8 * work["rtt_ms"] / 1000)
        want = min(kd.roundup_pow2(2 * bdp), catalogue.INT_MAX)
        if want > cap:
            ctx["warnings"].append("%s: 2 x BDP = %d bytes but tcp_mem max holds %d bytes per socket (1/%d); capped"
                                   % (key, 2 * bdp, cap, memory_rules.SOCKET_BUFFER_SHARE))
            want = cap
        need = [base[0], base[1], max(want, base[1])]
        reason = workload_reason(work, ["bandwidth_mbps", "rtt_ms"],
                                 "BDP %g Mbit/s x %g ms = %d bytes; max = 2 x BDP rounded up to a power of two"
                                 % (work["bandwidth_mbps"], work["rtt_ms"], bdp))
    # ">=": on the next run the live max already equals the cap and must stay planned
    if (need or base)[2] >= cap and work["allow_lower"] and (need or "net.ipv4.tcp_mem" in ctx["wanted"]):
        top = max(cap, 4096)
        if need is None:
            reason = dependency_reason("tcp_mem max lowered to %d pages (allow_lower): a socket's max must stay "
                                       "within 1/%d of it" % (tcp_mem[2], memory_rules.SOCKET_BUFFER_SHARE))
        need = [min(part, top) for part in (need or base)]
    sockets = sockets_of(work)
    # Only the busy sockets hold buffers (an idle one holds none): the pressure is shared among them.
    busy = busy_sockets(work, sockets)
    busy_text = "%d busy sockets (busy_fraction %g of %d)" % (busy, work["busy_fraction"], sockets)
    share = tcp_mem[1] * page // busy if busy else None
    if key == "net.ipv4.tcp_rmem" and busy:
        wmem_middle = (live(host, "net.ipv4.tcp_wmem") or kd.tcp_wmem(host))[1]
        default_middle = kernel_default(host, key)[1]
        fitted = max(RMEM_DEFAULT_FLOOR, (share - wmem_middle) // 4096 * 4096)
        # Judged against the kernel default, not the live value: the next run, on the value this one
        # set, plans the same.
        if (work["allow_lower"] and default_middle + wmem_middle > share and fitted < default_middle
                and fitted <= base[1]):
            need = [base[0], fitted, (need or base)[2]]
            compare = "exact"
            reason = workload_reason(work, ["target_connections", "busy_fraction", "allow_lower"],
                                     "%s x (tcp_rmem[1] + tcp_wmem[1]) exceed tcp_mem pressure; "
                                     "allow_lower is true" % busy_text)
        elif base[1] + wmem_middle > share:
            ctx["warnings"].append(
                "tcp buffers: %s x default buffers (%d + %d bytes) = %s exceed tcp_mem pressure (%s); TCP then "
                "enters memory pressure (TcpExt.TCPMemoryPressures). tcp_rmem[1] is not lowered (it sets the "
                "initial receive window); with allow_lower it would be %d"
                % (busy_text, base[1], wmem_middle, gb_text(busy * (base[1] + wmem_middle)),
                   gb_text(tcp_mem[1] * page), fitted))
    plan_key(ctx, key, need, reason,
             "max = roundup_pow2(2 x BDP) on every kernel, at most tcp_mem max bytes / %d; min and default "
             "kept (default lowered only with allow_lower, not below %d)"
             % (memory_rules.SOCKET_BUFFER_SHARE, RMEM_DEFAULT_FLOOR),
             {"bdp_bytes": bdp, "needed_max": want, "cap_bytes": cap, "sockets": sockets, "busy_sockets": busy,
              "pressure_share_per_socket": share},
             "facts §10; dfa2f0483360 (scaling_ratio), a337531b942b (tcp_rmem[1] sets the initial window)",
             compare=compare)


def rule_core_mem_max(ctx, key):
    """net.core.rmem_max / wmem_max: raised only for declared SO_RCVBUF/SO_SNDBUF users
    (socket_buffer_bytes); TCP autotuning never reads them."""
    work = ctx["work"]
    size = work["socket_buffer_bytes"]
    reason = None
    if size is not None:
        reason = workload_reason(work, ["socket_buffer_bytes"],
                                 "applications set SO_RCVBUF/SO_SNDBUF up to %d bytes" % size)
    plan_key(ctx, key, size, reason, "socket_buffer_bytes when declared; otherwise the live value",
             {"socket_buffer_bytes": size},
             "facts §1; tcp_rcv_space_adjust is capped by tcp_rmem[2] only, rmem_max caps SO_RCVBUF")
