"""Issue 7, benchmark 4: the cost of tcp_facts against ss, nstat and netstat at 1k, 10k and 100k sockets.

    python3 bench/facts_cost/run.py            # 500, 5000 and 50000 loopback connections, 5 runs each
    python3 bench/facts_cost/run.py --smoke    # 50 connections, 1 run

Needs GNU time on the host (/usr/bin/time, Debian package "time"); it is copied into the container.
Everything runs in one privileged container ``facts-cost`` (removed at the end): the holder fleet
(bench/lib/holder.py) keeps N established loopback connections (2N sockets) spread over processes
of at most 9850 connections (hard nofile 20000 per process), with net.core.somaxconn=65535 set in
the container's own netns only. bench/facts_cost/measure.py then times every command in the
container as a whole process; tcp_facts is bench/facts_cost/cli.py, which runs host_facts.gather() as the
module does, without Ansible's own start-up. Writes bench/results/facts_cost[_smoke].json.
"""

import argparse
import json
import os
import sys
import time

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)

from lib import holder, output, podman  # noqa: E402

CONTAINER = "facts-cost"
HERE = os.path.dirname(os.path.abspath(__file__))


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def wait_for_quiet(max_load, timeout):
    """The machine is shared: wait (bounded) until the 1-minute load average is below max_load."""
    deadline = time.monotonic() + timeout
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(5)


def measure_at(box, connections, runs, max_seconds, max_load):
    fleet = holder.FleetRun(box.name, ["--connections", connections, "--interval", 1,
                                       "--max-seconds", max_seconds, "--mem-floor-mb", 3072])
    try:
        reached = fleet.wait_for(("reached",), max_seconds)
        if not reached or reached["phase"] != "reached":
            raise SystemExit("the holders did not reach %d connections: %r" % (connections, reached))
        wait_for_quiet(max_load, 300)
        for attempt in (1, 2):  # podman exec can fail transiently (exit 125) while others use podman
            result = box.exec(["python3", "/opt/facts_cost/measure.py", "--runs", str(runs)], check=False,
                              timeout=900)
            if result.returncode == 0:
                return json.loads(result.stdout)
            log("measure.py failed (exit %d, attempt %d): %s" % (result.returncode, attempt, result.stderr[-500:]))
        raise SystemExit("measure.py failed twice")
    finally:
        fleet.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--smoke", action="store_true", help="50 connections, one run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--connections", type=int, nargs="*", default=[500, 5000, 50000])
    parser.add_argument("--max-seconds", type=float, default=240)
    parser.add_argument("--max-load", type=float, default=6.0,
                        help="wait up to 5 min for the 1-minute load average to fall below this")
    args = parser.parse_args()
    sizes, runs = ([50], 1) if args.smoke else (args.connections, args.runs)
    if args.smoke:
        args.max_load = float("inf")  # the smoke run checks the steps, not the figures
    rows = []
    with podman.Container(CONTAINER) as box:
        box.exec(["mkdir", "-p", "/opt/facts_cost", "/opt/coll/ansible_collections/tcptune/linux"])
        box.copy_in(os.path.join(REPO, "plugins"), "/opt/coll/ansible_collections/tcptune/linux/plugins")
        box.copy_in(holder.__file__, holder.CONTAINER_PATH)
        for name in ("cli.py", "measure.py"):
            box.copy_in(os.path.join(HERE, name), "/opt/facts_cost/" + name)
        box.copy_in("/usr/bin/time", "/opt/facts_cost/time")  # GNU time: the image has none
        box.write_sysctl("net.core.somaxconn", "65535")
        for connections in sizes:
            log("holding %d connections (%d sockets)" % (connections, 2 * connections))
            document = measure_at(box, connections, runs, args.max_seconds, args.max_load)
            for row in document["rows"]:
                row.update(connections=connections, sockets=2 * connections,
                           tcp_inuse=document["sockstat"].get("inuse"), tcp_tw=document["sockstat"].get("tw"),
                           host_tcp_alloc=document["sockstat"].get("alloc"), loadavg_1m=os.getloadavg()[0])
                rows.append(row)
    output.emit("facts_cost_smoke" if args.smoke else "facts_cost",
                ["sockets", "command", "median_ms", "min_ms", "median_cpu_ms", "peak_rss_mib", "tcp_inuse",
                 "host_tcp_alloc", "loadavg_1m"], rows,
                runs=runs, targets={
                    "sockets_off": "<= 3 x 'ss -s; nstat -az' at 100k sockets",
                    "sockets_on": "<= 0.5 x 'ss -tan|awk|sort|uniq -c' and >= 4x faster than 'netstat -ant|awk' at 100k",
                    "peak_rss": "<= 30 MiB in both modes"})


if __name__ == "__main__":
    main()
