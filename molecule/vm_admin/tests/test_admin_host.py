# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue #17, whole hosts: on Debian 11, 12 and 13 guests an admin already configured (limits.conf nofile
1048576 for everyone and root, a LimitNOFILE=infinity unit, the second NIC renamed wan0 by a .link,
nf_conntrack loaded after systemd-sysctl by a unit), tcptune.linux must do no harm at any step:
  s1 tune (1.1 M connections), s2 fs.nr_open raised by hand + balanced re-run, s3 reboot,
  s4 --tags sysctl revert (refuses where it would lower fs.nr_open under a hard limit), s5 full revert,
  s6 reboot.
At every step: ssh logins work with limits never below the prepared ones, the journal has no "Could not
set limit", the unit keeps infinity, wan0 keeps its name and its txqueuelen, nf_conntrack_max is as
planned once the module is loaded, fs.nr_open (live and at the next boot) covers every hard nofile."""
import pytest

from admindata import (ADMIN_NOFILE, PREPARED, REBOOTS, STEPS, TUNED, TXQUEUELEN, USERS, WAN, admin, base,
                       boot_nr_open, catalogue_values, hard_nofile_sources, login, nic_by_mac, result,
                       tcp_mem_close, vmdata, wan_mac)

CONNTRACK_MAX = "net.netfilter.nf_conntrack_max"


def _refused(host):
    return result("s4-revert-sysctl", host)["rc"] != 0


def _gist(output):
    """The lines of an ansible-playbook run that say what failed, else its end."""
    lines = [line for line in output.splitlines() if "fatal:" in line or "FAILED!" in line or "ERROR" in line]
    return "\n".join(lines)[-3000:] or output[-1500:]


# -- the prepared host: what the steps are measured against ---------------------------------------------

def test_prepared_host_is_the_admins_host(host):
    snap, prepared = base(PREPARED, host), admin(PREPARED, host)
    for user in USERS:
        assert login(PREPARED, host, user) == (0, [ADMIN_NOFILE, ADMIN_NOFILE]), user
    assert WAN in prepared["nics"] and "eth1" not in prepared["nics"], sorted(prepared["nics"])
    unit = prepared["infinity"]
    assert (unit["LimitNOFILE"], unit["LimitNOFILESoft"], unit["ActiveState"]) == ("infinity", "infinity", "active")
    assert unit["proc_nofile"] == [prepared["nr_open"], prepared["nr_open"]]
    assert not prepared["journal_limit_lines"], prepared["journal_limit_lines"]
    assert not prepared["failed_units"], prepared["failed_units"]
    assert not vmdata.our_files(snap["files"]), vmdata.our_files(snap["files"])
    assert "fs.nr_open" not in prepared["sysctl_boot"]  # so the prepared nr_open is the release's boot value


def test_prepared_host_loads_nf_conntrack_after_systemd_sysctl(host):
    conntrack = admin(PREPARED, host)["conntrack"]
    assert conntrack["loaded"] and conntrack["max"], conntrack
    assert not conntrack["modules_load"], conntrack["modules_load"]
    units = conntrack["units"]
    late, sysctl = units["tcptune-late-conntrack.service"], units["systemd-sysctl.service"]
    assert late["ActiveState"] == "active", late
    assert int(late["ActiveEnterTimestampMonotonic"]) > int(sysctl["ActiveEnterTimestampMonotonic"]), units


# -- what each step did ---------------------------------------------------------------------------------

def test_s1_tune_applied_a_plan_that_needs_fs_nr_open_above_1048576(host):
    tuned = result("s1-tune", host)
    assert not tuned["failed"], tuned.get("msg")
    hard = max(vmdata.planned_limits(tuned)[1], vmdata.planned_limits(tuned)[3])
    assert hard > 1048576, vmdata.planned_limits(tuned)
    assert CONNTRACK_MAX in vmdata.applied_settings(tuned), tuned["skipped"].get(CONNTRACK_MAX)


def test_s1_persist_link_refuses_to_shadow_the_admins_link(host):
    """systemd >= 248 only (converge.yml, vma_link_probe): a .link file of ours for wan0 would come before
    70-tcptune-wan.link and replace it at boot (first match wins), so wan0 would be renamed back."""
    try:
        probe = result("s1-link-probe", host)
    except (IOError, OSError):
        pytest.skip("no persist=link probe on this host (systemd < 248)")
    assert probe["failed"], "persist=link in check mode did not refuse; it would write %s" % (
        (probe.get("txqueuelen") or {}).get("persisted_paths"))
    assert "70-tcptune-wan.link" in probe["msg"], probe["msg"]


def test_s2_balanced_rerun_succeeded(host):
    rerun = result("s2-rerun", host)
    assert not rerun["failed"], rerun.get("msg")


def test_s4_tags_sysctl_revert_refuses_where_it_would_lower_fs_nr_open_under_a_hard_limit(host):
    """Without our sysctl.d file the boot gives the prepared fs.nr_open (the kernel's 1048576 on Debian 11
    and 12; 1073741816 on Debian 13, whose systemd PID 1 raises it). Where a configured hard nofile is above
    that, the revert must refuse and name the file; where none is, it must go ahead."""
    run = result("s4-revert-sysctl", host)
    output = run["stdout"] + run["stderr"]
    restored = admin(PREPARED, host)["nr_open"]
    blockers = [(where, value) for where, value in hard_nofile_sources(admin("s3-reboot", host)) if value > restored]
    if not blockers:
        assert run["rc"] == 0, "revert --tags sysctl refused although no configured hard nofile is above the " \
                               "fs.nr_open %d this host boots with (with no sysctl.d file):\n%s" % (restored, _gist(output))
        return
    assert run["rc"] != 0, "revert --tags sysctl did not refuse although %s are above the fs.nr_open %d it " \
                           "restores:\n%s" % (blockers, restored, _gist(output))
    named = [where for where, _value in blockers if where.split(" (")[0] in output]
    assert named, "the refusal names none of %s:\n%s" % (blockers, _gist(output))


def test_s4_refused_revert_changed_nothing(host):
    if not _refused(host):
        pytest.skip("the --tags sysctl revert did not refuse on this host")
    before, after = base("s3-reboot", host), base("s4-revert-sysctl", host)
    changed = dict((k, (v, after["sysctl"].get(k))) for k, v in before["sysctl"].items() if after["sysctl"].get(k) != v)
    assert not changed, changed
    assert after["txqueuelen"] == before["txqueuelen"]
    files = sorted(p for p in set(before["files"]) | set(after["files"])
                   if before["files"].get(p) != after["files"].get(p))
    assert not files, files


def test_s5_full_revert_succeeded(host):
    revert = result("s5-revert", host)
    assert not revert["failed"], revert.get("msg")


@pytest.mark.parametrize("step", ("s5-revert", "s6-reboot"))
def test_full_revert_brought_back_the_prepared_values(host, step):
    kernel = host.run("uname -r").stdout.strip()
    prepared = catalogue_values(base(PREPARED, host), kernel)
    now = catalogue_values(base(step, host), kernel)
    assert tcp_mem_close(prepared.pop("net.ipv4.tcp_mem"), now.pop("net.ipv4.tcp_mem"))
    wrong = dict((k, (prepared.get(k), now.get(k))) for k in set(prepared) | set(now) if prepared.get(k) != now.get(k))
    assert not wrong, "key: (prepared, now): %s" % wrong


@pytest.mark.parametrize("step", ("s5-revert", "s6-reboot"))
def test_full_revert_left_the_admins_files_as_they_were(host, step):
    prepared, now = base(PREPARED, host)["files"], base(step, host)["files"]
    assert not vmdata.our_files(now), vmdata.our_files(now)
    changed = sorted(p for p in set(prepared) | set(now) if prepared.get(p) != now.get(p))
    assert not changed, changed


def test_after_full_revert_and_reboot_logins_and_systemd_are_as_prepared(host):
    assert base("s6-reboot", host)["logins"] == base(PREPARED, host)["logins"]
    assert base("s6-reboot", host)["systemd"] == base(PREPARED, host)["systemd"]


# -- at every step ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("step", STEPS)
def test_ssh_logins_work_with_limits_never_below_the_prepared_ones(host, step):
    for user in USERS:
        prepared = login(PREPARED, host, user)[1]
        rc, limits = login(step, host, user)
        assert rc == 0, "%s cannot log in after %s: %s" % (user, step, limits)
        assert limits[0] >= prepared[0] and limits[1] >= prepared[1], \
            "%s's session after %s: soft/hard %s, prepared %s" % (user, step, limits, prepared)


@pytest.mark.parametrize("step", STEPS)
def test_journal_has_no_could_not_set_limit(host, step):
    lines = admin(step, host)["journal_limit_lines"]
    assert not lines, "\n".join(lines)


@pytest.mark.parametrize("step", STEPS)
def test_infinity_unit_keeps_infinity(host, step):
    prepared, unit = admin(PREPARED, host)["infinity"], admin(step, host)["infinity"]
    assert unit["ActiveState"] == "active", unit
    assert (unit["LimitNOFILESoft"], unit["LimitNOFILE"]) == ("infinity", "infinity"), \
        "LimitNOFILE=%s:%s (drop-ins %s)" % (unit["LimitNOFILESoft"], unit["LimitNOFILE"], unit["DropInPaths"])
    assert unit["proc_nofile"][0] >= prepared["proc_nofile"][0] and unit["proc_nofile"][1] >= prepared["proc_nofile"][1], \
        "Max open files %s, prepared %s" % (unit["proc_nofile"], prepared["proc_nofile"])


@pytest.mark.parametrize("step", STEPS)
def test_second_nic_keeps_the_admins_name(host, step):
    nics = admin(step, host)["nics"]
    assert nic_by_mac(admin(step, host), wan_mac(host)) == WAN, "the NIC with MAC %s is %s; NICs: %s" % (
        wan_mac(host), nic_by_mac(admin(step, host), wan_mac(host)), sorted(nics))


@pytest.mark.parametrize("step", STEPS)
def test_txqueuelen_is_what_the_run_asked_for(host, step):
    prepared, now = admin(PREPARED, host), admin(step, host)
    mac_eth0 = prepared["nics"]["eth0"]["address"]
    for mac in (mac_eth0, wan_mac(host)):
        name = nic_by_mac(now, mac)
        expected = TXQUEUELEN if step in TUNED else prepared["nics"][nic_by_mac(prepared, mac)]["txqueuelen"]
        assert now["nics"][name]["txqueuelen"] == expected, "%s (%s): %d, expected %d" % (
            name, mac, now["nics"][name]["txqueuelen"], expected)


def _expected_conntrack_max(host, step):
    """s1: step 1's plan. s2: step 2's plan, or what step 1 left (never lowered). s3: what s2 had live (the
    reboot restores it once the module loads). s4: s3's, unless the revert ran. s5, s6: the prepared value."""
    prepared = admin(PREPARED, host)["conntrack"]["max"]
    if step == "s1-tune":
        planned = vmdata.applied_settings(result("s1-tune", host)).get(CONNTRACK_MAX)
        return int(planned) if planned else None
    if step == "s2-rerun":
        planned = vmdata.applied_settings(result("s2-rerun", host)).get(CONNTRACK_MAX)
        return int(planned) if planned else admin("s1-tune", host)["conntrack"]["max"]
    if step == "s3-reboot":
        return admin("s2-rerun", host)["conntrack"]["max"]
    if step == "s4-revert-sysctl":
        return admin("s3-reboot", host)["conntrack"]["max"] if _refused(host) else prepared
    return prepared


@pytest.mark.parametrize("step", STEPS)
def test_nf_conntrack_max_is_as_planned_once_the_module_loads(host, step):
    conntrack = admin(step, host)["conntrack"]
    assert conntrack["loaded"], conntrack
    assert conntrack["units"]["tcptune-late-conntrack.service"]["ActiveState"] == "active", conntrack
    expected = _expected_conntrack_max(host, step)
    boot = admin(step, host)["sysctl_boot"].get(CONNTRACK_MAX)
    assert conntrack["max"] == expected, "nf_conntrack_max %s, expected %s (sysctl.d at boot: %s)" % (
        conntrack["max"], expected, boot)


@pytest.mark.parametrize("step", (PREPARED,) + STEPS)
def test_fs_nr_open_live_and_at_next_boot_covers_every_hard_nofile(host, step):
    snapshot = admin(step, host)
    sources = hard_nofile_sources(snapshot)
    boot, boot_file = boot_nr_open(snapshot, admin(PREPARED, host))
    above_live = [(where, value) for where, value in sources if value > snapshot["nr_open"]]
    above_boot = [(where, value) for where, value in sources if value > boot]
    assert not above_live, "fs.nr_open %d live, below %s" % (snapshot["nr_open"], above_live)
    assert not above_boot, "fs.nr_open %d at the next boot (%s), below %s" % (boot, boot_file, above_boot)


@pytest.mark.parametrize("step", REBOOTS)
def test_after_reboot_every_sysctl_d_value_is_live(host, step):
    """Live equals boot: every key a sysctl.d file sets, nf_conntrack_* included (loaded after the files ran)."""
    live, boot = base(step, host)["sysctl"], admin(step, host)["sysctl_boot"]
    wrong = dict((key, {"file": path, "boot": value, "live": live[key]})
                 for key, (value, path) in boot.items() if key in live and live[key] != value)
    assert not wrong, wrong


def test_reboot_brought_back_what_the_tuned_host_had(host):
    """s3 against s2: every key step 1 or 2 applied is live again after the reboot (fs.nr_open aside: it
    was raised by hand, see the nr_open test), and no login or unit limit went down."""
    keys = set(vmdata.applied_settings(result("s1-tune", host)))
    if not result("s2-rerun", host)["failed"]:
        keys |= set(vmdata.applied_settings(result("s2-rerun", host)))
    keys.discard("fs.nr_open")
    before, after = base("s2-rerun", host)["sysctl"], base("s3-reboot", host)["sysctl"]
    wrong = dict((k, (before.get(k), after.get(k))) for k in sorted(keys) if before.get(k) != after.get(k))
    assert not wrong, "key: (before the reboot, after): %s" % wrong
    for user in USERS:
        assert login("s3-reboot", host, user) == login("s2-rerun", host, user), user


@pytest.mark.parametrize("step", (PREPARED,) + REBOOTS)
def test_boot_left_no_failed_unit(host, step):
    assert not admin(step, host)["failed_units"], admin(step, host)["failed_units"]
