# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_facts inside an unprivileged Podman container started with ``--memory 512m``.

The container's memory limit must come back as ansible_facts.tcp.cgroup.memory_max_bytes, whatever
cgroup version the host runs (this test machine is a v1/v2 hybrid with memory on v1). The module
runs through netns_runner.py with `podman exec`; nothing is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import uuid

import ansible
from preconditions import TEST_IMAGE as IMAGE, needs_podman

COLLECTION = "/opt/coll/ansible_collections/tcptune/linux"
MEMORY_BYTES = 512 * 1024 * 1024


pytestmark = needs_podman(IMAGE)


def facts_in_container(tmp_path, *podman_options):
    name = "facts-%s" % uuid.uuid4().hex[:8]
    collection_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    (tmp_path / "steps.json").write_text(json.dumps([{"module": "tcp_facts", "args": {"sockets": False}}]))
    try:
        proc = subprocess.run(
            ["podman", "run", "--rm", "--name", name] + list(podman_options) +
            ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=32768:32768",
             "-v", "%s:/opt/pylib/ansible:ro" % os.path.dirname(ansible.__file__),
             "-v", "%s:%s:ro" % (collection_root, COLLECTION), "-v", "%s:/work" % tmp_path,
             "-e", "PYTHONPATH=/opt/pylib:/opt/coll",
             IMAGE, "python3", COLLECTION + "/tests/integration/netns_runner.py", "/work/steps.json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=180)
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], check=False, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    result = json.loads(proc.stdout.decode("utf-8"))[0]
    assert "ansible_facts" in result, result
    return result["ansible_facts"]["tcp"]


def test_memory_limit_of_the_container_is_the_cgroup_fact(tmp_path):
    facts = facts_in_container(tmp_path, "--memory", "512m")
    cgroup = facts["cgroup"]
    assert cgroup["version"] in (1, 2)
    assert cgroup["memory_max_bytes"] == MEMORY_BYTES
    assert cgroup["memory_max_file"] in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert facts["namespace"]["container"] is True
    assert facts["kernel"]["mem_total_bytes"] > MEMORY_BYTES  # MemTotal is the host's: hence this fact


def test_no_memory_limit_is_null(tmp_path):
    assert facts_in_container(tmp_path)["cgroup"]["memory_max_bytes"] is None
