# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the role does about the textfile collector (role variable ``tcp_tuning_monitor``), decided here so
the role's Jinja compares nothing: where it installs the collector (the module_utils of
``COLLECTOR_MODULE_UTILS``, roles/tcp_tuning/files/tcptune-textfile.py as the entry point, a settings file,
a systemd service and timer), its settings and their checks, and ``monitor_plan`` (install, remove, or
leave alone). The filter plugin tcptune.linux.monitor_plan calls it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import re

try:
    from typing import Any, Dict, List, Optional  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

# What the role installs (monitor_plan's paths). The module_utils go into one file, BUNDLE (bundle_text): one
# transfer and one check per run instead of one per file. The entry point imports the collection's package
# from it, so no other ansible_collections on the target can shadow them.
INSTALL_DIR = "/usr/local/lib/tcptune"
BUNDLE = INSTALL_DIR + "/module_utils.bundle"
# Where earlier installs copied the module_utils, one file each: an install removes it (in ``stale``).
LEGACY_MODULE_UTILS_DIR = INSTALL_DIR + "/module_utils"
# Two lines, then the JSON. The second line is no comment, so the text is no Python literal either
# (ansible-core's jinja2_native would turn a comment-led dict literal into a dict on its way to the copy).
BUNDLE_HEADER = ("# tcptune.linux: the collection's module_utils the textfile collector imports. Written by the role\n"
                 "tcptune.linux module_utils bundle 1: after this line, JSON of module name to source\n")
SCRIPT = INSTALL_DIR + "/tcptune-textfile.py"
SETTINGS_FILE = INSTALL_DIR + "/tcptune-textfile.json"
UNIT = "tcptune-textfile"
UNIT_DIR = "/etc/systemd/system"
RUNTIME_DIR = "/run/" + UNIT  # systemd's RuntimeDirectory=, kept between runs (RuntimeDirectoryPreserve=yes)
STATE_FILE = RUNTIME_DIR + "/counters.json"
TEXTFILE_NAME = "tcptune.prom"
# metrics.py, the collector, and every module_utils file it imports, directly or not (a unit test checks the
# closure).
COLLECTOR_MODULE_UTILS = ("catalogue", "catalogue_checks", "catalogue_values", "collector_plan", "diagnosis",
                          "diagnosis_conntrack", "diagnosis_evidence", "diagnosis_files", "diagnosis_memory",
                          "diagnosis_ports", "diagnosis_queues", "diagnosis_rules", "fileutil", "host_detect",
                          "host_facts", "interfaces", "kernel_defaults", "kernel_release", "metrics",
                          "metrics_series", "port_ranges", "procfs", "services", "sockdiag", "sysctld")
PACKAGE = "ansible_collections.tcptune.linux.plugins.module_utils"

DEFAULT_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"  # Debian's prometheus-node-exporter default
DEFAULT_INTERVAL = 60
# Below 10 s the socket dump and the fsync of every run cost more than a finding gains; above a day the
# rates say nothing about now.
INTERVAL_MIN = 10
INTERVAL_MAX = 86400
# systemd stops a run after this (TimeoutStartSec=): far above a run's cost (tens of milliseconds on a host,
# seconds under emulation), and not the interval, which a slow first run (its 5 s sample) could exceed.
RUN_TIMEOUT_SECONDS = 300
MODULE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# A path node_exporter reads and systemd's ReadWritePaths= takes as it is: no spaces, quotes, '%' or '\'.
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+@:/-]*$")
# The tcp_tuning_* variable behind each setting, for error messages.
ROLE_VARIABLE_OF = {"textfile_dir": "tcp_tuning_monitor_textfile_dir", "interval": "tcp_tuning_monitor_interval",
                    "python": "tcp_tuning_monitor_python", "sysctl_path": "tcp_tuning_sysctl_path",
                    "services": "tcp_tuning_services", "sockets": "tcp_tuning_sockets",
                    "monitor": "tcp_tuning_monitor", "state": "tcp_tuning_state"}


def settings_errors(settings):
    # type: (Dict[str, Any]) -> List[str]
    """One message per bad setting, naming the role variable it comes from."""
    errors = []
    interval = settings.get("interval")
    if isinstance(interval, bool) or not isinstance(interval, int) or not INTERVAL_MIN <= interval <= INTERVAL_MAX:
        errors.append("%s: must be a whole number of seconds from %d to %d, got %r"
                      % (ROLE_VARIABLE_OF["interval"], INTERVAL_MIN, INTERVAL_MAX, interval))
    for name in ("textfile_dir", "python", "sysctl_path"):
        value = settings.get(name)
        if not isinstance(value, str) or not SAFE_PATH.match(value) or os.path.normpath(value) != value:
            errors.append("%s: must be an absolute, normalised path of letters, digits and ._+@:/- only (it goes "
                          "into a systemd unit as it is), got %r" % (ROLE_VARIABLE_OF[name], value))
    services = settings.get("services")
    if not isinstance(services, list) or not all(isinstance(item, str) and item for item in services):
        errors.append("%s: must be a list of service names, got %r" % (ROLE_VARIABLE_OF["services"], services))
    if not isinstance(settings.get("sockets"), bool):
        errors.append("%s: must be true or false, got %r" % (ROLE_VARIABLE_OF["sockets"], settings.get("sockets")))
    return errors


def _whole(value):
    """An int from an int or a string of digits (``-e tcp_tuning_monitor_interval=30`` is a string); else as given."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _boolean(value):
    """A bool from a bool or the words Ansible takes for one ("-e" gives strings); else as given."""
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return value


def check_module_name(name):
    # type: (Any) -> None
    """Raise ValueError unless ``name`` is a plain module name (no path, no dots)."""
    if not isinstance(name, str) or not MODULE_NAME.match(name):
        raise ValueError("module_utils bundle: %r is not a module name" % (name,))


def read_sources(names, directory):
    # type: (List[str], str) -> Dict[str, str]
    """{name: source} of the module_utils ``names`` in ``directory`` (the controller's copy of this collection).
    Raises ValueError for a name that is not a plain module name, before reading anything, and IOError naming
    the module for a file it cannot read."""
    for name in names:
        check_module_name(name)
    sources = {}
    for name in names:
        try:
            with io.open(os.path.join(directory, name + ".py"), encoding="utf-8") as handle:
                sources[name] = handle.read()
        except (IOError, OSError) as error:
            raise IOError("cannot read module_utils %r: %s" % (name, error))
    return sources


def bundle_text(sources):
    # type: (Dict[str, str]) -> str
    """The text of BUNDLE: BUNDLE_HEADER, then ``sources`` ({module name: its source}) as JSON with sorted keys,
    so the same sources always give the same bytes (the role's copy stays unchanged). The header makes it
    neither JSON nor a Python literal, so no templating turns it into a dict on its way to the copy; a reader
    takes the JSON from the first line that starts with '{'."""
    for name in sources:
        check_module_name(name)
    return BUNDLE_HEADER + json.dumps(sources, sort_keys=True, indent=0) + "\n"


def monitor_plan(variables, installed=None):
    # type: (Dict[str, Any], Optional[Dict[str, Any]]) -> Dict[str, Any]
    """What the role does about the collector, from its variables (``monitor``, ``state``, ``audit_only``,
    ``interval``, ``textfile_dir``, ``python``, ``sysctl_path``, ``services``, ``sockets``) and the settings
    file as installed (``installed``, None when there is none).

    install: state present and monitor on (not in audit mode); remove: state absent (whatever monitor says:
    a revert leaves nothing behind). ``touch`` says whether the role must look at the target at all (a
    host without the collector that does not want it costs no module run). ``stale`` lists what an
    earlier install left that this one does not use: a textfile written elsewhere (the directory changed) and
    the module_utils directory of earlier installs (the collector now reads BUNDLE). Raises ValueError naming the variables."""
    settings = {"textfile_dir": variables.get("textfile_dir"), "interval": _whole(variables.get("interval")),
                "python": variables.get("python"), "sysctl_path": variables.get("sysctl_path"),
                "services": variables.get("services"), "sockets": _boolean(variables.get("sockets")),
                "state_file": STATE_FILE}
    state = variables.get("state")
    if state not in ("present", "absent"):
        raise ValueError("%s: must be present or absent, got %r" % (ROLE_VARIABLE_OF["state"], state))
    monitor = _boolean(variables.get("monitor"))
    if not isinstance(monitor, bool):
        raise ValueError("%s: must be true or false, got %r" % (ROLE_VARIABLE_OF["monitor"], variables.get("monitor")))
    audit = _boolean(variables.get("audit_only")) is True
    install = state == "present" and monitor and not audit
    remove = state == "absent" and not audit
    if install:
        errors = settings_errors(settings)
        if errors:
            raise ValueError("; ".join(errors) + ". Nothing was changed.")
    textfile = os.path.join(settings["textfile_dir"] or DEFAULT_TEXTFILE_DIR, TEXTFILE_NAME)
    before = None
    if isinstance(installed, dict) and isinstance(installed.get("textfile_dir"), str):
        before = os.path.join(installed["textfile_dir"], TEXTFILE_NAME)
    if remove:
        stale = sorted(set(path for path in (textfile, before) if path))
    elif install:
        stale = ([before] if before and before != textfile else []) + [LEGACY_MODULE_UTILS_DIR]
    else:
        stale = []
    paths = {"install_dir": INSTALL_DIR, "bundle": BUNDLE, "script": SCRIPT, "settings": SETTINGS_FILE,
             "service": "%s/%s.service" % (UNIT_DIR, UNIT), "timer": "%s/%s.timer" % (UNIT_DIR, UNIT),
             "runtime_dir": RUNTIME_DIR}
    return {
        "input": dict(variables), "install": bool(install), "remove": bool(remove), "touch": bool(install or remove),
        "settings": settings, "python": settings["python"], "interval": settings["interval"],
        "timeout": RUN_TIMEOUT_SECONDS,
        "textfile": textfile, "stale": stale, "module_utils": list(COLLECTOR_MODULE_UTILS),
        "paths": paths, "unit": UNIT, "runtime_directory": os.path.basename(RUNTIME_DIR),
        # Removal order: the units, the textfiles, the runtime directory, and the install directory last, so
        # that its absence means nothing is left (an interrupted removal is finished by the next one).
        "remove_paths": [paths["timer"], paths["service"]] + stale + [RUNTIME_DIR, INSTALL_DIR] if remove else [],
    }
