# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_errors.py: the one shape of a module's error exit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno

from ansible_collections.tcptune.linux.plugins.module_utils import module_errors
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_inputs import SizingInputError


def test_an_os_error_names_its_path():
    error = OSError(errno.EACCES, "Permission denied", "/etc/sysctl.d/60-tcptune.conf")
    assert module_errors.failure(error) == {"msg": "/etc/sysctl.d/60-tcptune.conf: Permission denied",
                                            "failed_path": "/etc/sysctl.d/60-tcptune.conf"}
    assert module_errors.failure(IOError("no errno")) == {"msg": "(no path): no errno", "failed_path": None}


def test_an_apply_error_keeps_its_result():
    error = ApplyError("net.core.somaxconn: refused", {"skipped": {"a": "b"}, "rolled_back": ["x"]})
    assert module_errors.failure(error) == {"msg": "net.core.somaxconn: refused", "skipped": {"a": "b"},
                                            "rolled_back": ["x"]}
    assert module_errors.failure(ApplyError("plain")) == {"msg": "plain"}


def test_an_input_error_is_its_message():
    assert module_errors.failure(SizingInputError("target_connections: must be at least 1")) == {
        "msg": "target_connections: must be at least 1"}


def test_the_messages_name_the_module_and_what_it_writes():
    assert module_errors.needs_root("txqueuelen", "/sys/class/net") == (
        "txqueuelen: writing /sys/class/net needs root; run it with become: true. Nothing was changed.")
    assert module_errors.daemon_reload_failed("", " Access denied\n") == "systemctl daemon-reload failed: Access denied"
    assert module_errors.daemon_reload_failed("out\n", "") == "systemctl daemon-reload failed: out"
