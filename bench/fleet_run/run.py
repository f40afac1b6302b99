"""Fleet run: playbooks/tune-tcp.yml on a fleet of Podman containers at once (#21), per fleet size: the
first run (it tunes), the idempotent re-run and an audit, with the controller's time and memory.

    python3 bench/fleet_run/run.py [--hosts 30,100] [--forks 25,10,50] [--strategies linear,free]
                                   [--timeout 1200] [--smoke]

For each fleet size K: K fresh privileged containers from localhost/tcptune-debian:12 (the test bed's
image; started before and removed after the timed runs), reached over containers.podman.podman, with
the `gateway` workload of bench/apply_cost (so the first run changes keys on every host). Timed, each a
whole ansible-playbook process including the report play:

1. first: tune-tcp.yml with the first --forks value (pipelining on, tune-tcp.yml's default);
2. idempotent: the same again; then again for every other --forks value, every other --strategies
   value (ANSIBLE_STRATEGY), and once with pipelining off (-e ansible_pipelining=false);
3. audit: tcp_tuning_audit_only=true.

Per run: seconds, seconds per host, the report's statuses (first: every host tuned; then every host
unchanged), the controller's peak memory (bench/lib/proctree.py: ansible-playbook and every process it
forks, sampled every 0.2 s; the largest process, the summed PSS, and ansible-playbook's own VmHWM), and
ansible.posix.profile_tasks' slowest tasks. Then how the time scales from the smallest size to the
largest: seconds per host and the ratio of the wall times.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from bench.apply_cost.run import WORKLOADS  # noqa: E402
from bench.lib.output import emit  # noqa: E402
from bench.lib.playbook import PLAYBOOK, collections_path, role_ready, venv  # noqa: E402
from bench.lib.podman import Container  # noqa: E402
from bench.lib.proctree import TreeSampler  # noqa: E402

PREFIX = "bench-fleet-"
COLUMNS = ("hosts", "phase", "forks", "strategy", "pipelining", "seconds", "s_per_host", "statuses",
           "largest_mb", "pss_peak_mb", "main_hwm_mb", "rc")
EXPECTED = {"first": "tuned", "idempotent": "unchanged", "audit": "unchanged"}


def inventory(names, path):
    """A JSON inventory: the containers over containers.podman.podman, the gateway workload as group vars."""
    podman = {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"}
    hosts = dict((name, podman) for name in names)
    document = {"all": {"children": {"fleet": {"hosts": hosts, "vars": WORKLOADS["gateway"]}}}}
    with open(path, "w") as handle:
        json.dump(document, handle)
    return path


def run(inv, workdir, phase, forks, strategy="linear", pipelining=True, timeout=1200):
    """One tune-tcp.yml run; returns the row and its details."""
    report_dir = os.path.join(workdir, "report-%s-%d-%s-%s" % (phase, forks, strategy, pipelining))
    argv = [os.path.join(venv(), "bin", "ansible-playbook"), "-i", inv, "-f", str(forks), PLAYBOOK,
            "-e", "tcp_tuning_report_dir=%s" % report_dir]
    if phase == "audit":
        argv += ["-e", "tcp_tuning_audit_only=true"]
    if not pipelining:
        argv += ["-e", json.dumps({"ansible_pipelining": False})]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_STRATEGY=strategy,
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
               PATH=os.path.join(venv(), "bin") + os.pathsep + os.environ.get("PATH", ""))
    began = time.monotonic()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=workdir)
    sampler = TreeSampler(process.pid)
    sampler.start()
    try:
        output, dummy = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, dummy = process.communicate()
    finally:
        sampler.stop()
    seconds = time.monotonic() - began
    statuses = {}
    path = os.path.join(report_dir, "report.json")
    if os.path.exists(path):
        with open(path) as handle:
            report = json.load(handle)
        statuses = dict((status, count) for status, count in report["summary"]["status"].items() if count)
    hosts = sum(statuses.values())
    peaks = sampler.peak_mib()
    row = {"hosts": hosts, "phase": phase, "forks": forks, "strategy": strategy, "pipelining": "on" if pipelining
           else "off", "seconds": round(seconds, 1), "s_per_host": round(seconds / max(hosts, 1), 3),
           "statuses": statuses, "largest_mb": peaks["largest"], "pss_peak_mb": peaks["pss_sum"],
           "main_hwm_mb": peaks["main_hwm"], "rc": process.returncode}
    lines = output.splitlines()
    recap = [line for line in lines if line.startswith("PLAY RECAP")]
    profile = lines[lines.index(recap[-1]):] if recap else lines[-60:]
    return row, {"row": row, "slowest_tasks": [line for line in profile if re.search(r" -+ [0-9.]+s$", line)][:12],
                 "tail": lines[-15:] if process.returncode else []}


def fleet(size, args, workdir, rows, details):
    """Adds to ``rows`` and ``details`` the runs on a fleet of ``size`` fresh containers, as they finish."""
    containers = [Container("%s%03d" % (PREFIX, index)) for index in range(size)]
    try:
        began = time.monotonic()
        for container in containers:
            container.start()
        print("%d containers started in %.0f s" % (size, time.monotonic() - began))
        inv = inventory([container.name for container in containers], os.path.join(workdir, "inv-%d.json" % size))
        plan = [("first", args.forks[0], args.strategies[0], True),
                ("idempotent", args.forks[0], args.strategies[0], True)]
        plan += [("idempotent", forks, args.strategies[0], True) for forks in args.forks[1:]]
        plan += [("idempotent", args.forks[0], strategy, True) for strategy in args.strategies[1:]]
        if not args.smoke:
            plan.append(("idempotent", args.forks[0], args.strategies[0], False))
        plan.append(("audit", args.forks[0], args.strategies[0], True))
        for phase, forks, strategy, pipelining in plan:
            row, detail = run(inv, workdir, phase, forks, strategy, pipelining, args.timeout)
            row["fleet"] = size
            rows.append(row)
            details.append(detail)
            print("%d hosts %s (forks %d, %s, pipelining %s): %.1f s, %s, largest process %s MB, rc %d" % (
                size, phase, forks, strategy, row["pipelining"], row["seconds"], row["statuses"],
                row["largest_mb"], row["rc"]))
            if row["rc"] != 0 or row["statuses"] != {EXPECTED[phase]: size}:
                raise RuntimeError("%d hosts, %s: rc %d, statuses %s, expected every host %s\n%s" % (
                    size, phase, row["rc"], row["statuses"], EXPECTED[phase], "\n".join(detail["tail"])))
    finally:
        for container in containers:
            container.remove()


def scaling(rows):
    """Per phase at the first forks value: seconds per host at each size and the wall-time ratio."""
    out = {}
    base = [row for row in rows if row["pipelining"] == "on" and row["strategy"] == rows[0]["strategy"]
            and row["forks"] == rows[0]["forks"]]
    sizes = sorted(set(row["fleet"] for row in base))
    for phase in ("first", "idempotent", "audit"):
        by_size = dict((row["fleet"], row) for row in base if row["phase"] == phase)
        if len(sizes) > 1 and all(size in by_size for size in sizes):
            small, large = by_size[sizes[0]], by_size[sizes[-1]]
            out[phase] = {"sizes": sizes, "s_per_host": [by_size[size]["s_per_host"] for size in sizes],
                          "time_ratio": round(large["seconds"] / small["seconds"], 2),
                          "host_ratio": round(sizes[-1] / float(sizes[0]), 2)}
    return out


def checkout():
    """The commit measured, and whether the working tree differed from it (others' work in progress)."""
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.split("\n")
    return {"head": head, "modified_files": sorted(line[3:] for line in dirty if line.strip())}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 bench/fleet_run/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="30,100", help="fleet sizes, each with fresh containers")
    parser.add_argument("--forks", default="25", help="forks; the first for every phase, the others idempotent only")
    parser.add_argument("--strategies", default="linear", help="strategies; the others idempotent only")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds one ansible-playbook run may take")
    parser.add_argument("--smoke", action="store_true", help="3 containers, forks 3, first/idempotent/audit (CI)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: remove the containers
    if args.smoke:
        args.hosts, args.forks, args.strategies = "3", "3", "linear"
    args.forks = [int(part) for part in args.forks.split(",")]
    args.strategies = args.strategies.split(",")
    if venv() is None or not role_ready():
        reason = "no venv with ansible" if venv() is None else "roles/tcp_tuning or the playbook is missing"
        if args.smoke:
            print("SKIP fleet_run: %s" % reason)
            return 0
        raise SystemExit("fleet_run: %s" % reason)
    rows, details, failure = [], [], None
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as workdir:
        for size in sorted(int(part) for part in args.hosts.split(",")):
            try:
                fleet(size, args, workdir, rows, details)
            except (RuntimeError, OSError, subprocess.CalledProcessError, SystemExit) as error:
                # SystemExit: SIGTERM; the runs measured so far are still written
                failure = "%d hosts: %s" % (size, error if not isinstance(error, SystemExit) else "terminated")
                print(failure, file=sys.stderr)
                break
    name = "fleet_run" + ("-smoke" if args.smoke else "")
    command = "python3 bench/fleet_run/run.py" + (" --smoke" if args.smoke else " --hosts %s --forks %s --strategies %s"
                                                  % (args.hosts, ",".join(map(str, args.forks)),
                                                     ",".join(args.strategies)))
    emit(name, COLUMNS, rows, runs=details, scaling=scaling(rows) if rows else {}, workload=WORKLOADS["gateway"],
         loadavg_at_end=os.getloadavg(), command=command, failure=failure, checkout=checkout())
    print(json.dumps(scaling(rows) if rows else {}, indent=1))
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
