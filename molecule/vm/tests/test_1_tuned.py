# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""On each kernel (Debian 11, 12, 13 guests): check mode, audit and a failing apply changed nothing;
the apply set global keys; the re-run changed nothing; after a reboot every key, login limit, service
limit and txqueuelen is as planned; tcp_facts agrees with ss; seed 000's load leaves the counters flat.
Snapshots come from prepare.yml, converge.yml and side_effect.yml (vmdata.py reads them)."""
import collections

from vmdata import (GLOBAL_KEYS, SYSCTL_FILE, applied_settings, explain_of, load, our_files, parse_sysctl_file,
                    planned_limits, text, words)

TXQUEUELEN = 2500  # tcp_tuning_txqueuelen in molecule.yml
NR_OPEN_BOOT = 1048576
SS_STATES = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1",
             "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT", "UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT",
             "LAST-ACK": "LAST_ACK", "LISTEN": "LISTEN", "CLOSING": "CLOSING"}


def _login(snapshot, user):
    rc, out = snapshot["logins"][user]
    return rc, [int(v) for v in out.split()] if rc == 0 else out


def _same_state(before, after, what, allow_new=()):
    keys = set(before["sysctl"]) | set(after["sysctl"])
    changed = dict((k, (before["sysctl"].get(k), after["sysctl"].get(k)))
                   for k in keys if before["sysctl"].get(k) != after["sysctl"].get(k))
    assert not changed, "%s changed /proc/sys: %s" % (what, changed)
    assert after["txqueuelen"] == before["txqueuelen"], what
    paths = set(before["files"]) | set(after["files"])
    files = dict((p, (before["files"].get(p), after["files"].get(p)))
                 for p in paths
                 if before["files"].get(p) != after["files"].get(p) and not (p in allow_new and p not in before["files"]))
    assert not files, "%s changed files: %s" % (what, files)


def test_snapshot_covers_every_catalogue_key_of_this_kernel(host):
    from vmdata import catalogue, kernel_version
    cat = catalogue()
    kernel = load("apply-result", host)["kernel"]
    original = load("original", host)["sysctl"]
    version = kernel_version(kernel)
    missing = [k for k in cat.CATALOGUE if cat.exists_on(cat.CATALOGUE[k], version) and k not in original]
    assert not missing, missing
    assert "net.netfilter.nf_conntrack_max" in original  # loaded in prepare


def test_kernel_defaults_we_compare_against_match_this_kernel(host):
    original = load("original", host)["sysctl"]
    result = load("apply-result", host)
    for key in ("net.ipv4.tcp_rmem", "net.core.somaxconn", "net.ipv4.ip_local_port_range"):
        default = explain_of(result, key).get("kernel_default")
        if default is not None:
            assert words(default) == original[key], (key, default, original[key])
    assert original["net.ipv4.tcp_rmem"] == "4096 131072 6291456"
    assert original["net.ipv4.ip_local_port_range"] == "32768 60999"
    assert original["net.core.somaxconn"] == "4096"
    # tcp_init_mem(): limit = max(nr_free_buffer_pages() / 16, 128); {limit/4*3, limit, limit/4*3*2}
    low, pressure, high = (int(v) for v in original["net.ipv4.tcp_mem"].split())
    assert (low, high) == (pressure // 4 * 3, pressure // 4 * 3 * 2)
    default = explain_of(result, "net.ipv4.tcp_mem").get("kernel_default")
    assert default is not None, "the plan records no kernel_default for tcp_mem"
    planned_pressure = int(words(default).split()[1])
    # The plan starts from MemTotal, the kernel from the free buffer pages at boot: a few % apart.
    assert 0.85 <= planned_pressure / float(pressure) <= 1.15, (default, original["net.ipv4.tcp_mem"])


def test_check_mode_planned_changes_and_changed_nothing(host):
    result = load("check-result", host)
    assert result["mode"] == "check"
    assert result["applied"]["changed_keys"], "check mode planned nothing: the comparison would be vacuous"
    _same_state(load("original", host), load("after-check", host), "check mode")


def test_audit_planned_changes_and_changed_nothing(host):
    result = load("audit-result", host)
    assert result["mode"] == "audit"
    assert result["applied"]["changed_keys"]
    _same_state(load("original", host), load("after-check", host), "audit")
    _same_state(load("original", host), load("after-audit", host), "audit")


def test_failed_apply_rolled_back_everything_it_had_written(host):
    """prepare.yml: /etc/security/limits.d read-only, so the nofile step fails after the sysctl step wrote the
    global keys live and to sysctl.d; the run must put back every live value and every file."""
    failed = load("failed-result", host)
    assert failed.get("failed"), "an apply with a read-only /etc/security/limits.d did not fail"
    message = str(failed.get("msg"))
    assert "/etc/security/limits.d" in message and "rolled back" in message, message
    assert "rollback FAILED" not in message and not failed.get("rollback_failed"), failed
    assert "sysctl" in (failed.get("completed") or []), "the sysctl step had not run before the failure: %s" % failed
    original, after = load("original", host), load("after-failed", host)
    for key in GLOBAL_KEYS:
        assert after["sysctl"][key] == original["sysctl"][key], key
    # The state directory's (empty) lock file may stay: it holds no value.
    _same_state(original, after, "the failed apply", allow_new=("/var/lib/tcptune/lock",))


def test_plan_needs_every_global_key_and_applied_them(host):
    result = load("apply-result", host)
    applied = applied_settings(result)
    for key in ("net.core.netdev_max_backlog", "net.ipv4.tcp_mem", "net.netfilter.nf_conntrack_max",
                "fs.epoll.max_user_watches"):
        assert key in applied, "%s not applied (skipped: %s)" % (key, result["skipped"].get(key))
    hard = max(planned_limits(result)[1], planned_limits(result)[3])
    assert hard > NR_OPEN_BOOT
    if int(load("original", host)["sysctl"]["fs.nr_open"]) < hard:  # Debian 13's systemd raises it already
        assert int(applied["fs.nr_open"]) >= hard
    assert not result["mismatches"]


def test_apply_left_every_key_live_as_planned_and_persisted(host):
    applied = applied_settings(load("apply-result", host))
    live = load("apply", host)["sysctl"]
    for key, value in applied.items():
        assert live[key] == value, (key, live[key], value)
    persisted = parse_sysctl_file(host.file(SYSCTL_FILE).content_string)
    assert persisted == applied


def test_rerun_changed_nothing_and_rewrote_no_file(host):
    rerun = load("rerun-result", host)
    assert not rerun["applied"]["changed"], rerun["applied"]["changed_keys"]
    assert applied_settings(rerun) == applied_settings(load("apply-result", host))
    apply, again = load("apply", host), load("rerun", host)
    assert again["files"] == apply["files"]
    assert again["sysctl"] == apply["sysctl"]


def test_every_key_live_as_planned_after_reboot(host):
    applied = applied_settings(load("apply-result", host))
    live = load("reboot", host)["sysctl"]
    wrong = dict((k, (live.get(k), v)) for k, v in applied.items() if live.get(k) != v)
    assert not wrong, "live after reboot != planned: %s" % wrong
    for key, value in applied.items():  # and right now, read by testinfra
        assert words(host.file("/proc/sys/" + key.replace(".", "/")).content_string) == value, key


def test_nr_open_after_reboot_covers_every_hard_limit(host):
    result = load("apply-result", host)
    nr_open = int(load("reboot", host)["sysctl"]["fs.nr_open"])
    assert nr_open >= max(planned_limits(result)[1], planned_limits(result)[3])
    assert nr_open > NR_OPEN_BOOT


def test_ssh_logins_work_and_get_the_planned_limits_after_reboot(host):
    login_soft, login_hard = planned_limits(load("apply-result", host))[:2]
    for user in ("tcptune", "root"):
        assert _login(load("reboot", host), user) == (0, [login_soft, login_hard]), user


def test_lockout_guard_logins_work_after_apply_and_rerun(host):
    for snapshot in ("apply", "rerun", "reboot"):
        for user in ("tcptune", "root"):
            rc, out = _login(load(snapshot, host), user)
            assert rc == 0, "%s login failed after %s: %s" % (user, snapshot, out)


def test_service_limit_and_default_limit_after_reboot(host):
    result = load("apply-result", host)
    service_soft, service_hard = planned_limits(result)[2:]
    systemd, original = load("reboot", host)["systemd"], load("original", host)["systemd"]
    assert systemd["ActiveState"] == "active"
    assert (int(systemd["LimitNOFILESoft"]), int(systemd["LimitNOFILE"])) == (service_soft, service_hard)
    # DefaultLimitNOFILE: the hard part rises to the plan's, the soft part stays (select() in units).
    assert systemd["DefaultLimitNOFILESoft"] == original["DefaultLimitNOFILESoft"]
    assert int(systemd["DefaultLimitNOFILE"]) == max(int(original["DefaultLimitNOFILE"]), service_hard)
    live = host.run("systemctl show -p LimitNOFILE tcptune-web.service").stdout.strip()
    assert live == "LimitNOFILE=%d" % service_hard


def test_txqueuelen_on_both_nics_after_reboot(host):
    queues = load("reboot", host)["txqueuelen"]
    assert (queues["eth0"], queues["eth1"]) == (TXQUEUELEN, TXQUEUELEN)
    assert int(host.file("/sys/class/net/eth1/tx_queue_len").content_string) == TXQUEUELEN


def test_boot_logged_no_limit_error_and_no_unit_failed(host):
    limits_lines, failed_units = text("boot-health", host).split("--- failed units")
    assert not limits_lines.strip(), limits_lines
    assert not failed_units.strip(), failed_units


def test_tcp_facts_socket_counts_match_ss_with_close_wait(host):
    recorded = load("sockets", host)
    facts_states = dict((k, v) for k, v in recorded["facts"]["states"].items() if v)
    ss_states = collections.Counter(SS_STATES.get(line.split()[0], line.split()[0]) for line in recorded["ss"])
    assert ss_states["CLOSE_WAIT"] >= 40
    # ESTABLISHED: the ansible and ssh connections come and go between the two reads.
    established = (facts_states.pop("ESTABLISHED", 0), ss_states.pop("ESTABLISHED", 0))
    assert facts_states == dict(ss_states), "tcp_facts %s, ss %s" % (facts_states, dict(ss_states))
    assert abs(established[0] - established[1]) <= 3, "ESTABLISHED: tcp_facts %d, ss %d" % established


def test_seed000_load_leaves_the_memory_counters_flat_after_tuning(host):
    run = load("load", host)
    assert run["connected"] == run["connections"] == 1000, run
    assert run["clients_fully_written"] > 0, run
    assert run["delta"]["TCPAbortOnMemory"] == 0, run["delta"]
    assert run["delta"]["TCPMemoryPressures"] == 0, run["delta"]
    assert run["dmesg_oom_lines"] in (0, None), run["dmesg_tcp_lines"]
    assert our_files(load("reboot", host)["files"])
