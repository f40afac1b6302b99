# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a sysctl run may write here: the host facts apply needs (``host_facts``: from the caller's facts, or
read once), the one validation of the settings (``check_settings``), and from the validated values what to
write, what to skip and, with policy raise, never lower (``plan_settings``).

Every read of procfs by the apply stage is in host_facts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os

from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_checks, catalogue_values, host_detect, kernel_release, memory_rules, procfs)
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError, read_file
from ansible_collections.tcptune.linux.plugins.module_utils.sysctl_live import key_file, read_live, unsupported_reason

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

# values: {name: coerced value}; context: catalogue_checks.validation_context, for checking raised values the same way.
Checked = collections.namedtuple("Checked", "values context")
CONGESTION_CONTROL_LISTS = ("net.ipv4.tcp_available_congestion_control", "net.ipv4.tcp_allowed_congestion_control")


def host_facts(proc_path, facts=None, init_netns=None):
    # type: (str, Optional[Dict[str, Any]], Optional[bool]) -> Dict[str, Any]
    """What validation needs to know of the host: {kernel: (major, minor, patch), init_netns, memory_bytes:
    MemTotal or None, page_size, tcp_mem: the one in force or None, congestion_control: the texts of
    CONGESTION_CONTROL_LISTS or None}. From ``facts`` (host_facts.gather's) when the caller has them, else read
    here from proc_path; the congestion control lists are not in the facts and are read here either way.
    ``init_netns`` replaces the namespace's (tcp_tune passes its host scope: first netns, no container)."""
    if facts is not None:
        kernel = facts["kernel"]
        found = {"kernel": tuple(kernel["version"]), "init_netns": facts["namespace"]["init_netns"],
                 "memory_bytes": kernel.get("mem_total_bytes"), "page_size": kernel["page_size"],
                 "tcp_mem": (facts.get("sysctl") or {}).get("net.ipv4.tcp_mem")}
    else:
        try:
            with open(os.path.join(proc_path, "sys/kernel/osrelease")) as handle:
                release = handle.read().strip()
        except (IOError, OSError):
            release = os.uname()[2]
        found = {"kernel": kernel_release.parse_kernel_release(release), "init_netns": host_detect.in_init_netns(proc_path),
                 "memory_bytes": procfs.host_memory_bytes(proc_path), "page_size": procfs.page_size(),
                 "tcp_mem": read_live(proc_path, "net.ipv4.tcp_mem")}
    found["congestion_control"] = tuple(read_file(key_file(proc_path, name)) for name in CONGESTION_CONTROL_LISTS)
    if init_netns is not None:
        found["init_netns"] = init_netns
    return found


def validate(settings, kernel, memory_bytes=None, page_size=4096, tcp_mem_in_force=None, context=None):
    # type: (Dict[str, Any], Tuple[int, int, int], Optional[int], int, Optional[List[int]], Optional[Dict[str, Any]]) -> Tuple[Dict[str, Any], List[str]]
    """Coerce every setting and collect every error (unknown key, type, range, refusal, memory).

    With ``memory_bytes`` (MemTotal, or a smaller cgroup limit) the memory rules of
    memory_rules.memory_errors apply too, the same rules the plan is sized by.
    """
    values, errors = {}, []
    for name in sorted(settings):
        try:
            key = catalogue.get(name)
        except KeyError as exc:
            errors.append(str(exc.args[0]))
            continue
        try:
            value = catalogue_values.coerce_value(key, settings[name])
        except ValueError as exc:
            errors.append(str(exc))
            continue
        problems = catalogue_checks.validation_errors(key, value, kernel, page_size=page_size, context=context)
        if problems:
            errors.extend(problems)
        else:
            values[name] = value
    if memory_bytes:
        errors.extend(memory_rules.memory_errors(values, memory_bytes, page_size, tcp_mem_in_force))
    return values, errors


def check_settings(settings, host):
    # type: (Dict[str, Any], Dict[str, Any]) -> Checked
    """The one validation of ``settings`` (the plan with the user's overrides) on the host of ``host_facts``:
    its kernel, namespace, memory, tcp_mem in force and congestion controls. Reads nothing. Raises ApplyError
    with every error at once."""
    available, allowed = host["congestion_control"]
    context = catalogue_checks.validation_context(init_netns=host["init_netns"], available_congestion_control=available,
                                                  allowed_congestion_control=allowed)
    values, errors = validate(settings, host["kernel"], host["memory_bytes"], host["page_size"], host["tcp_mem"],
                              context)
    if errors:
        raise ApplyError("invalid settings, nothing was changed: " + "; ".join(errors),
                         {"errors": errors})
    return Checked(values, context)


def plan_settings(checked, proc_path, host, mode="set"):
    # type: (Checked, str, Dict[str, Any], str) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, str]]
    """Validated settings -> (wanted {name: value}, current {name: value}, skipped {name: reason}).

    Reads the live value of each key it would write. With mode raise a value is raised to the live one
    where that is higher (never lower), and the raised values, which validation never saw, are checked
    against the same rules. Raises ApplyError with every error at once."""
    kernel, page_size, memory_bytes = host["kernel"], host["page_size"], host["memory_bytes"]
    errors = []  # type: List[str]
    wanted, current, skipped = {}, {}, {}
    for name in catalogue.ordered(checked.values):
        key = catalogue.get(name)
        reason = unsupported_reason(proc_path, key, kernel, host["init_netns"])
        if reason:
            skipped[name] = reason
            continue
        current[name] = read_live(proc_path, name)
        value = checked.values[name]
        if mode == "raise":
            value = catalogue_values.raised(key, current[name], value)
            problems = catalogue_checks.validation_errors(key, value, kernel, page_size=page_size, context=checked.context)
            if problems:
                errors.extend(problems)
        wanted[name] = value
    if mode == "raise" and memory_bytes:
        errors.extend(memory_rules.memory_errors(wanted, memory_bytes, page_size, host["tcp_mem"]))
    if errors:
        raise ApplyError("invalid settings after raise, nothing was changed: " + "; ".join(errors),
                         {"errors": errors})
    return wanted, current, skipped
