"""Apply cost: wall time of an idempotent tune-tcp.yml run vs the usual one-task-per-key way.

    python3 bench/apply_cost/run.py [--hosts 1,10,30] [--repeats 3] [--workload gateway|preset]
                                    [--pipelining on|off|both] [--role-only] [--vm] [--smoke]

Containers (privileged, `sleep infinity`) are reached with ansible_connection=containers.podman.podman;
forks = max(hosts, 5). --vm: one whole Debian 12 guest under qemu (tests/vm/vm.py) over ssh, where the
global keys (tcp_mem, conntrack, fs.*) and the systemd nofile default are written too.

For each host count: playbooks/tune-tcp.yml runs once to converge; then the baseline
(bench/apply_cost/baseline/playbook.yml) is given exactly what ours wrote on the first host: one
ansible.posix.sysctl run per key of our sysctl.d file, community.general.pam_limits for the nofile
lines of our limits.d file, and one ansible.builtin.copy per other file of ours (systemd drop-ins,
txqueuelen persistence). It converges once; then the idempotent runs of both alternate --repeats times
on the same hosts. Reported: medians, ours / baseline, and the changing (first) runs.

Both are whole ansible-playbook processes limited to the benchmark group (tune-tcp.yml's report play on
localhost is left out), with the same pipelining: --pipelining both (default) alternates runs with it on
(tune-tcp.yml's default since #21) and off, and reports a row for each; ANSIBLE_PIPELINING sets it for the
baseline, the extra variable ansible_pipelining=false turns it off for tune-tcp.yml (its play variable
ansible_pipelining wins over the environment). --vm runs with it on, as the VM scenario does. Each row
gives seconds per host beside the ratio.

Workloads: `gateway` (default) declares connections, accept and outbound rates, a bandwidth x RTT and
reserved ports, so the plan has a reason to change most keys; `preset` is high_concurrency_server
alone, which since #11 changes only the few keys its preset numbers need.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from bench.lib.playbook import (GROUP, PLAYBOOK, module_utils, role_ready, run_playbook, venv,  # noqa: E402
                                write_inventory)
from bench.lib.output import emit  # noqa: E402
from bench.lib.podman import Container  # noqa: E402
from bench.lib.vm import Guest  # noqa: E402

BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline", "playbook.yml")
# --role-only: the role in a play of its own, without tune-tcp.yml's tasks around it.
ROLE_ONLY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "role_only", "playbook.yml")
SYSCTL_FILE = "/etc/sysctl.d/60-tcptune.conf"  # tcp_tuning_sysctl_path default
LIMITS_FILE = "/etc/security/limits.d/60-tcptune-nofile.conf"  # limits.LIMITS_FILE
# Our other persisted files (limits.py, txqueue_persist.py), copied as files by the baseline.
OTHER_FILES = ("/etc/systemd/system.conf.d/60-tcptune-nofile.conf",
               "/etc/udev/rules.d/90-tcptune-txqueuelen.rules",
               "/etc/systemd/network/60-tcptune-txqueuelen.link")
COLUMNS = ("hosts", "forks", "pipelining", "remote_runs_baseline", "ours_s", "baseline_s", "ours_s_per_host",
           "baseline_s_per_host", "ours/baseline", "target", "first_ours/baseline", "runs")
# --pipelining: the modes measured, alternated in one run; the first also makes the first (changing) runs.
MODES = {"on": ["on"], "off": ["off"], "both": ["on", "off"]}
TARGETS = {1: 0.35, 30: 0.3}  # issue #13, containers
VM_TARGET = 0.25  # issue #13, one whole VM host
DEFAULT_HOSTS = "1,10,30"
TIMEOUT = 1800
WORKLOADS = {
    # A gateway: many inbound connections at a high accept rate, outbound connections to upstreams,
    # 1 Gbit/s at 50 ms, and a local service on 8080-8082 the ephemeral range must not take.
    "gateway": {"tcp_tuning_profile": "high_concurrency_server", "tcp_tuning_target_connections": 100000,
                "tcp_tuning_accept_rate": 20000, "tcp_tuning_outbound_rate": 20000,
                "tcp_tuning_bandwidth_mbps": 1000, "tcp_tuning_rtt_ms": 50,
                "tcp_tuning_reserved_ports": ["8080-8082"]},
    "preset": {"tcp_tuning_profile": "high_concurrency_server"},
}


class ContainerHosts:
    """Benchmark hosts in Podman containers."""

    def __init__(self, count):
        self.hosts = [Container("bench-apply-%d" % index) for index in range(count)]

    def start(self):
        for host in self.hosts:
            host.start()

    def stop(self):
        for host in self.hosts:
            host.remove()

    def inventory(self, count, workdir):
        return write_inventory([host.name for host in self.hosts[:count]], workdir)

    def read(self, path):
        """The file on the first host, or None when absent."""
        done = self.hosts[0].exec(["cat", path], check=False)
        return done.stdout if done.returncode == 0 else None


class VmHost:
    """One whole Debian 12 guest (bench.lib.vm.Guest): its own kernel, systemd and PAM."""

    def __init__(self):
        self.guest = Guest("bench-apply-vm", release="12", memory_mb=4096)

    def start(self):
        self.guest.__enter__()

    def stop(self):
        self.guest.stop_quietly()

    def inventory(self, _count, workdir):
        return self.guest.inventory(workdir, group=GROUP)

    def read(self, path):
        done = self.guest.run(["cat", path], check=False)
        return done.stdout if done.returncode == 0 else None


def nofile_written(text):
    """[{domain, type, value}] of the nofile lines of a limits.d file, in file order."""
    lines = []
    for fields in (line.split() for line in (text or "").splitlines()):
        if len(fields) == 4 and not fields[0].startswith("#") and fields[2] == "nofile":
            lines.append({"domain": fields[0], "type": fields[1], "value": fields[3]})
    return lines


def baseline_vars(hosts):
    """What ours wrote on the first host, as the baseline's variables."""
    files = dict((path, hosts.read(path)) for path in OTHER_FILES)
    return {"baseline_sysctl": module_utils("sysctld").parse_sysctl_file(hosts.read(SYSCTL_FILE) or ""),
            "baseline_nofile": nofile_written(hosts.read(LIMITS_FILE)),
            "baseline_files": [{"path": path, "content": text} for path, text in files.items() if text is not None]}


def remote_runs(variables):
    """Remote module runs of one idempotent baseline run on one host: one per key, limit line and file."""
    return len(variables["baseline_sysctl"]) + len(variables["baseline_nofile"]) + len(variables["baseline_files"])


def pipelining(mode):
    """Set pipelining ``mode`` ("on"/"off") for the next runs of both sides: the environment for the
    baseline, and for tune-tcp.yml, whose play variable ansible_pipelining (on unless
    tcp_tuning_pipelining says otherwise) wins over the environment, nothing when on (its default) and
    the extra variable ansible_pipelining=false when off (an extra variable wins over a play's).
    Returns ours' extra vars."""
    os.environ["ANSIBLE_PIPELINING"] = "1" if mode == "on" else "0"
    return {} if mode == "on" else {json.dumps({"ansible_pipelining": False}): None}


def measure(count, hosts, args, workdir):
    """Rows for ``count`` hosts, one per pipelining mode: medians of the alternated idempotent runs."""
    inventory = hosts.inventory(count, workdir)
    forks = max(count, 5)
    ours_vars = {"@" + _write(workdir, "ours-vars.json", WORKLOADS[args.workload]): None}
    ours_playbook = ROLE_ONLY if args.role_only else PLAYBOOK
    modes = MODES[args.pipelining]
    switch = dict((mode, pipelining(mode)) for mode in modes)
    pipelining(modes[0])
    first = run_playbook(ours_playbook, inventory, dict(ours_vars, **switch[modes[0]]), forks, TIMEOUT)  # converge
    variables = baseline_vars(hosts)
    baseline_extra = {"@" + _write(workdir, "baseline-vars.json", variables): None}
    baseline_first = run_playbook(BASELINE, inventory, baseline_extra, forks, TIMEOUT)
    ours, baseline = dict((mode, []) for mode in modes), dict((mode, []) for mode in modes)
    if args.smoke:  # one run each: the first (changing) runs stand in for the idempotent ones
        ours[modes[0]], baseline[modes[0]] = [first], [baseline_first]
    for _repeat in range(0 if args.smoke else args.repeats):  # alternate, so background load hits all alike
        for mode in modes:
            pipelining(mode)
            ours[mode].append(run_playbook(ours_playbook, inventory, dict(ours_vars, **switch[mode]), forks, TIMEOUT))
            baseline[mode].append(run_playbook(BASELINE, inventory, baseline_extra, forks, TIMEOUT))
    rows = []
    for mode in modes if not args.smoke else modes[:1]:
        ours_s, baseline_s = statistics.median(ours[mode]), statistics.median(baseline[mode])
        rows.append({"hosts": count, "forks": forks, "pipelining": mode, "remote_runs_baseline": remote_runs(variables),
                     "ours_s": round(ours_s, 2), "baseline_s": round(baseline_s, 2),
                     "ours_s_per_host": round(ours_s / count, 3), "baseline_s_per_host": round(baseline_s / count, 3),
                     "ours/baseline": round(ours_s / baseline_s, 3),
                     "target": VM_TARGET if args.vm else TARGETS.get(count),
                     "first_ours/baseline": round(first / baseline_first, 3) if mode == modes[0] else None,
                     "runs": args.repeats})
    return rows, {"hosts": count, "ours_s": ours, "baseline_s": baseline, "first_runs_s": [first, baseline_first],
                  "first_runs_pipelining": modes[0], "baseline_vars": variables}


def _write(workdir, name, data):
    path = os.path.join(workdir, name)
    with open(path, "w") as handle:
        json.dump(data, handle)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 bench/apply_cost/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default=DEFAULT_HOSTS, help="comma-separated host counts (containers)")
    parser.add_argument("--repeats", type=int, default=3, help="timed idempotent runs of each, median reported")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="gateway")
    parser.add_argument("--role-only", action="store_true", help="time the role in its own play, not tune-tcp.yml")
    parser.add_argument("--vm", action="store_true", help="one whole Debian 12 VM host instead of containers")
    parser.add_argument("--pipelining", choices=sorted(MODES), default="both",
                        help="pipelining for both sides: on (tune-tcp.yml's default), off, or both alternated")
    parser.add_argument("--smoke", action="store_true", help="1 container, one (first, changing) run of each (CI)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: remove the hosts
    counts = [1] if (args.smoke or args.vm) else sorted(int(part) for part in args.hosts.split(","))
    if args.smoke:
        args.repeats, args.vm, args.pipelining = 1, False, "on"
    if args.vm:
        args.pipelining = "on"  # as molecule/vm; both sides alike
    if venv() is None or not role_ready():
        reason = "no venv with ansible" if venv() is None else "roles/tcp_tuning or the playbook is missing"
        if args.smoke:
            print("SKIP apply_cost: %s" % reason)
            return 0
        raise SystemExit("apply_cost: %s" % reason)
    hosts = VmHost() if args.vm else ContainerHosts(max(counts))
    rows, details, failure = [], [], None
    try:
        hosts.start()
        with tempfile.TemporaryDirectory(prefix="bench-apply-") as workdir:
            for count in counts:
                try:
                    count_rows, detail = measure(count, hosts, args, workdir)
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:  # keep the counts measured so far
                    failure = "%d hosts: %s" % (count, error)
                    print(failure, file=sys.stderr)
                    break
                rows.extend(count_rows)
                details.append(detail)
                for row in count_rows:
                    print("%d host(s), pipelining %s: ours %.2f s, baseline %.2f s" % (
                        count, row["pipelining"], row["ours_s"], row["baseline_s"]))
    except (RuntimeError, subprocess.CalledProcessError) as error:
        failure = "hosts did not start: %s" % error
        print(failure, file=sys.stderr)
    finally:
        hosts.stop()
    name = "apply_cost" + ("-smoke" if args.smoke else "-vm" if args.vm
                           else "" if args.hosts == DEFAULT_HOSTS else "-hosts" + args.hosts)
    name += "-role-only" if args.role_only else ""
    name += "" if args.workload == "gateway" else "-" + args.workload
    name += "" if args.pipelining == "both" or args.vm or args.smoke else "-pipelining-" + args.pipelining
    command = "python3 bench/apply_cost/run.py" + (" --smoke" if args.smoke else " --vm --repeats %d" % args.repeats
                                                   if args.vm else " --hosts %s --repeats %d" % (args.hosts, args.repeats))
    command += " --role-only" if args.role_only else ""
    command += "" if args.workload == "gateway" else " --workload " + args.workload
    command += "" if args.pipelining == "both" or args.vm or args.smoke else " --pipelining " + args.pipelining
    emit(name.replace(",", "_"), COLUMNS, rows, runs=details, loadavg_at_end=os.getloadavg(),
         workload=WORKLOADS[args.workload], pipelining_modes=MODES[args.pipelining],
         hosts_kind="vm (Debian 12, qemu TCG)" if args.vm else "podman containers", command=command, failure=failure)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
