# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sizing policy every rule goes through (README "Do no harm: the policy").

- a key changes only for a reason: a workload number (declared, or from the chosen preset) or a
  finding of tcp_facts with its evidence; otherwise the live value stays (``plan_key``);
- a live value is never lowered unless allow_lower; explain shows what it would have been;
- what an earlier run persisted stays planned while it is still what this host needs (``keep_persisted``).

Every rule takes the planning context ``ctx`` (host, work, explain, wanted, warnings, predicted,
in_force) and records its keys with ``plan_key``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values


def workload_reason(work, options, detail):
    return {"kind": "workload", "detail": detail,
            "from": dict((option, work["sources"].get(option, "declared")) for option in options)}


def finding_reason(finding, detail):
    return {"kind": "finding", "detail": detail, "finding": finding.get("id"),
            "evidence": finding.get("evidence") or {}}


def dependency_reason(detail):
    return {"kind": "dependency", "detail": detail}


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
            value = catalogue_values.coerce_value(row, text)
        except (TypeError, ValueError):
            continue  # not a value of this key: the file was edited by hand
        module = catalogue.module_of(key)
        current = live(host, key)
        if not settable(host, key):
            if module and not host["conntrack"].get("available"):
                ctx["persist_only"][key] = catalogue_values.format_value(row, value)
                ctx["notes"].append("%s = %s stays in the sysctl.d file: %s is not loaded now; it applies when the "
                                    "module loads" % (key, catalogue_values.format_value(row, value), module))
            continue
        entry = ctx["explain"].setdefault(key, explain_entry(host, key))
        default = kernel_default(host, key)
        # fs.nr_open and fs.file-max are not outdated while the limit files an earlier run kept depend on them.
        if entry.get("needed") is None and default is not None and value != default and row.rule != "rule_files":
            if _outdated(ctx, key, row, value, default) is None:
                continue  # planned by _outdated
        if current is None or catalogue_values.format_value(row, current) != catalogue_values.format_value(row, value):
            ctx["persist_only"][key] = catalogue_values.format_value(row, value)
            entry["note"] = ("persisted by an earlier run as %s; live is %s (changed since): kept in the file, not "
                             "written live" % (catalogue_values.format_value(row, value),
                                               catalogue_values.format_value(row, current) if current is not None else "absent"))
            continue
        entry["value"] = current
        entry["reason"] = entry.get("reason") or {
            "kind": "persisted",
            "detail": "%s = %s was persisted by an earlier run and is live: kept, so a reboot does not undo it "
                      "(state=absent reverts it; allow_lower lets a rule lower it)" % (key, catalogue_values.format_value(row, current))}
        ctx["wanted"][key] = current
        kept.append(key)
    return kept


def _outdated(ctx, key, row, value, default):
    """A persisted ``value`` no rule asks for now: flag it ``outdated``. Returns the value to keep in the
    file (None when the key is planned here: raised to the kernel default, or replaced under allow_lower)."""
    host, work = ctx["host"], ctx["work"]
    entry = ctx["explain"][key]
    entry["outdated"] = True
    text, default_text = catalogue_values.format_value(row, value), catalogue_values.format_value(row, default)
    if _below_default(row, value, default) or work["allow_lower"]:
        planned = default if work["allow_lower"] else catalogue_values.raised(row, value, default)
        entry["value"] = planned
        entry["reason"] = {"kind": "outdated",
                           "detail": "%s = %s was persisted by an earlier version; the current policy plans %s (%s)"
                                     % (key, text, catalogue_values.format_value(row, planned),
                                        "allow_lower is true" if work["allow_lower"]
                                        else "it never plans a value below the kernel default")}
        ctx["wanted"][key] = planned
        ctx["warnings"].append("%s: outdated value %s from an earlier run replaced by %s" %
                               (key, text, catalogue_values.format_value(row, planned)))
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
