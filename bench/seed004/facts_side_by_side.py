"""Runs in the guest that holds the connections: tcp_facts against `ss -s; nstat -az`, side by side.

    python3 facts_side_by_side.py --coll /root/bench-agent/coll --cli /root/bench-agent/cli.py [--runs 7]

Each round runs every command once, in turn, as a whole process: tcp_facts' host_facts.gather() from
bench/facts_cost/cli.py with sockets off (counters only, what `ss -s; nstat` reads) and on (the
module's default: netlink for the states the counters do not give), then `ss -s; nstat -az`.
Wall time with time.perf_counter around spawn and exit; CPU from RUSAGE_CHILDREN; peak RSS from
wait4 of the direct child. Prints one JSON object: medians per command and the ratios to
`ss -s; nstat -az`. Stdlib only, Python 3.9+.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def commands(cli, coll):
    python = [sys.executable, "-I", "-S", cli, "--coll", coll]
    return [("tcp_facts, sockets off", python + ["--no-sockets"]),
            ("tcp_facts, sockets on (netlink)", python),
            ("ss -s; nstat -az", ["sh", "-c", "ss -s >/dev/null; nstat -az >/dev/null"])]


def run_once(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu, usage.ru_maxrss, proc.returncode, out.decode("utf-8", "replace").strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--coll", required=True)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    table = commands(args.cli, args.coll)
    samples = dict((name, []) for name, _argv in table)
    outputs = {}
    for _round in range(args.runs):
        for name, argv in table:
            elapsed, cpu, rss_kb, code, out = run_once(argv)
            samples[name].append((elapsed, cpu, rss_kb, code))
            outputs[name] = out[-300:]
    result = {}
    for name, rows in samples.items():
        result[name] = {"wall_ms": round(statistics.median(row[0] for row in rows) * 1000, 1),
                        "cpu_ms": round(statistics.median(row[1] for row in rows) * 1000, 1),
                        "peak_rss_kb": max(row[2] for row in rows), "exit": sorted(set(row[3] for row in rows)),
                        "all_wall_ms": [round(row[0] * 1000, 1) for row in rows], "output": outputs[name]}
    base = result["ss -s; nstat -az"]["wall_ms"]
    for name in result:
        result[name]["ratio_to_ss_nstat"] = round(result[name]["wall_ms"] / base, 2) if base else None
    sys.stdout.write(json.dumps({"runs": args.runs, "commands": result}, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
