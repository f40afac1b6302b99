# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/vm/vm.py without booting anything: argv quoting, instance records, clear errors."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

VM_PY = os.path.join(os.path.dirname(__file__), "..", "vm", "vm.py")


def _module(tmp_path, monkeypatch):
    monkeypatch.setenv("TCPTUNE_VM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TCPTUNE_VM_RUN", str(tmp_path / "run"))
    spec = importlib.util.spec_from_file_location("tcptune_vm_tool", VM_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli(tmp_path, *args):
    env = dict(os.environ, TCPTUNE_VM_CACHE=str(tmp_path / "cache"), TCPTUNE_VM_RUN=str(tmp_path / "run"))
    return subprocess.run([sys.executable, VM_PY] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, check=False)


def test_ssh_quotes_every_word_for_the_guest_shell(tmp_path, monkeypatch):
    vm = _module(tmp_path, monkeypatch)
    info = {"key": "/k", "port": 2222, "user": "root"}
    argv = vm.ssh_argv(info, ["sh", "-c", "echo 'a b'; exit 7", "$(reboot)"])
    assert argv[-2] == "--"
    assert argv[-1] == "sh -c 'echo '\"'\"'a b'\"'\"'; exit 7' '$(reboot)'"
    assert ["-p", "2222"] == argv[argv.index("-p"):argv.index("-p") + 2]
    assert "BatchMode=yes" in argv and "StrictHostKeyChecking=no" in argv


def test_instance_config_and_inventory_from_the_instance_record(tmp_path, monkeypatch):
    vm = _module(tmp_path, monkeypatch)
    os.makedirs(os.path.join(vm.RUN, "vm-a"))
    with open(os.path.join(vm.RUN, "vm-a", "instance.json"), "w") as handle:
        json.dump({"name": "vm-a", "port": 40001, "key": "/k", "user": "root", "release": "12"}, handle)
    done = _cli(tmp_path, "instance-config", "vm-a")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"instance": "vm-a", "address": "127.0.0.1", "user": "root", "port": 40001,
                                        "identity_file": "/k"}]
    line = _cli(tmp_path, "inventory", "vm-a").stdout
    assert line.startswith("vm-a ansible_host=127.0.0.1 ansible_port=40001 ansible_user=root")


@pytest.mark.parametrize("args, message", [
    (("start", "x", "--release", "12"), "no image for Debian 12"),
    (("wait", "nothere"), "no instance 'nothere'"),
    (("ssh", "../etc", "--", "true"), "bad instance name"),
])
def test_clear_error_and_exit_1(tmp_path, args, message):
    done = _cli(tmp_path, *args)
    assert done.returncode == 1
    assert message in done.stderr


def test_stop_all_with_nothing_running_is_harmless(tmp_path):
    done = _cli(tmp_path, "stop", "--all")
    assert done.returncode == 0, done.stderr
