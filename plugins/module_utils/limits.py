# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nofile limits: pam_limits file for login sessions, systemd DefaultLimitNOFILE and per-service
LimitNOFILE drop-ins. Validate against fs.nr_open, render, write atomically, remove."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible_collections.tcptune.linux.plugins.module_utils.apply import ApplyError, atomic_write, read_file

try:
    from typing import Dict, List, Optional  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

FILE_NAME = "60-tcptune-nofile.conf"
LIMITS_FILE = "etc/security/limits.d/" + FILE_NAME
SYSTEM_DROPIN = "etc/systemd/system.conf.d/" + FILE_NAME
SERVICE_DROPIN = "etc/systemd/system/%s.service.d/" + FILE_NAME
HEADER = "# Managed by tcptune.linux (nofile_limits). Do not edit: the next run overwrites this file.\n"
_UNIT = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")


def unit_name(service):
    # type: (str) -> str
    """'nginx' or 'nginx.service' -> 'nginx'. Raises ValueError for anything that is not a unit name."""
    name = service[:-len(".service")] if service.endswith(".service") else service
    if not name or not _UNIT.match(name) or name in (".", ".."):
        raise ValueError("services: %r is not a systemd service name" % service)
    return name


def read_nr_open(proc_path):
    # type: (str) -> Optional[int]
    text = read_file(os.path.join(proc_path, "sys/fs/nr_open"))
    return int(text.strip()) if text else None


def validation_errors(soft, hard, nr_open, services):
    # type: (int, int, Optional[int], List[str]) -> List[str]
    """Every rule broken, each naming the option. ``nr_open`` None means it is unknown."""
    errors = []
    for option, value in (("soft", soft), ("hard", hard)):
        if value < 1:
            errors.append("%s: %d must be at least 1" % (option, value))
    if soft > hard:
        errors.append("soft: %d is above hard %d" % (soft, hard))
    if nr_open is None:
        errors.append("nr_open: fs.nr_open is unreadable; give nr_open")
    elif hard > nr_open:
        errors.append("hard: %d is above fs.nr_open %d (the kernel refuses a larger RLIMIT_NOFILE; "
                      "raise fs.nr_open first)" % (hard, nr_open))
    for service in services:
        try:
            unit_name(service)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def render_limits_conf(soft, hard):
    # type: (int, int) -> str
    """pam_limits: '*' lines do not apply to root, so root gets its own."""
    return HEADER + "".join("%-6s %-4s nofile %d\n" % (domain, kind, value)
                            for domain in ("*", "root") for kind, value in (("soft", soft), ("hard", hard)))


def render_system_dropin(soft, hard):
    # type: (int, int) -> str
    return "%s[Manager]\nDefaultLimitNOFILE=%d:%d\n" % (HEADER, soft, hard)


def render_service_dropin(soft, hard):
    # type: (int, int) -> str
    return "%s[Service]\nLimitNOFILE=%d:%d\n" % (HEADER, soft, hard)


def desired_files(root, soft, hard, services, login=True, default_limit=True):
    # type: (str, int, int, List[str], bool, bool) -> Dict[str, str]
    files = {}
    if login:
        files[os.path.join(root, LIMITS_FILE)] = render_limits_conf(soft, hard)
    if default_limit:
        files[os.path.join(root, SYSTEM_DROPIN)] = render_system_dropin(soft, hard)
    for service in services:
        files[os.path.join(root, SERVICE_DROPIN % unit_name(service))] = render_service_dropin(soft, hard)
    return files


def managed_files(root):
    # type: (str) -> List[str]
    """Files of ours already on disk: fixed paths, and service drop-ins carrying our header."""
    found = [os.path.join(root, path) for path in (LIMITS_FILE, SYSTEM_DROPIN)
             if os.path.exists(os.path.join(root, path))]
    for path in sorted(glob.glob(os.path.join(root, SERVICE_DROPIN % "*"))):
        if (read_file(path) or "").startswith(HEADER):
            found.append(path)
    return found


def systemd_is_pid1(root="/"):
    # type: (str) -> bool
    """sd_booted(): /run/systemd/system exists only when systemd is PID 1."""
    return os.path.isdir(os.path.join(root, "run/systemd/system"))


def sync_limits(root="/", soft=None, hard=None, services=None, login=True, default_limit=True,
                proc_path="/proc", nr_open=None, state="present", check_mode=False):
    """Make the managed files match (state=absent: remove them all). Returns the result dict
    with daemon_reload_needed; raises ApplyError naming every broken rule before any write."""
    services = services or []
    if state == "present":
        if soft is None or hard is None:
            raise ApplyError("soft and hard are required with state=present")
        limit = nr_open if nr_open is not None else read_nr_open(proc_path)
        errors = validation_errors(soft, hard, limit, services)
        if errors:
            raise ApplyError("invalid limits, nothing was changed: " + "; ".join(errors), {"errors": errors})
        wanted = desired_files(root, soft, hard, services, login, default_limit)
    else:
        wanted, limit = {}, None
    changes = []  # (path, old, new or None)
    for path in sorted(set(wanted) | set(managed_files(root))):
        old, new = read_file(path), wanted.get(path)
        if old != new:
            changes.append((path, old, new))
    result = {
        "changed": bool(changes),
        "files": sorted(wanted),
        "changed_files": [path for path, dummy_b, dummy_c in changes],
        "removed_files": [path for path, dummy_b, new in changes if new is None],
        "daemon_reload_needed": any("/systemd/" in path for path, dummy_b, dummy_c in changes),
        "restart_needed": sorted(os.path.basename(os.path.dirname(path))[:-2] for path, dummy_b, dummy_c in changes
                                 if path.endswith(".service.d/" + FILE_NAME)),
        "nr_open": limit,
        "diff": [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
                 for path, old, new in changes],
    }
    if check_mode:
        return result
    for path, dummy_b, new in changes:
        if new is None:
            os.unlink(path)
            _remove_empty_dropin_dir(path)
        else:
            atomic_write(path, new)
    return result


def _remove_empty_dropin_dir(path):
    directory = os.path.dirname(path)
    if directory.endswith(".service.d") and not os.listdir(directory):
        os.rmdir(directory)
