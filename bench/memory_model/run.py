"""Benchmark 3, memory model: slab per idle ESTABLISHED socket, measured vs tcp_sizing's estimate.

    python3 bench/memory_model/run.py                 # 50 000 connections, 3 repeats
    python3 bench/memory_model/run.py --smoke         # 1 000 connections, 1 repeat (CI)

Holds K loopback connections (2K sockets, both ends in one privileged container, spread over
processes of at most 9850 connections) and reads /proc/meminfo Slab and SUnreclaim before the
holders start and 3 s after every connection is accepted. /proc/meminfo is host-wide, so other
work on the machine adds noise: the median of the repeats is reported.
"""

import argparse
import os
import signal
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lib import holder, output, podman  # noqa: E402
from memory_model import model  # noqa: E402

CONTAINER = "mem-model"
SETTLE_SECONDS = 3
TARGET = (0.75, 1.33)


def measure_once(box: podman.Container, connections: int) -> dict:
    run = holder.FleetRun(box.name, ["--connections", connections, "--hold", SETTLE_SECONDS,
                                     "--interval", 1, "--max-seconds", 180, "--mem-floor-mb", 3072])
    lines = run.stop(timeout=240) if run.wait_for(("end",), 240) else run.stop(timeout=10)
    start = next(line for line in lines if line["phase"] == "start")
    end = next((line for line in lines if line["phase"] == "end"), None)
    reached = next((line for line in lines if line["phase"] == "reached"), None)
    if end is None or reached is None:
        raise RuntimeError("holder fleet did not finish: %s" % lines[-1:])
    delta = model.slab_delta(start, end)
    delta.update(connections=end["connections"], seconds_to_reach=reached["t"],
                 errors=end["errors"], tcp_mem_pages=end["sockstat"]["tcp"]["mem"],
                 tcpext_moved={key: end["tcpext"][key] - start["tcpext"].get(key, 0)
                               for key in end["tcpext"] if end["tcpext"][key] != start["tcpext"].get(key, 0)})
    return delta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--connections", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1000 connections, one run")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: holders die, container goes
    if args.smoke:
        args.connections, args.repeat = 1000, 1

    plan = model.sizing_plan(args.connections, sockets_per_connection=2)
    predicted = plan["memory_estimate"]["per_socket_bytes"]
    runs = []
    with podman.Container(CONTAINER) as box:
        box.copy_in(holder.__file__, holder.CONTAINER_PATH)
        for index in range(args.repeat):
            result = measure_once(box, args.connections)
            result["run"] = index + 1
            result["predicted_per_socket"] = predicted
            result["ratio"] = round(predicted / result["slab_per_socket"], 3)
            runs.append(result)

    median = statistics.median(run["slab_per_socket"] for run in runs)
    summary = {"run": "median", "connections": args.connections, "sockets": runs[0]["sockets"],
               "slab_per_socket": median,
               "slab_per_socket_host_wide": statistics.median(run["slab_per_socket_host_wide"] for run in runs),
               "sunreclaim_per_socket": statistics.median(run["sunreclaim_per_socket"] for run in runs),
               "predicted_per_socket": predicted, "ratio": round(predicted / median, 3)}
    columns = ["run", "connections", "sockets", "seconds_to_reach", "slab_bytes", "slab_per_socket",
               "slab_per_socket_host_wide", "sunreclaim_per_socket", "predicted_per_socket", "ratio"]
    verdict = TARGET[0] <= summary["ratio"] <= TARGET[1]
    output.emit("memory_model" + ("_smoke" if args.smoke else ""), columns, runs + [summary],
                summary=summary, target_ratio=list(TARGET), within_target=verdict,
                sizing_memory_estimate=plan["memory_estimate"],
                sizing_source=plan["explain"].get("memory_estimate", {}).get("source"))
    print("predicted/measured = %.3f (target %.2f-%.2f): %s"
          % (summary["ratio"], TARGET[0], TARGET[1],
             "smoke: too few sockets to judge, host-wide slab noise dominates" if args.smoke
             else "within" if verdict else "OUTSIDE"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
