# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where this process runs: the network namespace, a container, the memory cgroup's limit, whether a
/proc/sys file can be written here, and systemd's version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file

try:
    from typing import Optional, Tuple  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

# Keys that only the init network namespace has (kernel-tcp-facts.md section 2): their
# absence means this /proc/sys belongs to a child netns, whatever pid 1 is.
INIT_NETNS_ONLY_KEYS = ("net/ipv4/tcp_mem", "net/core/netdev_max_backlog")
CONTAINER_CGROUP_MARKERS = ("docker", "libpod", "kubepods", "lxc", "containerd", "crio", "machine.slice")
# cgroup v1 memory.limit_in_bytes reads PAGE_COUNTER_MAX * PAGE_SIZE (0x7ffffffffffff000 with 4 KiB
# pages) when no limit is set; anything this large is "no limit" whatever the page size.
CGROUP_V1_UNLIMITED_FROM = 1 << 62
# Where distributions install libsystemd-shared-<version>.so (Debian/Ubuntu, Fedora/EL, others).
SYSTEMD_LIB_DIRS = ("/lib/systemd", "/usr/lib/systemd", "/usr/lib64/systemd")


def is_writable(path):
    """os.access alone says yes for root on a 0444 regular file, so the mode must allow a write too.

    In a child netns the kernel shows a global key's read-only copy as 0444.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(path, os.W_OK)


def in_init_netns(proc_path):
    # type: (str) -> bool
    """False inside a child network namespace (container, ``unshare --net``).

    /proc/sys/net follows the reader's namespace, and the global-only keys exist only in the
    init one. Comparing /proc/self/ns/net with /proc/1/ns/net is not enough: in a container pid 1
    is the container's. Only when /proc/sys/net/ipv4 is missing altogether are the namespace
    inodes of this process and pid 1 compared.
    """
    sys_root = os.path.join(proc_path, "sys")
    if not os.path.isdir(os.path.join(sys_root, "net/ipv4")):
        try:
            return os.readlink(os.path.join(proc_path, "self/ns/net")) == \
                os.readlink(os.path.join(proc_path, "1/ns/net"))
        except OSError:
            return True
    return any(os.path.exists(os.path.join(sys_root, key)) for key in INIT_NETNS_ONLY_KEYS)


def detect_namespace(proc_path, root_path=None):
    """init_netns, proc_sys_writable and container, with the heuristics documented in tcp_facts.

    init_netns: the global-only keys exist only in the init netns' /proc/sys. Comparing
    /proc/self/ns/net with /proc/1/ns/net is not enough: in a container pid 1 is the container's.
    container: not the init netns, or a marker (/run/.containerenv, /.dockerenv,
    container= in pid 1's environment, a container runtime in pid 1's cgroup). root_path (where
    the file markers are looked for) defaults to / for the real /proc and to none for other trees.
    """
    sys_root = os.path.join(proc_path, "sys")
    init_netns = in_init_netns(proc_path)
    writable = is_writable(os.path.join(sys_root, "net/core/somaxconn"))
    if root_path is None:
        root_path = "/" if os.path.realpath(proc_path) == "/proc" else None
    markers = [os.path.join(root_path, ".dockerenv"), os.path.join(root_path, "run/.containerenv")] if root_path else []
    container = not init_netns or any(os.path.exists(path) for path in markers)
    if not container:
        environ = read_file(os.path.join(proc_path, "1/environ")) or ""
        container = any(item.startswith("container=") for item in environ.split("\0"))
    if not container:
        cgroup = read_file(os.path.join(proc_path, "1/cgroup")) or ""
        container = any(marker in cgroup for marker in CONTAINER_CGROUP_MARKERS)
    return {"init_netns": init_netns, "proc_sys_writable": writable, "container": container}


def _cgroup_membership(proc_path):
    """(version, path) of this process's memory cgroup from proc_path/self/cgroup, or (None, None).

    A v1 line naming the memory controller wins (hybrid hosts keep memory on v1); else the v2 "0::" line.
    """
    unified = None
    for line in (read_file(os.path.join(proc_path, "self/cgroup")) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(","):
            return 1, parts[2]
        if parts[0] == "0" and parts[1] == "":
            unified = parts[2]
    return (2, unified) if unified is not None else (None, None)


def _cgroup_mount(proc_path, sys_path, version):
    """(mount root inside the hierarchy, directory under sys_path) of the memory hierarchy.

    From proc_path/self/mountinfo: a cgroup2 mount for v2, a cgroup mount with the memory option
    for v1. Mount points under /sys are taken relative to sys_path, so fixture trees work; without
    mountinfo, the usual places.
    """
    for line in (read_file(os.path.join(proc_path, "self/mountinfo")) or "").splitlines():
        fields, dummy, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        if (tail[0] == "cgroup2" and version == 2) or \
                (tail[0] == "cgroup" and version == 1 and "memory" in tail[2].split(",")):
            mount_point = fields[4].replace("\\040", " ")
            if mount_point == "/sys" or mount_point.startswith("/sys/"):
                return fields[3], os.path.join(sys_path, mount_point[len("/sys/"):])
            return fields[3], (mount_point if os.path.realpath(sys_path) == "/sys" else None)
    default = "fs/cgroup/memory" if version == 1 else "fs/cgroup"
    return "/", os.path.join(sys_path, default)


def _memory_limit(directory, version):
    """The limit set in one cgroup directory: bytes, 0 for none, None when unreadable."""
    text = (read_file(os.path.join(directory, "memory.max" if version == 2 else "memory.limit_in_bytes")) or "").strip()
    if text == "max":
        return 0
    try:
        value = int(text)
    except ValueError:
        return None
    return 0 if version == 1 and value >= CGROUP_V1_UNLIMITED_FROM else value


def _as_sys_path(path, sys_path):
    """A path under sys_path as /sys/..., whatever sys_path is (evidence paths read the same everywhere)."""
    relative = os.path.relpath(path, sys_path)
    return path if relative.startswith("..") else "/sys/" + relative


def read_cgroup(proc_path, sys_path):
    """{version, path, memory_max_bytes, memory_max_file}: the tightest memory limit from this
    process's cgroup up to the top of the hierarchy visible here (memory.max on v2, "max" = none;
    memory.limit_in_bytes on v1, >= 2**62 = none). null when there is no limit or no cgroup.

    The cgroup path is mapped into the mount through the mount's root (a container without a
    cgroup namespace sees its own cgroup bind-mounted at /sys/fs/cgroup). The kernel charges socket
    memory to the memory cgroup, so memory_max_bytes bounds what TCP can use here.
    """
    version, path = _cgroup_membership(proc_path)
    result = {"version": version, "path": path, "memory_max_bytes": None, "memory_max_file": None}
    if version is None:
        return result
    root, mount_dir = _cgroup_mount(proc_path, sys_path, version)
    if mount_dir is None:
        return result
    relative = path
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        relative = path[len(root):]
    if "/.." in "/" + relative:  # outside our cgroup namespace: only the mount's top is known
        relative = ""
    parts = [part for part in relative.split("/") if part]
    for depth in range(len(parts), -1, -1):
        directory = os.path.join(mount_dir, *parts[:depth])
        limit = _memory_limit(directory, version)
        if limit and (result["memory_max_bytes"] is None or limit < result["memory_max_bytes"]):
            result["memory_max_bytes"] = limit
            result["memory_max_file"] = _as_sys_path(
                os.path.join(directory, "memory.max" if version == 2 else "memory.limit_in_bytes"), sys_path)
    return result


def systemd_version(lib_dirs=SYSTEMD_LIB_DIRS):
    # type: (Tuple[str, ...]) -> Optional[int]
    """systemd's version from the name of its shared library, without running a process; None when absent."""
    versions = []
    for directory in lib_dirs:
        for path in glob.glob(os.path.join(glob.escape(directory), "libsystemd-shared-*.so")):
            number = os.path.basename(path)[len("libsystemd-shared-"):-len(".so")].split(".")[0]
            if number.isdigit():
                versions.append(int(number))
    return max(versions) if versions else None
