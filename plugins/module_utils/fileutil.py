# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files on the target: whole-value writes to /proc and /sys, atomic writes of config files, snapshots
to put files back, the run lock, and the removal of the temp files a killed run left. The error every
apply step raises, ApplyError, lives here too."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import fnmatch
import glob
import os
import re
import stat
import tempfile
import time

try:
    from typing import Dict, List, Optional  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass


class ApplyError(Exception):
    """A refused or failed run. ``result`` holds what is known (skipped, previous, ...)."""

    def __init__(self, message, result=None):
        super(ApplyError, self).__init__(message)
        self.result = result or {}


def read_text(path):
    # type: (str) -> str
    with open(path) as handle:
        return handle.read()


def read_file(path):
    # type: (str) -> Optional[str]
    """The file's text, or None when it is absent or unreadable (EACCES, EINVAL from sysfs, not UTF-8)."""
    try:
        return read_text(path)
    except (IOError, OSError, UnicodeDecodeError):
        return None


def write_text(path, text):
    # type: (str, str) -> None
    """One write() of the whole value, as the kernel expects; errors surface as OSError."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0))
    try:
        os.write(fd, (text + "\n").encode("utf-8"))
    finally:
        os.close(fd)


# atomic_write's temp file: ".<name>.<random>.tcptune.tmp" next to <name>. The name never ends in .conf,
# .rules, .link or .json, so no boot-time reader (systemd-sysctl, pam_limits, udev, systemd) and no
# state reader takes a half-written file; the marker says whose it is. Earlier versions named it
# ".<name>.<8 random>" (tempfile.mkstemp's own names), and a killed run of theirs may have left one.
TEMP_MARK = ".tcptune.tmp"
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?:[A-Za-z0-9_]+%s|[a-z0-9_]{8})$" % re.escape(TEMP_MARK))


def temp_target(name):
    # type: (str) -> Optional[str]
    """The file name an atomic_write temp file called ``name`` was to replace; None when ``name`` is
    not such a temp file."""
    match = _TEMP_NAME.match(name)
    return match.group("target") if match else None


def atomic_write(path, text, mode=0o644):
    # type: (str, str, int) -> None
    """Temp file in the same directory, fsync, rename over ``path``, fsync the directory.

    The temp file is flock()ed from its creation to the rename, so remove_stale can tell a live
    write from a killed one (the kernel drops a dead process's locks). Once ``path`` holds the new
    text, the temp files an earlier, killed write of ``path`` left are removed too."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    name = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=TEMP_MARK, dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # held until close: a live write, not a stale one
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
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
    remove_stale([os.path.join(directory, glob.escape(name))])  # the name as it is, not as a pattern


def _unlink_if_stale(path):
    # type: (str) -> bool
    """Unlink the temp file ``path`` unless a live atomic_write holds it (its flock) or it is not a
    regular file (a symlink is not followed). True when it was removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False  # gone already, a symlink (ELOOP), or unreadable: leave it
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            return False  # a live write holds it
        try:
            os.unlink(path)
        except OSError:
            return False
        return True
    finally:
        os.close(fd)


def remove_stale(paths=(), dirs=(), prune=()):
    # type: (List[str], List[str], List[str]) -> List[str]
    """Remove the temp files that a killed atomic_write left: next to each of ``paths`` (only the temp
    files of that very name; the name part of a path may be an fnmatch pattern, e.g.
    ``60-tcptune-txqueuelen*.link``), and every atomic_write temp file in ``dirs`` (directories only we
    write in, the state dir). A temp file a live atomic_write is still writing is left alone. Each
    directory of ``prune`` that this left empty is removed too (a drop-in directory that held only a
    temp file). Nothing else is touched. Returns the removed paths, sorted."""
    wanted = {}  # type: Dict[str, List[str]]
    for path in paths:
        wanted.setdefault(os.path.dirname(os.path.abspath(path)), []).append(os.path.basename(path))
    for directory in dirs:
        wanted.setdefault(os.path.abspath(directory), []).append("*")
    removed = []
    for directory, patterns in sorted(wanted.items()):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in sorted(names):
            target = temp_target(name)
            if target is None or not any(fnmatch.fnmatchcase(target, pattern) for pattern in patterns):
                continue
            if _unlink_if_stale(os.path.join(directory, name)):
                removed.append(os.path.join(directory, name))
    emptied = set(os.path.dirname(path) for path in removed)
    for directory in prune:
        directory = os.path.abspath(directory)
        if directory in emptied:
            try:
                os.rmdir(directory)  # refused unless empty
            except OSError:
                pass
    return sorted(removed)


def snapshot(paths):
    # type: (List[str]) -> Dict[str, Optional[str]]
    """{path: text, or None when absent}, to put the files back with restore()."""
    return dict((path, read_file(path)) for path in sorted(set(paths)))


def restore(saved):
    # type: (Dict[str, Optional[str]]) -> List[str]
    """Put every file of a snapshot() back (remove the ones that were absent); returns the paths
    that could not be restored. Modes: 0600 for the state records under a state dir, else 0644."""
    failed = []
    for path, text in sorted(saved.items()):
        try:
            if text is None:
                if os.path.exists(path):
                    os.unlink(path)
            elif read_file(path) != text:
                atomic_write(path, text, 0o600 if path.endswith(".json") else 0o644)
        except (IOError, OSError):
            failed.append(path)
    return failed


class Lock(object):
    """fcntl.flock on state_dir/lock, polled until ``timeout`` seconds. With create=False and no
    state_dir (check mode on a fresh host) it locks nothing rather than create the directory.

    Re-entrant within one process: the one-run apply holds it around the sysctl, limits and
    txqueuelen steps, which each take it too (a second flock on a new descriptor would block)."""

    _held = {}  # type: Dict[str, int]

    def __init__(self, state_dir, timeout=30.0, create=True):
        self.path = os.path.join(state_dir, "lock")
        self.timeout = timeout
        self.create = create
        self.fd = None
        self.nested = False

    def __enter__(self):
        if self.path in Lock._held:
            Lock._held[self.path] += 1
            self.nested = True
            return self
        flags = (os.O_RDWR | os.O_CREAT) if self.create else os.O_RDONLY
        deadline = time.time() + self.timeout
        while True:
            if self.create and not os.path.isdir(os.path.dirname(self.path)):
                os.makedirs(os.path.dirname(self.path), 0o755)
            try:
                self.fd = os.open(self.path, flags, 0o644)
            except OSError as exc:
                if exc.errno == errno.ENOENT and not self.create:
                    return self  # nothing to lock: no run ever wrote here (or a revert removed it)
                if exc.errno == errno.ENOENT and time.time() < deadline:
                    continue  # a full revert removed state_dir after our makedirs: make it again
                raise
            if self._flock_until(deadline) and self._still_the_lock_file():
                Lock._held[self.path] = 1
                return self
            os.close(self.fd)  # the holder removed the file while we waited: lock the new one
            self.fd = None

    def _flock_until(self, deadline):
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.time() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise ApplyError("another tcptune run holds %s (waited %.0f s)"
                                     % (self.path, self.timeout))
                time.sleep(0.1)

    def _still_the_lock_file(self):
        try:
            on_disk = os.stat(self.path)
        except OSError:
            return False
        held = os.fstat(self.fd)
        return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)

    def remove_if_alone(self):
        """Unlink the lock file and state_dir when the lock is all that is left in it, while holding it:
        every waiter re-checks the path after its flock (_still_the_lock_file), so none keeps a removed lock.

        Temp files a killed run left in state_dir (a record half written) do not count: they are removed
        first. With no lock file at all (a revert killed between removing the lock and state_dir) an
        empty state_dir is removed."""
        if self.nested:
            return
        directory = os.path.dirname(self.path)
        remove_stale(dirs=[directory])
        if self.fd is None:  # no lock file to hold (create=False found none)
            try:
                os.rmdir(directory)  # refused unless empty
            except OSError:
                pass
            return
        if os.listdir(directory) != [os.path.basename(self.path)]:
            return
        os.unlink(self.path)
        os.rmdir(directory)

    def __exit__(self, *exc_info):
        if self.nested:
            Lock._held[self.path] -= 1
            self.nested = False
        elif self.fd is not None:
            Lock._held.pop(self.path, None)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False
