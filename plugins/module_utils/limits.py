# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nofile limits that never lock anyone out: pam_limits file for login sessions, systemd
DefaultLimitNOFILE and per-service LimitNOFILE drop-ins. Check against the fs.nr_open that is live
and persisted, render, write atomically, remove."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible_collections.tcptune.linux.plugins.module_utils import host_detect, hoststate
from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError, atomic_write, read_file

try:
    from typing import Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

FILE_NAME = "60-tcptune-nofile.conf"
LIMITS_FILE = "etc/security/limits.d/" + FILE_NAME
SYSTEM_DROPIN = "etc/systemd/system.conf.d/" + FILE_NAME
SERVICE_DROPIN = "etc/systemd/system/%s.service.d/" + FILE_NAME
HEADER = "# Managed by tcptune.linux (nofile_limits). Do not edit: the next run overwrites this file.\n"
_UNIT = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")

# select() cannot watch a descriptor >= FD_SETSIZE, so login shells and the programs they start keep
# that soft limit; a program that needs more raises its own soft limit up to hard.
LOGIN_SOFT = kd.FD_SETSIZE
INFINITY = hoststate.INFINITY
# systemd's lib directories, under the target's root: its version decides the built-in default.
SYSTEMD_LIB_DIRS = ("lib/systemd", "usr/lib/systemd", "usr/lib64/systemd")


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
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None


def systemd_version(root):
    # type: (str) -> Optional[int]
    return host_detect.systemd_version([os.path.join(root, directory) for directory in SYSTEMD_LIB_DIRS])


def render_limits_conf(lines):
    # type: (Dict[str, Dict[str, int]]) -> str
    """pam_limits lines {domain: {soft|hard: value}}; '*' lines do not apply to root, so root has its own."""
    return HEADER + "".join("%-6s %-4s nofile %d\n" % (domain, kind, lines[domain][kind])
                            for domain in ("*", "root") if domain in lines
                            for kind in ("soft", "hard") if kind in lines[domain])


def render_system_dropin(soft, hard):
    # type: (int, int) -> str
    return "%s[Manager]\nDefaultLimitNOFILE=%d:%d\n" % (HEADER, soft, hard)


def render_service_dropin(soft, hard):
    # type: (int, int) -> str
    return "%s[Service]\nLimitNOFILE=%d:%d\n" % (HEADER, soft, hard)


def _nofile_text(value):
    return "infinity" if value == INFINITY else str(value)


def _login_lines(files, entries, inherited, nr_open, hard, login_soft, allow_lower, own):
    """{domain: {kind: value}} for our limits.d file, and what was left out. Our file is read after
    limits.conf and the limits.d files named before it: a line is written only where it raises the value
    in force at that point (never lowers one unless allow_lower), for '*' and for root alike."""
    before = [entry for entry in entries if entry[0] != own and
              (not entry[0].startswith(os.path.dirname(own) + "/") or os.path.basename(entry[0]) < FILE_NAME)]
    lines, left_out = {}, {}
    for domain in ("*", "root"):
        in_force = hoststate.login_nofile(before, inherited, nr_open, root=(domain == "root"))
        wanted = {}
        for kind, value in (("soft", login_soft), ("hard", hard)):
            current = in_force[kind]
            if allow_lower or value > current or (kind == "soft" and value == current):
                wanted[kind] = value
            else:
                left_out["%s %s" % (domain, kind)] = (
                    "%s %d is not above the %s logins already get (%d, from %s)"
                    % (kind, value, kind, current, in_force["%s_from" % kind]))
        if "hard" not in wanted and wanted.get("soft", 0) > in_force["hard"]:
            wanted.pop("soft")  # a soft above the hard in force would be cut to it: nothing to write
        if list(wanted) == ["soft"] and wanted["soft"] == in_force["soft"]:
            wanted = {}
        if wanted:
            lines[domain] = wanted
    if not lines:
        left_out["login"] = "nothing to change: logins already get at least soft %d, hard %d" % (login_soft, hard)
    return lines, left_out


def plan_files(files, hard, login_soft=LOGIN_SOFT, services=None, login=True, default_limit=True,
               allow_lower=False, version=None, nr_open=kd.NR_OPEN_DEFAULT):
    # type: (hoststate.HostFiles, int, int, Optional[List[str]], bool, bool, bool, Optional[int], int) -> Dict[str, object]
    """The files that give logins and services ``hard`` without lowering anything the host gives today.

    - Logins: soft ``login_soft``, hard ``hard``, each only where it raises what pam_limits gives at our
      file's place (limits.conf and the limits.d files before it, from DefaultLimitNOFILE on).
    - DefaultLimitNOFILE=SOFT:hard only when ``hard`` is above the manager's default hard (its built-in
      one by systemd version, or system.conf(.d)); SOFT stays the default's.
    - Services: LimitNOFILE=max(hard, the unit's soft):max(hard, the unit's hard) from the unit file and
      its other drop-ins; no drop-in where the unit already gives both (infinity included).
    ``allow_lower`` writes the planned values as they are (never DefaultLimitNOFILE below the default).
    Returns {files: {path: text}, left_out: {what: why}, written: {path: limits}, warnings: [...],
    systemd_default: {soft, hard, source}}.
    """
    own = {"limits": files.path(LIMITS_FILE), "system": files.path(SYSTEM_DROPIN)}
    default_soft, default_hard, source = hoststate.systemd_default_nofile(files, version, exclude=(own["system"],))
    wanted, left_out, written, warnings = {}, {}, {}, []
    if login:
        entries = hoststate.pam_nofile_entries(files)
        lines, skipped = _login_lines(files, entries, (default_soft, default_hard), nr_open, hard, login_soft,
                                      allow_lower, own["limits"])
        left_out.update(skipped)
        if lines:
            wanted[own["limits"]] = render_limits_conf(lines)
            written[own["limits"]] = {"kind": "login", "unit": None, "domains": lines}
            after = hoststate.login_nofile(hoststate.pam_nofile_entries(files.with_changes(wanted)),
                                           (default_soft, default_hard), nr_open)
            for kind in ("soft", "hard"):
                mine = lines.get("*", {}).get(kind)
                if mine is not None and after[kind] != mine and after["%s_from" % kind] != own["limits"]:
                    warnings.append("logins: %s sets nofile %s %d after our file, so sessions get %d, not %d"
                                    % (after["%s_from" % kind], kind, after[kind], after[kind], mine))
    if default_limit:
        if hard > default_hard:
            soft = min(default_soft, hard)
            wanted[own["system"]] = render_system_dropin(soft, hard)
            written[own["system"]] = {"kind": "default", "unit": None, "soft": soft, "hard": hard}
        else:
            left_out["DefaultLimitNOFILE"] = ("hard %d is not above the manager's default hard %d (%s), which it "
                                              "would lower for every unit" % (hard, default_hard, source))
    for service in services or []:
        unit = unit_name(service) + ".service"
        path = files.path(SERVICE_DROPIN % unit_name(service))
        unit_soft, unit_hard, unit_source = hoststate.unit_nofile(
            files, unit, (default_soft, default_hard, "DefaultLimitNOFILE (%s)" % source), exclude=(path,))
        if allow_lower:
            soft, dropin_hard = hard, hard
        elif unit_soft >= hard and unit_hard >= hard:
            left_out[unit] = ("LimitNOFILE=%s:%s from %s already gives %d: no drop-in"
                              % (_nofile_text(unit_soft), _nofile_text(unit_hard), unit_source, hard))
            continue
        else:
            soft, dropin_hard = max(hard, unit_soft), max(hard, unit_hard)
        if INFINITY in (soft, dropin_hard):
            soft, dropin_hard = min(soft, nr_open), min(dropin_hard, nr_open)
        wanted[path] = render_service_dropin(soft, dropin_hard)
        written[path] = {"kind": "service", "unit": unit, "soft": soft, "hard": dropin_hard}
        after = hoststate.unit_nofile(files.with_changes(wanted), unit, (default_soft, default_hard, source))
        if after[2] != path:
            warnings.append("%s: %s sets LimitNOFILE after our drop-in, so the unit gets %s:%s, not %d:%d"
                            % (unit, after[2], _nofile_text(after[0]), _nofile_text(after[1]), soft, dropin_hard))
    return {"files": wanted, "left_out": left_out, "written": written, "warnings": warnings,
            "systemd_default": {"soft": default_soft, "hard": default_hard, "source": source}}


def validation_errors(login_soft, hard, ceiling, services, names=None):
    # type: (int, int, Optional[int], List[str], Optional[Dict[str, str]]) -> List[str]
    """Every rule broken, each naming the option (``names`` {soft, hard}: what the caller calls them, e.g.
    the role variable). ``ceiling`` None means fs.nr_open is unknown."""
    names = dict({"soft": "soft", "hard": "hard"}, **(names or {}))
    errors = []
    for option, value in (("soft", login_soft), ("hard", hard)):
        if value < 1:
            errors.append("%s: %d must be at least 1" % (names[option], value))
    if login_soft > hard:
        errors.append("%s: %d is above hard %d" % (names["soft"], login_soft, hard))
    if ceiling is None:
        errors.append("nr_open: fs.nr_open is unreadable")
    elif hard > ceiling:
        errors.append("%s: %d is above fs.nr_open %d (the kernel refuses a larger RLIMIT_NOFILE, and pam_limits then "
                      "fails every login; raise and persist fs.nr_open first)" % (names["hard"], hard, ceiling))
    for service in services:
        try:
            unit_name(service)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def nr_open_ceiling(root, proc_path, planned=None):
    # type: (str, str, Optional[int]) -> Tuple[Optional[int], Dict[str, object]]
    """The largest hard limit that is safe now and after a reboot: min(live, persisted) fs.nr_open.
    ``planned`` is the value a tcp_sysctl task of the same check-mode run would write live and
    persist; it stands for both."""
    if planned is not None:
        return planned, {"planned": planned}
    live = read_nr_open(proc_path)
    persisted, source = hoststate.boot_nr_open(hoststate.HostFiles(root))
    detail = {"live": live, "persisted": persisted, "persisted_by": source}
    return (min(live, persisted) if live is not None else None), detail


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


def sync_limits(root="/", hard=None, login_soft=LOGIN_SOFT, services=None, login=True, default_limit=True,
                allow_lower=False, proc_path="/proc", nr_open=None, state="present", check_mode=False, names=None):
    """Make the managed files match (state=absent: remove them all). Returns the result dict
    with daemon_reload_needed; raises ApplyError naming every broken rule (or the path that
    could not be written) before any write."""
    services = services or []
    result_extra = {}  # type: Dict[str, object]
    if state == "present":
        if hard is None:
            raise ApplyError("hard is required with state=present")
        ceiling, detail = nr_open_ceiling(root, proc_path, nr_open)
        errors = validation_errors(login_soft, hard, ceiling, services, names)
        if errors:
            raise ApplyError("invalid limits, nothing was changed: " + "; ".join(errors),
                             {"errors": errors, "nr_open": ceiling, "nr_open_detail": detail})
        planned = plan_files(hoststate.HostFiles(root), hard, login_soft, services, login, default_limit, allow_lower,
                             systemd_version(root), ceiling)
        wanted = planned.pop("files")
        result_extra = dict(planned, nr_open=ceiling, nr_open_detail=detail)
    else:
        wanted = {}
        result_extra = {"nr_open": None, "nr_open_detail": {}, "left_out": {}, "systemd_default": {}, "written": {},
                        "warnings": []}
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
        "diff": [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
                 for path, old, new in changes],
    }
    result.update(result_extra)
    if check_mode:
        return result
    for index, (path, dummy_b, new) in enumerate(changes):
        try:
            if new is None:
                os.unlink(path)
                _remove_empty_dropin_dir(path)
            else:
                atomic_write(path, new)
        except (IOError, OSError) as exc:
            done = [done_path for done_path, dummy_c, dummy_d in changes[:index]]
            raise ApplyError("%s: %s (changed before it: %s)" % (path, exc.strerror or exc, ", ".join(done) or "nothing"),
                             {"failed_path": path, "changed_files": done})
    return result


def _remove_empty_dropin_dir(path):
    directory = os.path.dirname(path)
    if directory.endswith(".service.d") and not os.listdir(directory):
        os.rmdir(directory)
