# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host + workload -> tuning plan. Pure and deterministic: reads nothing, writes nothing.

Inputs: sizing_inputs.py (presets, workload, host). Rules: sizing_rules.py (the registry: which
function sizes each key, and the order) over rules_*.py by family, sizing_policy.py and sizing_memory.py.
This file assembles the plan and judges feasibility.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_checks, catalogue_values, memory_rules, sizing_memory, sizing_policy, sizing_rules)
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_memory import CONNTRACK_ENTRY_BYTES, SAFE_MEMORY_FRACTION
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_policy import gb_text
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_inputs import resolve_workload, validate_host


def compute_plan(host, workload):
    """Host (see host_from_facts) + workload (see resolve_workload) -> plan dict (docs/internals.md)."""
    host = validate_host(host)
    work = resolve_workload(workload)
    per_socket, per_socket_source = sizing_memory.per_socket_bytes(host["kernel"])
    ctx = {"host": host, "work": work, "explain": {}, "wanted": {}, "warnings": [], "predicted": {},
           "skip_wanted": {}, "limits": {}, "txqueuelen": {}, "persist_only": {}, "notes": [], "infeasible": []}
    sizing_rules.run_rules(ctx)
    kept = sizing_policy.keep_persisted(ctx)
    capacity = sizing_memory.connections_in_memory(ctx)

    sysctl, skipped = {}, {}
    wanted = dict(ctx["wanted"])
    wanted.update(ctx["skip_wanted"])
    for key in catalogue.ordered(wanted):
        row = catalogue.get(key)
        value = catalogue_values.coerce_value(row, wanted[key])
        errors = catalogue_checks.validation_errors(row, value, host["kernel"], page_size=host["page_size"])
        if errors and key in kept:  # an earlier run (or a hand edit of our file) left a value no longer valid
            ctx["warnings"].append("%s: persisted by an earlier run, but %s: dropped from the sysctl.d file"
                                   % (key, "; ".join(errors)))
            kept.remove(key)
            continue
        if errors:
            raise AssertionError("sizing produced an invalid value: %s" % "; ".join(errors))
        reason = sizing_policy.skip_reason(host, key)
        if reason and sizing_policy.live(host, key) == value:
            continue  # cannot be set here, but the value in force already is the wanted one
        if reason:
            skipped[key] = reason
            ctx["warnings"].append("%s: wanted %s but skipped: %s" % (key, catalogue_values.format_value(row, value), reason))
        else:
            sysctl[key] = catalogue_values.format_value(row, value)
    parsed = dict((key, catalogue_values.coerce_value(catalogue.get(key), text)) for key, text in sysctl.items())
    for key in ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"):
        current = sizing_policy.live(host, key)
        if key in parsed and current is not None and parsed[key][2] == current[2]:
            del parsed[key]  # only its default changed: the live max is not the plan's doing
    memory_args = (host["memory_bytes"], host["page_size"], sizing_policy.in_force(ctx, "net.ipv4.tcp_mem"),
                   kd.ehash_entries(host))
    planned_now = dict((key, value) for key, value in parsed.items() if key not in kept)
    errors = memory_rules.memory_errors(planned_now, *memory_args)
    if errors:
        raise AssertionError("sizing broke its own memory rules: %s" % "; ".join(errors))
    for key in (key for key in kept if key in parsed):  # a kept value must still fit (RAM may have shrunk)
        errors = memory_rules.memory_errors(dict(planned_now, **{key: parsed[key]}), *memory_args)
        if errors:
            del sysctl[key]
            ctx["explain"][key].update(value=None, reason=None, note="not kept: " + "; ".join(errors))
            ctx["warnings"].append("%s: persisted by an earlier run, but no longer within the memory rules here (%s); "
                                   "it is dropped from the sysctl.d file, so the next boot does not set it again"
                                   % (key, "; ".join(errors)))

    estimate, feasible, reasons = memory_estimate(ctx, per_socket, per_socket_source, capacity)
    reasons = reasons + ctx["infeasible"]  # a rule's own refusal (rule_tcp_mem: memory_budget_percent)
    feasible = feasible and not ctx["infeasible"]
    changes = [{"key": key, "before": _text(key, sizing_policy.live(host, key)), "planned": text,
                "reason": ctx["explain"][key]["reason"]} for key, text in sysctl.items()]
    if ctx["limits"]:
        changes.append({"key": "limits.nofile", "before": None, "planned": ctx["limits"],
                        "reason": ctx["explain"]["limits.nofile"]["reason"]})
    for name, value in sorted(ctx["txqueuelen"].items()):
        entry = ctx["explain"]["txqueuelen.%s" % name]
        changes.append({"key": "txqueuelen.%s" % name, "before": entry["live"], "planned": value,
                        "reason": entry["reason"]})
    predicted = ctx["predicted"]
    predicted["accept_queue_seconds"] = (round(sizing_policy.in_force(ctx, "net.core.somaxconn")
                                               / float(work["accept_rate"]), 3) if work["accept_rate"] else None)
    predicted["max_connections_in_memory"] = capacity
    workload_out = dict((key, work[key]) for key in sorted(work) if key != "sources")
    workload_out["reserved_ports"] = [list(item) for item in work["reserved_ports"]]
    return {"sysctl": sysctl, "skipped": skipped, "limits": ctx["limits"], "txqueuelen": ctx["txqueuelen"],
            "persist_only": dict((key, ctx["persist_only"][key]) for key in catalogue.ordered(ctx["persist_only"])),
            "notes": ctx["notes"],
            "changes": changes, "workload": workload_out, "workload_sources": work["sources"],
            "explain": dict((key, ctx["explain"][key]) for key in sorted(ctx["explain"])),
            "memory_estimate": estimate, "predicted": dict((key, predicted[key]) for key in sorted(predicted)),
            "feasible": feasible, "warnings": reasons + ctx["warnings"]}


def _text(key, value):
    return None if value is None else catalogue_values.format_value(catalogue.get(key), value)


def size_text(number):
    """Bytes for a sentence: "N.NN GB", or MB/KB below 0.01 GB so that nothing reads "0.00 GB"."""
    if number >= 1e7:
        return gb_text(number)
    if number >= 1e6:
        return "%.1f MB" % (number / 1e6)
    return "%d KB" % max(int(round(number / 1e3)), 1) if number else "0 B"


def memory_estimate(ctx, per_socket, source, capacity):
    """Everything the target holds against min(RAM, cgroup limit), in two parts
    (sizing_memory.memory_parts): the idle footprint (socket slab, userspace, TIME_WAIT, conntrack)
    and the busy buffers (sockets x busy_fraction x (tcp_rmem[1] + tcp_wmem[1]), at most tcp_mem max).

    ``summary`` says both parts and the headroom (or, when it is negative, how much is short) in one
    sentence. Infeasible: that sentence is the reason (connections, the bytes they need as the two
    parts, the usable memory, how much is short, how many fit); the breakdown is in the estimate's
    fields, every one >= 0 (``shortfall_bytes`` above the usable memory, ``headroom_bytes`` below it)."""
    host, work = ctx["host"], ctx["work"]
    memory = sizing_memory.effective_memory(host)
    sockets = sizing_memory.sockets_of(work)
    connections = work["target_connections"] or 0
    parts = sizing_memory.memory_parts(ctx, connections)
    idle, buffers = sizing_memory.idle_bytes(parts), parts["buffer_bytes"]
    total = sum(parts.values())
    safe = int(memory * SAFE_MEMORY_FRACTION)
    memory_source = "cgroup memory limit" if memory < host["memory_bytes"] else "RAM"
    line = sizing_memory.socket_line(host["kernel"])
    rmem, wmem = sizing_policy.in_force(ctx, "net.ipv4.tcp_rmem"), sizing_policy.in_force(ctx, "net.ipv4.tcp_wmem")
    estimate = {"per_socket_bytes": per_socket, "per_socket_source": source,
                "per_socket_line": dict((key, list(line[key]) if key == "kernel" else line[key]) for key in
                                        ("kernel", "line", "match", "release", "date", "connections", "method",
                                         "server_bytes", "client_bytes")),
                "sockets": sockets, "connections": connections, "max_connections": capacity,
                "idle_bytes": idle, "busy_fraction": work["busy_fraction"],
                "busy_fraction_source": work["sources"].get("busy_fraction", "default"),
                "busy_sockets": sizing_memory.busy_sockets(work, sockets), "busy_socket_bytes": rmem[1] + wmem[1],
                "busy_cap_bytes": sizing_policy.in_force(ctx, "net.ipv4.tcp_mem")[2] * host["page_size"],
                "total_bytes": total,
                "ram_bytes": host["memory_bytes"], "memory_limit_bytes": host.get("memory_limit_bytes"),
                "memory_bytes": memory, "memory_source": memory_source, "safe_fraction": SAFE_MEMORY_FRACTION,
                "safe_bytes": safe, "headroom_bytes": max(safe - total, 0), "shortfall_bytes": max(total - safe, 0),
                "fraction_of_memory": round(total / float(memory), 4)}
    estimate.update(parts)
    usable = "%d %% of the %s %s is %s" % (SAFE_MEMORY_FRACTION * 100, gb_text(memory), memory_source, gb_text(safe))
    need = "%d connections need about %s (idle %s + busy buffers %s)" % (connections, gb_text(total), size_text(idle),
                                                                         size_text(buffers))
    reasons = []
    if total > safe:
        estimate["summary"] = "%s but %s, %s short; at most about %d connections fit" % (
            need, usable, size_text(total - safe), capacity)
        reasons.append("infeasible: " + estimate["summary"])
    else:
        estimate["summary"] = "%s and %s: headroom %s; at most about %d connections fit" % (
            need, usable, size_text(safe - total), capacity)
    ctx["explain"]["memory_estimate"] = {
        "value": total, "reason": None, "note": estimate["summary"],
        "formula": "idle footprint: slab (sockets x per-socket bytes of the kernel line) + "
                   "userspace_bytes_per_connection x connections + TIME_WAIT (close rate x 60 s x 256 B) + conntrack "
                   "entries x %d B; busy buffers: min(sockets x busy_fraction x (tcp_rmem[1] + tcp_wmem[1]), tcp_mem "
                   "max); feasible when idle + busy <= %d %% of min(RAM, cgroup memory limit)"
                   % (CONNTRACK_ENTRY_BYTES, SAFE_MEMORY_FRACTION * 100),
        "inputs": {"per_socket_bytes": per_socket, "kernel_line": line["line"], "line_match": line["match"],
                   "sockets": sockets, "busy_fraction": work["busy_fraction"], "memory_bytes": memory},
        "source": source}
    return estimate, not reasons, reasons
