#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_tune
short_description: Read facts, plan and apply sysctl keys, nofile limits and txqueuelen in one transaction
version_added: 1.1.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - One module run does what M(tcptune.linux.tcp_facts), M(tcptune.linux.tcp_sizing), M(tcptune.linux.tcp_sysctl),
    M(tcptune.linux.nofile_limits) and M(tcptune.linux.txqueuelen) do one by one, over the same module_utils. The
    role C(tcptune.linux.tcp_tuning) is a thin wrapper around it.
  - Reads the host's live facts, computes the sizing plan from them in the same process (or takes O(plan)), then
    applies the three components as one transaction. Everything is validated and diffed first; nothing is written
    when anything is refused. Then sysctl keys are written, each read back in the kernel's canonical form,
    persisted atomically and recorded for revert; then the nofile limit files; then txqueuelen (live, read back,
    persisted, recorded). A failure anywhere puts back the live sysctl and txqueuelen values written so far and
    every file the run touched.
  - A hard nofile limit is never above the fs.nr_open written in the same run, or, without one, the fs.nr_open that
    is live and persisted. An fs.nr_open below a hard nofile limit configured elsewhere is refused.
  - An infeasible plan changes nothing; C(result.plan.feasible) is false and the warnings say why.
  - Check mode runs the same path and writes nothing; with diff mode the diffs of live values and files are returned.
  - Without write access to C(/proc/sys) it fails with one message before anything is written (check mode warns).
  - Bad input fails with one message naming the option (or, from the role, its variable) and the rule, before
    anything is written; so does an interface in O(txqueuelen_interfaces) that the host does not have, or a service
    in O(services) without a unit file while systemd runs (without systemd, for example in a container, it is a
    warning). An unexpected error fails with its message and the traceback in C(exception), never a bare traceback.
attributes:
  check_mode:
    description: Runs the same path (facts, plan, validation, lockout checks) and writes nothing.
    support: full
  diff_mode:
    description: Returns the diffs of live values and files of the three components.
    support: full
options:
  state:
    description: V(present) plans and applies; V(absent) reverts what earlier runs wrote (limits first).
    type: str
    choices: [present, absent]
    default: present
  components:
    description:
      - Which of V(sysctl), V(limits) and V(txqueuelen) to apply; the others are left alone. Empty applies nothing
        (facts and plan only).
    type: list
    elements: str
    choices: [sysctl, limits, txqueuelen]
    default: [sysctl, limits, txqueuelen]
  run_tags:
    description:
      - The play's C(ansible_run_tags). Narrows O(components) to the tags V(sysctl), V(limits) and V(txqueuelen)
        selected (V(all) selects all), so each tag is safe alone.
    type: list
    elements: str
  skip_tags:
    description: The play's C(ansible_skip_tags); a skipped component is left alone.
    type: list
    elements: str
  audit:
    description: Label the run an audit in RV(result.mode) (run it in check mode; this option writes nothing itself).
    type: bool
    default: false
  plan:
    description: A plan from M(tcptune.linux.tcp_sizing) (its RV(tcptune.linux.tcp_sizing#module:plan)) to apply
      instead of computing one here.
    type: dict
  sysctl_overrides:
    description: Sysctl key to value; wins over the plan and is validated like every planned value.
    type: dict
    default: {}
  policy:
    description: V(set) writes the values; V(raise) only ever increases them (see M(tcptune.linux.tcp_sysctl)).
    type: str
    choices: [set, raise]
    default: set
  sysctl_path:
    description: The sysctl.d file written.
    type: path
    default: /etc/sysctl.d/60-tcptune.conf
  state_dir:
    description: Where previous values are recorded for O(state=absent), and the lock.
    type: path
    default: /var/lib/tcptune
  nofile_soft:
    description: Soft nofile limit of logins. Unset takes the plan's (1024).
    type: int
  nofile_hard:
    description: Hard nofile limit of logins and O(services). Unset takes the plan's; with neither, the limit files
      an earlier run wrote stay as they are (O(state=absent) removes them).
    type: int
  limits_login:
    description: Write the pam_limits file for login sessions.
    type: bool
    default: true
  limits_default:
    description: Write systemd's DefaultLimitNOFILE drop-in when the hard limit is above systemd's default.
    type: bool
    default: true
  txqueuelen:
    description: V(auto) (the plan's value per interface), a positive number, or V(off).
    type: str
    default: auto
  txqueuelen_interfaces:
    description: Interface names (V(auto)) or globs (a number). Empty means the plan's interfaces, or every physical one.
    type: list
    elements: str
    default: []
  txqueuelen_include_virtual:
    description: Also touch virtual interfaces.
    type: bool
    default: false
  txqueuelen_persist:
    description: How txqueuelen survives a reboot (see M(tcptune.linux.txqueuelen)).
    type: str
    choices: [auto, udev, link, none]
    default: auto
  explain:
    description:
      - V(planned) returns the explain entries of the keys, limits and interfaces the plan changes or skips; V(all)
        every entry (about 11 KB); V(none) none.
    type: str
    choices: [planned, all, none]
    default: planned
  sample_seconds:
    description: Seconds to sample counters for rates, from 0 to 3600; 0 reads them once.
    type: float
    default: 0
  sockets:
    description: Enumerate sockets (state counts, listeners) for the facts.
    type: bool
    default: true
  lock_timeout:
    description: Seconds to wait for another run's lock, from 0 to 3600.
    type: float
    default: 30
  proc_path:
    description: Root of procfs, for tests.
    type: path
    default: /proc
  sys_path:
    description: Root of sysfs, for tests.
    type: path
    default: /sys
  root:
    description: Root of the file system the limit files are written under, for tests.
    type: path
    default: /
  option_names:
    description:
      - How error messages name the options. V(module) by the option (O(accept_rate)); V(role) by the variable of
        the role C(tcptune.linux.tcp_tuning) that sets it (C(tcp_tuning_accept_rate)). The role sets V(role).
    type: str
    choices: [module, role]
    default: module
  role_variables:
    description:
      - The names of the C(tcp_tuning_*) variables set for the host (the role passes them). A name that is not
        in O(role_known_variables), and not one the role or its playbook sets itself, is refused with the nearest
        known name, before anything is read or written, so a typo like C(tcp_tuning_profle) is never ignored.
      - Unset, or without O(role_known_variables), no name is checked.
    type: list
    elements: str
  role_known_variables:
    description:
      - The variables of the role (the options of its C(meta/argument_specs.yml); the role passes them).
    type: list
    elements: str
  workload:
    description:
      - The workload options in one dict, by option name (O(profile), O(target_connections) and the others below);
        a key here wins over the option of that name, and C(null) means not declared. The role passes its
        C(tcp_tuning_<option>) variables this way.
      - Each value is converted and checked as the option of that name is, with the same messages.
    type: dict
extends_documentation_fragment:
  - tcptune.linux.linux_platform
  - tcptune.linux.workload
notes:
  - Supports check mode and diff mode.
  - Leaves no file on the target beyond the ones it manages and Ansible's own; works with pipelining.
seealso:
  - module: tcptune.linux.tcp_facts
  - module: tcptune.linux.tcp_sizing
  - module: tcptune.linux.tcp_sysctl
  - module: tcptune.linux.nofile_limits
  - module: tcptune.linux.txqueuelen
"""

EXAMPLES = r"""
- name: Tune a proxy in one module run
  tcptune.linux.tcp_tune:
    profile: proxy
    target_connections: 200000
    reserved_ports: [8080, "9000-9010"]
    services: [haproxy]
  become: true
  register: tuned

- name: Only the nofile limits (checked against the live and persisted fs.nr_open)
  tcptune.linux.tcp_tune:
    profile: proxy
    target_connections: 200000
    components: [limits]
  become: true

- name: Revert everything earlier runs wrote
  tcptune.linux.tcp_tune:
    state: absent
  become: true
"""

RETURN = r"""
result:
  description: What the fleet report reads (plugins/module_utils/report_host.py); docs/internals.md describes it.
  returned: always
  type: dict
  contains:
    mode:
      description: V(apply), V(check), V(audit) or V(revert).
      type: str
    components:
      description: The components applied.
      type: list
      elements: str
    facts_before:
      description: Kernel, namespace, the values of the planned keys, txqueuelen per interface, socket state counts.
      type: dict
    facts_after:
      description: The same, read again after a change (equal to RV(result.facts_before) when nothing changed).
      type: dict
    plan:
      description: The plan of M(tcptune.linux.tcp_sizing), explain narrowed by O(explain).
      type: dict
    settings:
      description: The sysctl values asked for (plan and overrides).
      type: dict
    applied:
      description: The sysctl step as M(tcptune.linux.tcp_sysctl) returns it (changed_keys, previous, applied, drift,
        overridden_by).
      type: dict
    skipped:
      description: Keys that cannot be set here, with the reason.
      type: dict
    limits:
      description: The limits step as M(tcptune.linux.nofile_limits) returns it; empty when left out.
      type: dict
    txqueuelen:
      description: The txqueuelen step as M(tcptune.linux.txqueuelen) returns it; empty when left out.
      type: dict
    reverted:
      description: With O(state=absent), what was restored.
      type: dict
    findings_before:
      description: Findings of M(tcptune.linux.tcp_facts) before the run.
      type: list
      elements: dict
    findings_after:
      description: Findings after the run.
      type: list
      elements: dict
    summary:
      description: Human-readable lines (findings, changes, skipped keys, warnings).
      type: list
      elements: str
  sample: {"mode": "apply", "components": ["sysctl", "limits", "txqueuelen"], "applied": {"changed_keys": []}}
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.tcptune.linux.plugins.module_utils import limits, module_errors, params as checks, sizing_inputs, tune
from ansible_collections.tcptune.linux.plugins.module_utils import workload_options
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError
from ansible_collections.tcptune.linux.plugins.module_utils.interfaces import interface_names


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            components=dict(type="list", elements="str", choices=list(tune.COMPONENTS), default=list(tune.COMPONENTS)),
            run_tags=dict(type="list", elements="str"),
            skip_tags=dict(type="list", elements="str"),
            audit=dict(type="bool", default=False),
            plan=dict(type="dict"),
            sysctl_overrides=dict(type="dict", default={}),
            policy=dict(type="str", choices=["set", "raise"], default="set"),
            sysctl_path=dict(type="path", default="/etc/sysctl.d/60-tcptune.conf"),
            state_dir=dict(type="path", default="/var/lib/tcptune"),
            nofile_soft=dict(type="int"),
            nofile_hard=dict(type="int"),
            limits_login=dict(type="bool", default=True),
            limits_default=dict(type="bool", default=True),
            txqueuelen=dict(type="str", default="auto"),
            txqueuelen_interfaces=dict(type="list", elements="str", default=[]),
            txqueuelen_include_virtual=dict(type="bool", default=False),
            txqueuelen_persist=dict(type="str", choices=["auto", "udev", "link", "none"], default="auto"),
            explain=dict(type="str", choices=list(tune.EXPLAIN_CHOICES), default="planned"),
            sample_seconds=dict(type="float", default=0),
            sockets=dict(type="bool", default=True),
            lock_timeout=dict(type="float", default=30.0),
            proc_path=dict(type="path", default="/proc"),
            sys_path=dict(type="path", default="/sys"),
            root=dict(type="path", default="/"),
            option_names=dict(type="str", choices=list(checks.OPTION_NAMES), default="module"),
            role_variables=dict(type="list", elements="str"),
            role_known_variables=dict(type="list", elements="str"),
            workload=dict(type="dict"),
            **workload_options.WORKLOAD_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)
    params.update(workload_params(module, params.pop("workload")))
    for key in ("accept_rate", "outbound_rate", "bandwidth_mbps", "rtt_ms", "memory_budget_percent"):
        if isinstance(params[key], float) and params[key].is_integer():
            params[key] = int(params[key])
    try:
        run(module, params)
    except (ApplyError, sizing_inputs.SizingInputError, IOError, OSError) as exc:
        module.fail_json(**module_errors.failure(exc))
    except Exception as exc:  # pylint: disable=broad-except
        # Any other error: one line for the user, the traceback beside it (Ansible shows it with -vvv).
        module.fail_json(msg="tcp_tune failed unexpectedly (%s: %s); this is a bug of tcptune.linux, please report "
                             "it with the traceback in 'exception' (-vvv shows it)" % (type(exc).__name__, exc),
                         exception=traceback.format_exc())


def workload_params(module, workload):
    """The options given in ``workload`` (the role's dict), converted and checked as the options themselves;
    a null one is left out, as an option the role omits."""
    given = dict((key, value) for key, value in (workload or {}).items() if value is not None)
    checked = ArgumentSpecValidator(workload_options.WORKLOAD_ARGUMENT_SPEC).validate(given)
    if checked.error_messages:
        module.fail_json(msg=checked.errors.msg)
    return dict((key, checked.validated_parameters[key]) for key in given)


def run(module, params):
    # Bad input is refused before anything is read or written: the parameters, then what they name here.
    checks.check_params(params)
    net = os.path.join(params["sys_path"], "class/net")
    interfaces = [name for name in interface_names(params["sys_path"])
                  if os.path.isdir(os.path.join(net, name))]  # not bonding_masters
    host_warnings = checks.check_host(params, interfaces)
    result, diffs, warnings = tune.run(params, check_mode=module.check_mode)
    if host_warnings and result.get("plan"):
        result["plan"]["warnings"] = list(result["plan"].get("warnings") or []) + host_warnings  # in the report
    result["summary"] = tune.summary(result)
    for warning in host_warnings + warnings:
        module.warn(warning)
    result["daemon_reloaded"] = False
    if result.pop("daemon_reload_needed") and not module.check_mode and limits.systemd_is_pid1(params["root"]):
        rc, out, err = module.run_command([module.get_bin_path("systemctl", required=True), "daemon-reload"])
        if rc != 0:
            module.fail_json(msg=module_errors.daemon_reload_failed(out, err), result=result)
        result["daemon_reloaded"] = True
    extra = {"diff": diffs} if module._diff else {}
    module.exit_json(changed=result["changed"], result=result, **extra)


if __name__ == "__main__":
    main()
