# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules for ports and TIME_WAIT: ip_local_reserved_ports, tcp_tw_reuse, ip_local_port_range,
tcp_max_tw_buckets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import memory_rules, port_ranges
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_inputs import SizingInputError
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_memory import (
    TIME_WAIT_SECONDS, effective_memory)
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import (
    finding_reason, in_force, kernel_default, live, plan_key, workload_reason)

TW_BUCKETS_HEADROOM = 1.5
PORT_RANGE_HEADROOM = 1.25
PORT_RANGE_FLOOR = 1024
# Listeners an ephemeral port inside the range would block with EADDRINUSE when they restart.
WELL_KNOWN_PORTS = (
    (10250, 10250, "kubelet"), (11211, 11211, "memcached"), (15001, 15001, "Istio outbound"),
    (15006, 15006, "Istio inbound"), (16379, 16379, "Redis cluster bus"), (27017, 27017, "MongoDB"),
    (30000, 32767, "Kubernetes NodePorts"),
)


def usable_ports(port_range, reserved):
    """Ports of ``port_range`` not reserved; ``reserved`` merged (port_ranges.merge_port_ranges): never negative."""
    low, high = port_range
    taken = sum(max(min(end, high) - max(start, low) + 1, 0) for start, end in reserved)
    return max(high - low + 1 - taken, 0)


def rule_reserved_ports(ctx):
    """ip_local_reserved_ports: live reservations plus the declared ones, merged and sorted (the kernel's form)."""
    host, work = ctx["host"], ctx["work"]
    key = "net.ipv4.ip_local_reserved_ports"
    try:
        live_ranges = port_ranges.parse_port_ranges(live(host, key) or "")
    except ValueError:
        live_ranges = []
    merged = port_ranges.merge_port_ranges(live_ranges + list(work["reserved_ports"]))
    ctx["reserved"] = merged
    need, reason = None, None
    if work["reserved_ports"]:
        need = port_ranges.format_port_ranges(merged)
        reason = workload_reason(work, ["reserved_ports"], "declared listening ports kept out of connect()/bind(0)")
    plan_key(ctx, key, need, reason, "live reservations + reserved_ports, merged and sorted as the kernel reads "
             "them back (8080,8081,8082 -> 8080-8082)", {"reserved_ports": work["reserved_ports"]},
             "facts §5", compare="exact")


def _timestamps_on(host):
    value = live(host, "net.ipv4.tcp_timestamps")
    return (1 if value is None else value) == 1, value


def rule_tw_reuse(ctx):
    """tcp_tw_reuse=1 only when the declared outbound rate needs more ports than the range gives in
    60 s, and only with tcp_timestamps=1 here (tcp_twsk_unique needs the peer's timestamps too)."""
    host, work = ctx["host"], ctx["work"]
    key = "net.ipv4.tcp_tw_reuse"
    rate = work["outbound_rate"] or 0
    ts_on, ts_value = _timestamps_on(host)
    current = live(host, key)
    if current is None:
        current = kernel_default(host, key)
    port_range = live(host, "net.ipv4.ip_local_port_range") or kernel_default(host, "net.ipv4.ip_local_port_range")
    usable = usable_ports(port_range, ctx["reserved"])
    need_ports = rate * TIME_WAIT_SECONDS * PORT_RANGE_HEADROOM
    need, reason = None, None
    if work["tw_reuse"] is True:
        need = 1
        reason = workload_reason(work, ["tw_reuse"], "tw_reuse declared")
    elif work["tw_reuse"] is None and rate and need_ports > usable:
        if ts_on:
            need = 1
            reason = workload_reason(work, ["outbound_rate"],
                                     "outbound_rate %g/s x 60 s x %.2f = %d ports > %d usable ports"
                                     % (rate, PORT_RANGE_HEADROOM, need_ports, usable))
        else:
            ctx["warnings"].append("tcp_tw_reuse: not planned: tcp_timestamps is %s here, and tcp_twsk_unique "
                                   "reuses a TIME_WAIT socket only when timestamps are on at both ends" % ts_value)
    plan_key(ctx, key, need, reason,
             "1 when outbound_rate x 60 s x %.2f exceeds the usable ports and tcp_timestamps=1; it lets only "
             "outgoing connect() take a TIME_WAIT 4-tuple older than tcp_tw_reuse_delay, and needs the PEER's "
             "timestamps too (many Windows peers have them off): the predicted rate is an upper bound. "
             "2 (loopback only) is the default since 4.18" % PORT_RANGE_HEADROOM,
             {"outbound_rate": rate, "usable_ports": usable, "tcp_timestamps": ts_value},
             "facts §3 (tcp_twsk_unique); 79e9fed46038", compare="exact")
    reuse = in_force(ctx, key)
    ctx["reuse_active"] = reuse == 1 and ts_on
    ctx["reuse_delay_ms"] = live(host, "net.ipv4.tcp_tw_reuse_delay") or 1000


def _fix_parity(low, high, old_low, old_high, floor, ceiling):
    if low % 2 != high % 2:
        return low, high
    if high > old_high:
        return low, high - 1 if high - 1 >= old_high else high
    if low < old_low:
        return (low + 1, high) if low + 1 <= old_low else (low, high)
    if high + 1 <= ceiling:
        return low, high + 1
    return (low - 1, high) if low - 1 >= floor else (low, high)


def _widened(start, need_ports, reserved, listening_ports):
    """``start`` widened until ``need_ports`` are usable: up to 65535 first, then down, never below
    PORT_RANGE_FLOOR, never over a listening port that is not reserved; ends of different parity."""
    blockers = [port for port in listening_ports if not any(low <= port <= high for low, high in reserved)]
    ceiling = min([port for port in blockers if port > start[1]] + [65536]) - 1
    floor = max([port for port in blockers if port < start[0]] + [PORT_RANGE_FLOOR - 1]) + 1
    high = min(ceiling, start[1] + (need_ports - usable_ports(start, reserved)))
    deficit = need_ports - usable_ports([start[0], high], reserved)
    low = max(floor, start[0] - max(deficit, 0))
    return list(_fix_parity(low, high, start[0], start[1], floor, ceiling)), floor, ceiling


def rule_port_range(ctx):
    """ip_local_port_range: widened only when the declared outbound rate needs more ports
    (rate x 60 s, or x tcp_tw_reuse_delay with tw_reuse and timestamps), never over a listening
    port, never below 1024, ends of different parity; a warning names well-known ports inside.
    The widening starts from the kernel default, so the next run, on the range this one set, plans it again."""
    host, work = ctx["host"], ctx["work"]
    key = "net.ipv4.ip_local_port_range"
    rate = work["outbound_rate"] or 0
    default = list(kernel_default(host, key))
    current = list(live(host, key) or default)
    reserved = ctx["reserved"]
    usable_now = usable_ports(current, reserved)
    if work["reserved_ports"] and usable_now == 0:
        raise SizingInputError("reserved_ports: %s cover every port of ip_local_port_range %d-%d; connect() would "
                               "fail with EADDRNOTAVAIL. Rule: leave at least one ephemeral port unreserved"
                               % (port_ranges.format_port_ranges(work["reserved_ports"]), current[0], current[1]))
    window = ctx["reuse_delay_ms"] / 1000.0 if ctx["reuse_active"] else float(TIME_WAIT_SECONDS)
    need_ports = int(math.ceil(rate * window * PORT_RANGE_HEADROOM))
    usable_default = usable_ports(default, reserved)
    need, reason = None, None
    planned = current
    widened, floor, ceiling = default, PORT_RANGE_FLOOR, 65535
    if rate and need_ports > usable_default:
        widened, floor, ceiling = _widened(default, need_ports, reserved, host["listening_ports"])
    if rate and widened != default and current == widened:
        need = current  # an earlier run widened it for this rate: keep it planned (and persisted)
    elif rate and need_ports > usable_now:
        low, high = min(current[0], widened[0]), max(current[1], widened[1])
        newly_covered = [port for port in host["listening_ports"] if low <= port <= high
                         and not current[0] <= port <= current[1]
                         and not any(start <= port <= end for start, end in reserved)]
        if widened == default or newly_covered or current[0] > widened[1] + 1 or widened[0] > current[1] + 1:
            # the default is enough, or joining the live range and the default's widening would cover a
            # listening port or the ports between them: widen the live range itself
            widened, floor, ceiling = _widened(current, need_ports, reserved, host["listening_ports"])
            low, high = min(current[0], widened[0]), max(current[1], widened[1])
        low, high = _fix_parity(low, high, current[0], current[1], floor, ceiling)
        if [low, high] != current:
            need = [low, high]
    if need is not None:
        planned = need
        low, high = need
        reason = workload_reason(work, ["outbound_rate"],
                                 "outbound_rate %g/s x %g s x %.2f = %d ports; %d usable in the kernel default "
                                 "%d-%d" % (rate, window, PORT_RANGE_HEADROOM, need_ports, usable_default,
                                            default[0], default[1]))
        if planned != current:
            inside = ["%s %s" % (name, str(start) if start == end else "%d-%d" % (start, end))
                      for start, end, name in WELL_KNOWN_PORTS
                      if start <= high and end >= low and not (start <= current[1] and end >= current[0])
                      and not any(r_start <= start and end <= r_end for r_start, r_end in reserved)]
            if inside:
                ctx["warnings"].append(
                    "ip_local_port_range: %d-%d takes in well-known listener ports (%s); an outbound socket on "
                    "one of them makes that service fail with EADDRINUSE when it restarts: list them in "
                    "reserved_ports if they are used here" % (low, high, ", ".join(inside)))
    plan_key(ctx, key, need, reason,
             "widened (never below %d, never over a listening port, never narrowed) only when outbound_rate x "
             "%g s x %.2f exceeds the usable ports; ends of different parity (connect() prefers the parity of "
             "the start, bind(0) the other)" % (PORT_RANGE_FLOOR, window, PORT_RANGE_HEADROOM),
             {"outbound_rate": rate, "needed_ports": need_ports, "usable_ports_now": usable_now,
              "usable_ports_kernel_default": usable_default,
              "listening_ports": host["listening_ports"], "reserved": port_ranges.format_port_ranges(reserved)},
             "facts §3, §5; 07f4c90062f8 (parity)", compare="exact")
    usable = usable_ports(planned, reserved)
    plan_rate = usable / window
    ctx["predicted"].update({
        "sustainable_outbound_rate_per_destination": round(plan_rate, 1),
        "sustainable_outbound_rate_per_destination_current": round(usable_now / window, 1),
        "sustainable_outbound_rate_per_destination_kernel_default": round(
            usable_ports(kernel_default(host, key), []) / float(TIME_WAIT_SECONDS), 1),
        "sustainable_outbound_rate_is_upper_bound": ctx["reuse_active"],
        "outbound_rate": rate, "outbound_rate_met": plan_rate >= rate, "usable_ephemeral_ports": usable,
    })
    if rate and plan_rate < rate:
        ctx["warnings"].append(
            "outbound: %g new connections/s to one destination ip:port cannot be sustained; this plan allows about "
            "%.0f/s (%d usable ports / %g s). Use more source IP addresses (IP_BIND_ADDRESS_NO_PORT), spread over "
            "more destination ports/addresses, or reuse connections (keep-alive, pooling). Shortening "
            "tcp_fin_timeout does not help: TIME_WAIT is fixed at 60 s." % (rate, plan_rate, usable, window))


def rule_tw_buckets(ctx):
    """tcp_max_tw_buckets: (accept_rate + outbound_rate) x 60 s x 1.5, or twice the default on time_wait_overflow,
    never above memory_rules.tw_buckets_cap (established hash and memory)."""
    host, work = ctx["host"], ctx["work"]
    key = "net.ipv4.tcp_max_tw_buckets"
    close_rate = (work["accept_rate"] or 0) + (work["outbound_rate"] or 0)
    need, reason = None, None
    if close_rate:
        need = int(math.ceil(close_rate * TIME_WAIT_SECONDS * TW_BUCKETS_HEADROOM))
        reason = workload_reason(work, ["accept_rate", "outbound_rate"],
                                 "%g connections/s close, each may leave a TIME_WAIT socket for 60 s" % close_rate)
    finding = host["findings"].get("time_wait_overflow")
    default = kernel_default(host, key)
    if finding and (need is None or default * 2 > need):
        # from the default: a since-boot finding must not double the value on every run
        need, reason = default * 2, finding_reason(finding, "TIME_WAIT overflow seen: twice the kernel default %d"
                                                   % default)
    ehash = kd.ehash_entries(host)
    cap = memory_rules.tw_buckets_cap(effective_memory(host), ehash)
    if need is not None and need > cap:
        ctx["warnings"].append("net.ipv4.tcp_max_tw_buckets: %d wanted, capped at %d (%d per established hash "
                               "bucket x %d, and %d %% of memory at %d B each)"
                               % (need, cap, memory_rules.TW_PER_EHASH_BUCKET, ehash,
                                  memory_rules.TW_MEMORY_SHARE * 100, memory_rules.TW_SOCK_BYTES))
        need = cap
    plan_key(ctx, key, need, reason,
             "close rate x 60 s x %.1f, at most min(%d x ehash entries, %d %% of memory / 256 B)"
             % (TW_BUCKETS_HEADROOM, memory_rules.TW_PER_EHASH_BUCKET, memory_rules.TW_MEMORY_SHARE * 100),
             {"close_rate": close_rate, "ehash_entries": ehash, "cap": cap},
             "facts §3 (TIME_WAIT 60 s; default ehash/2)")
