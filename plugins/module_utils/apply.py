# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a batch of sysctl settings safely: validate, order, write /proc/sys, read back,
roll back, persist atomically, find boot-time conflicts, record and revert, lock.

Plain functions over a proc root and file paths; no AnsibleModule here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import tempfile
import time

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, memory_rules
from ansible_collections.tcptune.linux.plugins.module_utils.procfs import in_init_netns

try:
    from typing import Any, Dict, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

DEFAULT_PATH = "/etc/sysctl.d/60-tcptune.conf"
DEFAULT_STATE_DIR = "/var/lib/tcptune"
# systemd-sysctl precedence: directories by priority (a file name in an earlier directory masks
# the same name in later ones), then all names sorted; /etc/sysctl.conf is read last by
# `sysctl --system` (procps) and, on Debian, by systemd-sysctl through /etc/sysctl.d/99-sysctl.conf.
DEFAULT_SYSCTL_SOURCES = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                          "/usr/lib/sysctl.d", "/etc/sysctl.conf"]
HEADER = ("# Managed by tcptune.linux ({owner}). Do not edit: the next run overwrites this file.\n"
          "# Remove it with state=absent, which also restores the values it replaced.\n")
GLOBAL_SKIP_REASON = "global key: set it on the host (a container cannot set it for itself)"


class ApplyError(Exception):
    """A refused or failed run. ``result`` holds what is known (skipped, previous, ...)."""

    def __init__(self, message, result=None):
        super(ApplyError, self).__init__(message)
        self.result = result or {}


# ---------------------------------------------------------------- host probing

def kernel_version(proc_path):
    # type: (str) -> Tuple[int, int, int]
    """Kernel version of the running kernel, from proc_path/sys/kernel/osrelease or uname."""
    try:
        with open(os.path.join(proc_path, "sys/kernel/osrelease")) as handle:
            return catalogue.parse_kernel_release(handle.read().strip())
    except (IOError, OSError):
        return catalogue.parse_kernel_release(os.uname()[2])


def key_file(proc_path, name):
    # type: (str, str) -> str
    return os.path.join(proc_path, "sys", catalogue.proc_relpath(name))


def read_text(path):
    # type: (str) -> str
    with open(path) as handle:
        return handle.read()


def write_text(path, text):
    # type: (str, str) -> None
    """One write() of the whole value, as the kernel expects; errors surface as OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0))
    try:
        os.write(fd, (text + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def read_live(proc_path, name):
    """Parsed live value of ``name``, or None when the entry is absent or unreadable."""
    try:
        return catalogue.parse_value(catalogue.get(name), read_text(key_file(proc_path, name)))
    except (IOError, OSError, ValueError):
        return None


def same_value(key, left, right):
    # type: (Any, Any, Any) -> bool
    """Compare values, not strings: tabs against spaces, lists against tuples, '8080, 9000' too."""
    if left is None or right is None:
        return left is right
    try:
        left = catalogue.coerce_value(key, left)
        right = catalogue.coerce_value(key, right)
    except ValueError:
        return False
    if key.shape == catalogue.TEXT:
        return left.replace(" ", "") == right.replace(" ", "")
    return left == right


def unsupported_reason(proc_path, key, kernel, init_netns):
    """Why ``key`` cannot be written here, or None. Global keys are refused in a child netns
    even when their file is writable (fs.* in a container is the host's)."""
    reason = catalogue.absent_reason(key, kernel, init_netns)
    if reason:
        return reason
    path = key_file(proc_path, key.name)
    if not os.path.exists(path):
        return "not present in %s on this host" % os.path.join(proc_path, "sys")
    if not os.access(path, os.W_OK):
        return "read-only here (%s is not writable)" % path
    return None


# ---------------------------------------------------------------- validation and plan

def validate(settings, kernel, memory_bytes=None, page_size=4096, tcp_mem_in_force=None):
    # type: (Dict[str, Any], Tuple[int, int, int], Optional[int], int, Optional[List[int]]) -> Tuple[Dict[str, Any], List[str]]
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
            value = catalogue.coerce_value(key, settings[name])
        except ValueError as exc:
            errors.append(str(exc))
            continue
        problems = catalogue.validation_errors(key, value, kernel)
        if problems:
            errors.extend(problems)
        else:
            values[name] = value
    if memory_bytes:
        errors.extend(memory_rules.memory_errors(values, memory_bytes, page_size, tcp_mem_in_force))
    return values, errors


def raised(key, current, wanted):
    """mode=raise: never lower. Element-wise max (tuned's '>'), then keep the elements ordered."""
    if current is None or key.shape == catalogue.TEXT:
        return wanted
    if key.shape == catalogue.INT:
        return max(current, wanted)
    result = [max(old, new) for old, new in zip(current, wanted)]
    for index in range(1, len(result)):
        result[index] = max(result[index], result[index - 1])
    return result


def plan_settings(settings, proc_path, kernel, init_netns, mode="set", memory_limit_bytes=None):
    """Validated settings -> (wanted {name: value}, current {name: value}, skipped {name: reason}).

    Memory rules use MemTotal from proc_path/meminfo (or ``memory_limit_bytes`` when smaller) and the
    live tcp_mem; they are checked again on the raised values. Raises ApplyError with every error at once.
    """
    memory_bytes = memory_rules.host_memory_bytes(proc_path, memory_limit_bytes)
    page_size = memory_rules.page_size()
    tcp_mem_live = read_live(proc_path, "net.ipv4.tcp_mem")
    values, errors = validate(settings, kernel, memory_bytes, page_size, tcp_mem_live)
    if errors:
        raise ApplyError("invalid settings, nothing was changed: " + "; ".join(errors),
                         {"errors": errors})
    wanted, current, skipped = {}, {}, {}
    for name in catalogue.ordered(values):
        key = catalogue.get(name)
        reason = unsupported_reason(proc_path, key, kernel, init_netns)
        if reason:
            skipped[name] = reason
            continue
        current[name] = read_live(proc_path, name)
        value = values[name]
        if mode == "raise":
            value = raised(key, current[name], value)
            problems = catalogue.validation_errors(key, value, kernel)
            if problems:
                errors.extend(problems)
        wanted[name] = value
    if mode == "raise" and memory_bytes:
        errors.extend(memory_rules.memory_errors(wanted, memory_bytes, page_size, tcp_mem_live))
    if errors:
        raise ApplyError("invalid settings after raise, nothing was changed: " + "; ".join(errors),
                         {"errors": errors})
    return wanted, current, skipped


# ---------------------------------------------------------------- live writes with rollback

def write_live(proc_path, changes, writer=None):
    """Write ``changes`` [(name, new, old)] in the given order, reading each back.

    On the first failure every key already written goes back to its old value (reverse
    order) and ApplyError names the failing key. ``writer`` defaults to write_text.
    """
    writer = writer or write_text
    done = []
    for name, new, old in changes:
        key = catalogue.get(name)
        path = key_file(proc_path, name)
        try:
            writer(path, catalogue.format_value(key, new))
            back = read_live(proc_path, name)
            if not same_value(key, back, new):
                raise ApplyError("read back %r instead of %r"
                                 % (catalogue.format_value(key, back) if back is not None else back,
                                    catalogue.format_value(key, new)))
        except (OSError, IOError, ApplyError) as exc:
            failed = rollback(proc_path, [(n, o) for n, dummy_b, o in done] + [(name, old)], writer)
            message = "%s: setting %s failed (%s); " % (
                name, catalogue.format_value(key, new), _error_text(exc))
            if failed:
                message += "rollback FAILED for %s" % ", ".join(failed)
            else:
                message += "the %d key(s) written before it were rolled back" % len(done)
            raise ApplyError(message, {"failed_key": name, "rolled_back": [n for n, dummy_b, dummy_c in done]})
        done.append((name, new, old))


def rollback(proc_path, restores, writer):
    """Put back [(name, old)] in reverse order; returns the names that could not be restored."""
    failed = []
    for name, old in reversed(restores):
        if old is None:
            continue
        key = catalogue.get(name)
        if same_value(key, read_live(proc_path, name), old):
            continue
        try:
            writer(key_file(proc_path, name), catalogue.format_value(key, old))
        except (OSError, IOError):
            failed.append(name)
    return failed


def _error_text(exc):
    if isinstance(exc, (OSError, IOError)) and exc.errno:
        return "%s: %s" % (errno.errorcode.get(exc.errno, exc.errno), exc.strerror)
    return str(exc)


# ---------------------------------------------------------------- files

def atomic_write(path, text, mode=0o644):
    # type: (str, str, int) -> None
    """Temp file in the same directory, fsync, rename over ``path``, fsync the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_file(path):
    # type: (str) -> Optional[str]
    try:
        return read_text(path)
    except (IOError, OSError):
        return None


def render_persist(wanted, skipped, owner="tcp_sysctl"):
    """The sysctl.d text: applied keys in apply order; skipped keys as comments with the reason."""
    lines = [HEADER.format(owner=owner)]
    for name in catalogue.ordered(list(wanted) + list(skipped)):
        key = catalogue.get(name)
        if name in wanted:
            lines.append("%s = %s\n" % (name, catalogue.format_value(key, wanted[name])))
        else:
            lines.append("# %s not set: %s\n" % (name, skipped[name]))
    return "".join(lines)


def parse_sysctl_file(text):
    # type: (str) -> Dict[str, str]
    """sysctl.d syntax: 'key = value', '#'/';' comments, '-' prefix, '/' separators."""
    result = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.strip().lstrip("-").strip()
        if "/" in name and ("." not in name or name.index("/") < name.index(".")):
            name = name.replace("/", ".")
        result[name] = value.strip()
    return result


def drifted(persisted_text, live):
    # type: (Optional[str], Dict[str, Any]) -> Dict[str, Dict[str, str]]
    """{name: {persisted, live}} for the keys our own sysctl.d file sets whose live value differs
    (changed by hand, or a file applied after ours at boot). Unknown and unreadable keys are left out."""
    result = {}
    for name, value in parse_sysctl_file(persisted_text or "").items():
        if name not in catalogue.CATALOGUE or live.get(name) is None:
            continue
        key = catalogue.get(name)
        if not same_value(key, live[name], value):
            result[name] = {"persisted": value, "live": catalogue.format_value(key, live[name])}
    return result


def boot_files(sources, own=None):
    # type: (List[str], Optional[str]) -> List[str]
    """Files in the order systemd-sysctl applies them. Directories are merged by file name
    (first directory wins), then sorted by name; plain-file sources (e.g. /etc/sysctl.conf)
    come last, in order. ``own`` is placed by its name even when it does not exist yet."""
    by_name, extra = {}, []
    for source in sources:
        if os.path.isdir(source):
            for name in os.listdir(source):
                if name.endswith(".conf") and name not in by_name:
                    by_name[name] = os.path.join(source, name)
        elif os.path.isfile(source):
            extra.append(source)
    if own is not None:
        by_name.setdefault(os.path.basename(own), own)
    seen, result = set(), []
    for path in [by_name[name] for name in sorted(by_name)] + extra:
        real = os.path.realpath(path)
        if real not in seen:  # /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf on Debian
            seen.add(real)
            result.append(path)
    return result


def conflicts(path, wanted, sources):
    """{name: [{file, value}]}: files read after ``path`` at boot (or masking it by having the
    same name in a directory of higher priority) that set a different value."""
    files = boot_files(sources, own=path)
    base = os.path.basename(path)
    position = [os.path.basename(item) for item in files].index(base)
    later = files[position:] if os.path.realpath(files[position]) != os.path.realpath(path) \
        else files[position + 1:]
    result = {}
    for item in later:
        text = read_file(item)
        if text is None:
            continue
        for name, value in parse_sysctl_file(text).items():
            if name in wanted and not same_value(catalogue.get(name), value, wanted[name]):
                result.setdefault(name, []).append({"file": item, "value": value})
    return result


# ---------------------------------------------------------------- state record and lock

def state_file(state_dir, path):
    # type: (str, str) -> str
    return os.path.join(state_dir, "tcp_sysctl-%s.json" % os.path.basename(path))


def load_state(state_dir, path):
    text = read_file(state_file(state_dir, path))
    if text is None:
        return None
    return json.loads(text)


class Lock(object):
    """fcntl.flock on state_dir/lock, polled until ``timeout`` seconds. With create=False and no
    state_dir (check mode on a fresh host) it locks nothing rather than create the directory."""

    def __init__(self, state_dir, timeout=30.0, create=True):
        self.path = os.path.join(state_dir, "lock")
        self.timeout = timeout
        self.create = create
        self.fd = None

    def __enter__(self):
        if not self.create and not os.path.exists(self.path):
            return self
        if self.create and not os.path.isdir(os.path.dirname(self.path)):
            os.makedirs(os.path.dirname(self.path), 0o755)
        flags = (os.O_RDWR | os.O_CREAT) if self.create else os.O_RDONLY
        self.fd = os.open(self.path, flags, 0o644)
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.time() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise ApplyError("another tcptune run holds %s (waited %.0f s)"
                                     % (self.path, self.timeout))
                time.sleep(0.1)

    def __exit__(self, *exc_info):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False


# ---------------------------------------------------------------- the two operations

def _live_text(values):
    return "".join("%s = %s\n" % (name, catalogue.format_value(catalogue.get(name), value))
                   for name, value in values.items() if value is not None)


def apply_settings(settings, path=DEFAULT_PATH, mode="set", unsupported="skip",
                   state_dir=DEFAULT_STATE_DIR, proc_path="/proc", sysctl_sources=None,
                   check_mode=False, lock_timeout=30.0, kernel=None, init_netns=None, writer=None):
    """state=present. Returns the result dict of the tcp_sysctl module; raises ApplyError."""
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    sources = DEFAULT_SYSCTL_SOURCES if sysctl_sources is None else sysctl_sources
    wanted, current, skipped = plan_settings(settings, proc_path, kernel, init_netns, mode)
    if skipped and unsupported == "fail":
        raise ApplyError("unsupported keys here, nothing was changed: "
                         + "; ".join("%s: %s" % item for item in sorted(skipped.items())),
                         {"skipped_keys": skipped})
    with Lock(state_dir, lock_timeout, create=not check_mode):
        current = dict((name, read_live(proc_path, name)) for name in wanted)  # under the lock
        changes = [(name, wanted[name], current[name]) for name in catalogue.ordered(wanted)
                   if not same_value(catalogue.get(name), current[name], wanted[name])]
        old_file = read_file(path)
        new_file = render_persist(wanted, skipped)
        persisted_live = dict((name, current[name] if name in current else read_live(proc_path, name))
                              for name in parse_sysctl_file(old_file or "") if name in catalogue.CATALOGUE)
        result = {
            "changed": bool(changes) or old_file != new_file,
            "changed_keys": [name for name, dummy_b, dummy_c in changes],
            "skipped_keys": skipped,
            "previous": dict((name, old) for name, dummy_b, old in changes),
            "applied": dict((name, wanted[name]) for name in wanted),
            "overridden_by": conflicts(path, wanted, sources),
            "drift": drifted(old_file, persisted_live),
            "path": path,
            "file_changed": old_file != new_file,
            "in_init_netns": init_netns,
            "diff": [
                {"before_header": "live values (%s/sys)" % proc_path,
                 "after_header": "live values (%s/sys)" % proc_path,
                 "before": _live_text(dict((n, current[n]) for n, dummy_b, dummy_c in changes)),
                 "after": _live_text(dict((n, new) for n, new, dummy_c in changes))},
                {"before_header": path, "after_header": path,
                 "before": old_file or "", "after": new_file},
            ],
        }
        result["warnings"] = ["%s: %s sets %s and is applied after %s at boot, so it wins"
                              % (name, item["file"], item["value"], path)
                              for name, items in sorted(result["overridden_by"].items())
                              for item in items]
        if check_mode:
            return result
        record = _record_previous(state_dir, path, changes, owner="tcp_sysctl")
        try:
            write_live(proc_path, changes, writer)
        except ApplyError:
            record.undo()
            raise
        if old_file != new_file:
            atomic_write(path, new_file)
    return result


class _Record(object):
    """The state record as it was before this run, so a rolled-back run can put it back."""

    def __init__(self, path, before):
        self.path = path
        self.before = before

    def undo(self):
        if self.before is None:
            if os.path.exists(self.path):
                os.unlink(self.path)
        else:
            atomic_write(self.path, self.before, 0o600)


def _record_previous(state_dir, path, changes, owner):
    """Add the previous value of every newly touched key; earlier records are never overwritten."""
    record_path = state_file(state_dir, path)
    before = read_file(record_path)
    record = json.loads(before) if before else {"owner": owner, "path": path, "previous": {}}
    added = False
    for name, dummy_b, old in changes:
        if name not in record["previous"] and old is not None:
            record["previous"][name] = catalogue.format_value(catalogue.get(name), old)
            added = True
    if added or before is None:
        atomic_write(record_path, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o600)
    return _Record(record_path, before)


def revert_settings(path=DEFAULT_PATH, state_dir=DEFAULT_STATE_DIR, proc_path="/proc",
                    check_mode=False, lock_timeout=30.0, kernel=None, init_netns=None, writer=None):
    """state=absent: restore recorded previous values, remove the persist file and the record."""
    kernel = tuple(kernel) if kernel else kernel_version(proc_path)
    init_netns = in_init_netns(proc_path) if init_netns is None else init_netns
    with Lock(state_dir, lock_timeout, create=False):
        record = load_state(state_dir, path) or {"previous": {}}
        restores, skipped, current = [], {}, {}
        for name in catalogue.ordered([n for n in record["previous"] if n in catalogue.CATALOGUE]):
            key = catalogue.get(name)
            reason = unsupported_reason(proc_path, key, kernel, init_netns)
            if reason:
                skipped[name] = reason
                continue
            old = catalogue.parse_value(key, record["previous"][name])
            current[name] = read_live(proc_path, name)
            if not same_value(key, current[name], old):
                restores.append((name, old, current[name]))
        restores.reverse()  # lower dependants before what they depend on (nr_open last)
        old_file = read_file(path)
        record_exists = os.path.exists(state_file(state_dir, path))
        result = {
            "changed": bool(restores) or old_file is not None or record_exists,
            "changed_keys": [name for name, dummy_b, dummy_c in restores],
            "skipped_keys": skipped,
            "previous": dict((name, cur) for name, dummy_b, cur in restores),
            "applied": dict((name, old) for name, old, dummy_c in restores),
            "overridden_by": {},
            "drift": {},
            "path": path,
            "file_changed": old_file is not None,
            "in_init_netns": init_netns,
            "warnings": [],
            "diff": [
                {"before_header": "live values (%s/sys)" % proc_path,
                 "after_header": "live values (%s/sys)" % proc_path,
                 "before": _live_text(dict((n, c) for n, dummy_b, c in restores)),
                 "after": _live_text(dict((n, o) for n, o, dummy_c in restores))},
                {"before_header": path, "after_header": path,
                 "before": old_file or "", "after": ""},
            ],
        }
        if check_mode:
            return result
        write_live(proc_path, restores, writer)
        if old_file is not None:
            os.unlink(path)
        if record_exists:
            os.unlink(state_file(state_dir, path))
    return result
