"""A real fleet run for the report: Podman containers plus an unreachable, a failed, an infeasible and a
drifted host, through playbooks/tune-tcp.yml. Used by test_report_real_run.py; also a CLI:

    python tests/integration/report_fleet.py --healthy 30 --out tests/output/report-30

Containers are privileged, from localhost/tcptune-debian:12, and removed at the end. Only per-netns
keys are written by hand (net.core.somaxconn inside the drifted container); the role skips global keys
in a container.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from bench.lib.playbook import collections_path  # noqa: E402  pylint: disable=wrong-import-position
from bench.lib.podman import Container  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = os.path.join(REPO, "playbooks", "tune-tcp.yml")
PREFIX = "tcptune-rpt-"
WORKLOAD = {"tcp_tuning_profile": "proxy", "tcp_tuning_target_connections": 20000,
            "tcp_tuning_txqueuelen": "off"}
# tcp_sysctl refuses a tcp_mem that decreases, naming the key; nothing is changed on that host.
BAD_OVERRIDE = {"net.ipv4.tcp_mem": "300000 200000 100000"}
DRIFT_KEY, DRIFT_VALUE = "net.core.somaxconn", "1000"


def inventory(healthy, unreachable_first=False):
    """JSON inventory: healthy containers, one drifted, one refused override, one infeasible, one unreachable."""
    hosts = {}
    podman = {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}
    for index in range(healthy):
        hosts["%sok%02d" % (PREFIX, index)] = dict(podman)
    hosts[PREFIX + "drift"] = dict(podman)
    hosts[PREFIX + "failed"] = dict(podman, tcp_tuning_sysctl_overrides=BAD_OVERRIDE)
    hosts[PREFIX + "infeasible"] = dict(podman, tcp_tuning_target_connections=50000000)
    unreachable = {PREFIX + "unreachable": {
        "ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_user": "nobody",
        "ansible_ssh_common_args": "-o ConnectTimeout=5 -o StrictHostKeyChecking=no"}}
    ordered = dict(unreachable, **hosts) if unreachable_first else dict(hosts, **unreachable)
    # Group vars, not extra vars: extra vars would win over the per-host target of the infeasible host.
    return {"all": {"children": {"fleet": {"hosts": ordered, "vars": WORKLOAD}}}}


def containers_of(inv):
    hosts = inv["all"]["children"]["fleet"]["hosts"]
    return [name for name, hv in hosts.items() if hv["ansible_connection"] != "ssh"]


def run_playbook(inv, workdir, report_dir, extra, limit=None, forks=10, timeout=1200, args=(), env_extra=None,
                 whole_stdout=False):
    """(returncode, stdout tail (or the whole stdout), seconds)."""
    inv_path = os.path.join(workdir, "inventory.json")
    with open(inv_path, "w") as handle:
        json.dump(inv, handle)
    vars_path = os.path.join(workdir, "vars.json")
    with open(vars_path, "w") as handle:
        json.dump(dict(tcp_tuning_report_dir=report_dir, **extra), handle)
    argv = [os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "-i", inv_path, "-f", str(forks),
            "-e", "@" + vars_path, PLAYBOOK]
    if limit:
        argv += ["-l", limit]
    argv += list(args)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_NOCOLOR="1",
               PATH=os.path.join(REPO, ".venv", "bin") + os.pathsep + os.environ.get("PATH", ""))
    env.update(env_extra or {})
    began = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=workdir, check=False)
    output = done.stdout if whole_stdout else done.stdout[-6000:] + done.stderr[-3000:]
    return done.returncode, output, time.monotonic() - began


def json_document(stdout):
    """The ansible.posix.json callback's document: the first JSON value of stdout (lines other callbacks
    display may follow it)."""
    return json.JSONDecoder().raw_decode(stdout[stdout.index("{"):])[0]


def remote_runs(json_stdout):
    """{host: [action, ...]} of the tasks that ran a module on the host, from the ansible.posix.json
    callback's output: every task that was not skipped, less the actions that run on the controller."""
    controller_actions = {"set_fact", "debug", "fail", "assert", "meta", "include_tasks", "import_role",
                          "validate_argument_spec"}
    runs = {}
    for play in json_document(json_stdout)["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                action = result.get("action", "").rsplit(".", 1)[-1]
                if not result.get("skipped") and action not in controller_actions:
                    runs.setdefault(host, []).append(result.get("action"))
    return runs


def load(report_dir):
    with open(os.path.join(report_dir, "report.json")) as handle:
        return json.load(handle)


def fleet_run(healthy, out, audit_serial="100%"):
    """Tune, drift one host by hand, audit everyone (in batches of ``audit_serial``); then a serial run
    stopped by max_fail_percentage.

    Returns {phase: {returncode, seconds, report}} with the reports of the three runs."""
    inv = inventory(healthy)
    names = containers_of(inv)
    started = [Container(name) for name in names]
    phases = {}
    try:
        for container in started:
            container.start()
        with tempfile.TemporaryDirectory(prefix="tcptune-rpt-") as workdir:
            tuned_dir = os.path.join(out, "tuned")
            healthy_names = [n for n in names if n.endswith("drift") or "-ok" in n]
            rc, log, seconds = run_playbook(inv, workdir, tuned_dir, {}, limit=",".join(healthy_names))
            phases["tune"] = {"returncode": rc, "seconds": round(seconds, 1), "log": log, "report": load(tuned_dir)}
            retune_dir = os.path.join(out, "retuned")
            rc, stdout, seconds = run_playbook(inv, workdir, retune_dir, {}, limit=",".join(healthy_names),
                                               env_extra={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"},
                                               whole_stdout=True)
            phases["retune"] = {"returncode": rc, "seconds": round(seconds, 1), "log": stdout[-6000:],
                                "report": load(retune_dir), "remote_runs": remote_runs(stdout),
                                "stats": json_document(stdout)["stats"]}
            drifted = Container(PREFIX + "drift")
            drifted.write_sysctl(DRIFT_KEY, DRIFT_VALUE)
            audit_dir = os.path.join(out, "audit")
            audit_vars = {"tcp_tuning_audit_only": True, "tcp_tuning_serial": audit_serial}
            rc, log, seconds = run_playbook(inv, workdir, audit_dir, audit_vars)
            phases["audit"] = {"returncode": rc, "seconds": round(seconds, 1), "log": log, "report": load(audit_dir)}
            stop_dir = os.path.join(out, "stopped")
            stop_inv = inventory(1, unreachable_first=True)
            keep = [PREFIX + "unreachable", PREFIX + "ok00", PREFIX + "drift"]
            rc, log, seconds = run_playbook(stop_inv, workdir, stop_dir, {
                "tcp_tuning_audit_only": True, "tcp_tuning_serial": 1, "tcp_tuning_max_fail_percentage": 0},
                limit=",".join(keep))
            phases["stopped"] = {"returncode": rc, "seconds": round(seconds, 1), "log": log,
                                 "report": load(stop_dir)}
    finally:
        for container in started:
            container.remove()
    return phases


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--healthy", type=int, default=2)
    parser.add_argument("--serial", default="100%", help="batch size of the audit run")
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "output", "report-fleet"))
    args = parser.parse_args()
    phases = fleet_run(args.healthy, args.out, args.serial)
    for phase, item in phases.items():
        report = item["report"]
        print("%s: rc=%d %.1fs %s" % (phase, item["returncode"], item["seconds"],
                                      dict((k, v) for k, v in report["summary"]["status"].items() if v)))
        for host in report["hosts"]:
            if "-ok" not in host["host"]:
                print("  %-28s %-12s %s" % (host["host"], host["status"], host["reason"][:160]))


if __name__ == "__main__":
    main()
