# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a module reports an error: one shape of ``fail_json``'s arguments for every module of the collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from typing import Any, Dict  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass


def failure(error):
    # type: (Exception) -> Dict[str, Any]
    """``fail_json``'s keyword arguments for an error a module caught: an OSError names the path it failed on
    (``failed_path``); any other error (ApplyError, SizingInputError) is its message, with the ``result`` it
    carries (what was done, skipped or rolled back) when it has one."""
    if isinstance(error, EnvironmentError):
        return {"msg": "%s: %s" % (error.filename or "(no path)", error.strerror or error), "failed_path": error.filename}
    arguments = dict(getattr(error, "result", None) or {})
    arguments["msg"] = str(error)
    return arguments


def needs_root(module_name, writes):
    # type: (str, str) -> str
    """The message of a module run without root that would write ``writes`` on the real host."""
    return "%s: writing %s needs root; run it with become: true. Nothing was changed." % (module_name, writes)


def daemon_reload_failed(out, err):
    # type: (str, str) -> str
    """The message when ``systemctl daemon-reload`` fails after limits were written."""
    return "systemctl daemon-reload failed: %s" % (err or out).strip()
