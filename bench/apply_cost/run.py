"""Apply cost: wall time of tcp_tuning's second (idempotent) run vs a one-task-per-key baseline.

    python3 bench/apply_cost/run.py [--hosts 1,10,30] [--repeats 3] [--profile high_concurrency_server] [--smoke]

Containers (privileged, `sleep infinity`) are reached with ansible_connection=containers.podman.podman;
forks = number of hosts. For each host count: playbooks/tune-tcp.yml runs once to converge, then the
baseline (bench/apply_cost/baseline/playbook.yml: one ansible.posix.sysctl run per key the role wrote,
plus community.general.pam_limits) runs once to converge; then the two idempotent runs alternate
--repeats times on the same containers. Reported: median wall time of each, and ours / baseline.
Both are whole ansible-playbook processes limited to the containers (the fleet-report play on
localhost is left out), with the same environment: e.g. ANSIBLE_PIPELINING=1 applies to both.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench.lib.playbook import PLAYBOOK, role_ready, run_playbook, venv, write_inventory  # noqa: E402
from bench.lib.output import emit  # noqa: E402
from bench.lib.podman import Container  # noqa: E402

BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline", "playbook.yml")
# --role-only: the role in a play of its own, without tune-tcp.yml's reachability ping.
ROLE_ONLY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "role_only", "playbook.yml")
SYSCTL_FILE = "/etc/sysctl.d/60-tcptune.conf"  # tcp_tuning_sysctl_path default
LIMITS_FILE = "/etc/security/limits.d/60-tcptune-nofile.conf"  # nofile_limits module default
COLUMNS = ("hosts", "forks", "keys", "ours_s", "baseline_s", "ours/baseline", "target", "runs")
TARGETS = {1: 0.35, 30: 0.3}  # issue #13
DEFAULT_HOSTS = "1,10,30"
TIMEOUT = 900


def sysctl_written(container):
    """key -> value from the sysctl.d file tcp_tuning persisted (what the baseline must set too)."""
    values = {}
    for line in container.read(SYSCTL_FILE).splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def nofile_written(container):
    """(soft, hard) nofile from the limits.d file tcp_tuning wrote, or (None, None) when it wrote none
    (the plan asked for no limit, or one not above what logins inherit): the baseline then sets none."""
    found = {}
    text = container.exec(["cat", LIMITS_FILE], check=False).stdout
    for fields in (line.split() for line in text.splitlines()):
        if len(fields) == 4 and fields[0] == "*" and fields[2] == "nofile":
            found[fields[1]] = int(fields[3])
    return found.get("soft"), found.get("hard")


def measure(count, containers, args, workdir):
    names = [container.name for container in containers[:count]]
    inventory = write_inventory(names, workdir)
    forks = max(count, 5)
    ours_vars = {"tcp_tuning_profile": args.profile}
    ours_playbook = ROLE_ONLY if args.role_only else PLAYBOOK
    first = run_playbook(ours_playbook, inventory, ours_vars, forks, TIMEOUT)  # converge: the first run changes things
    keys = sysctl_written(containers[0])
    soft, hard = nofile_written(containers[0])
    baseline_vars_path = os.path.join(workdir, "baseline-vars.json")
    with open(baseline_vars_path, "w") as handle:
        json.dump({"baseline_sysctl": keys, "baseline_nofile_soft": soft, "baseline_nofile_hard": hard}, handle)
    baseline_vars = {"@" + baseline_vars_path: None}
    baseline_first = run_playbook(BASELINE, inventory, baseline_vars, forks, TIMEOUT)
    ours, baseline = [], []
    if args.smoke:  # one run each: the first (changing) runs stand in for the idempotent ones
        ours, baseline = [first], [baseline_first]
    for _repeat in range(0 if args.smoke else args.repeats):  # alternate, so background load hits both alike
        ours.append(run_playbook(ours_playbook, inventory, ours_vars, forks, TIMEOUT))
        baseline.append(run_playbook(BASELINE, inventory, baseline_vars, forks, TIMEOUT))
    ours_s, baseline_s = statistics.median(ours), statistics.median(baseline)
    row = {"hosts": count, "forks": forks, "keys": len(keys), "ours_s": round(ours_s, 2),
           "baseline_s": round(baseline_s, 2), "ours/baseline": round(ours_s / baseline_s, 3),
           "target": TARGETS.get(count), "runs": args.repeats}
    return row, {"hosts": count, "ours_s": ours, "baseline_s": baseline, "first_runs_s": [first, baseline_first],
                 "sysctl": keys,
                 "nofile": [soft, hard]}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 bench/apply_cost/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default=DEFAULT_HOSTS, help="comma-separated host counts")
    parser.add_argument("--repeats", type=int, default=3, help="timed idempotent runs of each, median reported")
    parser.add_argument("--profile", default="high_concurrency_server")
    parser.add_argument("--role-only", action="store_true", help="time the role in its own play, not tune-tcp.yml")
    parser.add_argument("--smoke", action="store_true", help="1 host, one (first, changing) run of each (CI)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: remove containers
    counts = [1] if args.smoke else sorted(int(part) for part in args.hosts.split(","))
    if args.smoke:
        args.repeats = 1
    if venv() is None or not role_ready():
        reason = "no venv with ansible 14.5.0" if venv() is None else "roles/tcp_tuning or the playbook is missing"
        if args.smoke:
            print("SKIP apply_cost: %s" % reason)
            return 0
        raise SystemExit("apply_cost: %s" % reason)

    containers = [Container("bench-apply-%d" % index) for index in range(max(counts))]
    rows, details, failure = [], [], None
    try:
        for container in containers:
            container.start()
        with tempfile.TemporaryDirectory(prefix="bench-apply-") as workdir:
            for count in counts:
                try:
                    row, detail = measure(count, containers, args, workdir)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:  # keep the counts measured so far
                    failure = "%d hosts: %s" % (count, error)
                    print(failure, file=sys.stderr)
                    break
                rows.append(row)
                details.append(detail)
                print("%d host(s): ours %.2f s, baseline %.2f s" % (count, row["ours_s"], row["baseline_s"]))
    finally:
        for container in containers:
            container.remove()
    name = "apply_cost" + ("-smoke" if args.smoke else "" if args.hosts == DEFAULT_HOSTS else "-hosts" + args.hosts)
    name += "-role-only" if args.role_only else ""
    command = "python3 bench/apply_cost/run.py" + (" --smoke" if args.smoke else
                                                   " --hosts %s --repeats %d" % (args.hosts, args.repeats))
    command += " --role-only" if args.role_only else ""
    emit(name.replace(",", "_"), COLUMNS, rows, runs=details, loadavg_at_end=os.getloadavg(), profile=args.profile,
         ansible_pipelining=os.environ.get("ANSIBLE_PIPELINING"), command=command, failure=failure)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
