# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks of tcp_tune's parameters, before anything is read or written, and how an error names
an option: by the module option, or by the tcp_tuning_* variable when the role passes it.

``check_params`` is pure (the parameters alone): the role's variables (an unknown tcp_tuning_* name
is refused with the nearest known one), sample_seconds, lock_timeout, the shape of a given plan,
txqueuelen, the service names, nofile limits, sysctl_overrides and the workload (sizing_inputs).
``check_host`` needs the host's interface names and reads the unit directories under ``root``.
Both raise SizingInputError with every problem found, ending in "Nothing was changed."
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import fnmatch
import math
import os

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, limits, sizing_inputs, workload_options
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_inputs import SizingInputError

try:
    from typing import Any, Dict, Iterable, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

ROLE = "tcptune.linux.tcp_tuning"
ROLE_PREFIX = "tcp_tuning_"
OPTION_NAMES = ("module", "role")
# Options the role sets from a variable that is not tcp_tuning_ + the option (roles/tcp_tuning/tasks/main.yml).
# tcp_tuning_sysctl_mode, the deprecated name of tcp_tuning_sysctl_policy, wins when set; the error names
# the current name.
ROLE_VARIABLE_OF = {
    "policy": "tcp_tuning_sysctl_policy",
    "audit": "tcp_tuning_audit_only",
    "run_tags": "ansible_run_tags",
    "skip_tags": "ansible_skip_tags",
}
# Options the role never sets: an error names the option even from the role.
NOT_FROM_ROLE = ("components", "plan", "lock_timeout", "root", "option_names", "role_variables",
                 "role_known_variables")
# tcp_tuning_* variables that are not options of the role (those are its meta/argument_specs.yml, which
# the role passes as role_known_variables): what the role and playbooks/tune-tcp.yml register or set,
# and the playbook's own variables.
ROLE_INTERNAL_VARIABLES = ("tcp_tuning_run", "tcp_tuning_audit_run", "tcp_tuning_outcome", "tcp_tuning_result",
                           "tcp_tuning_plan", "tcp_tuning_facts_before",
                           # tasks/monitor.yml (the textfile collector)
                           "tcp_tuning_monitor_plan", "tcp_tuning_monitor_probe", "tcp_tuning_monitor_installed",
                           "tcp_tuning_monitor_systemd",
                           "tcp_tuning_monitor_textfile_dir_stat", "tcp_tuning_monitor_service",
                           "tcp_tuning_monitor_timer", "tcp_tuning_monitor_timer_file", "tcp_tuning_monitor_service_failed")
PLAYBOOK_VARIABLES = ("tcp_tuning_hosts", "tcp_tuning_serial", "tcp_tuning_max_fail_percentage",
                      "tcp_tuning_become", "tcp_tuning_report_dir", "tcp_tuning_report_title",
                      "tcp_tuning_pipelining")
PLAYBOOK_INTERNAL_VARIABLES = ("tcp_tuning_play_hosts", "tcp_tuning_report_dest", "tcp_tuning_report_name",
                               "tcp_tuning_failure", "tcp_tuning_unreachable", "tcp_tuning_report")

# Sampling counters longer than an hour says nothing an hour does not, and holds the play that long.
MAX_SAMPLE_SECONDS = 3600
# Waiting longer than an hour for another run's lock means that run is stuck: fail and say so.
MAX_LOCK_TIMEOUT = 3600
TXQUEUELEN_MAX = 2147483647  # tx_queue_len is an unsigned int; dev_change_tx_queue_len() refuses above INT_MAX
TXQUEUELEN_WORDS = ("auto", "off")
GLOB_CHARACTERS = "*?["
# systemd's unit search path for the system manager (systemd.unit(5), "Unit File Load Path"), generated
# and transient units included: a drop-in for a unit found in none of them does nothing.
UNIT_DIRS = ("etc/systemd/system.control", "run/systemd/system.control", "run/systemd/transient",
             "run/systemd/generator.early", "etc/systemd/system", "etc/systemd/system.attached",
             "run/systemd/system", "run/systemd/system.attached", "run/systemd/generator",
             "usr/local/lib/systemd/system", "usr/lib/systemd/system", "lib/systemd/system",
             "run/systemd/generator.late")
OTHER_UNIT_TYPES = ("socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope")
# Top-level keys of a plan (sizing.compute_plan) and the type tcp_tune needs each to have.
PLAN_TYPES = (("sysctl", dict), ("limits", dict), ("txqueuelen", dict), ("skipped", dict), ("explain", dict),
              ("changes", list), ("warnings", list), ("feasible", bool))
PLAN_LIMIT_FIELDS = ("nr_open", "file_max")
NOTHING_CHANGED = "Nothing was changed."


def label(option, option_names="module"):
    # type: (str, Optional[str]) -> str
    """What an error calls ``option``: the option itself, or with ``option_names`` role the tcp_tuning_*
    variable the role passes to it (tcp_tuning_ + the option, or ROLE_VARIABLE_OF)."""
    if option_names != "role" or option in NOT_FROM_ROLE:
        return option
    return ROLE_VARIABLE_OF.get(option, ROLE_PREFIX + option)


def labels(options, option_names="module"):
    # type: (Iterable[str], Optional[str]) -> Dict[str, str]
    return dict((option, label(option, option_names)) for option in options)


def _fail(errors):
    if errors:
        text = "; ".join(errors)
        raise SizingInputError(text + ("" if text[-1] in ".?" else ".") + " " + NOTHING_CHANGED)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _closest(name, candidates):
    match = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return match[0] if match else None


def unknown_role_variables(names, known):
    # type: (Iterable[str], Iterable[str]) -> List[str]
    """One error per tcp_tuning_* name in ``names`` (the variables set for the host) that is neither in
    ``known`` (the role's options, meta/argument_specs.yml) nor one the role or the playbook sets itself;
    each names the nearest known variable. The role would silently ignore such a variable, a typo
    like tcp_tuning_profle among them."""
    known = set(known or ())
    settable = known | set(PLAYBOOK_VARIABLES)
    everything = settable | set(ROLE_INTERNAL_VARIABLES) | set(PLAYBOOK_INTERNAL_VARIABLES)
    errors = []
    for name in sorted(set(names or ())):
        if not name.startswith(ROLE_PREFIX) or name in everything:
            continue
        nearest = _closest(name, settable)
        hint = ("did you mean %s?" % nearest) if nearest else ("`ansible-doc -t role %s` lists its variables" % ROLE)
        errors.append("%s: the role %s has no such variable, so it would be ignored; %s" % (name, ROLE, hint))
    return errors


def _seconds_errors(name, value, maximum):
    if value is None:
        return []
    if not _is_number(value) or math.isnan(value) or math.isinf(value) or not 0 <= value <= maximum:
        return ["%s: must be a number of seconds from 0 to %d, got %r" % (name, maximum, value)]
    return []


def _plan_limits_errors(name, planned):
    errors = []
    for part in ("login", "services"):
        value = planned.get(part)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append("%s: limits.%s must be a dict with soft and hard, got %r" % (name, part, value))
            continue
        for kind in ("soft", "hard"):
            if value.get(kind) is not None and (not _is_int(value[kind]) or value[kind] < 1):
                errors.append("%s: limits.%s.%s must be a positive integer, got %r" % (name, part, kind, value[kind]))
    for part in PLAN_LIMIT_FIELDS:
        value = planned.get(part)
        if value is not None and (not _is_int(value) or value < 1):
            errors.append("%s: limits.%s must be a positive integer, got %r" % (name, part, value))
    return errors


def plan_errors(plan, name="plan"):
    # type: (Any, str) -> List[str]
    """A plan given to tcp_tune must have the shapes sizing.compute_plan returns (the keys tcp_tune reads):
    sysctl {key: text}, limits {login: {soft, hard}, services: {soft, hard}, nr_open, file_max} with
    integers, txqueuelen {interface: packets}, skipped and explain dicts, changes a list of {key, ...},
    warnings a list, feasible a boolean. Other keys and fields are the plan's own and left alone."""
    if not isinstance(plan, dict):
        return ["%s: must be a dict as tcp_sizing returns it (its plan), got %s" % (name, type(plan).__name__)]
    errors = []
    for key, kind in PLAN_TYPES:
        if key in plan and plan[key] is not None and not isinstance(plan[key], kind):
            errors.append("%s: %s must be a %s, got %s %r"
                          % (name, key, kind.__name__, type(plan[key]).__name__, plan[key]))
    if errors:
        return errors
    for key, value in sorted((plan.get("sysctl") or {}).items()):
        if not isinstance(key, str) or not (isinstance(value, str) or _is_int(value)):
            errors.append("%s: sysctl must map key names to values as text (like '4096 131072 6291456'), got "
                          "%r: %r" % (name, key, value))
    errors.extend(_plan_limits_errors(name, plan.get("limits") or {}))
    for interface, value in sorted((plan.get("txqueuelen") or {}).items()):
        if value is not None and (not _is_int(value) or not 1 <= value <= TXQUEUELEN_MAX):
            errors.append("%s: txqueuelen.%s must be a number of packets from 1 to %d, got %r"
                          % (name, interface, TXQUEUELEN_MAX, value))
    for change in plan.get("changes") or []:
        if not isinstance(change, dict) or not isinstance(change.get("key"), str):
            errors.append("%s: changes must be a list of {key, before, planned, reason}, got %r" % (name, change))
            break
    return errors


def txqueuelen_setting_errors(setting, name="txqueuelen"):
    # type: (Any, str) -> List[str]
    """auto, off, or a whole number of packets from 1 to TXQUEUELEN_MAX (a yes is not a number)."""
    text = str(setting).strip().lower()
    if text in TXQUEUELEN_WORDS or (text.isdigit() and 1 <= int(text) <= TXQUEUELEN_MAX):
        return []
    return ["%s: expected auto, off or a number of packets from 1 to %d, got %r" % (name, TXQUEUELEN_MAX, setting)]


def txqueuelen_values(values, name="values"):
    # type: (Any, str) -> Tuple[Dict[str, int], List[str]]
    """{interface: packets} from a dict whose values are whole numbers or their text, 1..TXQUEUELEN_MAX;
    a boolean (YAML yes) is refused, not read as 1. Returns (values, errors)."""
    if not isinstance(values, dict):
        return {}, ["%s: must be a dict of interface name to packets, got %r" % (name, values)]
    out, errors = {}, []
    for interface, value in sorted(values.items(), key=lambda item: str(item[0])):
        number = None
        if _is_int(value):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        if number is None or not 1 <= number <= TXQUEUELEN_MAX:
            errors.append("%s: %s must be a number of packets from 1 to %d, got %r"
                          % (name, interface, TXQUEUELEN_MAX, value))
        else:
            out[str(interface)] = number
    return out, errors


def service_errors(services, name="services"):
    # type: (Any, str) -> List[str]
    """Each entry a systemd service name (nginx or nginx.service); another unit type (x.socket) is
    refused: a LimitNOFILE drop-in for x.socket.service would do nothing."""
    errors = []
    for service in services or []:
        if not isinstance(service, str):
            errors.append("%s: %r is not a systemd service name" % (name, service))
            continue
        kind = service.rsplit(".", 1)[-1] if "." in service else None
        if kind in OTHER_UNIT_TYPES:
            errors.append("%s: %s is a %s unit, not a service; LimitNOFILE belongs to the service it starts "
                          "(name that .service)" % (name, service, kind))
            continue
        try:
            limits.unit_name(service)
        except ValueError:
            errors.append("%s: %r is not a systemd service name" % (name, service))
    return errors


def nofile_errors(soft, hard, soft_name="nofile_soft", hard_name="nofile_hard"):
    # type: (Any, Any, str, str) -> List[str]
    errors = []
    for name, value in ((soft_name, soft), (hard_name, hard)):
        if value is not None and (not _is_int(value) or not 1 <= value <= catalogue.NR_OPEN_MAX):
            errors.append("%s: must be a whole number from 1 to %d (the largest fs.nr_open), got %r"
                          % (name, catalogue.NR_OPEN_MAX, value))
    if not errors and soft is not None and hard is not None and soft > hard:
        errors.append("%s: %d is above %s %d; a soft limit is at most the hard one"
                      % (soft_name, soft, hard_name, hard))
    return errors


def sysctl_override_errors(overrides, name="sysctl_overrides"):
    # type: (Any, str) -> List[str]
    """Keys tcptune.linux knows (a typo is refused with the nearest key) and a value for each (not null,
    not a dict). Shapes and bounds per kernel are the apply step's (catalogue_checks.validation_errors)."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return ["%s: must be a dict of sysctl key to value, got %r" % (name, overrides)]
    errors = []
    for key, value in sorted(overrides.items(), key=lambda item: str(item[0])):
        if key not in catalogue.CATALOGUE:
            nearest = _closest(str(key), catalogue.CATALOGUE)
            errors.append("%s: %s is not a key tcptune.linux knows%s" % (
                name, key, " (did you mean %s?)" % nearest if nearest else " (see catalogue.py)"))
        elif value is None or isinstance(value, dict):
            errors.append("%s: %s must be a value (text, a number or a list of numbers), got %r" % (name, key, value))
    return errors


def check_params(params):
    # type: (Dict[str, Any]) -> None
    """Every check that needs only tcp_tune's parameters; raises SizingInputError listing every problem,
    each named as the user set it (option_names). With state absent only what a revert uses is checked
    (and the role's variables: a typo there may be tcp_tuning_state itself)."""
    names = params.get("option_names") or "module"
    errors = []
    if params.get("role_variables") is not None and params.get("role_known_variables"):
        errors.extend(unknown_role_variables(params["role_variables"], params["role_known_variables"]))
    errors.extend(_seconds_errors(label("sample_seconds", names), params.get("sample_seconds"), MAX_SAMPLE_SECONDS))
    errors.extend(_seconds_errors(label("lock_timeout", names), params.get("lock_timeout"), MAX_LOCK_TIMEOUT))
    if params.get("state", "present") == "present":
        plan = params.get("plan")
        if plan is not None:
            errors.extend(plan_errors(plan, label("plan", names)))
        errors.extend(txqueuelen_setting_errors(params.get("txqueuelen", "auto"), label("txqueuelen", names)))
        if str(params.get("txqueuelen", "auto")).strip().lower() == "auto":
            errors.extend("%s: %s is a pattern, but with txqueuelen auto the list holds interface names (patterns "
                          "need a number)" % (label("txqueuelen_interfaces", names), item)
                          for item in params.get("txqueuelen_interfaces") or [] if set(item) & set(GLOB_CHARACTERS))
        errors.extend(service_errors(params.get("services"), label("services", names)))
        errors.extend(nofile_errors(params.get("nofile_soft"), params.get("nofile_hard"),
                                    label("nofile_soft", names), label("nofile_hard", names)))
        errors.extend(sysctl_override_errors(params.get("sysctl_overrides"), label("sysctl_overrides", names)))
        if plan is None:
            try:
                sizing_inputs.resolve_workload(sizing_inputs.workload_from_params(params),
                                               labels(workload_options.WORKLOAD_ARGUMENT_SPEC, names))
            except SizingInputError as exc:
                errors.append(str(exc))
    _fail(errors)


def unit_files(service, root="/"):
    # type: (str, str) -> List[str]
    """The unit files of ``service`` under ``root`` in systemd's search path (a template instance
    a@b counts its a@.service)."""
    name = service if service.endswith(".service") else service + ".service"
    candidates = [name]
    if "@" in name:
        candidates.append(name.split("@", 1)[0] + "@.service")
    return [os.path.join(directory, candidate) for directory in UNIT_DIRS for candidate in candidates
            if os.path.lexists(os.path.join(root, directory, candidate))]


def check_host(params, interfaces, root=None, systemd_running=None):
    # type: (Dict[str, Any], Iterable[str], Optional[str], Optional[bool]) -> List[str]
    """The checks against this host: interfaces (``interfaces``, the names of /sys/class/net, e.g.
    facts["interfaces"]) named in txqueuelen_interfaces or a given plan's txqueuelen, and a unit file for
    each service under ``root`` (default params["root"]). A missing unit is refused when systemd runs
    (``systemd_running``, default limits.systemd_is_pid1(root)); otherwise (a container) it is one of the
    warnings returned. Raises SizingInputError listing every problem. Nothing to check with state absent."""
    if params.get("state", "present") != "present":
        return []
    names = params.get("option_names") or "module"
    root = root or params.get("root") or "/"
    interfaces = sorted(set(interfaces or ()))
    have = ", ".join(interfaces) or "none"
    errors, warnings = [], []
    setting = str(params.get("txqueuelen", "auto")).strip().lower()
    if setting != "off":
        for item in params.get("txqueuelen_interfaces") or []:
            if setting == "auto" and item not in interfaces and not set(item) & set(GLOB_CHARACTERS):
                errors.append("%s: %s is not an interface of this host (it has %s)"
                              % (label("txqueuelen_interfaces", names), item, have))
            elif setting != "auto" and not fnmatch.filter(interfaces, item):
                errors.append("%s: %s matches no interface of this host (it has %s)"
                              % (label("txqueuelen_interfaces", names), item, have))
    plan = params.get("plan")
    if isinstance(plan, dict) and isinstance(plan.get("txqueuelen"), dict) and setting == "auto":
        errors.extend("%s: txqueuelen.%s is not an interface of this host (it has %s)"
                      % (label("plan", names), item, have) for item in sorted(plan["txqueuelen"])
                      if item not in interfaces)
    missing = [service for service in params.get("services") or [] if not unit_files(service, root)]
    if missing:
        where = ", ".join("/" + directory for directory in UNIT_DIRS)
        running = limits.systemd_is_pid1(root) if systemd_running is None else systemd_running
        text = "%s: no unit file for %s in %s (under %s)" % (label("services", names), ", ".join(missing), where, root)
        if running:
            errors.append(text + "; a LimitNOFILE drop-in for it would do nothing (check the name: "
                          "`systemctl list-unit-files --type=service`)")
        else:
            warnings.append(text + "; systemd is not running here (a container?), so the name cannot be checked: "
                            "the drop-in is written, and does nothing unless a unit of that name appears")
    _fail(errors)
    return warnings
