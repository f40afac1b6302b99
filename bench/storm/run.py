"""Accept storm: N concurrent connects to a listener that never accepts, before and after tuning.

    python3 bench/storm/run.py [--connects 20000] [--timeout 5] [--method auto|role|sizing] [--smoke]

One fresh privileged container per configuration, so nothing (TIME_WAIT, counters) carries over:
  1. kernel defaults (somaxconn 4096 on 5.4+);
  2. the high_concurrency_server profile with its own accept_rate preset;
  3. the same profile declaring this burst: target_connections=N and accept_rate=N/s
     (sizing sizes somaxconn as roundup_pow2(accept_rate x 1 s)).
Expected: ListenOverflows in 1, none in 3 (2 overflows whenever N exceeds its preset's backlog).
"""

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench.lib.playbook import tune  # noqa: E402
from bench.lib.output import emit  # noqa: E402
from bench.lib.podman import Container  # noqa: E402

BURST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "burst.py")
PROFILE = "high_concurrency_server"
WATCHED = ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies")
COLUMNS = ("config", "method", "somaxconn", "connects", "connected", "failed", "accept_queue",
           "ListenOverflows", "ListenDrops", "p50_ms", "p99_ms", "max_ms", "burst_s")


def configurations(connects):
    """(label, workload or None for kernel defaults)."""
    return [("kernel defaults", None),
            (PROFILE, {"target_connections": connects}),
            ("%s accept_rate=%d" % (PROFILE, connects), {"target_connections": connects, "accept_rate": connects})]


def run_one(index, label, workload, args):
    with Container("bench-storm-%d" % index) as container:
        tuning = {"method": "-"}
        if workload is not None:
            tuning = tune(container, PROFILE, workload, args.method)
        sysctl = {key: container.read("/proc/sys/" + key.replace(".", "/")).strip() for key in WATCHED}
        container.copy_in(BURST, "/tmp/burst.py")
        done = container.exec(["python3", "/tmp/burst.py", "--connects", str(args.connects),
                               "--timeout", str(args.timeout)], timeout=args.timeout + 120)
        result = json.loads(done.stdout)
    counters = result["counters"]
    row = {"config": label, "method": tuning["method"], "somaxconn": int(sysctl["net.core.somaxconn"]),
           "connects": result["connects"], "connected": result["connected"], "failed": result["failed"],
           "accept_queue": result["accept_queue"],
           "ListenOverflows": counters["TcpExt.ListenOverflows"], "ListenDrops": counters["TcpExt.ListenDrops"],
           "p50_ms": result["connect_ms"]["p50"], "p99_ms": result["connect_ms"]["p99"],
           "max_ms": result["connect_ms"]["max"], "burst_s": round(result["burst_s"], 2)}
    detail = {"config": label, "workload": workload, "tuning": tuning, "sysctl": sysctl, "result": result}
    return row, detail


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 bench/storm/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connects", type=int, default=20000, help="concurrent connects in the burst")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="seconds a connect may stay pending after the burst (SYN retries: 1 s, 3 s, 7 s)")
    parser.add_argument("--method", choices=("auto", "role", "sizing"), default="auto",
                        help="how to tune: the real playbook (role), compute_plan + sysctl writes (sizing)")
    parser.add_argument("--smoke", action="store_true", help="tiny burst, short timeout (CI)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: remove containers
    if args.smoke:
        args.connects, args.timeout = 300, 1.0

    rows, details = [], []
    chosen = configurations(args.connects)
    if args.smoke:  # defaults and the declared workload: one role run instead of two
        chosen = [chosen[0], chosen[2]]
    for index, (label, workload) in enumerate(chosen):
        row, detail = run_one(index, label, workload, args)
        rows.append(row)
        details.append(detail)
    emit("storm-smoke" if args.smoke else "storm", COLUMNS, rows, runs=details, loadavg_at_end=os.getloadavg(),
         command="python3 bench/storm/run.py" + (" --smoke" if args.smoke else " --connects %d" % args.connects))
    tuned = rows[-1]
    if tuned["ListenOverflows"] or tuned["failed"]:
        print("NOTE: the tuned configuration still overflowed or failed connects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
