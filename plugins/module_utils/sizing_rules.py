# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sizing rules, one function each, reached from the catalogue: RULES[catalogue.get(key).rule];
REGISTRY gives the order they run in.

The policy (README "Do no harm: the policy"):
- a key changes only for a reason: a workload number (declared, or from the chosen preset) or a
  finding of tcp_facts with its evidence; otherwise the live value stays;
- a live value is never lowered unless allow_lower; explain shows what it would have been;
- planned text is the kernel's canonical form (merged reserved ports, port range ends of different parity);
- memory_rules caps what TCP may take.

Every rule takes the planning context ``ctx`` (host, work, explain, wanted, warnings, predicted,
in_force) and records its keys with ``plan_key``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, memory_rules
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_inputs import MAX_TARGET_CONNECTIONS, SizingInputError

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
# A SYN dropped on a full queue is retransmitted after TCP_TIMEOUT_INIT (1 s): the queue holds 1 s of arrivals.
WORST_CASE_ACCEPT_DELAY_SECONDS = 1.0
TW_BUCKETS_HEADROOM = 1.5
CONNTRACK_TIME_WAIT_SECONDS = 120  # nf_conntrack_tcp_timeout_time_wait
CONNTRACK_HEADROOM = 1.25
FD_HEADROOM_FRACTION = 0.10  # descriptors on top of the sockets (logs, pipes, epoll, ...)
EPOLL_WATCH_HEADROOM = 1.10  # watches on top of the sockets (pipes, timers, signalfds in the same event loops)
NOFILE_BASE = 1024
NOFILE_FLOOR = 65536
FILE_MAX_BASE = 65536
PORT_RANGE_HEADROOM = 1.25
PORT_RANGE_FLOOR = 1024
# With allow_lower only: tcp_rmem[1] is the initial receive window's space (a337531b942b, 4.19.86+);
# 65536 keeps the first window (about half of it) above a sender's IW10 (14600 B).
RMEM_DEFAULT_FLOOR = 65536
TXQUEUELEN_MIN = 1000
TXQUEUELEN_MAX = 10000
QDISC_USES_TXQUEUELEN = ("pfifo_fast", "pfifo", "bfifo")
# Listeners an ephemeral port inside the range would block with EADDRINUSE when they restart.
WELL_KNOWN_PORTS = (
    (10250, 10250, "kubelet"), (11211, 11211, "memcached"), (15001, 15001, "Istio outbound"),
    (15006, 15006, "Istio inbound"), (16379, 16379, "Redis cluster bus"), (27017, 27017, "MongoDB"),
    (30000, 32767, "Kubernetes NodePorts"),
)


# --- Reasons --------------------------------------------------------------------------------------

def workload_reason(work, options, detail):
    return {"kind": "workload", "detail": detail,
            "from": dict((option, work["sources"].get(option, "declared")) for option in options)}


def finding_reason(finding, detail):
    return {"kind": "finding", "detail": detail, "finding": finding.get("id"),
            "evidence": finding.get("evidence") or {}}


def dependency_reason(detail):
    return {"kind": "dependency", "detail": detail}


# --- Helpers --------------------------------------------------------------------------------------

def live(host, key):
    return host["sysctl"].get(key)


def kernel_default(host, key):
    row = catalogue.get(key)
    return row.kernel_default(host) if row.kernel_default else None


def settable(host, key):
    return skip_reason(host, key) is None


def skip_reason(host, key):
    reason = catalogue.absent_reason(catalogue.get(key), host["kernel"], host["in_init_netns"])
    return reason or host["sysctl_unavailable"].get(key)


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


def kernel_shape(limit):
    """tcp_init_mem's shape around a pressure of ``limit`` pages: {limit/4*3, limit, 2*(limit/4*3)}."""
    limit = max(int(limit), 128)
    return [limit // 4 * 3, limit, 2 * (limit // 4 * 3)]


def explain_entry(host, key, need=None, formula=None, inputs=None, source=None):
    """A key's ``explain`` entry before any decision: live value, kernel default, the rule's need."""
    return {"value": None, "live": live(host, key), "kernel_default": kernel_default(host, key), "needed": need,
            "formula": formula, "inputs": inputs if inputs is not None else {}, "source": source,
            "findings": list(catalogue.get(key).findings), "reason": None, "note": None}


def plan_key(ctx, key, need, reason, formula, inputs, source, compare="raise", persist=False):
    """Record ``key``: planned only with a reason, never below the live value unless allow_lower.

    compare: "raise" (element-wise max with the value in force) or "exact" (the rule already kept
    what is live: port ranges, reserved ports, enums). persist: keep the key in the plan even when it
    equals the live value (a limit depends on it; the sysctl.d file must keep it).
    Returns the value in force after the plan.
    """
    host, work = ctx["host"], ctx["work"]
    row = catalogue.get(key)
    entry = ctx["explain"][key] = explain_entry(host, key, need, formula, inputs, source)
    current, default = entry["live"], entry["kernel_default"]
    base = current if current is not None else default
    if need is None or reason is None:
        entry["note"] = "no declared workload number or finding asks for a change: the live value stays"
        return base
    floor = base
    if work["allow_lower"]:
        floor = default  # lowered, but never below the kernel's own default; rules lower further with "exact"
    if floor is None or compare == "exact":
        planned = need
    elif row.shape == catalogue.INT:
        planned = max(need, floor)
    else:
        planned = [max(mine, kept) for mine, kept in zip(need, floor)]
    if base is not None and compare == "raise" and not work["allow_lower"] and planned != need:
        entry["would_have_been"] = need
        entry["note"] = "not lowered: the live value is higher and allow_lower is false"
    # Live already equals exactly what this workload needs (an earlier run set it): keep it in the
    # plan, or the next run would rewrite the sysctl.d file without it and a reboot would undo it.
    # With allow_lower the planned value does not depend on the live one, so it is always kept, even
    # when it is the kernel default (it replaces a higher value that another file may set again).
    keep = persist or work["allow_lower"] or (planned == need and planned != default)
    if planned == base and not keep:
        entry["note"] = entry["note"] or "the value in force already meets the need"
        return base
    entry["value"] = planned
    entry["reason"] = reason
    ctx["wanted"][key] = planned
    return planned


# Units in which a smaller value is a smaller capacity (queues, buffers, memory, tables).
GROWING_UNITS = ("bytes", "pages", "count")


def _below_default(row, value, default):
    """The elements of ``value`` under the kernel's ``default`` (the policy never plans them without allow_lower)."""
    if default is None or row.shape not in (catalogue.INT, catalogue.TRIPLE) or row.unit not in GROWING_UNITS:
        return False
    if row.shape == catalogue.INT:
        return value < default
    return any(mine < kept for mine, kept in zip(value, default))


def keep_persisted(ctx):
    """Keep in the sysctl.d file each key an earlier run persisted that no rule plans now, so a re-run
    never drops it and the next boot does not undo it (I3):

    - live equals the file: kept in the plan (reason ``persisted``; writing it live changes nothing);
    - live differs (changed by hand, or a file applied later): kept in the file at the value it holds,
      without a live write (``persist_only``), and reported as drift by apply;
    - its module is not loaded now (conntrack): kept in the file, applied when the module loads.

    A kept value the current policy would not write (no workload number or finding asks for it now) is
    ``outdated``: reported with what the policy plans instead, and kept unless allow_lower (then the
    kernel default replaces it). An element below the kernel default, which the policy never plans, is
    raised back to it. Returns the keys kept in the plan."""
    host, work = ctx["host"], ctx["work"]
    kept = []
    for key, text in sorted((host.get("persisted") or {}).items()):
        if key in ctx["wanted"] or key in ctx["skip_wanted"] or key not in catalogue.CATALOGUE:
            continue
        row = catalogue.get(key)
        try:
            value = catalogue.coerce_value(row, text)
        except (TypeError, ValueError):
            continue  # not a value of this key: the file was edited by hand
        module = catalogue.module_of(key)
        current = live(host, key)
        if not settable(host, key):
            if module and not host["conntrack"].get("available"):
                ctx["persist_only"][key] = catalogue.format_value(row, value)
                ctx["notes"].append("%s = %s stays in the sysctl.d file: %s is not loaded now; it applies when the "
                                    "module loads" % (key, catalogue.format_value(row, value), module))
            continue
        entry = ctx["explain"].setdefault(key, explain_entry(host, key))
        default = kernel_default(host, key)
        # fs.nr_open and fs.file-max are not outdated while the limit files an earlier run kept depend on them.
        if entry.get("needed") is None and default is not None and value != default and row.rule != "rule_files":
            if _outdated(ctx, key, row, value, default) is None:
                continue  # planned by _outdated
        if current is None or catalogue.format_value(row, current) != catalogue.format_value(row, value):
            ctx["persist_only"][key] = catalogue.format_value(row, value)
            entry["note"] = ("persisted by an earlier run as %s; live is %s (changed since): kept in the file, not "
                             "written live" % (catalogue.format_value(row, value),
                                               catalogue.format_value(row, current) if current is not None else "absent"))
            continue
        entry["value"] = current
        entry["reason"] = entry.get("reason") or {
            "kind": "persisted",
            "detail": "%s = %s was persisted by an earlier run and is live: kept, so a reboot does not undo it "
                      "(state=absent reverts it; allow_lower lets a rule lower it)" % (key, catalogue.format_value(row, current))}
        ctx["wanted"][key] = current
        kept.append(key)
    return kept


def _outdated(ctx, key, row, value, default):
    """A persisted ``value`` no rule asks for now: flag it ``outdated``. Returns the value to keep in the
    file (None when the key is planned here: raised to the kernel default, or replaced under allow_lower)."""
    host, work = ctx["host"], ctx["work"]
    entry = ctx["explain"][key]
    entry["outdated"] = True
    text, default_text = catalogue.format_value(row, value), catalogue.format_value(row, default)
    if _below_default(row, value, default) or work["allow_lower"]:
        planned = default if work["allow_lower"] else catalogue.raised(row, value, default)
        entry["value"] = planned
        entry["reason"] = {"kind": "outdated",
                           "detail": "%s = %s was persisted by an earlier version; the current policy plans %s (%s)"
                                     % (key, text, catalogue.format_value(row, planned),
                                        "allow_lower is true" if work["allow_lower"]
                                        else "it never plans a value below the kernel default")}
        ctx["wanted"][key] = planned
        ctx["warnings"].append("%s: outdated value %s from an earlier run replaced by %s" %
                               (key, text, catalogue.format_value(row, planned)))
        return None
    ctx["warnings"].append("%s: outdated: %s was persisted by an earlier run, but no declared workload number or "
                           "finding asks for it now (the current policy plans the kernel default %s); kept, since it "
                           "is never lowered without allow_lower: true" % (key, text, default_text))
    return value


def in_force(ctx, key):
    """The value that will hold after the plan: planned where settable, else the live value."""
    host = ctx["host"]
    if key in ctx["wanted"] and settable(host, key):
        return ctx["wanted"][key]
    value = live(host, key)
    return value if value is not None else kernel_default(host, key)


def gb_text(number):
    """Bytes as the "N.NN GB" the plan's messages use."""
    return "%.2f GB" % (number / 1e9)


# --- Rules ----------------------------------------------------------------------------------------

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


def rule_backlogs(ctx):
    """somaxconn and tcp_max_syn_backlog: accept_rate x 1 s (power of two), or twice the kernel default on a
    listen_queue_overflow / syn_queue_pressure finding; syncookies on; kernel formulas per version."""
    host, work = ctx["host"], ctx["work"]
    kernel = tuple(host["kernel"])
    rate = work["accept_rate"] or 0
    queue = kd.roundup_pow2(int(math.ceil(rate * WORST_CASE_ACCEPT_DELAY_SECONDS))) if rate else None
    planned_any = False
    for key, finding_id in (("net.core.somaxconn", "listen_queue_overflow"),
                            ("net.ipv4.tcp_max_syn_backlog", "syn_queue_pressure")):
        need, reason = None, None
        if queue:
            need = queue
            reason = workload_reason(work, ["accept_rate"], "accept_rate %g/s x %.0f s = %d, rounded up to %d"
                                     % (rate, WORST_CASE_ACCEPT_DELAY_SECONDS, int(math.ceil(rate)), queue))
        finding = host["findings"].get(finding_id)
        default = kernel_default(host, key)
        if finding and (need is None or default * 2 > need):
            need = default * 2  # from the default: a since-boot finding must not double the value every run
            reason = finding_reason(finding, "%s seen: twice the kernel default %d" % (finding_id, default))
        if key == "net.core.somaxconn" and need is not None and kernel < (4, 1) and need > 65535:
            ctx["warnings"].append("net.core.somaxconn: %d wanted but kernels before 4.1 keep the backlog in 16 bits; "
                                   "capped at 65535" % need)
            need = 65535
        plan_key(ctx, key, need, reason,
                 "max(live, roundup_pow2(accept_rate x %.0f s)); kernel default %s"
                 % (WORST_CASE_ACCEPT_DELAY_SECONDS,
                    "4096 since 5.4, 128 before" if key == "net.core.somaxconn"
                    else "max(128, ehash/128) since 5.4, max(128, ehash/256) before"),
                 {"accept_rate": rate, "needed": need, "ehash_entries": kd.ehash_entries(host)},
                 "facts §4; the delay is one SYN retransmit timeout (1 s)")
        planned_any = planned_any or key in ctx["wanted"]
    cookies = live(host, "net.ipv4.tcp_syncookies")
    need, reason = None, None
    if cookies == 0 and (rate or host["findings"].get("syn_queue_pressure")):
        need = 1
        reason = workload_reason(work, ["accept_rate"], "syncookies keep accepting when the SYN queue is full")
    plan_key(ctx, "net.ipv4.tcp_syncookies", need, reason,
             "1 when syncookies are off and connections arrive; with cookies on tcp_max_syn_backlog matters "
             "only while the queue has room", {"live": cookies}, "facts §4", compare="exact")
    if planned_any:
        somaxconn = in_force(ctx, "net.core.somaxconn")
        ctx["warnings"].append(
            "listen backlog: the kernel uses min(listen() backlog, net.core.somaxconn); raise the application's "
            "backlog to %d (e.g. nginx 'listen ... backlog=%d') and restart the services: a socket keeps the "
            "backlog it was listen()ed with" % (somaxconn, somaxconn))


def usable_ports(port_range, reserved):
    """Ports of ``port_range`` not reserved; ``reserved`` merged (catalogue.merge_port_ranges): never negative."""
    low, high = port_range
    taken = sum(max(min(end, high) - max(start, low) + 1, 0) for start, end in reserved)
    return max(high - low + 1 - taken, 0)


def rule_reserved_ports(ctx):
    """ip_local_reserved_ports: live reservations plus the declared ones, merged and sorted (the kernel's form)."""
    host, work = ctx["host"], ctx["work"]
    key = "net.ipv4.ip_local_reserved_ports"
    try:
        live_ranges = catalogue.parse_port_ranges(live(host, key) or "")
    except ValueError:
        live_ranges = []
    merged = catalogue.merge_port_ranges(live_ranges + list(work["reserved_ports"]))
    ctx["reserved"] = merged
    need, reason = None, None
    if work["reserved_ports"]:
        need = catalogue.format_port_ranges(merged)
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
                               % (catalogue.format_port_ranges(work["reserved_ports"]), current[0], current[1]))
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
              "listening_ports": host["listening_ports"], "reserved": catalogue.format_port_ranges(reserved)},
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


def conntrack_entries(work):
    """Entries a workload keeps: every socket's flow, plus closed ones for 120 s."""
    close_rate = (work["accept_rate"] or 0) + (work["outbound_rate"] or 0)
    return sockets_of(work) + close_rate * CONNTRACK_TIME_WAIT_SECONDS


def rule_conntrack(ctx):
    """nf_conntrack_max = (sockets + close rate x 120 s) x 1.25, buckets the next power of two; only
    when conntrack is loaded; twice the kernel default on a conntrack_pressure finding."""
    host, work = ctx["host"], ctx["work"]
    if not host["conntrack"].get("available"):
        return
    tracked = conntrack_entries(work)
    need, reason = None, None
    if tracked:
        need = int(math.ceil(tracked * CONNTRACK_HEADROOM))
        reason = workload_reason(work, ["target_connections", "accept_rate", "outbound_rate"],
                                 "%d flows tracked (sockets + close rate x 120 s)" % tracked)
    default = kd.conntrack_max(host)
    finding = host["findings"].get("conntrack_pressure")
    if finding and (need is None or default * 2 > need):
        # from the default: a since-boot finding must not double the value on every run
        need, reason = default * 2, finding_reason(finding, "conntrack table nearly full: twice the kernel "
                                                   "default %d" % default)
    source = ("nf_conntrack_init_start (since 5.15, d532bcd0b269: >4 GB 262144, >1 GB 65536, else RAM/16384/8, "
              "max = buckets; before: 65536, 16384, RAM/16384/8, max = 4 x buckets)")
    formula = "(sockets + close rate x %d s) x %.2f" % (CONNTRACK_TIME_WAIT_SECONDS, CONNTRACK_HEADROOM)
    plan_key(ctx, "net.netfilter.nf_conntrack_max", need, reason, formula, {"tracked": tracked}, source)
    buckets = kd.roundup_pow2(need) if need else None
    plan_key(ctx, "net.netfilter.nf_conntrack_buckets", buckets, reason if buckets else None,
             "roundup_pow2(nf_conntrack_max): one entry per bucket, like the kernel default", {"max": need}, source)


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


def rule_epoll_watches(ctx):
    """fs.epoll.max_user_watches: one user's event loops may watch every declared socket (a server's
    accepted sockets, both sides of a proxy, a client's connects), sockets x 1.10, when that passes the
    value in force. The watches' memory is in PER_SOCKET_TABLE (measured with the sockets in epoll)."""
    host = ctx["host"]
    key = "fs.epoll.max_user_watches"
    sockets, _fit = sockets_that_fit(ctx)
    need = int(math.ceil(sockets * EPOLL_WATCH_HEADROOM)) if sockets else None
    reason = None
    if need:
        reason = workload_reason(ctx["work"], ["target_connections", "sockets_per_connection"],
                                 "%d sockets in one user's epoll instances need %d watches" % (sockets, need))
    formula = "max(live, sockets x %.2f)" % EPOLL_WATCH_HEADROOM
    source = ("fs/eventpoll.c: ep_insert() fails with ENOSPC once the user's epoll_watches reach max_user_watches; "
              "eventpoll_init(): default 4 % of RAM / EP_ITEM_COST")
    if settable(host, key):
        plan_key(ctx, key, need, reason, formula, {"sockets": sockets}, source)
        return
    in_force = live(host, key)
    if need and in_force is not None and need > in_force:
        ctx["skip_wanted"][key] = need
        ctx["warnings"].append("epoll: fs.epoll.max_user_watches is %d but %d sockets in one user's epoll instances "
                               "need %d; it is global: raise it on the host" % (in_force, sockets, need))


def rule_files(ctx):
    """nofile: login soft 1024 / hard H, services soft = hard = H; fs.nr_open and fs.file-max stay in
    the plan (persisted) whenever H or the files needed pass their kernel defaults."""
    host, work = ctx["host"], ctx["work"]
    sockets, fit = sockets_that_fit(ctx)
    if fit is not None:
        ctx["warnings"].append("files: limits sized for %d connections, the most that fit in %d %% of memory, "
                               "not for the %s asked" % (fit, SAFE_MEMORY_FRACTION * 100, work["target_connections"]))
    finding = host["findings"].get("fd_pressure")
    # Only a system-wide shortage (file-nr near fs.file-max, with its evidence) raises fs.file-max; a process near
    # its own soft limit, or a service with a low soft nofile (info), is what the nofile limits address.
    evidence = (finding or {}).get("evidence") or {}
    system_wide = finding if "files.allocated" in evidence and "files.max" in evidence else None
    if not sockets and not work["services"] and not finding:
        ctx["limits"] = {}
        ctx["explain"]["limits.nofile"] = {
            "value": None, "reason": None, "note": "no declared connections or services and no fd_pressure finding"}
        return
    per_process = sockets + int(math.ceil(sockets * FD_HEADROOM_FRACTION)) + NOFILE_BASE
    hard = min(max(NOFILE_FLOOR, int(math.ceil(per_process / 1024.0)) * 1024), catalogue.NR_OPEN_MAX)
    nr_open_live = host["files"].get("nr_open") or live(host, "fs.nr_open") or kd.NR_OPEN_DEFAULT
    if sockets:
        reason = workload_reason(work, ["target_connections", "sockets_per_connection"],
                                 "%d sockets in one process need %d descriptors" % (sockets, per_process))
    elif work["services"]:
        reason = workload_reason(work, ["services"], "services declared")
    elif system_wide:
        reason = finding_reason(finding, "the system file table is near fs.file-max (%s of %s allocated)"
                                % (evidence["files.allocated"], evidence["files.max"]))
    else:
        reason = finding_reason(finding, "a process is near its nofile soft limit, or a named service runs with a "
                                         "low soft nofile")
    nr_open = nr_open_live
    # Above the kernel default, or with a live nr_open someone lowered (a file that lowers it again at boot
    # would break logins under our limit): plan it and keep it persisted while the limit depends on it.
    if hard > kd.NR_OPEN_DEFAULT or nr_open_live <= min(hard, kd.NR_OPEN_DEFAULT - 1):
        dependency = dependency_reason("nofile hard %d needs fs.nr_open >= %d (live %d, kernel default %d); it must "
                                       "stay raised and persisted or logins fail after a reboot"
                                       % (hard, hard, nr_open_live, kd.NR_OPEN_DEFAULT))
        if settable(host, "fs.nr_open"):
            nr_open = plan_key(ctx, "fs.nr_open", max(hard, nr_open_live), dependency, "max(live, nofile hard)",
                               {"nofile_hard": hard}, "facts §7 (fs/file.c sysctl_nr_open)", persist=True)
        else:
            ctx["skip_wanted"]["fs.nr_open"] = max(hard, nr_open_live)
    if hard > nr_open:
        ctx["warnings"].append(
            "files: one process may need %d descriptors but fs.nr_open is %d and cannot be raised here; nofile "
            "stays at %d (a nofile above nr_open breaks PAM logins): spread the connections over at least %d "
            "processes or raise fs.nr_open on the host"
            % (hard, nr_open, nr_open, int(math.ceil(per_process / float(nr_open)))))
        hard = nr_open
    file_max_live = host["files"].get("max") or live(host, "fs.file-max") or kd.file_max(host)
    file_need = sockets + int(math.ceil(sockets * FD_HEADROOM_FRACTION)) + FILE_MAX_BASE
    if system_wide:
        file_need = max(file_need, kd.file_max(host) * 2)  # not the live value: it would double every run
    file_max = file_max_live
    if file_need > kd.file_max(host) or system_wide:
        dependency = dependency_reason("%d open files needed; the kernel default fs.file-max here is %d"
                                       % (file_need, kd.file_max(host)))
        if system_wide and file_need == kd.file_max(host) * 2:
            dependency = finding_reason(system_wide, "the system file table is near fs.file-max (%s of %s "
                                        "allocated): twice the kernel default %d"
                                        % (evidence["files.allocated"], evidence["files.max"], kd.file_max(host)))
        if settable(host, "fs.file-max"):
            file_max = plan_key(ctx, "fs.file-max", max(file_need, file_max_live), dependency,
                                "max(live, sockets x %.2f + %d)" % (1 + FD_HEADROOM_FRACTION, FILE_MAX_BASE),
                                {"sockets": sockets}, "facts §7 (files_maxfiles_init)", persist=True)
        elif file_need > file_max_live:
            ctx["skip_wanted"]["fs.file-max"] = file_need
            ctx["warnings"].append("files: fs.file-max is %d but %d sockets need about %d open files; it is "
                                   "global: raise it on the host" % (file_max_live, sockets, file_need))
    ctx["limits"] = {"login": {"soft": min(kd.FD_SETSIZE, hard), "hard": hard},
                     "services": {"soft": hard, "hard": hard}, "nr_open": nr_open, "file_max": file_max}
    ctx["predicted"].update({"files_needed": file_need, "file_max_current": file_max_live,
                             "file_max_suffices": file_need <= file_max, "nofile_needed_per_process": per_process,
                             "nr_open_current": nr_open_live, "nr_open_suffices": per_process <= nr_open})
    ctx["explain"]["limits.nofile"] = {
        "value": ctx["limits"], "reason": reason, "note": None,
        "formula": "hard = max(%d, roundup(sockets x %.2f + %d, 1024)), never above fs.nr_open; login sessions "
                   "keep soft %d (select()); services soft = hard"
                   % (NOFILE_FLOOR, 1 + FD_HEADROOM_FRACTION, NOFILE_BASE, kd.FD_SETSIZE),
        "inputs": {"sockets": sockets, "per_process_files": per_process, "nr_open_live": nr_open_live},
        "kernel_default": {"soft": 1024, "hard": 4096}, "source": "facts §7"}


def _effective_qdisc(root, leaves, default_qdisc):
    """The qdisc that holds the packets: an mq/mqprio root hands them to its per-queue leaves, which
    the facts read over rtnetlink; without them (fixtures, refused dump) the leaves are default_qdisc.
    Mixed leaves give "a/b", which no rule treats as sizing itself from txqueuelen."""
    if root not in ("mq", "mqprio"):
        return root
    kinds = sorted(set(leaves or [])) or ([default_qdisc] if default_qdisc else [])
    return "/".join(kinds) or None


def rule_txqueuelen(ctx):
    """txqueuelen: only for a declared bandwidth, only where the qdisc sizes itself from it
    (pfifo_fast/pfifo/bfifo, or mq over one of those), never lowered: clamp(speed Mbit/s, 1000, 10000)."""
    host, work = ctx["host"], ctx["work"]
    default_qdisc = live(host, "net.core.default_qdisc")
    out = {}
    for name, info in sorted(host["interfaces"].items()):
        speed, qdisc, current = info.get("speed_mbps"), info.get("qdisc"), info.get("txqueuelen") or 1000
        effective = _effective_qdisc(qdisc, info.get("qdisc_leaves"), default_qdisc)
        value, reason, note = None, None, None
        if work["bandwidth_mbps"] is None:
            note = "no declared bandwidth"
        elif info.get("virtual"):
            note = "virtual interface"
        elif effective not in QDISC_USES_TXQUEUELEN:
            note = "qdisc %s does not size itself from txqueuelen" % (effective or "unknown")
        elif not speed:
            note = "speed unknown"
        else:
            wanted = int(min(max(speed, TXQUEUELEN_MIN), TXQUEUELEN_MAX))
            if wanted > current:
                value = wanted
                reason = workload_reason(work, ["bandwidth_mbps"], "bulk flows at %g Mbit/s on a %s link queue"
                                         % (work["bandwidth_mbps"], effective))
                out[name] = value
            else:
                note = "live %d already meets %d" % (current, wanted)
        ctx["explain"]["txqueuelen.%s" % name] = {
            "value": value, "live": info.get("txqueuelen"), "kernel_default": 1000, "reason": reason, "note": note,
            "formula": "clamp(speed in Mbit/s, %d, %d) packets (~12 ms of 1500-byte packets at line rate)"
                       % (TXQUEUELEN_MIN, TXQUEUELEN_MAX),
            "inputs": {"speed_mbps": speed, "qdisc": qdisc, "qdisc_leaves": info.get("qdisc_leaves") or [],
                       "default_qdisc": default_qdisc},
            "source": "facts §8 (pfifo_fast sizes from tx_queue_len; fq_codel, fq, cake do not)"}
    ctx["txqueuelen"] = out


# The one registry: every rule, in the order the plan runs them, with the keys a per-key rule is called
# for (None: the rule takes only ctx). A catalogue row's ``rule`` is a name here; RULES is the lookup.
REGISTRY = (
    (rule_tcp_mem, None),
    (rule_socket_buffers, ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")),
    (rule_core_mem_max, ("net.core.rmem_max", "net.core.wmem_max")),
    (rule_backlogs, None),
    (rule_reserved_ports, None),
    (rule_tw_reuse, None),
    (rule_port_range, None),
    (rule_tw_buckets, None),
    (rule_conntrack, None),
    (rule_files, None),
    (rule_epoll_watches, None),
    (rule_txqueuelen, None),
)
RULES = dict((rule.__name__, rule) for rule, _keys in REGISTRY)


def run_rules(ctx):
    """Every registered rule, in REGISTRY order."""
    for rule, keys in REGISTRY:
        if keys is None:
            rule(ctx)
        else:
            for key in keys:
                rule(ctx, key)


def rule_for(key):
    """The function that sizes ``key`` (catalogue row -> RULES), or None when the plan never sets it."""
    name = catalogue.get(key).rule
    return RULES[name] if name else None
