# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host + workload -> tuning plan. Pure and deterministic: reads nothing, writes nothing.

One small function per rule; each returns its value and its ``explain`` entry.
Numbers and their sources: docs/kernel-tcp-facts.md (cited as "facts §N")
and docs/profiles.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue

# --- Constants (each one is a policy choice or a kernel fact; the comment says which) -------------

# Share of RAM that kernel memory for sockets plus TCP buffers may reach before the plan is
# called infeasible. The rest is left to the applications, the page cache and the kernel.
SAFE_RAM_FRACTION = 0.80
# Hard cap of tcp_mem[2] (max) whatever the budget says: TCP buffers never get more than half of RAM.
TCP_MEM_HARD_CAP_FRACTION = 0.50
# One socket may not grow its buffer beyond this share of tcp_mem[2] (caps BDP-derived maxima).
SOCKET_BUFFER_BUDGET_SHARE = 8
# Memory per idle ESTABLISHED socket incl. tcp_sock, sock_inode, dentry, filp, LSM, epoll.
# 6.x: measured 4.7 KB on 6.18 for 2 009 502 loopback sockets (facts §11; §6 gives 3970 B without
# epoll, ~4.1 KB with it, for 19 000 sockets). Older kernels: not measured; the seed article's
# 3.2 KB plus the ~0.8 KB of file/dentry/inode from §6, rounded up (unverified).
PER_SOCKET_BYTES = (
    ((6, 0), 4700, "measured on Linux 6.18: 9.44 GB slab for 2 009 502 loopback sockets (facts §11)"),
    ((0, 0), 4000, "not measured: 3.2 KB tcp_sock era estimate + file/dentry/inode (facts §6), unverified"),
)
# The kernel will not let buffers use more than tcp_mem[2]; the rest of the defaults:
TIME_WAIT_SECONDS = 60  # TCP_TIMEWAIT_LEN, not tunable (facts §3)
TW_SOCK_BYTES = 256  # tw_sock_TCP object size (facts §6)
# A SYN dropped on a full queue is retransmitted after TCP_TIMEOUT_INIT (1 s), so the queue must
# hold one second of arrivals to avoid adding 1 s (then 3 s, 7 s) to connection setup.
WORST_CASE_ACCEPT_DELAY_SECONDS = 1.0
TW_BUCKETS_HEADROOM = 1.5
# conntrack keeps closed connections for nf_conntrack_tcp_timeout_time_wait (120 s default).
CONNTRACK_TIME_WAIT_SECONDS = 120
CONNTRACK_HEADROOM = 1.25
FD_HEADROOM_FRACTION = 0.10  # extra descriptors on top of the sockets (logs, pipes, epoll, ...)
NOFILE_BASE = 1024  # descriptors a process needs besides its sockets
NOFILE_FLOOR = 65536  # never plan a service limit below this
FILE_MAX_BASE = 65536  # system-wide files besides the target sockets
LOGIN_NOFILE_SOFT = 1024  # select() cannot handle fds >= 1024; login shells keep soft 1024
PLAN_PORT_RANGE = (10240, 65000)  # facts §11: 1500/s sustained with tw_reuse=1 and this range
PORT_RANGE_HEADROOM = 1.25
RMEM_DEFAULT_FLOOR = 16384  # tcp_rmem[1] is never lowered below this by the fit rule
TXQUEUELEN_MIN = 1000  # Ethernet default
TXQUEUELEN_MAX = 10000
# qdiscs that do not size themselves from dev->tx_queue_len (facts §8)
QDISC_IGNORES_TXQUEUELEN = ("fq_codel", "fq", "cake", "noqueue")
MAX_TARGET_CONNECTIONS = 100000000

MIB = 1024 * 1024

# --- Profiles -------------------------------------------------------------------------------------

WORKLOAD_OPTIONS = ("target_connections", "accept_rate", "outbound_rate", "bandwidth_mbps", "rtt_ms",
                    "memory_budget_percent", "reserved_ports", "allow_lower", "sockets_per_connection",
                    "tw_reuse")

PROFILES = {
    "balanced": {
        "description": "General server: moderate inbound and outbound traffic.",
        "target_connections": 10000, "accept_rate": 500, "outbound_rate": 100,
        "bandwidth_mbps": None, "rtt_ms": None, "memory_budget_percent": 20, "tw_reuse": False,
    },
    "high_concurrency_server": {
        "description": "Many mostly idle inbound connections (websocket, chat, push, MQTT).",
        # Its worst burst is the reconnect storm after a restart or failover: a tenth of the
        # 200 000 clients coming back each second, so the accept queue is sized for 20 000/s.
        "target_connections": 200000, "accept_rate": 20000, "outbound_rate": 0,
        "bandwidth_mbps": None, "rtt_ms": None, "memory_budget_percent": 25, "tw_reuse": False,
    },
    "outbound_client": {
        "description": "Opens many short connections to few backends (crawlers, API clients, load generators).",
        "target_connections": 20000, "accept_rate": 0, "outbound_rate": 1000,
        "bandwidth_mbps": None, "rtt_ms": None, "memory_budget_percent": 20, "tw_reuse": True,
    },
    "proxy": {
        "description": "Accepts from clients and connects to backends (both directions).",
        "target_connections": 100000, "accept_rate": 5000, "outbound_rate": 1000,
        "bandwidth_mbps": None, "rtt_ms": None, "memory_budget_percent": 25, "tw_reuse": True,
    },
    "bulk_transfer": {
        "description": "Few long fast flows over long paths (backup, replication, data transfer).",
        "target_connections": 1000, "accept_rate": 100, "outbound_rate": 100,
        "bandwidth_mbps": 10000, "rtt_ms": 100, "memory_budget_percent": 40, "tw_reuse": False,
    },
}
DEFAULT_PROFILE = "balanced"


class SizingInputError(ValueError):
    """Bad host or workload input. The message names the option and the rule it breaks."""


# --- Input validation -----------------------------------------------------------------------------

def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_int(name, value, minimum, maximum=None):
    if not isinstance(value, int) or isinstance(value, bool):
        raise SizingInputError("%s: must be an integer, got %s %r" % (name, type(value).__name__, value))
    if value < minimum:
        rule = "a positive integer (> 0)" if minimum == 1 else "an integer >= %d" % minimum
        raise SizingInputError("%s: must be %s, got %d" % (name, rule, value))
    if maximum is not None and value > maximum:
        raise SizingInputError("%s: must be at most %d, got %d" % (name, maximum, value))
    return value


def _require_rate(name, value):
    if not _is_number(value):
        raise SizingInputError("%s: must be a number (per second), got %s %r" % (name, type(value).__name__, value))
    if value < 0 or math.isnan(value) or math.isinf(value):
        raise SizingInputError("%s: must be a finite number >= 0, got %r" % (name, value))
    return value


def _require_positive(name, value):
    if not _is_number(value):
        raise SizingInputError("%s: must be a number, got %s %r" % (name, type(value).__name__, value))
    if not value > 0 or math.isinf(value):
        raise SizingInputError("%s: must be a finite number > 0, got %r" % (name, value))
    return value


def _port_items(value):
    """reserved_ports -> sorted list of (low, high) tuples. Accepts ints, '8080' and '8000-8100'."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise SizingInputError("reserved_ports: must be a list of ports or 'low-high' ranges, got %r" % (value,))
    items = []
    for item in value:
        if isinstance(item, bool):
            raise SizingInputError("reserved_ports: %r is not a port" % (item,))
        if isinstance(item, int):
            bounds = [item]
        elif isinstance(item, str) and all(part.strip().isdigit() for part in item.split("-")) \
                and len(item.split("-")) <= 2:
            bounds = [int(part) for part in item.split("-")]
        else:
            raise SizingInputError("reserved_ports: %r is not a port or a 'low-high' range" % (item,))
        if not all(1 <= bound <= 65535 for bound in bounds):
            raise SizingInputError("reserved_ports: %r is outside 1..65535" % (item,))
        if bounds[0] > bounds[-1]:
            raise SizingInputError("reserved_ports: %r must be low-high with low <= high" % (item,))
        items.append((bounds[0], bounds[-1]))
    return sorted(set(items))


def resolve_workload(workload):
    """Profile defaults + explicit options -> a validated workload dict.

    ``workload`` keys: profile and any of WORKLOAD_OPTIONS; None means "take the profile's value".
    Raises SizingInputError naming the option and the rule.
    """
    workload = dict(workload or {})
    unknown = sorted(set(workload) - set(WORKLOAD_OPTIONS) - {"profile"})
    if unknown:
        raise SizingInputError("%s: unknown workload option(s); known: profile, %s"
                               % (", ".join(unknown), ", ".join(WORKLOAD_OPTIONS)))
    profile = workload.get("profile") or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise SizingInputError("profile: must be one of %s, got %r" % (", ".join(sorted(PROFILES)), profile))
    resolved = dict((key, value) for key, value in PROFILES[profile].items() if key != "description")
    resolved.update({"profile": profile, "reserved_ports": [], "allow_lower": False, "sockets_per_connection": 1})
    for key in WORKLOAD_OPTIONS:
        if workload.get(key) is not None:
            resolved[key] = workload[key]

    _require_int("target_connections", resolved["target_connections"], 1, MAX_TARGET_CONNECTIONS)
    _require_rate("accept_rate", resolved["accept_rate"])
    _require_rate("outbound_rate", resolved["outbound_rate"])
    budget = resolved["memory_budget_percent"]
    if not _is_number(budget):
        raise SizingInputError("memory_budget_percent: must be a number, got %s %r" % (type(budget).__name__, budget))
    if not 0 < budget <= 90:
        raise SizingInputError("memory_budget_percent: must be above 0 and at most 90 (percent of RAM), got %r"
                               % (budget,))
    bandwidth, rtt = resolved["bandwidth_mbps"], resolved["rtt_ms"]
    if (bandwidth is None) != (rtt is None):
        given, missing = ("rtt_ms", "bandwidth_mbps") if bandwidth is None else ("bandwidth_mbps", "rtt_ms")
        raise SizingInputError("%s: given without %s; the bandwidth-delay product needs both" % (given, missing))
    if bandwidth is not None:
        _require_positive("bandwidth_mbps", bandwidth)
        _require_positive("rtt_ms", rtt)
    resolved["reserved_ports"] = _port_items(resolved["reserved_ports"])
    for key in ("allow_lower", "tw_reuse"):
        if not isinstance(resolved[key], bool):
            raise SizingInputError("%s: must be a boolean, got %s %r" % (key, type(resolved[key]).__name__, resolved[key]))
    spc = resolved["sockets_per_connection"]
    if isinstance(spc, bool) or spc not in (1, 2):
        raise SizingInputError("sockets_per_connection: must be 1 (peer elsewhere) or 2 (both ends on this host), "
                               "got %r" % (spc,))
    return resolved


# --- Host -----------------------------------------------------------------------------------------

HOST_OVERRIDES = ("memory_bytes", "page_size", "cpus", "kernel_release", "interfaces", "in_init_netns",
                  "sysctl", "sysctl_unavailable", "conntrack_available")


def host_from_facts(facts, overrides=None):
    """``ansible_facts.tcp`` (may be None or partial) + overrides -> the host dict compute_plan takes.

    overrides: memory_bytes, page_size, cpus, kernel_release, interfaces {name: speed_mbps or None},
    in_init_netns, sysctl {key: value}, sysctl_unavailable {key: reason}, conntrack_available.
    None values are ignored.
    """
    facts = facts or {}
    overrides = dict((key, value) for key, value in (overrides or {}).items() if value is not None)
    unknown = sorted(set(overrides) - set(HOST_OVERRIDES))
    if unknown:
        raise SizingInputError("%s: unknown host override(s); known: %s" % (", ".join(unknown), ", ".join(HOST_OVERRIDES)))
    kernel = facts.get("kernel") or {}
    namespace = facts.get("namespace") or {}
    files = facts.get("files") or {}
    conntrack = facts.get("conntrack") or {}
    host = {
        "memory_bytes": overrides.get("memory_bytes", kernel.get("mem_total_bytes")),
        "page_size": overrides.get("page_size", kernel.get("page_size") or 4096),
        "cpus": overrides.get("cpus", kernel.get("cpus") or 1),
        "kernel_release": overrides.get("kernel_release", kernel.get("release")),
        "in_init_netns": overrides.get("in_init_netns", namespace.get("init_netns", True)),
        "sysctl": dict(facts.get("sysctl") or {}),
        "sysctl_unavailable": dict(facts.get("sysctl_unavailable") or {}),
        "files": {"max": files.get("max"), "nr_open": files.get("nr_open"), "allocated": files.get("allocated")},
        "conntrack": {"available": bool(overrides.get("conntrack_available", conntrack.get("available", False))),
                      "max": conntrack.get("max"), "buckets": conntrack.get("buckets")},
        "interfaces": {},
    }
    host["sysctl"].update(overrides.get("sysctl", {}))
    host["sysctl_unavailable"].update(overrides.get("sysctl_unavailable", {}))
    for name, info in sorted((facts.get("interfaces") or {}).items()):
        host["interfaces"][name] = {"speed_mbps": info.get("speed_mbps"), "virtual": bool(info.get("virtual")),
                                    "qdisc": info.get("qdisc")}
    for name, speed in sorted(overrides.get("interfaces", {}).items()):
        entry = host["interfaces"].setdefault(name, {"virtual": name == "lo" or speed is None, "qdisc": None})
        entry["speed_mbps"] = speed
    return validate_host(host)


def validate_host(host):
    """Check and complete a host dict; raises SizingInputError naming the field and the rule."""
    host = dict(host)
    if host.get("memory_bytes") is None:
        raise SizingInputError("memory_bytes: unknown; pass facts from tcp_facts or the memory_bytes option")
    _require_int("memory_bytes", host["memory_bytes"], 64 * MIB)
    page_size = _require_int("page_size", host.get("page_size", 4096), 4096)
    if page_size & (page_size - 1):
        raise SizingInputError("page_size: must be a power of two, got %d" % page_size)
    _require_int("cpus", host.get("cpus", 1), 1)
    release = host.get("kernel_release")
    if not isinstance(release, str) or catalogue.parse_kernel_release(release) == (0, 0, 0):
        raise SizingInputError("kernel_release: must look like '6.1.0-18-amd64', got %r" % (release,))
    host["kernel"] = list(catalogue.parse_kernel_release(release))
    host.setdefault("in_init_netns", True)
    host.setdefault("sysctl", {})
    host.setdefault("sysctl_unavailable", {})
    host.setdefault("files", {})
    host.setdefault("conntrack", {"available": False})
    interfaces = {}
    for name, info in sorted((host.get("interfaces") or {}).items()):
        speed = info.get("speed_mbps")
        if speed is not None and (not _is_number(speed) or speed < 0):
            raise SizingInputError("interfaces: speed of %s must be a number of Mbit/s >= 0, got %r" % (name, speed))
        interfaces[name] = {"speed_mbps": speed if speed else None, "virtual": bool(info.get("virtual")),
                            "qdisc": info.get("qdisc")}
    host["interfaces"] = interfaces
    return host


# --- Kernel defaults (what an untuned kernel of this version on this RAM would use) ---------------

def _kernel_tcp_mem(ram_pages):
    """tcp_init_mem(): limit = max(nr_free_buffer_pages/16, 128) (facts §1)."""
    limit = max(ram_pages // 16, 128)
    return [limit // 4 * 3, limit, 2 * (limit // 4 * 3)]


def _kernel_ehash_entries(memory_bytes):
    """alloc_large_system_hash("TCP established", scale 17, high limit 512K): ~RAM/128 KiB, power of two."""
    return min(_roundup_pow2(max(memory_bytes // 131072, 1)), 524288)


def _kernel_rmem(kernel, memory_bytes):
    limit = memory_bytes // 128  # nr_free_buffer_pages << (PAGE_SHIFT-7), approximated by MemTotal
    ceiling = 32 * MIB if tuple(kernel) >= (6, 16) else 6 * MIB
    middle = 131072 if tuple(kernel) >= (4, 19) else 87380
    return [4096, middle, max(131072, min(ceiling, limit))]


def _kernel_wmem(memory_bytes):
    return [4096, 16384, max(65536, min(4 * MIB, memory_bytes // 128))]


def _kernel_core_mem_max(kernel):
    return 4 * MIB if tuple(kernel) >= (6, 18) else 212992


def _kernel_somaxconn(kernel):
    return 4096 if tuple(kernel) >= (5, 4) else 128


def _kernel_port_range(kernel):
    return [32768, 60999] if tuple(kernel) >= (4, 2) else [32768, 61000]


def _kernel_file_max(memory_bytes):
    return max(memory_bytes // 1024 // 10, 8192)  # files_maxfiles_init(): ~10 % of RAM in KiB


def _kernel_conntrack_buckets(memory_bytes):
    return 262144 if memory_bytes > 4 * 1024 * MIB else max(1024, _roundup_pow2(memory_bytes // 16384) // 8)


# --- Helpers --------------------------------------------------------------------------------------

def _roundup_pow2(number):
    number = int(math.ceil(number))
    return 1 if number <= 1 else 1 << (number - 1).bit_length()


def _roundup(number, step):
    return int(math.ceil(number / step) * step)


def _gb(number):
    return "%.2f GB" % (number / 1e9)


def _explain(key, value, formula, inputs, kernel_default, source):
    findings = list(catalogue.CATALOGUE[key].findings) if key in catalogue.CATALOGUE else []
    return {"value": value, "formula": formula, "inputs": inputs, "kernel_default": kernel_default,
            "source": source, "findings": findings}


def _current(host, key):
    return host["sysctl"].get(key)


def _per_socket(kernel):
    for since, size, source in PER_SOCKET_BYTES:
        if tuple(kernel) >= since:
            return size, source
    return PER_SOCKET_BYTES[-1][1], PER_SOCKET_BYTES[-1][2]


# --- Rules ----------------------------------------------------------------------------------------

def rule_socket_memory(host, work):
    """Kernel memory held by the target sockets while idle (no buffers)."""
    per_socket, source = _per_socket(host["kernel"])
    sockets = work["target_connections"] * work["sockets_per_connection"]
    return {"per_socket_bytes": per_socket, "sockets": sockets, "slab_bytes": sockets * per_socket,
            "source": source}


def rule_tcp_mem(host, work, slab_bytes):
    """tcp_mem in pages: the budget, shaped like the kernel's triple, under the hard caps."""
    page = host["page_size"]
    ram_pages = host["memory_bytes"] // page
    default = _kernel_tcp_mem(ram_pages)
    current = _current(host, "net.ipv4.tcp_mem")
    budget_pages = int(ram_pages * work["memory_budget_percent"] / 100)
    hard_cap = int(ram_pages * TCP_MEM_HARD_CAP_FRACTION)
    headroom = max(int((host["memory_bytes"] * SAFE_RAM_FRACTION - slab_bytes) // page), 0)
    high = max(min(budget_pages, hard_cap, headroom), 3)
    plan = [high // 2, high * 2 // 3, high]
    floor = list(current) if current else default
    lowered_from = floor if work["allow_lower"] and plan[2] < floor[2] else None
    if not work["allow_lower"]:
        plan = [max(mine, kept) for mine, kept in zip(plan, floor)]
    plan = [max(min(part, hard_cap), 1) for part in plan]
    explain = _explain(
        "net.ipv4.tcp_mem", plan,
        "max = min(RAM pages x budget %, RAM pages x {cap:.0%}, (RAM x {safe:.0%} - socket slab) / page); "
        "pressure = max x 2/3; min = max / 2 (the kernel's own 3:4:6 shape); "
        "{floor}; kernel default: limit = max(nr_free_buffer_pages/16, 128), "
        "[limit/4*3, limit, 2*(limit/4*3)] with nr_free_buffer_pages ~ MemTotal/page_size".format(
            cap=TCP_MEM_HARD_CAP_FRACTION, safe=SAFE_RAM_FRACTION,
            floor="lowered below the current value because allow_lower is true" if lowered_from
            else "never below the current value (or the kernel default) unless allow_lower"),
        {"ram_pages": ram_pages, "page_size": page, "memory_budget_percent": work["memory_budget_percent"],
         "budget_pages": budget_pages, "hard_cap_pages": hard_cap, "headroom_pages": headroom,
         "socket_slab_bytes": slab_bytes, "current": current, "allow_lower": work["allow_lower"],
         "max_bytes": plan[2] * page},
        default, "facts §1: net/ipv4/tcp.c tcp_init_mem(); units are pages (ip-sysctl.rst)")
    return plan, explain


def _bdp_bytes(work, kernel):
    if work["bandwidth_mbps"] is None:
        return None, 1
    bdp = int(work["bandwidth_mbps"] * 1e6 / 8 * work["rtt_ms"] / 1000)
    factor = 2 if tuple(kernel) < (6, 6) else 1
    return bdp, factor


def rule_buffer(host, work, key, tcp_mem):
    """tcp_rmem / tcp_wmem: max covers the BDP (2x before 6.6), capped by the budget; middle fits tcp_mem."""
    kernel = host["kernel"]
    is_rmem = key == "net.ipv4.tcp_rmem"
    default = _kernel_rmem(kernel, host["memory_bytes"]) if is_rmem else _kernel_wmem(host["memory_bytes"])
    current = _current(host, key)
    base = list(current) if current else list(default)
    bdp, factor = _bdp_bytes(work, kernel)
    budget_cap = min(tcp_mem[2] * host["page_size"] // SOCKET_BUFFER_BUDGET_SHARE, catalogue.INT_MAX)
    high = default[2] if work["allow_lower"] else max(base[2], default[2])
    need = None
    if bdp is not None:
        need = min(_roundup_pow2(bdp * factor), catalogue.INT_MAX)
        high = max(high, min(need, budget_cap))
    explain = _explain(
        key, None,
        "max = max(current or kernel default, min(roundup_pow2(BDP x factor), tcp_mem max bytes / {share})); "
        "BDP = bandwidth x RTT; factor 2 before Linux 6.6 (tcp_adv_win_scale halves the window), 1 since; "
        "middle: lowered only when target sockets x (rmem+wmem middle) exceed tcp_mem pressure".format(
            share=SOCKET_BUFFER_BUDGET_SHARE),
        {"bdp_bytes": bdp, "bdp_factor": factor, "needed_max": need, "budget_cap_bytes": budget_cap,
         "current": current},
        default, "facts §1 (tcp_init defaults) and §10 (BDP, adv_win_scale before/after 6.6)")
    return [base[0], base[1], high], explain


def rule_buffer_fit(host, work, rmem, wmem, tcp_mem, rmem_explain):
    """Fit target sockets x default buffers inside tcp_mem pressure by lowering tcp_rmem[1]."""
    sockets = work["target_connections"] * work["sockets_per_connection"]
    pressure_bytes = tcp_mem[1] * host["page_size"]
    share = pressure_bytes // sockets
    warnings = []
    rmem, wmem = list(rmem), list(wmem)
    if rmem[1] + wmem[1] > share:
        rmem[1] = max(RMEM_DEFAULT_FLOOR, (share - wmem[1]) // 4096 * 4096)
        rmem[1] = min(rmem[1], max(rmem[2], RMEM_DEFAULT_FLOOR))
        if rmem[1] + wmem[1] > share:
            need = sockets * (rmem[1] + wmem[1])
            warnings.append(
                "tcp buffers: %d sockets x default buffers (%d + %d bytes) = %s exceed tcp_mem pressure (%s). "
                "Idle sockets hold no buffer memory, but if most are busy at once TCP enters memory pressure "
                "(TcpExt.TCPMemoryPressures): buffers stop growing and receive windows shrink; above tcp_mem max "
                "(%s) new data is dropped and orphaned sockets are reset ('out of memory -- consider tuning "
                "tcp_mem', TcpExt.TCPAbortOnMemory)."
                % (sockets, rmem[1], wmem[1], _gb(need), _gb(pressure_bytes), _gb(tcp_mem[2] * host["page_size"])))
    rmem_explain["inputs"].update({"sockets": sockets, "pressure_bytes": pressure_bytes,
                                   "pressure_share_per_socket": share})
    return rmem, wmem, warnings


def rule_core_mem_max(host, work, key, tcp_triple):
    """net.core.rmem_max / wmem_max >= tcp_*mem max, never below the current value."""
    default = _kernel_core_mem_max(host["kernel"])
    current = _current(host, key)
    floor = default if work["allow_lower"] or current is None else current
    value = max(tcp_triple[2], floor)
    return value, _explain(key, value, "max(tcp_%s max, current or kernel default)" % key.split(".")[-1][:4],
                           {"tcp_max": tcp_triple[2], "current": current}, default,
                           "facts §1 (4 MB default since 6.18, 212992 before)")


def rule_backlogs(host, work):
    """somaxconn and tcp_max_syn_backlog from accept_rate x worst-case accept delay."""
    kernel = host["kernel"]
    need = int(math.ceil(work["accept_rate"] * WORST_CASE_ACCEPT_DELAY_SECONDS))
    out = {}
    explains = {}
    ehash = _kernel_ehash_entries(host["memory_bytes"])
    defaults = {"net.core.somaxconn": _kernel_somaxconn(kernel),
                "net.ipv4.tcp_max_syn_backlog": max(128, ehash // 128)}
    for key, default in defaults.items():
        current = _current(host, key)
        floor = default if work["allow_lower"] or current is None else max(current, default)
        value = max(floor, _roundup_pow2(need)) if need > 0 else floor
        out[key] = value
        explains[key] = _explain(
            key, value, "max(current, kernel default, roundup_pow2(accept_rate x %.1f s))"
            % WORST_CASE_ACCEPT_DELAY_SECONDS,
            {"accept_rate": work["accept_rate"], "accept_delay_seconds": WORST_CASE_ACCEPT_DELAY_SECONDS,
             "needed": need, "current": current},
            default,
            "facts §4; the delay is one SYN retransmit timeout (1 s): a dropped SYN costs the client >= 1 s. "
            "tcp_max_syn_backlog default = max(128, ehash/128), ehash estimated from RAM")
    warning = ("listen backlog: the application's listen() backlog must rise to %d too; the kernel uses "
               "min(listen backlog, net.core.somaxconn) (e.g. nginx 'listen ... backlog=%d')"
               % (out["net.core.somaxconn"], out["net.core.somaxconn"]))
    return out, explains, warning


def _usable_ports(port_range, reserved):
    low, high = port_range
    taken = 0
    for start, end in reserved:
        overlap = min(end, high) - max(start, low) + 1
        taken += max(overlap, 0)
    return high - low + 1 - taken


def _rate(usable, tw_reuse, delay_ms):
    if tw_reuse:
        return usable / (delay_ms / 1000.0)
    return usable / float(TIME_WAIT_SECONDS)


def rule_ports(host, work):
    """Ephemeral port range, reserved ports, tcp_tw_reuse and the sustainable outbound rate."""
    kernel = host["kernel"]
    default_range = _kernel_port_range(kernel)
    current_range = list(_current(host, "net.ipv4.ip_local_port_range") or default_range)
    current_reuse = _current(host, "net.ipv4.tcp_tw_reuse")
    delay_ms = _current(host, "net.ipv4.tcp_tw_reuse_delay") or 1000
    reserved = work["reserved_ports"]
    rate = work["outbound_rate"]
    out, explains, warnings = {}, {}, []

    need_ports = rate * TIME_WAIT_SECONDS * PORT_RANGE_HEADROOM
    widen = work["tw_reuse"] or need_ports > _usable_ports(current_range, reserved)
    plan_range = list(current_range)
    if widen:
        plan_range = [max(1024, min(current_range[0], PLAN_PORT_RANGE[0])), max(current_range[1], PLAN_PORT_RANGE[1])]
        out["net.ipv4.ip_local_port_range"] = plan_range
    usable = _usable_ports(plan_range, reserved)
    tw_reuse = work["tw_reuse"] or rate * TIME_WAIT_SECONDS > usable
    if tw_reuse:
        out["net.ipv4.tcp_tw_reuse"] = 1
    if reserved:
        out["net.ipv4.ip_local_reserved_ports"] = ",".join(
            str(low) if low == high else "%d-%d" % (low, high) for low, high in reserved)

    default_rate = _rate(_usable_ports(default_range, []), False, 1000)
    current_rate = _rate(_usable_ports(current_range, reserved), current_reuse == 1, delay_ms)
    plan_rate = _rate(usable, tw_reuse, delay_ms)
    predicted = {
        "sustainable_outbound_rate_per_destination": round(plan_rate, 1),
        "sustainable_outbound_rate_per_destination_kernel_default": round(default_rate, 1),
        "sustainable_outbound_rate_per_destination_current": round(current_rate, 1),
        "outbound_rate": rate,
        "outbound_rate_met": plan_rate >= rate,
        "usable_ephemeral_ports": usable,
    }
    common_inputs = {"outbound_rate": rate, "usable_ports": usable, "reserved_ports": reserved,
                     "current_range": current_range, "tw_reuse": tw_reuse, "tw_reuse_delay_ms": delay_ms,
                     "time_wait_seconds": TIME_WAIT_SECONDS}
    explains["net.ipv4.ip_local_port_range"] = _explain(
        "net.ipv4.ip_local_port_range", plan_range,
        "widened to %d-%d (never below 1024, never narrower than now) when the profile reuses TIME_WAIT or "
        "outbound_rate x 60 s x %.2f exceeds the usable ports; rate per destination ip:port = usable ports / 60 s "
        "(TIME_WAIT is fixed at 60 s; tcp_fin_timeout only limits orphaned FIN_WAIT2 and does not help), or "
        "usable ports / tcp_tw_reuse_delay with tcp_tw_reuse=1" % (PLAN_PORT_RANGE + (PORT_RANGE_HEADROOM,)),
        common_inputs, default_range, "facts §3 (TIME_WAIT), §5 (ports), §11 (1500/s measured)")
    explains["net.ipv4.tcp_tw_reuse"] = _explain(
        "net.ipv4.tcp_tw_reuse", 1 if tw_reuse else current_reuse,
        "1 for outbound-heavy profiles or when outbound_rate x 60 s exceeds the usable ports; it only lets "
        "outgoing connect() take a TIME_WAIT 4-tuple older than tcp_tw_reuse_delay and needs TCP timestamps",
        common_inputs, 2, "facts §3 (tcp_twsk_unique)")
    if reserved:
        explains["net.ipv4.ip_local_reserved_ports"] = _explain(
            "net.ipv4.ip_local_reserved_ports", out["net.ipv4.ip_local_reserved_ports"],
            "reserved_ports, so connect()/bind(0) never take a listening port", {"reserved_ports": reserved},
            "", "facts §5")
    if not predicted["outbound_rate_met"]:
        per_ip = plan_rate
        warnings.append(
            "outbound: %.0f new connections/s to one destination ip:port cannot be sustained; this plan allows "
            "about %.0f/s (%d usable ports%s). To meet it use %d source IP addresses (IP_BIND_ADDRESS_NO_PORT), "
            "or spread over %d destination ports/addresses, or reuse connections (keep-alive, pooling). "
            "Shortening tcp_fin_timeout does not help: TIME_WAIT is fixed at 60 s."
            % (rate, plan_rate, usable, ", tcp_tw_reuse=1" if tw_reuse else " / 60 s TIME_WAIT",
               int(math.ceil(rate / per_ip)), int(math.ceil(rate / per_ip))))
    elif not tw_reuse and rate * TIME_WAIT_SECONDS > usable / 2:
        warnings.append(
            "outbound: %.0f connections/s keeps about %d ports in TIME_WAIT, more than half of the %d usable; "
            "connect() latency rose from 0.03 ms to 1.5-4 ms at that point in measurements (facts §11)"
            % (rate, rate * TIME_WAIT_SECONDS, usable))
    return out, explains, predicted, warnings


def rule_tw_buckets(host, work):
    """tcp_max_tw_buckets from the close rate x 60 s with headroom."""
    close_rate = work["accept_rate"] + work["outbound_rate"]
    need = int(math.ceil(close_rate * TIME_WAIT_SECONDS * TW_BUCKETS_HEADROOM))
    default = max(_kernel_ehash_entries(host["memory_bytes"]) // 2, 1024)
    current = _current(host, "net.ipv4.tcp_max_tw_buckets")
    floor = default if work["allow_lower"] or current is None else max(current, default)
    value = min(max(floor, need), catalogue.INT_MAX)
    return value, _explain(
        "net.ipv4.tcp_max_tw_buckets", value,
        "max(current or kernel default, (accept_rate + outbound_rate) x 60 s x %.1f); either side may close "
        "first, so every new connection may leave one TIME_WAIT socket (256 B each)" % TW_BUCKETS_HEADROOM,
        {"close_rate": close_rate, "needed": need, "current": current, "memory_at_max_bytes": value * TW_SOCK_BYTES},
        default, "facts §3 (TIME_WAIT 60 s, overflow -> TCPTimeWaitOverflow; default ehash/2)")


def rule_conntrack(host, work):
    """nf_conntrack_max and buckets from connections when conntrack is in use."""
    conntrack = host["conntrack"]
    if not conntrack.get("available"):
        return {}, {}
    close_rate = work["accept_rate"] + work["outbound_rate"]
    tracked = work["target_connections"] + close_rate * CONNTRACK_TIME_WAIT_SECONDS
    need = int(math.ceil(tracked * CONNTRACK_HEADROOM))
    default_buckets = _kernel_conntrack_buckets(host["memory_bytes"])
    current_max = _current(host, "net.netfilter.nf_conntrack_max") or conntrack.get("max")
    current_buckets = _current(host, "net.netfilter.nf_conntrack_buckets") or conntrack.get("buckets")
    max_floor = current_max or default_buckets
    buckets_floor = current_buckets or default_buckets
    if work["allow_lower"]:
        max_floor, buckets_floor = default_buckets, default_buckets
    value = max(max_floor, need)
    buckets = max(buckets_floor, _roundup_pow2(value))
    inputs = {"target_connections": work["target_connections"], "close_rate": close_rate,
              "time_wait_seconds": CONNTRACK_TIME_WAIT_SECONDS, "tracked": tracked,
              "current_max": current_max, "current_buckets": current_buckets}
    source = "facts §9 (nf_conntrack_core.c: max = buckets above 4 GB); entries stay 120 s after close"
    return ({"net.netfilter.nf_conntrack_max": value, "net.netfilter.nf_conntrack_buckets": buckets},
            {"net.netfilter.nf_conntrack_max": _explain(
                "net.netfilter.nf_conntrack_max", value,
                "max(current, (target_connections + close rate x 120 s) x %.2f)" % CONNTRACK_HEADROOM,
                inputs, default_buckets, source),
             "net.netfilter.nf_conntrack_buckets": _explain(
                "net.netfilter.nf_conntrack_buckets", buckets,
                "max(current, roundup_pow2(nf_conntrack_max)): one entry per bucket, like the kernel default",
                inputs, default_buckets, source)})


def rule_files(host, work, settable):
    """nofile soft/hard, fs.nr_open and fs.file-max: nr_open >= hard >= soft, file-max covers all."""
    sockets = work["target_connections"] * work["sockets_per_connection"]
    per_process = sockets + int(math.ceil(sockets * FD_HEADROOM_FRACTION)) + NOFILE_BASE
    nofile = min(max(NOFILE_FLOOR, _roundup(per_process, 1024)), catalogue.NR_OPEN_MAX)
    files = host["files"]
    nr_open_current = files.get("nr_open") or _current(host, "fs.nr_open")
    nr_open_known = nr_open_current is not None
    nr_open_current = nr_open_current or 1048576
    file_max_current = files.get("max") or _current(host, "fs.file-max")
    file_max_default = _kernel_file_max(host["memory_bytes"])
    file_max_now = file_max_current or file_max_default
    file_max_need = sockets + int(math.ceil(sockets * FD_HEADROOM_FRACTION)) + FILE_MAX_BASE
    sysctl, warnings = {}, []

    nr_open = nr_open_current
    if nofile > nr_open_current:
        sysctl["fs.nr_open"] = nofile
        if settable("fs.nr_open"):
            nr_open = nofile
        else:
            warnings.append(
                "files: one process may need %d descriptors but fs.nr_open is %d and cannot be raised here; "
                "nofile stays at %d (a nofile above nr_open breaks PAM logins): spread the connections over "
                "at least %d processes or raise fs.nr_open on the host"
                % (nofile, nr_open_current, nr_open_current, int(math.ceil(per_process / float(nr_open_current)))))
    hard = min(nofile, nr_open)
    file_max = file_max_now
    if file_max_need > file_max_now:
        sysctl["fs.file-max"] = file_max_need
        if settable("fs.file-max"):
            file_max = file_max_need
        else:
            warnings.append("files: fs.file-max is %d but %d sockets need about %d open files; it is global: raise "
                            "it on the host" % (file_max_now, sockets, file_max_need))
    limits = {"nofile_soft": hard, "nofile_hard": hard, "nr_open": nr_open, "file_max": file_max,
              "login": {"soft": min(LOGIN_NOFILE_SOFT, hard), "hard": hard},
              "services": {"soft": hard, "hard": hard}}
    predicted = {"files_needed": file_max_need, "file_max_current": file_max_current,
                 "file_max_suffices": file_max_need <= file_max_now,
                 "nofile_needed_per_process": per_process, "nr_open_current": nr_open_current if nr_open_known else None,
                 "nr_open_suffices": nofile <= nr_open_current}
    inputs = {"sockets": sockets, "per_process_files": per_process, "nr_open_current": nr_open_current,
              "file_max_current": file_max_current, "file_max_needed": file_max_need}
    explains = {
        "limits.nofile": _explain(
            "limits.nofile", {"soft": hard, "hard": hard},
            "max(%d, roundup(sockets x %.2f + %d, 1024)), never above fs.nr_open; assumes one process may hold "
            "every connection; login sessions keep soft %d for select()" % (
                NOFILE_FLOOR, 1 + FD_HEADROOM_FRACTION, NOFILE_BASE, LOGIN_NOFILE_SOFT),
            inputs, {"soft": 1024, "hard": 4096}, "facts §7"),
        "fs.nr_open": _explain("fs.nr_open", max(nr_open_current, nofile),
                               "max(current, nofile hard)", inputs, 1048576, "facts §7 (fs/file.c sysctl_nr_open)"),
        "fs.file-max": _explain("fs.file-max", max(file_max_now, file_max_need),
                                "max(current, sockets x %.2f + %d)" % (1 + FD_HEADROOM_FRACTION, FILE_MAX_BASE),
                                inputs, file_max_default, "facts §7 (files_maxfiles_init: ~10 % of RAM in KiB)"),
    }
    return limits, sysctl, explains, predicted, warnings


def rule_txqueuelen(host):
    """txqueuelen per physical interface from its speed; None where the qdisc ignores it."""
    out, explains = {}, {}
    for name, info in sorted(host["interfaces"].items()):
        speed, qdisc = info.get("speed_mbps"), info.get("qdisc")
        if info.get("virtual"):
            value, why = None, "virtual interface (noqueue or no real queue)"
        elif qdisc in QDISC_IGNORES_TXQUEUELEN:
            value, why = None, "qdisc %s ignores txqueuelen" % qdisc
        elif not speed:
            value, why = None, "speed unknown"
        else:
            value, why = int(min(max(speed, TXQUEUELEN_MIN), TXQUEUELEN_MAX)), "sized from speed"
        out[name] = value
        explains["txqueuelen.%s" % name] = _explain(
            "txqueuelen", value,
            "clamp(speed in Mbit/s, %d, %d) packets: about 12 ms of 1500-byte packets at line rate; null when the "
            "qdisc ignores it (%s) or the interface is virtual"
            % (TXQUEUELEN_MIN, TXQUEUELEN_MAX, ", ".join(QDISC_IGNORES_TXQUEUELEN)),
            {"speed_mbps": speed, "qdisc": qdisc, "virtual": info.get("virtual"), "reason": why},
            1000, "facts §8 (pfifo_fast sizes from tx_queue_len, fq_codel does not)")
    return out, explains


# --- The plan -------------------------------------------------------------------------------------

def compute_plan(host, workload):
    """Host (see host_from_facts) + workload (see resolve_workload) -> plan dict (docs/internals.md)."""
    host = validate_host(host)
    work = resolve_workload(workload)
    kernel = host["kernel"]
    wanted, explain, warnings = {}, {}, []

    def settable(key):
        return _skip_reason(host, key) is None

    memory = rule_socket_memory(host, work)
    tcp_mem, explain["net.ipv4.tcp_mem"] = rule_tcp_mem(host, work, memory["slab_bytes"])
    wanted["net.ipv4.tcp_mem"] = tcp_mem
    if not settable("net.ipv4.tcp_mem"):
        # The host's value stays in force; buffers must fit in that one, not in the plan's.
        tcp_mem = list(_current(host, "net.ipv4.tcp_mem") or explain["net.ipv4.tcp_mem"]["kernel_default"])
        explain["net.ipv4.tcp_mem"]["inputs"]["in_force_here"] = tcp_mem
    rmem, explain["net.ipv4.tcp_rmem"] = rule_buffer(host, work, "net.ipv4.tcp_rmem", tcp_mem)
    wmem, explain["net.ipv4.tcp_wmem"] = rule_buffer(host, work, "net.ipv4.tcp_wmem", tcp_mem)
    rmem, wmem, fit_warnings = rule_buffer_fit(host, work, rmem, wmem, tcp_mem, explain["net.ipv4.tcp_rmem"])
    warnings.extend(fit_warnings)
    explain["net.ipv4.tcp_rmem"]["value"], explain["net.ipv4.tcp_wmem"]["value"] = rmem, wmem
    wanted["net.ipv4.tcp_rmem"], wanted["net.ipv4.tcp_wmem"] = rmem, wmem
    for key, triple in (("net.core.rmem_max", rmem), ("net.core.wmem_max", wmem)):
        wanted[key], explain[key] = rule_core_mem_max(host, work, key, triple)

    backlogs, backlog_explain, backlog_warning = rule_backlogs(host, work)
    wanted.update(backlogs)
    explain.update(backlog_explain)
    if work["accept_rate"] > 0:
        warnings.append(backlog_warning)

    ports, port_explain, predicted, port_warnings = rule_ports(host, work)
    wanted.update(ports)
    explain.update(port_explain)
    warnings.extend(port_warnings)

    wanted["net.ipv4.tcp_max_tw_buckets"], explain["net.ipv4.tcp_max_tw_buckets"] = rule_tw_buckets(host, work)
    conntrack, conntrack_explain = rule_conntrack(host, work)
    wanted.update(conntrack)
    explain.update(conntrack_explain)

    files_work = work
    capacity = int(host["memory_bytes"] * SAFE_RAM_FRACTION
                   // (memory["per_socket_bytes"] * work["sockets_per_connection"]))
    if capacity < work["target_connections"]:
        # Never raise descriptor limits to a level whose sockets would exhaust RAM.
        files_work = dict(work, target_connections=max(capacity, 1))
        warnings.append("files: limits sized for %d connections, the most whose sockets fit in %d %% of RAM, "
                        "not for the %d asked" % (capacity, SAFE_RAM_FRACTION * 100, work["target_connections"]))
    limits, file_sysctl, file_explain, file_predicted, file_warnings = rule_files(host, files_work, settable)
    wanted.update(file_sysctl)
    explain.update(file_explain)
    predicted.update(file_predicted)
    warnings.extend(file_warnings)

    txqueuelen, tx_explain = rule_txqueuelen(host)
    explain.update(tx_explain)

    sysctl, skipped = {}, {}
    for key in catalogue.ordered(wanted):
        row = catalogue.get(key)
        value = catalogue.coerce_value(row, wanted[key])
        errors = catalogue.validation_errors(row, value, kernel)
        if errors:
            raise AssertionError("sizing produced an invalid value: %s" % "; ".join(errors))
        reason = _skip_reason(host, key)
        if reason and _current(host, key) == value:
            continue  # cannot be set here, but the value in force already is the wanted one
        if reason:
            skipped[key] = reason
        else:
            sysctl[key] = catalogue.format_value(row, value)

    estimate, feasible, feasibility_warnings = _memory_estimate(host, work, memory, tcp_mem, rmem, wmem)
    warnings = feasibility_warnings + warnings
    explain["memory_estimate"] = _explain(
        "memory_estimate", estimate["total_bytes"],
        "slab = target_connections x sockets_per_connection x per-socket bytes (idle sockets hold no buffers); "
        "buffers = min(sockets x (tcp_rmem[1] + tcp_wmem[1]), tcp_mem max) is the worst case when every socket "
        "is busy; feasible when slab + buffers <= %d %% of RAM" % (SAFE_RAM_FRACTION * 100),
        {"per_socket_bytes": memory["per_socket_bytes"], "sockets": memory["sockets"],
         "sockets_per_connection": work["sockets_per_connection"], "safe_fraction_of_ram": SAFE_RAM_FRACTION},
        None, memory["source"])
    for key in sorted(skipped):
        warnings.append("%s: wanted %s but skipped: %s"
                        % (key, catalogue.format_value(catalogue.get(key), wanted[key]), skipped[key]))
    predicted["accept_queue_seconds"] = (round(wanted["net.core.somaxconn"] / float(work["accept_rate"]), 3)
                                         if work["accept_rate"] else None)
    predicted["max_idle_connections_in_ram"] = capacity
    return {"sysctl": sysctl, "skipped": skipped, "limits": limits, "txqueuelen": txqueuelen,
            "explain": dict((key, explain[key]) for key in sorted(explain)), "memory_estimate": estimate,
            "predicted": dict((key, predicted[key]) for key in sorted(predicted)), "feasible": feasible,
            "warnings": warnings}


def _skip_reason(host, key):
    reason = catalogue.absent_reason(catalogue.get(key), host["kernel"], host["in_init_netns"])
    return reason or host["sysctl_unavailable"].get(key)


def _memory_estimate(host, work, memory, tcp_mem, rmem, wmem):
    ram = host["memory_bytes"]
    page = host["page_size"]
    sockets, slab = memory["sockets"], memory["slab_bytes"]
    buffers = min(sockets * (rmem[1] + wmem[1]), tcp_mem[2] * page)
    total = slab + buffers
    safe = ram * SAFE_RAM_FRACTION
    estimate = {"per_socket_bytes": memory["per_socket_bytes"], "sockets": sockets, "slab_bytes": slab,
                "buffer_bytes": buffers, "total_bytes": total, "ram_bytes": ram,
                "fraction_of_ram": round(total / float(ram), 4)}
    reasons = []
    kernel_min = _kernel_tcp_mem(ram // page)[0] * page
    if slab > safe:
        reasons.append(
            "infeasible: %d connections x %d sockets x %d bytes = %s of kernel memory for idle sockets alone, "
            "above %d %% of RAM (%s of %s); at most about %d connections fit"
            % (work["target_connections"], work["sockets_per_connection"], memory["per_socket_bytes"], _gb(slab),
               SAFE_RAM_FRACTION * 100, _gb(safe), _gb(ram),
               int(safe // (memory["per_socket_bytes"] * work["sockets_per_connection"]))))
    elif safe - slab < kernel_min:
        reasons.append(
            "infeasible: idle sockets take %s, leaving %s for TCP buffers under the %d %% RAM limit, less than "
            "the kernel's own tcp_mem minimum (%s)"
            % (_gb(slab), _gb(safe - slab), SAFE_RAM_FRACTION * 100, _gb(kernel_min)))
    elif total > safe:
        reasons.append(
            "infeasible: idle sockets (%s) plus buffers up to tcp_mem max (%s) = %s exceed %d %% of RAM (%s); "
            "set allow_lower: true so tcp_mem may go below its current value"
            % (_gb(slab), _gb(buffers), _gb(total), SAFE_RAM_FRACTION * 100, _gb(safe)))
    return estimate, not reasons, reasons
