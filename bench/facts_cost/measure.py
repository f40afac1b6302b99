"""Runs inside the benchmark container: time each command as a whole process tree.

    python3 measure.py --runs 5 --cli /opt/facts_cost/cli.py

Wall time: time.perf_counter around spawn and exit of the whole tree. Peak RSS: GNU time's %M
(ru_maxrss from wait4) of the command; for `sh -c 'a | b'` that is the largest single process of
the tree (the shell waits for its children). GNU time (2 MiB) is the direct parent on purpose: a
child forked from this Python process would inherit its ~12 MiB high-water mark at exec.
CPU: user+system time of the whole tree (RUSAGE_CHILDREN delta, includes GNU time's own ~1 ms);
unlike wall time it does not grow while the process waits for a CPU that others use.
Commands run round-robin, so load from elsewhere hits all of them alike. Prints JSON on stdout.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def commands(cli):
    python = [sys.executable, "-I", "-S", cli]
    return [
        ("tcp_facts, sockets off", python + ["--no-sockets"]),
        ("tcp_facts, sockets on (netlink)", python),
        ("tcp_facts, sockets on (/proc/net/tcp fallback)", python + ["--proc-fallback"]),
        ("ss -s; nstat -az", ["sh", "-c", "ss -s >/dev/null; nstat -az >/dev/null"]),
        ("ss -tan | awk | sort | uniq -c", ["sh", "-c", "ss -tan | awk 'NR>1{print $1}' | sort | uniq -c >/dev/null"]),
        ("netstat -ant | awk | sort | uniq -c", ["sh", "-c", "netstat -ant | awk '{print $6}' | sort | uniq -c >/dev/null"]),
    ]


GNU_TIME = "/opt/facts_cost/time"
RSS_FILE = "/tmp/facts-cost-rss"


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv):
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run([GNU_TIME, "-f", "%M", "-o", RSS_FILE] + argv, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    with open(RSS_FILE) as handle:
        maxrss_kb = int(handle.read().split()[-1])
    return elapsed, cpu, maxrss_kb, proc.returncode, proc.stdout.decode("utf-8", "replace").strip()


def sockstat():
    with open("/proc/net/sockstat") as handle:
        for line in handle:
            if line.startswith("TCP:"):
                fields = line.split()[1:]
                return dict((fields[i], int(fields[i + 1])) for i in range(0, len(fields), 2))
    return {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli", default="/opt/facts_cost/cli.py")
    args = parser.parse_args()
    table = commands(args.cli)
    samples = dict((label, {"times": [], "cpu": [], "rss": [], "output": ""}) for label, _argv in table)
    for label, argv in table:
        run_once(argv)  # warm-up: page cache, .pyc files
    for _round in range(args.runs):
        for label, argv in table:
            elapsed, cpu, maxrss_kb, code, output = run_once(argv)
            if code != 0:
                raise SystemExit("%s exited %s: %s" % (label, code, output))
            samples[label]["times"].append(elapsed)
            samples[label]["cpu"].append(cpu)
            samples[label]["rss"].append(maxrss_kb)
            samples[label]["output"] = output[:300]
    rows = []
    for label, _argv in table:
        times, rss = samples[label]["times"], samples[label]["rss"]
        rows.append({"command": label, "median_ms": round(1000 * statistics.median(times), 1),
                     "median_cpu_ms": round(1000 * statistics.median(samples[label]["cpu"]), 1),
                     "min_ms": round(1000 * min(times), 1), "peak_rss_mib": round(max(rss) / 1024.0, 1),
                     "runs": args.runs, "output": samples[label]["output"]})
    json.dump({"sockstat": sockstat(), "rows": rows}, sys.stdout)


if __name__ == "__main__":
    main()
