"""Everything tcptune.linux could change on this guest, as one JSON document on stdout.

sysctl: every readable file directly under /proc/sys/net/core, /proc/sys/net/ipv4 and
/proc/sys/net/netfilter, plus fs.file-max, fs.nr_open and fs.epoll.max_user_watches (a superset of the catalogue), values with
whitespace collapsed; keys that change by themselves are left out. txqueuelen: every interface.
files: sha256 of every file (and the target of every symlink) under the places the role writes to
(a textfile only "present": it changes every collector run).
systemd: DefaultLimitNOFILE and the test service's LimitNOFILE.
"""
import hashlib
import json
import os
import subprocess
import sys

SYSCTL_DIRS = ("net/core", "net/ipv4", "net/netfilter")
SYSCTL_FILES = ("fs/file-max", "fs/nr_open", "fs/epoll/max_user_watches")
# Counters and per-boot random keys: they move without anyone writing them.
VOLATILE = ("net.netfilter.nf_conntrack_count", "net.core.netdev_rss_key", "net.ipv4.tcp_fastopen_key")
FILE_ROOTS = ("/etc/sysctl.d", "/etc/sysctl.conf", "/etc/security/limits.conf", "/etc/security/limits.d",
              "/etc/systemd", "/etc/udev/rules.d", "/var/lib/tcptune", "/run/sysctl.d",
              "/usr/local/lib/tcptune", "/var/lib/prometheus/node-exporter")
# The collector rewrites its textfile every interval: only its presence is compared.
VOLATILE_FILES = (".prom",)


def read_sysctl():
    out = {}
    paths = [os.path.join("/proc/sys", d, name) for d in SYSCTL_DIRS if os.path.isdir(os.path.join("/proc/sys", d))
             for name in sorted(os.listdir(os.path.join("/proc/sys", d)))]
    paths += [os.path.join("/proc/sys", f) for f in SYSCTL_FILES]
    for path in paths:
        key = os.path.relpath(path, "/proc/sys").replace("/", ".")
        if key in VOLATILE or not os.path.isfile(path):
            continue
        try:
            with open(path) as handle:
                out[key] = " ".join(handle.read().split())
        except OSError:
            continue  # write-only (e.g. route.flush) or refused
    return out


def read_txqueuelen():
    out = {}
    for name in sorted(os.listdir("/sys/class/net")):
        with open("/sys/class/net/%s/tx_queue_len" % name) as handle:
            out[name] = int(handle.read())
    return out


def hash_files():
    out = {}
    for root in FILE_ROOTS:
        walk = [(os.path.dirname(root), [], [os.path.basename(root)])] if os.path.isfile(root) else os.walk(root)
        for directory, dirs, files in walk:
            for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]):
                path = os.path.join(directory, name)
                if os.path.islink(path):
                    out[path] = "-> " + os.readlink(path)
                elif os.path.isfile(path) and path.endswith(VOLATILE_FILES):
                    out[path] = "present"
                elif os.path.isfile(path):
                    with open(path, "rb") as handle:
                        out[path] = hashlib.sha256(handle.read()).hexdigest()
    return out


def systemd_limits():
    """systemd's DefaultLimitNOFILE(Soft) and the test service's LimitNOFILE(Soft) and state."""
    out = {}
    for argv in (["systemctl", "show", "-p", "DefaultLimitNOFILE", "-p", "DefaultLimitNOFILESoft"],
                 ["systemctl", "show", "-p", "LimitNOFILE", "-p", "LimitNOFILESoft", "-p", "ActiveState",
                  "tcptune-web.service"]):
        lines = subprocess.run(argv, stdout=subprocess.PIPE, check=True, universal_newlines=True).stdout
        out.update(line.split("=", 1) for line in lines.splitlines() if "=" in line)
    return out


json.dump({"sysctl": read_sysctl(), "txqueuelen": read_txqueuelen(), "files": hash_files(),
           "systemd": systemd_limits()}, sys.stdout, sort_keys=True)
sys.stdout.write("\n")
