# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inputs of the plan: the declared workload over its preset (workload_options), and the host (from tcp_facts).

A profile is a WORKLOAD PRESET: numbers that describe a kind of traffic, never sysctl values.
``resolve_workload`` records where each number came from (``sources``: "declared" or
"preset <profile>"), so every planned change can name the number it follows. ``balanced`` has no
numbers: with nothing declared and no finding, the plan changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, kernel_release, port_ranges, rules_conntrack, rules_queues, sizing_memory)
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.workload_options import (
    DEFAULT_PROFILE, DEFAULTS, MAX_BANDWIDTH_MBPS, MAX_RTT_MS, MAX_TARGET_CONNECTIONS, PROFILES, WORKLOAD_NUMBERS,
    WORKLOAD_OPTIONS)

MIB = 1024 * 1024


class SizingInputError(ValueError):
    """Bad host or workload input. The message names the option and the rule it breaks."""


# --- Input validation -----------------------------------------------------------------------------


def workload_from_params(params):
    """The workload of a module's params (workload_options.WORKLOAD_ARGUMENT_SPEC), as resolve_workload takes it.

    Whole floats become ints, so a declared 20000 reads back as 20000 in the plan, not 20000.0.
    """
    workload = {"profile": params.get("profile") or DEFAULT_PROFILE}
    for key in WORKLOAD_OPTIONS:
        value = params.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        workload[key] = value
    return workload


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


def _require_positive(name, value, maximum=None, why=""):
    if not _is_number(value):
        raise SizingInputError("%s: must be a number, got %s %r" % (name, type(value).__name__, value))
    if not value > 0 or math.isinf(value):
        raise SizingInputError("%s: must be a finite number > 0, got %r" % (name, value))
    if maximum is not None and value > maximum:
        raise SizingInputError("%s: must be at most %d%s, got %s" % (name, maximum, why, _number_text(value)))
    return value


def _number_text(value):
    """A number for a message: whole numbers in full up to 1e15, beyond that 1e+300 rather than the 301
    digits of a whole float made int."""
    try:
        if abs(value) < 1e15:
            return "%d" % value if value == int(value) else "%r" % (value,)
        return "%g" % value
    except (OverflowError, ValueError):
        return "%r" % (value,)


def _name(names, option):
    """How an error names ``option``: ``names`` maps options to what the user set (the role's
    tcp_tuning_* variables, params.labels); without it, the option itself."""
    return (names or {}).get(option, option)


def _largest_power_of_two(maximum):
    return 1 << (int(maximum).bit_length() - 1)


def _check_kernel_bounds(resolved, names=None):
    """The rates and connections whose planned values the kernel could not take: somaxconn and
    tcp_max_syn_backlog are roundup_pow2(accept_rate x the accept delay), nf_conntrack_buckets is
    roundup_pow2(nf_conntrack_max) (rules_queues.rule_backlogs, rule_conntrack); a value above the
    catalogue's maximum is an input error naming the option, not a plan the validator refuses.
    The conntrack bound holds whether or not nf_conntrack is loaded now: it may load at any time."""
    rate = resolved["accept_rate"]
    if rate:
        top = min(catalogue.get(key).maximum for key in ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"))
        ceiling = _largest_power_of_two(top) / rules_queues.WORST_CASE_ACCEPT_DELAY_SECONDS
        if rate > ceiling:
            raise SizingInputError(
                "%s: must be at most %d per second, got %s: the accept queue is sized for %g s of it rounded up "
                "to a power of two, and net.core.somaxconn and net.ipv4.tcp_max_syn_backlog are at most %d"
                % (_name(names, "accept_rate"), ceiling, _number_text(rate),
                   rules_queues.WORST_CASE_ACCEPT_DELAY_SECONDS, top))
    buckets_max = catalogue.get("net.netfilter.nf_conntrack_buckets").maximum
    entries_max = min(_largest_power_of_two(buckets_max), catalogue.get("net.netfilter.nf_conntrack_max").maximum)
    flows_max = int(entries_max / rules_conntrack.CONNTRACK_HEADROOM)
    sockets = sizing_memory.sockets_of(resolved)
    flows = sizing_memory.conntrack_entries(resolved)
    if flows > flows_max:
        seconds = sizing_memory.CONNTRACK_TIME_WAIT_SECONDS
        parts = [(sockets, "target_connections"), ((resolved["accept_rate"] or 0) * seconds, "accept_rate"),
                 ((resolved["outbound_rate"] or 0) * seconds, "outbound_rate")]
        share, option = max(parts)
        if option == "target_connections":
            room = int((flows_max - (flows - sockets)) // resolved["sockets_per_connection"])
            most = "at most %d connections with these rates" % max(room, 0)
        else:
            room = (flows_max - (flows - share)) / float(seconds)
            most = "at most %d per second with the other numbers as they are" % max(int(room), 0)
        entries = int(math.ceil(flows * rules_conntrack.CONNTRACK_HEADROOM))
        raise SizingInputError(
            "%s: too large (%s): the workload keeps %s flows in conntrack (%d sockets + (accept_rate + outbound_rate) "
            "x %d s), so nf_conntrack_max would be %s and nf_conntrack_buckets %s (the next power of two), above "
            "the kernel's %d" % (_name(names, option), most, _number_text(flows), sockets, seconds,
                                 _number_text(entries), _number_text(kd.roundup_pow2(entries)), buckets_max))


def _port_items(value, name="reserved_ports"):
    """reserved_ports -> sorted, merged list of (low, high). Accepts ints, '8080' and '8000-8100'."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise SizingInputError("%s: must be a list of ports or 'low-high' ranges, got %r" % (name, value))
    items = []
    for item in value:
        if isinstance(item, bool):
            raise SizingInputError("%s: %r is not a port" % (name, item))
        try:
            low, high = port_ranges.parse_port_item(item)
        except ValueError:
            raise SizingInputError("%s: %r is not a port or a 'low-high' range" % (name, item)) from None
        if not (1 <= low <= 65535 and 1 <= high <= 65535):
            raise SizingInputError("%s: %r is outside 1..65535" % (name, item))
        if low > high:
            raise SizingInputError("%s: %r must be low-high with low <= high" % (name, item))
        items.append((low, high))
    return port_ranges.merge_port_ranges(items)


def resolve_workload(workload, names=None):
    """Profile preset + declared options -> a validated workload dict with ``sources``.

    ``workload`` keys: profile and any of WORKLOAD_OPTIONS; None means "not declared" (the preset's
    number, if it has one, applies). ``sources`` maps each workload number in force to "declared" or
    "preset <profile>". Raises SizingInputError naming the option and the rule; ``names`` {option:
    name} names them as the caller's user set them (tcp_tune from the role: tcp_tuning_accept_rate).
    """
    workload = dict(workload or {})
    unknown = sorted(set(workload) - set(WORKLOAD_OPTIONS) - {"profile"})
    if unknown:
        raise SizingInputError("%s: unknown workload option(s); known: profile, %s"
                               % (", ".join(unknown), ", ".join(WORKLOAD_OPTIONS)))
    profile = workload.get("profile") or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise SizingInputError("%s: must be one of %s, got %r"
                               % (_name(names, "profile"), ", ".join(sorted(PROFILES)), profile))
    resolved = dict(DEFAULTS)
    sources = {}
    for key, value in PROFILES[profile].items():
        if key != "description":
            resolved[key] = value
            sources[key] = "preset %s" % profile
    resolved["profile"] = profile
    for key in WORKLOAD_OPTIONS:
        if workload.get(key) is not None:
            resolved[key] = workload[key]
            sources[key] = "declared"
    resolved["sources"] = dict((key, sources[key]) for key in sorted(sources) if key in WORKLOAD_NUMBERS)

    if resolved["target_connections"] is not None:
        _require_int(_name(names, "target_connections"), resolved["target_connections"], 1, MAX_TARGET_CONNECTIONS)
    for key in ("accept_rate", "outbound_rate"):
        if resolved[key] is not None:
            _require_rate(_name(names, key), resolved[key])
    budget = resolved["memory_budget_percent"]
    if budget is not None:
        if not _is_number(budget):
            raise SizingInputError("%s: must be a number, got %s %r"
                                   % (_name(names, "memory_budget_percent"), type(budget).__name__, budget))
        if not 0 < budget <= 50:
            raise SizingInputError("%s: must be above 0 and at most 50 (percent of RAM that tcp_mem max may reach), "
                                   "got %r" % (_name(names, "memory_budget_percent"), budget))
    if resolved["socket_buffer_bytes"] is not None:
        _require_int(_name(names, "socket_buffer_bytes"), resolved["socket_buffer_bytes"], 4096, catalogue.INT_MAX)
    _require_int(_name(names, "userspace_bytes_per_connection"), resolved["userspace_bytes_per_connection"], 0,
                 1 << 40)
    services = resolved["services"]
    if isinstance(services, str):
        services = [services]
    if not isinstance(services, (list, tuple)) or not all(isinstance(name, str) and name for name in services):
        raise SizingInputError("%s: must be a list of systemd service names, got %r"
                               % (_name(names, "services"), services))
    resolved["services"] = sorted(set(services))
    bandwidth, rtt = resolved["bandwidth_mbps"], resolved["rtt_ms"]
    if (bandwidth is None) != (rtt is None):
        given, missing = ("rtt_ms", "bandwidth_mbps") if bandwidth is None else ("bandwidth_mbps", "rtt_ms")
        raise SizingInputError("%s: given without %s; the bandwidth-delay product needs both"
                               % (_name(names, given), _name(names, missing)))
    if bandwidth is not None:
        _require_positive(_name(names, "bandwidth_mbps"), bandwidth, MAX_BANDWIDTH_MBPS,
                          " Mbit/s (the largest link speed the kernel reports, a u32 of Mbit/s)")
        _require_positive(_name(names, "rtt_ms"), rtt, MAX_RTT_MS, " ms (TCP_RTO_MAX, 120 s: a longer round trip "
                          "retransmits every segment before its ACK arrives)")
    resolved["reserved_ports"] = _port_items(resolved["reserved_ports"], _name(names, "reserved_ports"))
    for key in ("allow_lower", "tw_reuse"):
        if key == "tw_reuse" and resolved[key] is None:
            continue
        if not isinstance(resolved[key], bool):
            raise SizingInputError("%s: must be a boolean, got %s %r"
                                   % (_name(names, key), type(resolved[key]).__name__, resolved[key]))
    busy = resolved["busy_fraction"]
    if not _is_number(busy) or not 0 < busy <= 1:
        raise SizingInputError("%s: must be a number above 0 and at most 1 (the share of connections moving data "
                               "at the same moment), got %r" % (_name(names, "busy_fraction"), busy))
    spc = resolved["sockets_per_connection"]
    if isinstance(spc, bool) or spc not in (1, 2):
        raise SizingInputError("%s: must be 1 (peer elsewhere) or 2 (both ends on this host), got %r"
                               % (_name(names, "sockets_per_connection"), spc))
    _check_kernel_bounds(resolved, names)
    return resolved


# --- Host -----------------------------------------------------------------------------------------

HOST_OVERRIDES = ("memory_bytes", "memory_limit_bytes", "page_size", "cpus", "kernel_release", "interfaces",
                  "in_init_netns", "sysctl", "sysctl_unavailable", "conntrack_available", "listening_ports",
                  "persisted")


def host_from_facts(facts, overrides=None):
    """``ansible_facts.tcp`` (may be None or partial) + overrides -> the host dict compute_plan takes.

    overrides: memory_bytes, memory_limit_bytes (a cgroup memory.max), page_size, cpus, kernel_release,
    interfaces {name: speed_mbps or None}, in_init_netns, sysctl {key: value}, sysctl_unavailable
    {key: reason}, conntrack_available, listening_ports, persisted {key: text} (what an earlier run wrote
    to its sysctl.d file; tcp_tune reads it). None values are ignored.
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
    cgroup = facts.get("cgroup") or {}
    sockstat_tcp = (facts.get("sockstat") or {}).get("tcp") or {}
    host = {
        "memory_bytes": overrides.get("memory_bytes", kernel.get("mem_total_bytes")),
        "memory_limit_bytes": overrides.get("memory_limit_bytes", cgroup.get("memory_max_bytes")),
        "memory_available_bytes": kernel.get("mem_available_bytes"),
        "listening_ports": sorted(set(overrides.get("listening_ports",
                                                    (facts.get("sockets") or {}).get("listening_ports") or []))),
        "findings": dict((finding.get("id"), finding) for finding in facts.get("findings") or []
                         if isinstance(finding, dict) and finding.get("id")),
        "tcp_mem_in_use_pages": sockstat_tcp.get("mem_pages"),
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
        "persisted": dict(overrides.get("persisted", {})),
    }
    host["sysctl"].update(overrides.get("sysctl", {}))
    host["sysctl_unavailable"].update(overrides.get("sysctl_unavailable", {}))
    for name, info in sorted((facts.get("interfaces") or {}).items()):
        host["interfaces"][name] = {"speed_mbps": info.get("speed_mbps"), "virtual": bool(info.get("virtual")),
                                    "qdisc": info.get("qdisc"), "qdisc_leaves": list(info.get("qdisc_leaves") or []),
                                    "txqueuelen": info.get("txqueuelen")}
    for name, speed in sorted(overrides.get("interfaces", {}).items()):
        entry = host["interfaces"].setdefault(
            name, {"virtual": name == "lo" or speed is None, "qdisc": None, "txqueuelen": None})
        entry["speed_mbps"] = speed
    return validate_host(host)


def validate_host(host):
    """Check and complete a host dict; raises SizingInputError naming the field and the rule."""
    host = dict(host)
    if host.get("memory_bytes") is None:
        raise SizingInputError("memory_bytes: unknown; pass facts from tcp_facts or the memory_bytes option")
    _require_int("memory_bytes", host["memory_bytes"], 64 * MIB)
    if host.get("memory_limit_bytes") is not None:
        _require_int("memory_limit_bytes", host["memory_limit_bytes"], 64 * MIB)
    host.setdefault("memory_limit_bytes", None)
    host.setdefault("memory_available_bytes", None)
    host.setdefault("findings", {})
    host.setdefault("tcp_mem_in_use_pages", None)
    host.setdefault("persisted", {})
    ports = host.get("listening_ports") or []
    if not isinstance(ports, (list, tuple)) or not all(isinstance(port, int) and not isinstance(port, bool)
                                                       and 1 <= port <= 65535 for port in ports):
        raise SizingInputError("listening_ports: must be a list of port numbers 1..65535, got %r" % (ports,))
    host["listening_ports"] = sorted(set(ports))
    page_size = _require_int("page_size", host.get("page_size", 4096), 4096)
    if page_size & (page_size - 1):
        raise SizingInputError("page_size: must be a power of two, got %d" % page_size)
    _require_int("cpus", host.get("cpus", 1), 1)
    release = host.get("kernel_release")
    if not isinstance(release, str) or kernel_release.parse_kernel_release(release) == (0, 0, 0):
        raise SizingInputError("kernel_release: must look like '6.1.0-18-amd64', got %r" % (release,))
    host["kernel"] = list(kernel_release.parse_kernel_release(release))
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
                            "qdisc": info.get("qdisc"), "qdisc_leaves": list(info.get("qdisc_leaves") or []),
                            "txqueuelen": info.get("txqueuelen")}
    host["interfaces"] = interfaces
    return host
