# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apply modules inside a privileged Podman container (localhost/tcptune-debian:12).

A privileged container has a writable /proc/sys, and there fs.file-max IS the host's: the module
must skip it. Global keys are requested at the host's CURRENT value, so even a faulty module could
not change the host. Steps run through netns_runner.py with `podman exec`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import uuid

import pytest

import ansible
from preconditions import TEST_IMAGE as IMAGE, needs_podman

COLLECTION = "/opt/coll/ansible_collections/tcptune/linux"
SETTINGS = {"net.core.somaxconn": 23456, "net.ipv4.tcp_fin_timeout": 21,
            "net.ipv4.tcp_rmem": [4096, 65536, 8388608]}
WATCHED = sorted(SETTINGS) + ["fs.file-max", "net.core.rmem_max"]


pytestmark = needs_podman(IMAGE)


def host(name):
    with open("/proc/sys/" + name.replace(".", "/")) as handle:
        return handle.read()


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    work = tmp_path_factory.mktemp("apply-container")
    name = "apply-%s" % uuid.uuid4().hex[:8]
    collection_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run(
        ["podman", "run", "-d", "--rm", "--privileged", "--name", name,
         "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=32768:32768",
         "-v", "%s:/opt/pylib/ansible:ro" % os.path.dirname(ansible.__file__),
         "-v", "%s:%s:ro" % (collection_root, COLLECTION),
         "-v", "%s:/work" % work,
         "-e", "PYTHONPATH=/opt/pylib:/opt/coll",
         IMAGE, "sleep", "900"], check=True, stdout=subprocess.PIPE)
    try:
        yield {"name": name, "work": str(work)}
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], check=False,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def in_box(box, steps):
    with open(os.path.join(box["work"], "steps.json"), "w") as handle:
        json.dump(steps, handle)
    proc = subprocess.run(["podman", "exec", box["name"], "python3", COLLECTION + "/tests/integration/netns_runner.py",
                           "/work/steps.json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    results = json.loads(proc.stdout.decode("utf-8"))
    for result in results:
        assert not (isinstance(result, dict) and "runner_error" in result), result["runner_error"]
    return results


def sysctl_step(settings=None, **extra):
    args = {"path": "/work/sysctl.d/60-tcptune.conf", "state_dir": "/work/state", "sysctl_dirs": ["/work/sysctl.d"]}
    if settings is not None:
        args["settings"] = settings
    step = {"module": "tcp_sysctl", "args": args}
    for name in ("check", "diff"):
        if name in extra:
            step[name] = extra.pop(name)
    args.update(extra)
    return step


def test_tcp_sysctl_in_container_skips_global_keys_and_reverts(box):
    host_before = dict((name, host(name)) for name in WATCHED)
    requested = dict(SETTINGS, **{"fs.file-max": int(host_before["fs.file-max"]),
                                  "net.core.rmem_max": int(host_before["net.core.rmem_max"])})
    (before, hash_before, predicted, hash_checked, applied, values, again, reverted, after) = in_box(box, [
        {"read": WATCHED}, {"hash": True}, sysctl_step(requested, check=True), {"hash": True},
        sysctl_step(requested), {"read": WATCHED}, sysctl_step(requested),
        sysctl_step(state="absent"), {"read": WATCHED}])
    assert predicted["changed"] is True and hash_checked == hash_before
    assert applied["in_init_netns"] is False
    assert sorted(applied["skipped_keys"]) == ["fs.file-max", "net.core.rmem_max"]
    assert applied["skipped_keys"]["fs.file-max"].startswith("global key: set it on the host")
    assert applied["changed_keys"] == predicted["changed_keys"]
    assert "fs.file-max" not in applied["changed_keys"]
    assert values["net.core.somaxconn"] == "23456\n"
    assert values["net.ipv4.tcp_rmem"].split() == ["4096", "65536", "8388608"]
    assert again["changed"] is False
    assert reverted["changed"] is True and after == before
    assert dict((name, host(name)) for name in WATCHED) == host_before


def test_txqueuelen_in_container(box):
    args = {"interfaces": ["eth0"], "value": 2345, "include_virtual": True, "persist": "udev",
            "rules_path": "/work/udev/90-t.rules", "link_path": "/work/network/60-t.link", "state_dir": "/work/tq"}
    skipped, applied, again, reverted = in_box(box, [
        {"module": "txqueuelen", "args": dict(args, include_virtual=False)},
        {"module": "txqueuelen", "args": args, "diff": True}, {"module": "txqueuelen", "args": args},
        {"module": "txqueuelen", "args": dict(args, state="absent", value=None)}])
    if skipped["unmatched"] == ["eth0"]:
        pytest.skip("the container has no eth0 (podman network 'none')")
    assert skipped["changed"] is False and "eth0" in skipped["skipped_interfaces"]
    assert applied["changed_interfaces"] == ["eth0"] and again["changed"] is False
    assert 'NAME=="eth0", ATTR{tx_queue_len}="2345"' in applied["diff"][1]["after"]
    assert applied["diff"][0]["after"] == "eth0 2345\n"
    assert reverted["changed"] is True and reverted["changed_interfaces"] == ["eth0"]


def test_nofile_limits_in_container_without_systemd(box):
    (result,) = in_box(box, [{"module": "nofile_limits", "args": {
        "soft": 4096, "hard": 65536, "services": ["nginx"], "root": "/work/root"}}])
    assert result["changed"] is True and result["daemon_reload_needed"] is True
    assert result["daemon_reloaded"] is False  # systemd is not PID 1 in this container
    with open(os.path.join(box["work"], "root/etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf")) as handle:
        # Services get soft = hard, and (#11) a hard part never below systemd's default 524288.
        assert "LimitNOFILE=65536:524288" in handle.read()
