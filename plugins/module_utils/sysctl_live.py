# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live sysctl values under proc_path/sys: read one, say why one cannot be written here, write a batch in
order with read-back, and roll a batch back. What apply reads at write time lives here and nowhere else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError, read_text, write_text
from ansible_collections.tcptune.linux.plugins.module_utils.sysctld import same_value

try:
    from typing import Any, List, Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass


def key_file(proc_path, name):
    # type: (str, str) -> str
    return os.path.join(proc_path, "sys", catalogue.proc_relpath(name))


def read_live(proc_path, name):
    # type: (str, str) -> Optional[Any]
    """Parsed live value of ``name``, or None when the entry is absent or unreadable."""
    try:
        return catalogue_values.parse_value(catalogue.get(name), read_text(key_file(proc_path, name)))
    except (IOError, OSError, ValueError):
        return None


def unsupported_reason(proc_path, key, kernel, init_netns):
    # type: (str, Any, Tuple[int, int, int], Optional[bool]) -> Optional[str]
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


def write_live(proc_path, changes, writer=None):
    # type: (str, List[Tuple[str, Any, Any]], Any) -> None
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
            writer(path, catalogue_values.format_value(key, new))
            back = read_live(proc_path, name)
            if not same_value(key, back, new):
                raise ApplyError("read back %r instead of %r"
                                 % (catalogue_values.format_value(key, back) if back is not None else back,
                                    catalogue_values.format_value(key, new)))
        except (OSError, IOError, ApplyError) as exc:
            failed = rollback(proc_path, [(n, o) for n, dummy_b, o in done] + [(name, old)], writer)
            message = "%s: setting %s failed (%s); " % (
                name, catalogue_values.format_value(key, new), _error_text(exc))
            if failed:
                message += "rollback FAILED for %s" % ", ".join(failed)
            else:
                message += "the %d key(s) written before it were rolled back" % len(done)
            raise ApplyError(message, {"failed_key": name, "rolled_back": [n for n, dummy_b, dummy_c in done]})
        done.append((name, new, old))


def rollback(proc_path, restores, writer):
    # type: (str, List[Tuple[str, Any]], Any) -> List[str]
    """Put back [(name, old)] in reverse order; returns the names that could not be restored."""
    failed = []
    for name, old in reversed(restores):
        if old is None:
            continue
        key = catalogue.get(name)
        if same_value(key, read_live(proc_path, name), old):
            continue
        try:
            writer(key_file(proc_path, name), catalogue_values.format_value(key, old))
        except (OSError, IOError):
            failed.append(name)
    return failed


def _error_text(exc):
    if isinstance(exc, (OSError, IOError)) and exc.errno:
        return "%s: %s" % (errno.errorcode.get(exc.errno, exc.errno), exc.strerror)
    return str(exc)
