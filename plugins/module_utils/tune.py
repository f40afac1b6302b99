# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run on the target: live facts -> plan -> requests for the three components -> one transaction
(apply.apply_all, or apply.revert_all) -> the small result the role records for the fleet report.

The plan is made here, in the process that applies it, from the facts it has just read: nothing
travels to the controller and back. The result carries what the report reads (report_host.py) (facts reduced to the
keys and interfaces concerned, findings before and after, plan changes with reasons, explain for
the planned keys), not the full facts twice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import (
    apply, catalogue, catalogue_values, fileutil, host_detect, host_facts, limits, sizing, sizing_inputs, sysctl_check,
    sysctld, txqueue_persist)
from ansible_collections.tcptune.linux.plugins.module_utils import params as checks
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file

try:
    from typing import Any, Dict, List, Optional  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

COMPONENTS = ("sysctl", "limits", "txqueuelen")
EXPLAIN_CHOICES = ("planned", "all", "none")
REPORTED_STATES = ("ESTABLISHED", "TIME_WAIT")


def select_components(run_tags=None, skip_tags=None, components=None):
    # type: (Optional[List[str]], Optional[List[str]], Optional[List[str]]) -> List[str]
    """The components a play's --tags/--skip-tags select (ansible_run_tags, ansible_skip_tags):
    `all` (the default) selects every one; `--tags limits` only limits; `--tags facts` none.
    ``components`` narrows further (the module option)."""
    run = set(run_tags or ["all"])
    skip = set(skip_tags or [])
    chosen = [name for name in COMPONENTS if ("all" in run or name in run) and name not in skip]
    if components is not None:
        chosen = [name for name in chosen if name in components]
    return chosen


def txqueuelen_request(setting, plan, interfaces=None, include_virtual=False, persist="auto", allow_lower=False,
                       persisted=None, live=None):
    """``setting`` auto (the plan's value per interface, optionally only ``interfaces``), a positive
    number (on ``interfaces``, default every physical one) or off (None: left alone).

    auto also keeps ``persisted`` {name: value} (what an earlier run's udev or .link file holds) for an
    interface whose ``live`` {name: value} still equals it and that the plan leaves out or would lower
    (unless allow_lower): the persistence file is rewritten from the values, so a value left out would
    be gone at the next boot. Nothing planned and nothing kept: None, the files stay as they are."""
    text = str(setting).strip().lower()
    common = dict(include_virtual=include_virtual, persist=persist, allow_lower=allow_lower)
    if text == "off":
        return None
    if text == "auto":
        planned = plan.get("txqueuelen") or {}
        values = dict((name, value) for name, value in planned.items()
                      if value is not None and (not interfaces or name in interfaces))
        for name, value in sorted((persisted or {}).items()):
            keep = (live or {}).get(name) == value and (not interfaces or name in interfaces)
            if keep and (name not in values or (values[name] < value and not allow_lower)):
                values[name] = value
        return dict(common, values=values) if values else None
    if text.isdigit() and int(text) > 0:
        return dict(common, patterns=list(interfaces or ["*"]), value=int(text))
    raise fileutil.ApplyError("txqueuelen (tcp_tuning_txqueuelen in the role): expected auto, off or a positive "
                              "number, got %r. Nothing was changed." % (setting,))


def limits_request(plan, soft=None, hard=None, services=None, login=True, default_limit=True, allow_lower=False,
                   option_names=None):
    """The user's hard and soft win, then the plan's (login soft 1024, the planned hard). No hard at
    all: None, so the limit files an earlier run wrote stay as they are (removing them would lower the
    limit of the next login or service start; state=absent removes them)."""
    planned = plan.get("limits") or {}
    names = {"soft": checks.label("nofile_soft", option_names) if soft is not None else "the planned login soft",
             "hard": checks.label("nofile_hard", option_names) if hard is not None else "the planned nofile hard"}
    if hard is None:
        hard = (planned.get("login") or {}).get("hard") or (planned.get("services") or {}).get("hard")
    if soft is None:
        soft = (planned.get("login") or {}).get("soft") or limits.LOGIN_SOFT
    if hard is None:
        return None
    return dict(state="present", hard=int(hard), login_soft=int(soft), services=list(services or []),
                login=login, default_limit=default_limit, allow_lower=allow_lower, names=names)


def facts_view(facts, keys):
    """What the report reads from the facts: kernel, namespace, the values of ``keys``, txqueuelen
    per interface and the ESTABLISHED/TIME_WAIT counts."""
    sysctl = facts.get("sysctl") or {}
    unavailable = facts.get("sysctl_unavailable") or {}
    states = (facts.get("sockets") or {}).get("states") or {}
    kernel = facts.get("kernel") or {}
    return {
        "kernel": {"release": kernel.get("release"), "version": kernel.get("version")},
        "namespace": facts.get("namespace") or {},
        "sysctl": dict((key, sysctl[key]) for key in sorted(keys) if key in sysctl),
        "sysctl_unavailable": dict((key, unavailable[key]) for key in sorted(keys) if key in unavailable),
        "interfaces": dict((name, {"txqueuelen": item.get("txqueuelen"), "qdisc": item.get("qdisc")})
                           for name, item in sorted((facts.get("interfaces") or {}).items())),
        "sockets": {"states": dict((state, states.get(state)) for state in REPORTED_STATES if state in states)},
        # this process's own nofile rlimit: in a container, the most any limit file can give
        "nofile": {"self": (facts.get("nofile") or {}).get("self")},
    }


def plan_view(plan, explain="planned"):
    """The plan without the explain entries nobody asked for: ``planned`` keeps those of the keys,
    limits and interfaces the plan changes or skips (what the report shows), ``all`` every one."""
    view = dict((key, value) for key, value in plan.items() if key != "explain")
    entries = plan.get("explain") or {}
    if explain == "all":
        view["explain"] = entries
    elif explain == "planned":
        wanted = set(change["key"] for change in plan.get("changes") or []) | set(plan.get("skipped") or {})
        wanted |= set("txqueuelen.%s" % name for name in plan.get("txqueuelen") or {})
        view["explain"] = dict((key, entries[key]) for key in sorted(entries) if key in wanted)
    else:
        view["explain"] = {}
    return view


def _strip(result):
    return dict((key, value) for key, value in (result or {}).items() if key not in ("diff", "warnings"))


def _diffs(outcome):
    return [item for name in COMPONENTS for item in ((outcome.get(name) or {}).get("diff") or [])
            if item.get("before") != item.get("after")]


def _text(key, value):
    if value is None:
        return "?"
    try:
        return catalogue_values.format_value(catalogue.get(key), value)
    except (KeyError, ValueError):
        return str(value)


def summary(result):
    # type: (Dict[str, Any]) -> List[str]
    """The lines the role shows: findings, what was (or would be) changed, skipped keys, warnings."""
    mode = result["mode"]
    verb = "would change" if mode in ("audit", "check") else "changed"
    lines = ["%s: kernel %s, profile %s" % (mode, result["kernel"], result["profile"])]
    if result["container"]:
        lines.append("container: own network namespace, global keys are skipped")
    lines.extend(["finding [%s] %s: %s" % (item.get("severity"), item.get("id"), item.get("summary"))
                  for item in result["findings_before"]] or ["findings: none"])
    applied = result["applied"]
    previous, written = applied.get("previous") or {}, applied.get("applied") or {}
    for key in applied.get("changed_keys") or []:
        lines.append("sysctl %s: %s %s -> %s" % (verb, key, _text(key, previous.get(key)), _text(key, written.get(key))))
    if mode != "revert" and "sysctl" in result["components"] and not applied.get("changed_keys"):
        lines.append("sysctl: nothing to change")
    lines.extend("skipped %s: %s" % item for item in sorted(result["skipped"].items()))
    if result["limits"].get("changed"):
        lines.append("nofile limits %s: %s" % (verb, ", ".join(result["limits"].get("changed_files") or [])))
    queues = result["txqueuelen"]
    if queues.get("changed_interfaces"):
        lines.append("txqueuelen %s: %s" % (verb, ", ".join(
            "%s %s -> %s" % (name, queues["previous"].get(name), (queues.get("applied") or {}).get(name, "restored"))
            for name in queues["changed_interfaces"])))
    lines.extend("warning: %s" % warning for warning in (result["plan"].get("warnings") or []))
    if mode in ("apply", "revert"):
        if result["findings_after"]:
            lines.extend("finding after [%s] %s: %s" % (item.get("severity"), item.get("id"), item.get("summary"))
                         for item in result["findings_after"])
        else:
            lines.append("findings after: none")
    return lines


def _under(root, path):
    return os.path.join(root, path.lstrip("/"))


def run(params, check_mode=False):
    """The whole run for module parameters ``params`` (see plugins/modules/tcp_tune.py). Returns
    (result for the report, diffs, warnings); raises ApplyError or sizing_inputs.SizingInputError."""
    proc_path, sys_path = params["proc_path"], params["sys_path"]
    components = select_components(params.get("run_tags"), params.get("skip_tags"), params.get("components"))
    warnings = []
    namespace = host_detect.detect_namespace(proc_path)
    if not namespace["proc_sys_writable"] and components:
        if not check_mode:
            raise fileutil.ApplyError("%s/sys is not writable for this user; run as root (become: true). Nothing "
                                      "was changed. (If /proc/sys is mounted read-only on purpose, audit this host in "
                                      "check mode.)" % proc_path)
        warnings.append("%s/sys is not writable for this user, so every key reads as read-only and nothing is "
                        "planned for it; run with become: true for a meaningful audit." % proc_path)
    if params["state"] == "present":
        error = sysctld.boot_path_error(params["sysctl_path"], params["root"],
                                        option=checks.label("sysctl_path", params.get("option_names")))
        if error:
            raise fileutil.ApplyError("%s. Nothing was changed." % error)
    gather = dict(proc_path=proc_path, sys_path=sys_path, sockets=params["sockets"],
                  services=params.get("services") or ())
    facts = host_facts.gather(sample_seconds=params.get("sample_seconds") or 0, namespace=namespace, **gather)
    root = params["root"]
    # Global keys are the host's own only in its first network namespace and outside any container: a
    # privileged --network=host container would write them but persist them where the host never reads.
    host_scope = bool(namespace["init_netns"]) and not namespace["container"]
    common = dict(path=params["sysctl_path"], state_dir=params["state_dir"], proc_path=proc_path,
                  sys_path=sys_path, root=root, check_mode=check_mode, lock_timeout=params["lock_timeout"],
                  host=sysctl_check.host_facts(proc_path, facts, init_netns=host_scope),
                  module_rules_path=_under(root, sysctld.MODULE_RULES_PATH))
    txq_paths = dict(rules_path=_under(root, txqueue_persist.DEFAULT_RULES_PATH),
                     link_path=_under(root, txqueue_persist.DEFAULT_LINK_PATH))
    plan, settings = {}, {}
    if params["state"] == "absent":
        mode = "revert"
        outcome = apply.revert_all(components, txqueuelen_request=txq_paths, **common)
    else:
        mode = "audit" if params.get("audit") else ("check" if check_mode else "apply")
        workload = sizing_inputs.workload_from_params(params)
        # What earlier runs persisted: the plan keeps it while it is live, so a re-run never drops it.
        persisted = sysctld.parse_sysctl_file(read_file(params["sysctl_path"]) or "")
        full_plan = params.get("plan") or sizing.compute_plan(
            sizing_inputs.host_from_facts(facts, {"persisted": persisted, "in_init_netns": host_scope}), workload)
        plan = plan_view(full_plan, params.get("explain") or "planned")
        if not full_plan.get("feasible", True):
            components = []  # an infeasible plan changes nothing; the role fails the host on it
        settings = dict(full_plan.get("sysctl") or {})
        settings.update(params.get("sysctl_overrides") or {})
        txq = txqueuelen_request(params["txqueuelen"], full_plan, params.get("txqueuelen_interfaces"),
                                 params["txqueuelen_include_virtual"], params["txqueuelen_persist"],
                                 params["allow_lower"], persisted=txqueue_persist.persisted_values(sys_path, **txq_paths),
                                 live=dict((name, info.get("txqueuelen"))
                                           for name, info in (facts.get("interfaces") or {}).items()))
        if txq is not None:
            txq.update(txq_paths, run_path=_under(root, "/run"))
        nofile = limits_request(full_plan, params.get("nofile_soft"), params.get("nofile_hard"),
                                params.get("services"), params["limits_login"], params["limits_default"],
                                params["allow_lower"], params.get("option_names"))
        outcome = apply.apply_all(
            settings=settings if "sysctl" in components else None,
            limits_request=nofile if "limits" in components else None,
            txqueuelen_request=txq if "txqueuelen" in components else None,
            policy=params["policy"], sysctl_sources=[_under(root, path) for path in sysctld.DEFAULT_SYSCTL_SOURCES],
            persist_only=full_plan.get("persist_only") if "sysctl" in components else None, **common)
    sysctl = outcome.get("sysctl") or {}
    warnings.extend(sysctl.get("warnings") or [])
    warnings.extend((outcome.get("limits") or {}).get("warnings") or [])
    warnings.extend((outcome.get("txqueuelen") or {}).get("persist_warnings") or [])
    warnings.extend("this host already holds a hard nofile limit above fs.nr_open (logins or units may fail): %s"
                    % item for item in outcome.get("lockout_warnings") or [])
    facts_after = facts
    if outcome["changed"] and not check_mode:
        facts_after = host_facts.gather(sample_seconds=0, namespace=namespace, **gather)
    skipped = dict(plan.get("skipped") or {})
    skipped.update(sysctl.get("skipped_keys") or {})
    keys = set(settings) | set(skipped) | set(sysctl.get("applied") or {}) | set(sysctl.get("drift") or {})
    result = {
        "mode": mode,
        "profile": params.get("profile"),
        "kernel": (facts.get("kernel") or {}).get("release") or "",
        "container": not host_scope,
        "components": components,
        "changed": outcome["changed"],
        "facts_before": facts_view(facts, keys),
        "facts_after": facts_view(facts_after, keys),
        "plan": plan,
        "settings": settings,
        "applied": _strip(sysctl) if mode != "revert" else {},
        "skipped": skipped,
        "limits": _strip(outcome.get("limits")),
        "txqueuelen": _strip(outcome.get("txqueuelen")),
        "reverted": {},
        "mismatches": {},
        "findings_before": facts.get("findings") or [],
        "findings_after": facts_after.get("findings") or [],
        # The handler's trigger: limit files were written (not only planned) in this run.
        "limits_written": bool((outcome.get("limits") or {}).get("changed")) and not check_mode,
        "daemon_reload_needed": bool((outcome.get("limits") or {}).get("daemon_reload_needed")),
    }
    if mode == "revert":
        result["reverted"] = {
            "changed": outcome["changed"],
            "sysctl_changed_keys": sysctl.get("changed_keys") or [],
            "sysctl_previous": sysctl.get("previous") or {},
            "limits_changed": bool((outcome.get("limits") or {}).get("changed")),
            "txqueuelen_changed": bool((outcome.get("txqueuelen") or {}).get("changed")),
        }
    return result, _diffs(outcome), warnings
