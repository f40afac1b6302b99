# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_detect.py: namespace, container markers, the memory cgroup limit and systemd's version."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import host_detect, host_facts


def gather(fixture_tree, name, **kwargs):
    proc_path, sys_path = fixture_tree(name)
    return host_facts.gather(proc_path, sys_path, page_size=4096, **kwargs)


def test_is_writable_needs_the_mode_even_for_root(tmp_path):
    path = tmp_path / "key"
    path.write_text(u"1\n")
    os.chmod(str(path), 0o444)
    assert host_detect.is_writable(str(path)) is False
    os.chmod(str(path), 0o644)
    assert host_detect.is_writable(str(path)) is True


def test_container_markers_in_init_netns(fixture_tree, tmp_path):
    proc_path, _sys_path = fixture_tree("linux-6.18-host")
    os.makedirs(os.path.join(proc_path, "1"))
    with open(os.path.join(proc_path, "1/environ"), "w") as handle:
        handle.write("PATH=/bin\0container=podman\0")
    assert host_detect.detect_namespace(proc_path)["container"] is True
    root = tmp_path / "root"
    root.mkdir()
    os.remove(os.path.join(proc_path, "1/environ"))
    assert host_detect.detect_namespace(proc_path, str(root))["container"] is False
    (root / ".dockerenv").write_text(u"")
    assert host_detect.detect_namespace(proc_path, str(root))["container"] is True


def _cgroup_tree(tmp_path, membership, mountinfo, limits):
    """proc/self/{cgroup,mountinfo} and sys/<dir>/<file> = value for each entry of ``limits``."""
    proc_path, sys_path = tmp_path / "proc", tmp_path / "sys"
    (proc_path / "self").mkdir(parents=True)
    (proc_path / "self" / "cgroup").write_text(membership)
    if mountinfo is not None:
        (proc_path / "self" / "mountinfo").write_text(mountinfo)
    for relpath, value in limits.items():
        (sys_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (sys_path / relpath).write_text(value + "\n")
    return str(proc_path), str(sys_path)


V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"


V1_MOUNTS = ("31 23 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
             "35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,memory\n"
             "36 31 0:33 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,pids\n"
             "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")


def test_cgroup_v2_tightest_limit_on_the_chain_up_to_the_root(tmp_path):
    # A unit limited to 3 GiB inside a slice limited to 1 GiB: the slice's is the tighter one.
    proc_path, sys_path = _cgroup_tree(tmp_path, "0::/app.slice/web.service\n", V2_MOUNT, {
        "fs/cgroup/app.slice/web.service/memory.max": "3221225472",
        "fs/cgroup/app.slice/memory.max": "1073741824",
        "fs/cgroup/memory.max": "max",  # a cgroup namespace root may show one; the real root has none
    })
    assert host_detect.read_cgroup(proc_path, sys_path) == {
        "version": 2, "path": "/app.slice/web.service", "memory_max_bytes": 1073741824,
        "memory_max_file": "/sys/fs/cgroup/app.slice/memory.max"}


def test_cgroup_v2_unlimited_everywhere_is_null(tmp_path):
    proc_path, sys_path = _cgroup_tree(tmp_path, "0::/user.slice/user-0.slice/session-1.scope\n", V2_MOUNT, {
        "fs/cgroup/user.slice/user-0.slice/session-1.scope/memory.max": "max",
        "fs/cgroup/user.slice/user-0.slice/memory.max": "max",
        "fs/cgroup/user.slice/memory.max": "max",
    })
    cgroup = host_detect.read_cgroup(proc_path, sys_path)
    assert (cgroup["version"], cgroup["memory_max_bytes"], cgroup["memory_max_file"]) == (2, None, None)


def test_cgroup_v1_on_a_hybrid_host_uses_the_memory_controller_and_its_unlimited_value(tmp_path):
    membership = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
    proc_path, sys_path = _cgroup_tree(tmp_path, membership, V1_MOUNTS, {
        "fs/cgroup/memory/process_api/abc/memory.limit_in_bytes": "9223372036854771712",  # no limit (4 KiB pages)
        "fs/cgroup/memory/process_api/memory.limit_in_bytes": "536870912",
        "fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712",
        "fs/cgroup/unified/memory.max": "1",  # v2 has no memory controller here: never read
    })
    assert host_detect.read_cgroup(proc_path, sys_path) == {
        "version": 1, "path": "/process_api/abc", "memory_max_bytes": 536870912,
        "memory_max_file": "/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes"}
    (tmp_path / "sys/fs/cgroup/memory/process_api/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert host_detect.read_cgroup(proc_path, sys_path)["memory_max_bytes"] is None


def test_cgroup_v1_container_sees_its_own_cgroup_bind_mounted_at_the_top(tmp_path):
    # Podman with runc on cgroup v1, no cgroup namespace: /proc/self/cgroup names the host path and
    # the mount's root is that same path (seen in a --memory 512m container on this host).
    path = "/libpod_parent/libpod-ecebef0a"
    mountinfo = "97 93 0:32 %s /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n" % path
    proc_path, sys_path = _cgroup_tree(tmp_path, "4:memory:%s\n0::%s\n" % (path, path), mountinfo, {
        "fs/cgroup/memory/memory.limit_in_bytes": "536870912"})
    assert host_detect.read_cgroup(proc_path, sys_path) == {
        "version": 1, "path": path, "memory_max_bytes": 536870912,
        "memory_max_file": "/sys/fs/cgroup/memory/memory.limit_in_bytes"}


def test_cgroup_outside_the_namespace_and_without_mountinfo(tmp_path):
    proc_path, sys_path = _cgroup_tree(tmp_path, "0::/../../other\n", None, {"fs/cgroup/memory.max": "268435456"})
    cgroup = host_detect.read_cgroup(proc_path, sys_path)
    assert (cgroup["version"], cgroup["memory_max_bytes"]) == (2, 268435456)


def test_no_cgroup_file_gives_nulls(fixture_tree):
    cgroup = gather(fixture_tree, "linux-3.10-old", sockets=False)["cgroup"]
    assert cgroup == {"version": None, "path": None, "memory_max_bytes": None, "memory_max_file": None}


def test_systemd_version_is_the_highest_shared_library_found(tmp_path):
    for relpath in ("lib/systemd/libsystemd-shared-247.so", "usr/lib/systemd/libsystemd-shared-252.3-1.so",
                    "usr/lib/systemd/libsystemd-shared-x.so"):
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(u"")
    dirs = (str(tmp_path / "lib/systemd"), str(tmp_path / "usr/lib/systemd"), str(tmp_path / "absent"))
    assert host_detect.systemd_version(dirs) == 252
    assert host_detect.systemd_version((str(tmp_path / "absent"),)) is None
