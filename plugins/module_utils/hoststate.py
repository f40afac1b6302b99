# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's descriptor limits and fs.nr_open now and after the next boot, from every source, and
the invariant no run may break: no configured hard nofile limit above fs.nr_open (a login or a unit
start would fail with EPERM).

Sources, each read the way its consumer reads it:
- fs.nr_open at boot: the last file in systemd-sysctl order that sets it, else the kernel default;
- logins: pam_limits reads limits.conf, then limits.d/*.conf in name order; an entry applies when its
  domain is at least as specific as the one that set the value before (user > @group > *), so a later
  file wins over an earlier one of the same domain (pam_limits.c process_limit); '*' is not for root;
- systemd: its built-in DefaultLimitNOFILE (1024:4096 before v240, 1024:524288 since), then
  system.conf and system.conf.d; a unit's LimitNOFILE from its unit file, then its drop-ins.

Every function reads through a HostFiles view: the files as they are, or as a run would leave them
(``changes``), so the same check serves apply, re-run, any tag subset and revert before a write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import os

from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import DEFAULT_SYSCTL_SOURCES, parse_sysctl_file

try:
    from typing import Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

INFINITY = 2 ** 63 - 1
PAM_LIMITS_CONF = "etc/security/limits.conf"
PAM_LIMITS_DIR = "etc/security/limits.d"
SYSTEM_CONF = "etc/systemd/system.conf"
SYSTEM_CONF_DIRS = ("etc/systemd/system.conf.d", "run/systemd/system.conf.d",
                    "usr/local/lib/systemd/system.conf.d", "usr/lib/systemd/system.conf.d")
# Unit search path, highest priority first (systemd.unit(5)); /lib for hosts without merged /usr.
UNIT_DIRS = ("etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system",
             "usr/lib/systemd/system", "lib/systemd/system")
# HIGH_RLIMIT_NOFILE (src/basic/def.h): the hard limit every unit gets since systemd 240
# ("units: raise default RLIMIT_NOFILE hard limit to 512K"); before, the kernel's 4096.
SYSTEMD_HIGH_NOFILE_SINCE = 240
SYSTEMD_NOFILE_SINCE_240 = (1024, 524288)
SYSTEMD_NOFILE_BEFORE_240 = (1024, 4096)
# systemd PID 1 raises fs.nr_open at every boot, before systemd-sysctl runs, where it is built with
# bump-proc-sys-fs-nr-open (upstream's default since 240; Debian 13 is, Debian 11 and 12 are not):
# src/core/main.c bump_file_max_and_nr_open() halves INT_MAX, rounded down to the pointer size, until the
# kernel takes it: 2147483640 is above the kernel's 2147483584 on 64-bit, so 1073741816. Only that code
# logs the marker below, so the PID 1 binary holds it exactly when the bump is built in.
SYSTEMD_BINARIES = ("usr/lib/systemd/systemd", "lib/systemd/systemd")
SYSTEMD_BUMP_MARK = b"bumped fs.nr_open"
SYSTEMD_NR_OPEN_BUMP = 1073741816
# pam_limits.c: the source of a value, most specific first; a value set by a more specific
# source is not replaced by a less specific one.
PAM_USER, PAM_GROUP, PAM_ALL, PAM_NONE = 0, 1, 3, 5


class HostFiles(object):
    """Files under ``root`` as a run would leave them: ``changes`` {absolute path: text, or None for
    removed} over what is on disk."""

    def __init__(self, root="/", changes=None, pid1_nr_open=None):
        self.root = root
        self.changes = dict(changes or {})
        self._pid1_nr_open = pid1_nr_open  # (value, source) once read: see pid1_nr_open()

    def path(self, relative):
        # type: (str) -> str
        return os.path.join(self.root, relative.lstrip("/"))

    def read(self, path):
        # type: (str) -> Optional[str]
        if path in self.changes:
            return self.changes[path]
        return read_file(path)

    def glob(self, pattern):
        # type: (str) -> List[str]
        found = set(path for path in glob.glob(pattern) if self.changes.get(path, "") is not None)
        found.update(path for path, text in self.changes.items() if text is not None and fnmatch.fnmatch(path, pattern))
        return sorted(found)

    def exists(self, path):
        # type: (str) -> bool
        if path in self.changes:
            return self.changes[path] is not None
        return os.path.exists(path)

    def isdir(self, path):
        # type: (str) -> bool
        return os.path.isdir(path) or any(item.startswith(path.rstrip("/") + "/")
                                          for item, text in self.changes.items() if text is not None)

    def with_changes(self, changes):
        # type: (Dict[str, Optional[str]]) -> HostFiles
        merged = dict(self.changes)
        merged.update(changes)
        return HostFiles(self.root, merged, self._pid1_nr_open)

    def pid1_nr_open(self):
        # type: () -> Tuple[int, str]
        """(fs.nr_open when systemd-sysctl starts, what set it): SYSTEMD_NR_OPEN_BUMP where the PID 1
        binary bumps it, else the kernel's default."""
        if self._pid1_nr_open is None:
            self._pid1_nr_open = (kd.NR_OPEN_DEFAULT, "kernel default")
            for relative in SYSTEMD_BINARIES:
                try:
                    with open(self.path(relative), "rb") as handle:
                        bumps = SYSTEMD_BUMP_MARK in handle.read()
                except (IOError, OSError):
                    continue
                if bumps:
                    self._pid1_nr_open = (SYSTEMD_NR_OPEN_BUMP, "systemd PID 1 (%s raises it at boot)" % relative)
                break
        return self._pid1_nr_open


# ---------------------------------------------------------------- fs.nr_open

def sysctl_boot_files(files, sources=None):
    # type: (HostFiles, Optional[List[str]]) -> List[str]
    """The sysctl files in the order systemd-sysctl applies them: directories merged by file name (the
    first directory wins), sorted by name; plain files (sysctl.conf) last. A file linked to /dev/null masks."""
    by_name, plain = {}, []
    for source in sources or DEFAULT_SYSCTL_SOURCES:
        path = files.path(source)
        if files.isdir(path):
            for item in files.glob(os.path.join(glob.escape(path), "*.conf")):
                by_name.setdefault(os.path.basename(item), item)
        elif files.exists(path):
            plain.append(path)
    seen, ordered = set(), []
    for path in [by_name[name] for name in sorted(by_name)] + plain:
        real = os.path.realpath(path) if path not in files.changes else path
        if real == "/dev/null" or real in seen:  # 99-sysctl.conf -> ../sysctl.conf on Debian
            continue
        seen.add(real)
        ordered.append(path)
    return ordered


def boot_sysctl(files, key, sources=None):
    # type: (HostFiles, str, Optional[List[str]]) -> Tuple[Optional[str], Optional[str]]
    """(value text, file) the next boot sets ``key`` to, or (None, None) when no file sets it."""
    value, source = None, None
    for path in sysctl_boot_files(files, sources):
        setting = parse_sysctl_file(files.read(path) or "").get(key)
        if setting is not None:
            value, source = setting, path
    return value, source


def boot_nr_open(files, sources=None):
    # type: (HostFiles, Optional[List[str]]) -> Tuple[int, str]
    """(fs.nr_open after the next boot, what sets it): the last sysctl file that sets it, else what PID 1
    left (HostFiles.pid1_nr_open)."""
    value, source = boot_sysctl(files, "fs.nr_open", sources)
    if value is not None and value.strip().isdigit():
        return int(value), source
    return files.pid1_nr_open()


# ---------------------------------------------------------------- systemd

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


def systemd_builtin_nofile(version):
    # type: (Optional[int]) -> Tuple[int, int]
    """What units get without any DefaultLimitNOFILE. An unknown version counts as >= 240 (every
    distribution since 2019)."""
    if version is not None and version < SYSTEMD_HIGH_NOFILE_SINCE:
        return SYSTEMD_NOFILE_BEFORE_240
    return SYSTEMD_NOFILE_SINCE_240


def _dropins(files, directories, pattern, exclude=()):
    """Drop-ins by name across ``directories`` (the first directory that has a name wins), in name order."""
    by_name = {}  # type: Dict[str, str]
    for directory in directories:
        for path in files.glob(os.path.join(glob.escape(files.path(directory)), pattern)):
            if path not in exclude:
                by_name.setdefault(os.path.basename(path), path)
    return [by_name[name] for name in sorted(by_name)]


def _last_setting(files, paths, name, start, start_source):
    """(soft, hard, source) after the last ``name=`` line of ``paths``; an empty assignment resets to
    ``start``; an unparsable value is ignored, as systemd does."""
    (soft, hard), source = start, start_source
    for path in paths:
        for line in (files.read(path) or "").splitlines():
            key, sep, value = line.strip().partition("=")
            if not sep or key.strip() != name:
                continue
            value = value.strip()
            try:
                (soft, hard), source = (parse_nofile(value) if value else start), path
            except ValueError:
                continue
    return soft, hard, source


def systemd_default_nofile(files, version, exclude=()):
    # type: (HostFiles, Optional[int], Tuple[str, ...]) -> Tuple[int, int, str]
    """(soft, hard, source) of DefaultLimitNOFILE: the built-in default for ``version``, then
    system.conf and system.conf.d (``exclude``: our own drop-in, to ask what the host gives without it)."""
    builtin = systemd_builtin_nofile(version)
    paths = [files.path(SYSTEM_CONF)] + _dropins(files, SYSTEM_CONF_DIRS, "*.conf", exclude)
    return _last_setting(files, paths, "DefaultLimitNOFILE", builtin,
                         "systemd %s built-in default" % (version if version is not None else ">= 240"))


def unit_file(files, unit):
    # type: (HostFiles, str) -> Optional[str]
    """The file that defines ``unit`` (the first directory of the search path that has it), or None."""
    for directory in UNIT_DIRS:
        path = files.path(os.path.join(directory, unit))
        if files.exists(path):
            return path
    return None


def unit_nofile(files, unit, default, exclude=()):
    # type: (HostFiles, str, Tuple[int, int, str], Tuple[str, ...]) -> Tuple[int, int, str]
    """(soft, hard, source) of ``unit``'s LimitNOFILE: the unit file, then its drop-ins (unit.d and the
    type-wide service.d) in name order; without any, the manager's DefaultLimitNOFILE ``default``."""
    paths = [path for path in [unit_file(files, unit)] if path]
    kind = unit.rsplit(".", 1)[-1]
    paths += _dropins(files, UNIT_DIRS, "%s.d/*.conf" % glob.escape(unit), exclude)
    paths += _dropins(files, UNIT_DIRS, "%s.d/*.conf" % kind, exclude)
    return _last_setting(files, paths, "LimitNOFILE", default[:2], default[2])


# ---------------------------------------------------------------- pam_limits

def pam_files(files):
    # type: (HostFiles) -> List[str]
    return [files.path(PAM_LIMITS_CONF)] + files.glob(os.path.join(glob.escape(files.path(PAM_LIMITS_DIR)), "*.conf"))


def pam_nofile_entries(files, exclude=()):
    # type: (HostFiles, Tuple[str, ...]) -> List[Tuple[str, str, str, str]]
    """Every nofile line pam_limits reads, in its order: (file, domain, type, value)."""
    entries = []
    for path in pam_files(files):
        if path in exclude:
            continue
        for line in (files.read(path) or "").splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) == 4 and fields[2] == "nofile" and fields[1] in ("soft", "hard", "-"):
                entries.append((path, fields[0], fields[1], fields[3]))
    return entries


def _pam_value(text, nr_open):
    # type: (str, int) -> Optional[int]
    if text in ("unlimited", "infinity", "-1"):
        return nr_open  # pam_limits turns an unlimited nofile into fs.nr_open
    try:
        return int(text)
    except ValueError:
        return None


def login_nofile(entries, inherited, nr_open, root=False):
    # type: (List[Tuple[str, str, str, str]], Tuple[int, int], int, bool) -> Dict[str, object]
    """The nofile limit pam_limits gives a session of a plain user (domain '*') or of root (domain 'root';
    '*' does not apply to root), starting from ``inherited`` (sshd's, i.e. DefaultLimitNOFILE).
    Returns {soft, hard, soft_from, hard_from}; the soft limit never exceeds the hard one."""
    values = {"soft": [inherited[0], PAM_NONE, "inherited"], "hard": [inherited[1], PAM_NONE, "inherited"]}
    for path, domain, kind, text in entries:
        if domain == "root" and root:
            source = PAM_USER
        elif domain == "*" and not root:
            source = PAM_ALL
        else:
            continue  # another user or a group: not the generic session modelled here
        value = _pam_value(text, nr_open)
        if value is None:
            continue
        for item in (("soft", "hard") if kind == "-" else (kind,)):
            if values[item][1] < source:
                break  # process_limit() returns at the first limit type it may not replace
            values[item] = [value, source, path]
    soft, hard = values["soft"][0], values["hard"][0]
    return {"soft": min(soft, hard), "hard": hard, "soft_from": values["soft"][2], "hard_from": values["hard"][2]}


# ---------------------------------------------------------------- the invariant

def configured_hard_nofile(files, nr_open, version):
    # type: (HostFiles, int, Optional[int]) -> List[Tuple[int, str]]
    """Every hard nofile limit the host configures, as (value, what sets it): pam_limits entries of any
    domain, DefaultLimitNOFILE in force (the built-in one included), and the finite LimitNOFILE of
    every unit file and drop-in on the unit search path."""
    found = []  # type: List[Tuple[int, str]]
    for path, dummy_domain, kind, text in pam_nofile_entries(files):
        value = _pam_value(text, nr_open)
        if kind in ("hard", "-") and value is not None and text not in ("unlimited", "infinity", "-1"):
            found.append((value, path))
    dummy_soft, hard, source = systemd_default_nofile(files, version)
    if hard != INFINITY:
        found.append((hard, "DefaultLimitNOFILE (%s)" % source))
    units = []
    for directory in UNIT_DIRS:
        base = glob.escape(files.path(directory))
        units += files.glob(os.path.join(base, "*.service")) + files.glob(os.path.join(base, "*.service.d", "*.conf"))
        units += files.glob(os.path.join(base, "service.d", "*.conf"))
    for path in units:
        for line in (files.read(path) or "").splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key.strip() == "LimitNOFILE" and value.strip():
                try:
                    hard = parse_nofile(value.strip())[1]
                except ValueError:
                    continue
                if hard != INFINITY:
                    found.append((hard, path))
    return found


def lockout_errors(files, nr_open_live, version, sources=None, boot=None):
    # type: (HostFiles, int, Optional[int], Optional[List[str]], Optional[Tuple[int, str]]) -> List[str]
    """I1, the one lockout check: every configured hard nofile limit must be at most fs.nr_open now
    (``nr_open_live``) and after the next boot (``boot`` (value, what sets it), else read from ``files``).
    One sentence per limit that is not, naming what sets it."""
    boot, boot_source = boot if boot is not None else boot_nr_open(files, sources)
    errors = []
    for value, source in configured_hard_nofile(files, min(nr_open_live, boot), version):
        if value > nr_open_live:
            errors.append("%s sets a hard nofile of %d, above the live fs.nr_open %d" % (source, value, nr_open_live))
        elif value > boot:
            errors.append("%s sets a hard nofile of %d, above the fs.nr_open %d the next boot sets (%s)"
                          % (source, value, boot, boot_source))
    return errors
