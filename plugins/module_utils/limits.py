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

from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError, atomic_write, read_file
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import (
    DEFAULT_SYSCTL_SOURCES, boot_files, parse_sysctl_file)

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
# What systemd >= 240 gives every unit without DefaultLimitNOFILE: soft 1024, hard 512 Ki
# (HIGH_RLIMIT_NOFILE in src/basic/def.h, "units: raise default RLIMIT_NOFILE hard limit", v240).
# sshd, getty and so every login inherit it before pam_limits applies limits.d.
SYSTEMD_DEFAULT_NOFILE = (1024, 524288)
# systemd's manager configuration: the main file, then drop-ins merged by name (the first
# directory wins) and read in name order, later files overriding earlier ones.
SYSTEM_CONF = "etc/systemd/system.conf"
SYSTEM_CONF_DIRS = ("etc/systemd/system.conf.d", "run/systemd/system.conf.d",
                    "usr/local/lib/systemd/system.conf.d", "usr/lib/systemd/system.conf.d")
INFINITY = 2 ** 63 - 1


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


def persisted_nr_open(root):
    # type: (str) -> Tuple[int, str]
    """(fs.nr_open the next boot sets, the file that sets it). The last sysctl file in
    systemd-sysctl order that sets it wins; without one the kernel keeps its default."""
    sources = [os.path.join(root, path.lstrip("/")) for path in DEFAULT_SYSCTL_SOURCES]
    value, source = kd.NR_OPEN_DEFAULT, "kernel default"
    for path in boot_files(sources):
        text = read_file(path) or ""
        setting = parse_sysctl_file(text).get("fs.nr_open")
        if setting is not None and setting.strip().isdigit():
            value, source = int(setting), path
    return value, source


def parse_nofile(text):
    # type: (str) -> Tuple[int, int]
    """systemd's 'N', 'SOFT:HARD' or 'infinity' -> (soft, hard)."""
    parts = [part.strip() for part in text.split(":")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise ValueError("expected N or SOFT:HARD, got %r" % text)
    soft, hard = (INFINITY if part == "infinity" else int(part) for part in parts)
    return soft, hard


def systemd_default_nofile(root):
    # type: (str) -> Tuple[int, int, str]
    """(soft, hard, source) of DefaultLimitNOFILE as systemd reads it from its own configuration,
    leaving out our drop-in, so that the answer does not change once we have written it.

    Read from the files rather than `systemctl show`: no process, the same answer in check mode, on
    a host where systemd is not PID 1 (containers) and before our drop-in is reloaded."""
    soft, hard = SYSTEMD_DEFAULT_NOFILE
    source = "systemd >= 240 built-in default"
    by_name = {}  # type: Dict[str, str]
    for directory in SYSTEM_CONF_DIRS:
        for path in glob.glob(os.path.join(root, directory, "*.conf")):
            by_name.setdefault(os.path.basename(path), path)
    by_name.pop(FILE_NAME, None)
    for path in [os.path.join(root, SYSTEM_CONF)] + [by_name[name] for name in sorted(by_name)]:
        for line in (read_file(path) or "").splitlines():
            line = line.strip()
            if line.startswith("DefaultLimitNOFILE="):
                value = line.split("=", 1)[1].strip()
                try:
                    soft, hard = parse_nofile(value) if value else SYSTEMD_DEFAULT_NOFILE
                except ValueError:
                    continue  # systemd ignores an unparsable value too
                source = path
    return soft, hard, source


def render_limits_conf(soft, hard):
    # type: (int, Optional[int]) -> str
    """pam_limits: '*' lines do not apply to root, so root gets its own. hard None: no hard lines."""
    kinds = [("soft", soft)] + ([("hard", hard)] if hard is not None else [])
    return HEADER + "".join("%-6s %-4s nofile %d\n" % (domain, kind, value)
                            for domain in ("*", "root") for kind, value in kinds)


def render_system_dropin(soft, hard):
    # type: (int, int) -> str
    return "%s[Manager]\nDefaultLimitNOFILE=%d:%d\n" % (HEADER, soft, hard)


def render_service_dropin(soft, hard):
    # type: (int, int) -> str
    return "%s[Service]\nLimitNOFILE=%d:%d\n" % (HEADER, soft, hard)


def plan_files(root, hard, login_soft=LOGIN_SOFT, services=None, login=True, default_limit=True,
               allow_lower=False, systemd_default=None):
    # type: (str, int, int, Optional[List[str]], bool, bool, bool, Optional[Tuple[int, int]]) -> Tuple[Dict[str, str], Dict[str, str]]
    """({path: text}, {what was left out: why}).

    - Logins: soft ``login_soft``, hard ``hard``. A hard line that would lower what logins inherit
      from systemd is left out unless ``allow_lower``.
    - Services: LimitNOFILE=hard:hard. Unless ``allow_lower``, the hard part is never below systemd's
      default (the soft part still rises to ``hard``).
    - DefaultLimitNOFILE=SOFT:hard only when ``hard`` is above systemd's default hard; SOFT stays
      systemd's (1024 unless configured), so units that use select() keep working.
    """
    default_soft, default_hard = systemd_default or systemd_default_nofile(root)[:2]
    files, left_out = {}, {}
    if login:
        login_hard = hard if (allow_lower or hard > default_hard) else None
        if login_hard is None:
            left_out["login hard"] = ("hard %d is not above the %d logins inherit from systemd "
                                      "(allow_lower to write it anyway)" % (hard, default_hard))
        if login_hard is None and login_soft == default_soft:
            left_out["login"] = "nothing to change: logins already get soft %d, hard %d" % (default_soft, default_hard)
        else:
            files[os.path.join(root, LIMITS_FILE)] = render_limits_conf(login_soft, login_hard)
    if default_limit:
        if hard > default_hard:
            files[os.path.join(root, SYSTEM_DROPIN)] = render_system_dropin(min(default_soft, hard), hard)
        else:
            left_out["DefaultLimitNOFILE"] = ("hard %d is not above systemd's default hard %d, which it "
                                              "would lower for every unit" % (hard, default_hard))
    service_hard = hard if allow_lower else max(hard, default_hard)
    for service in services or []:
        files[os.path.join(root, SERVICE_DROPIN % unit_name(service))] = render_service_dropin(hard, service_hard)
    return files, left_out


def validation_errors(login_soft, hard, ceiling, services):
    # type: (int, int, Optional[int], List[str]) -> List[str]
    """Every rule broken, each naming the option. ``ceiling`` None means fs.nr_open is unknown."""
    errors = []
    for option, value in (("soft", login_soft), ("hard", hard)):
        if value < 1:
            errors.append("%s: %d must be at least 1" % (option, value))
    if login_soft > hard:
        errors.append("soft: %d is above hard %d" % (login_soft, hard))
    if ceiling is None:
        errors.append("nr_open: fs.nr_open is unreadable")
    elif hard > ceiling:
        errors.append("hard: %d is above fs.nr_open %d (the kernel refuses a larger RLIMIT_NOFILE, and "
                      "pam_limits then fails every login; raise and persist fs.nr_open first)" % (hard, ceiling))
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
    persisted, source = persisted_nr_open(root)
    detail = {"live": live, "persisted": persisted, "persisted_by": source}
    return (min(live, persisted) if live is not None else None), detail


def hard_nofile_settings(root):
    # type: (str) -> List[Tuple[int, str]]
    """Every hard nofile limit configured on the host, as (value, file): pam_limits' limits.conf and
    limits.d (types hard and -), systemd's DefaultLimitNOFILE and the LimitNOFILE of units under
    /etc/systemd/system. A limit above fs.nr_open fails: logins (pam_limits), units (step LIMITS)."""
    found = []  # type: List[Tuple[int, str]]
    pam = [os.path.join(root, "etc/security/limits.conf")] + sorted(
        glob.glob(os.path.join(root, "etc/security/limits.d/*.conf")))
    for path in pam:
        for line in (read_file(path) or "").splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) == 4 and fields[1] in ("hard", "-") and fields[2] == "nofile":
                value = _int_or_none(fields[3])  # pam_limits turns "unlimited" nofile into fs.nr_open
                if value is not None:
                    found.append((value, path))
    systemd = [os.path.join(root, SYSTEM_CONF)] + sorted(
        glob.glob(os.path.join(root, "etc/systemd/system.conf.d/*.conf"))
        + glob.glob(os.path.join(root, "etc/systemd/system/*.service"))
        + glob.glob(os.path.join(root, "etc/systemd/system/*.service.d/*.conf")))
    for path in systemd:
        for line in (read_file(path) or "").splitlines():
            name, dummy_b, value = line.strip().partition("=")
            if name.strip() in ("LimitNOFILE", "DefaultLimitNOFILE") and value.strip():
                try:
                    hard = parse_nofile(value.strip())[1]
                except ValueError:
                    continue
                if hard != INFINITY:
                    found.append((hard, path))
    return found


def nr_open_lockout(root, nr_open):
    # type: (str, int) -> List[str]
    """What an fs.nr_open of ``nr_open`` would break: every configured hard nofile above it."""
    return ["%s sets a hard nofile of %d" % (path, value) for value, path in hard_nofile_settings(root)
            if value > nr_open]


def _int_or_none(text):
    try:
        return int(text)
    except ValueError:
        return None


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
                allow_lower=False, proc_path="/proc", nr_open=None, state="present", check_mode=False):
    """Make the managed files match (state=absent: remove them all). Returns the result dict
    with daemon_reload_needed; raises ApplyError naming every broken rule (or the path that
    could not be written) before any write."""
    services = services or []
    result_extra = {}  # type: Dict[str, object]
    if state == "present":
        if hard is None:
            raise ApplyError("hard is required with state=present")
        ceiling, detail = nr_open_ceiling(root, proc_path, nr_open)
        soft_default, hard_default, source = systemd_default_nofile(root)
        errors = validation_errors(login_soft, hard, ceiling, services)
        if errors:
            raise ApplyError("invalid limits, nothing was changed: " + "; ".join(errors),
                             {"errors": errors, "nr_open": ceiling, "nr_open_detail": detail})
        wanted, left_out = plan_files(root, hard, login_soft, services, login, default_limit, allow_lower,
                                      (soft_default, hard_default))
        result_extra = {"nr_open": ceiling, "nr_open_detail": detail, "left_out": left_out,
                        "systemd_default": {"soft": soft_default, "hard": hard_default, "source": source}}
    else:
        wanted = {}
        result_extra = {"nr_open": None, "nr_open_detail": {}, "left_out": {}, "systemd_default": {}}
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
