# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the vm_admin scenario recorded per guest and step (MOLECULE_EPHEMERAL_DIRECTORY), read with
molecule/vm/tests/vmdata.py (the one home of the readers both scenarios share).

Per step STEP the playbooks leave STEP-HOST.json (molecule/vm's snapshot: sysctl, txqueuelen, files,
logins), STEP-admin-HOST.json (files/admin_snapshot.py) and, for the steps that run the role,
STEP-result-HOST.json (the role's result, or {"failed": true, "msg": ...}; for s4, rc and output)."""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def _import_vmdata():
    path = os.path.join(HERE, "..", "..", "vm", "tests", "vmdata.py")
    spec = importlib.util.spec_from_file_location("vmdata_for_vm_admin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vmdata = _import_vmdata()

PREPARED = "s0-prepared"
STEPS = ("s1-tune", "s2-rerun", "s3-reboot", "s4-revert-sysctl", "s5-revert", "s6-reboot")
REBOOTS = ("s3-reboot", "s6-reboot")
# Steps 1 to 4 keep step 1's txqueuelen; the full revert (5) brings the prepared one back.
TUNED = ("s1-tune", "s2-rerun", "s3-reboot", "s4-revert-sysctl")
USERS = ("tcptune", "root")
ADMIN_NOFILE = 1048576  # limits.conf in prepare.yml, for '*' and root
TXQUEUELEN = 2500  # step 1's tcp_tuning_txqueuelen on eth0 and wan0
WAN = "wan0"  # the admin's name for the second NIC (70-tcptune-wan.link)


def base(step, host):
    return vmdata.load(step, host)


def admin(step, host):
    return vmdata.load(step + "-admin", host)


def result(step, host):
    return vmdata.load(step + "-result", host)


def login(step, host, user):
    """(rc, [soft, hard]) of a fresh ssh session, or (rc, output) when it failed."""
    rc, out = base(step, host)["logins"][user]
    words = out.split()
    if rc == 0 and len(words) == 2 and all(word.isdigit() for word in words):
        return rc, [int(word) for word in words]
    return rc, out


def number(value):
    """An int for a finite limit ("1048576"), None for infinity/unlimited/-1."""
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def hard_nofile_sources(snapshot):
    """[(where, value)] of every finite hard nofile the host configures: pam_limits files, systemd's
    DefaultLimitNOFILE and each loaded service unit's LimitNOFILE."""
    out = [("%s (%s)" % (path, domain), number(value)) for path, domain, value in snapshot["nofile_hard"]["pam"]]
    out += [(unit, number(value)) for unit, value in snapshot["nofile_hard"]["systemd"]]
    return [(where, value) for where, value in out if value is not None]


def boot_nr_open(snapshot, prepared):
    """fs.nr_open after the next boot: the last sysctl.d assignment, else the prepared host's boot value
    (the kernel's 1048576, or what Debian 13's systemd raises it to)."""
    assigned = snapshot["sysctl_boot"].get("fs.nr_open")
    return (int(assigned[0]), assigned[1]) if assigned else (prepared["nr_open"], "no sysctl.d file")


def nic_by_mac(snapshot, mac):
    names = [name for name, nic in snapshot["nics"].items() if nic["address"] == mac]
    return names[0] if names else None


def wan_mac(host):
    return admin(PREPARED, host)["nics"][WAN]["address"]


def tcp_mem_close(before, after):
    """tcp_mem at boot follows the free pages at that moment: equal within 1 % across boots."""
    return all(abs(int(a) - int(b)) <= int(b) // 100 for a, b in zip(after.split(), before.split()))


def catalogue_values(snapshot, kernel):
    cat = vmdata.catalogue()
    version = vmdata.kernel_version(kernel)
    return dict((k, v) for k, v in snapshot["sysctl"].items()
                if k in cat.CATALOGUE and cat.exists_on(cat.CATALOGUE[k], version))
