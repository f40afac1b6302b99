"""What an admin's host looks like to its admin, as one JSON document on stdout (Python 3.9+, stdlib).

Complements molecule/vm/files/snapshot.py (sysctl values, txqueuelen, file hashes, ssh logins) with
what the vm_admin scenario checks at every step:
  boot_id; nics: {name: {address, txqueuelen}};
  journal_limit_lines: this boot's journal lines with "could not set limit" (pam_limits, systemd);
  infinity: the LimitNOFILE unit's properties and its main process's "Max open files";
  conntrack: nf_conntrack loaded?, nf_conntrack_max, the late unit's state, and when it and
    systemd-sysctl finished (monotonic usec), modules-load.d files that name nf_conntrack;
  nofile_hard: every configured hard nofile: pam_limits files (limits.conf, limits.d/*.conf),
    systemd's DefaultLimitNOFILE and every loaded service unit's LimitNOFILE;
  sysctl_boot: {key: [value, file]} that systemd-sysctl applies at the next boot (sysctl.d(5) order);
  failed_units.
"""
import glob
import json
import os
import re
import subprocess
import sys

INFINITY_UNIT = "tcptune-infinity.service"
LATE_UNIT = "tcptune-late-conntrack.service"
# sysctl.d(5): the first directory holding a file name wins; files apply in name order, later wins.
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
LIMIT_ERROR = re.compile(r"could not set limit", re.IGNORECASE)


def run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True,
                          check=False).stdout


def read(path, default=None):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return default


def show(units, properties):
    """systemctl show for several units: [{property: value}] in the order systemctl prints them."""
    argv = ["systemctl", "show"] + ["-p%s" % name for name in properties] + list(units)
    blocks, current = [], {}
    for line in run(argv).splitlines() + [""]:
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
        elif "=" in line:
            key, value = line.split("=", 1)
            current[key] = value
    return blocks


def nics():
    out = {}
    for name in sorted(os.listdir("/sys/class/net")):
        out[name] = {"address": (read("/sys/class/net/%s/address" % name) or "").strip(),
                     "txqueuelen": int(read("/sys/class/net/%s/tx_queue_len" % name) or -1)}
    return out


def journal_limit_lines():
    lines = run(["journalctl", "-b", "--no-pager", "-o", "short-monotonic"]).splitlines()
    return [line for line in lines if LIMIT_ERROR.search(line)]


def process_nofile(pid):
    """(soft, hard) of /proc/PID/limits' Max open files, ints or "unlimited"."""
    for line in (read("/proc/%s/limits" % pid) or "").splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return [int(soft) if soft.isdigit() else soft, int(hard) if hard.isdigit() else hard]
    return None


def infinity_unit():
    props = show([INFINITY_UNIT], ("LimitNOFILE", "LimitNOFILESoft", "MainPID", "ActiveState", "DropInPaths"))
    unit = props[0] if props else {}
    pid = unit.get("MainPID", "0")
    unit["proc_nofile"] = process_nofile(pid) if pid not in ("", "0") else None
    return unit


def conntrack():
    timestamps = show(["systemd-sysctl.service", LATE_UNIT], ("Id", "ActiveEnterTimestampMonotonic", "ActiveState"))
    named = [path for path in sorted(glob.glob("/etc/modules-load.d/*.conf") + glob.glob("/usr/lib/modules-load.d/*.conf")
                                     + glob.glob("/run/modules-load.d/*.conf") + ["/etc/modules"])
             if re.search(r"^\s*nf_conntrack\b", read(path, ""), re.MULTILINE)]
    maximum = read("/proc/sys/net/netfilter/nf_conntrack_max")
    return {"loaded": os.path.isdir("/sys/module/nf_conntrack"),
            "max": int(maximum) if maximum is not None else None,
            "units": dict((unit.get("Id", "?"), unit) for unit in timestamps),
            "modules_load": named}


def pam_hard_limits():
    """[[file, domain, value]] of every hard (or '-') nofile line pam_limits reads."""
    files = ["/etc/security/limits.conf"] + sorted(glob.glob("/etc/security/limits.d/*.conf"))
    out = []
    for path in files:
        for line in (read(path) or "").splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) == 4 and words[2] == "nofile" and words[1] in ("hard", "-"):
                out.append([path, words[0], words[3]])
    return out


def unit_hard_limits():
    """[[unit, LimitNOFILE]] of systemd's default and every loaded service unit."""
    out = [["DefaultLimitNOFILE", show([], ("DefaultLimitNOFILE",))[0].get("DefaultLimitNOFILE", "")]]
    units = [line.split()[0] for line in run(["systemctl", "list-units", "--type=service", "--all", "--plain",
                                              "--no-legend", "--no-pager"]).splitlines() if line.split()]
    units = [unit for unit in units if unit.endswith(".service")]
    if units:
        out += [[unit.get("Id", "?"), unit.get("LimitNOFILE", "")] for unit in show(units, ("Id", "LimitNOFILE"))]
    return out


def sysctl_boot():
    """{key: [value, file]}: what systemd-sysctl applies at the next boot, per sysctl.d(5)."""
    chosen, seen = {}, set()
    for directory in SYSCTL_DIRS:
        real = os.path.realpath(directory)
        if real in seen or not os.path.isdir(directory):
            continue
        seen.add(real)
        for path in glob.glob(os.path.join(directory, "*.conf")):
            chosen.setdefault(os.path.basename(path), path)
    values = {}
    for name in sorted(chosen):
        for line in (read(chosen[name]) or "").splitlines():
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, value = line.split("=", 1)
            key = key.strip().lstrip("-").replace("/", ".")
            values[key] = [" ".join(value.split()), chosen[name]]
    return values


def failed_units():
    return [line.split()[0] for line in run(["systemctl", "--failed", "--no-legend", "--plain",
                                             "--no-pager"]).splitlines() if line.split()]


json.dump({"boot_id": (read("/proc/sys/kernel/random/boot_id") or "").strip(), "nics": nics(),
           "journal_limit_lines": journal_limit_lines(), "infinity": infinity_unit(), "conntrack": conntrack(),
           "nofile_hard": {"pam": pam_hard_limits(), "systemd": unit_hard_limits()},
           "nr_open": int(read("/proc/sys/fs/nr_open")), "sysctl_boot": sysctl_boot(),
           "failed_units": failed_units()}, sys.stdout, sort_keys=True)
sys.stdout.write("\n")
