# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a collection module as Ansible would (a process with ANSIBLE_MODULE_ARGS); return its JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import ansible_collections


def run_module(name, args, tmpdir, check=False, diff=False, env=None):
    payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    args_file = tmpdir.join("module-args.json")
    args_file.write(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
    environ = dict(os.environ, **(env or {}))
    environ["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(path) for path in ansible_collections.__path__] + [environ.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.tcptune.linux.plugins.modules." + name,
                           str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, env=environ,
                          timeout=120)
    args_file.remove()
    try:
        return json.loads(proc.stdout.decode("utf-8"))
    except ValueError:
        raise AssertionError("module printed no JSON: %s %s" % (proc.stdout, proc.stderr))


def tune_args(fixture_tree, tmpdir, **settings):
    """tcp_tune's arguments over a copy of the linux-6.18-host /proc and /sys, with a fake root for /etc
    and /var/lib, and ``settings`` on top."""
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    root = str(tmpdir.join("root"))
    os.makedirs(os.path.join(root, "etc/sysctl.d"))
    args = {"proc_path": proc_path, "sys_path": sys_path, "root": root,
            "sysctl_path": os.path.join(root, "etc/sysctl.d/60-tcptune.conf"),
            "state_dir": os.path.join(root, "var/lib/tcptune"), "sockets": False}
    args.update(settings)
    return args


def run_module_as_user(name, args, monkeypatch, capsys, euid=65534):
    """Run a module in this process with os.geteuid() answering ``euid``, for the refusals that
    need no privileges to test (the tests themselves run as root)."""
    import importlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    module = importlib.import_module("ansible_collections.tcptune.linux.plugins.modules." + name)
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    try:
        module.main()
    except SystemExit:
        pass
    return json.loads(capsys.readouterr().out)
