# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a list of steps in ONE network namespace and print their results as JSON.

Started by the integration tests as `unshare --net python netns_runner.py steps.json`, so every
module run and every read below happens in the same throwaway namespace.
Steps: {"read": [keys]}, {"hash": true}, {"write": {per-netns key: value}}, {"module": name, "args": {...}, "check": bool, "diff": bool}.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import subprocess
import sys
import tempfile

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue


def read_key(name):
    try:
        with open(os.path.join("/proc/sys", catalogue.proc_relpath(name))) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def hash_proc_sys():
    digest = hashlib.sha256()
    for name in sorted(catalogue.CATALOGUE):
        digest.update(("%s=%r\n" % (name, read_key(name))).encode("utf-8"))
    return digest.hexdigest()


def run_module(step):
    args = dict(step["args"])
    args["_ansible_check_mode"] = bool(step.get("check"))
    args["_ansible_diff"] = bool(step.get("diff"))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ansible_collections.tcptune.linux.plugins.modules." + step["module"],
             handle.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=60)
    finally:
        os.unlink(handle.name)
    try:
        return json.loads(proc.stdout.decode("utf-8"))
    except ValueError:
        return {"runner_error": proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")}


def main():
    with open(sys.argv[1]) as handle:
        steps = json.load(handle)
    results = []
    for step in steps:
        if "read" in step:
            results.append(dict((name, read_key(name)) for name in step["read"]))
        elif "hash" in step:
            results.append(hash_proc_sys())
        elif "write" in step:
            # per-netns keys of this child netns only: the global-only tcp_mem is absent here
            assert not os.path.exists("/proc/sys/net/ipv4/tcp_mem"), "not a child network namespace"
            for name, value in sorted(step["write"].items()):
                with open(os.path.join("/proc/sys", name.replace(".", "/")), "w") as handle:
                    handle.write("%s\n" % value)
            results.append({})
        else:
            results.append(run_module(step))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
