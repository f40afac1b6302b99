"""Outbound churn: paced connect + close (client closes first) to one ip:port, defaults vs tuned.

    python3 bench/churn/run.py [--rate 1500] [--seconds 75] [--procs 2] [--method auto|role|sizing] [--smoke]

One fresh privileged container per configuration; client and server both run inside it, on
the container's own eth0 address (read from inside the container):
  1. kernel defaults (ip_local_port_range 32768 60999, tcp_tw_reuse 2 = loopback only);
  2. the outbound_client profile declaring outbound_rate = --rate.
Next to the measured rate over the last 60 s stands tcp_sizing's prediction for the
configuration's live values (predicted.sustainable_outbound_rate_per_destination_current);
the expected rate is min(offered rate, prediction).
"""

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench.lib.playbook import container_host, sizing_module, tune  # noqa: E402
from bench.lib.output import emit, table  # noqa: E402
from bench.lib.podman import Container  # noqa: E402

LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "load.py")
PROFILE = "outbound_client"
PORT_KEYS = ["net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_tw_reuse_delay"]
WATCHED = PORT_KEYS + ["net.ipv4.tcp_timestamps", "net.ipv4.tcp_max_tw_buckets"]
LAST_WINDOW = 60
COLUMNS = ("config", "method", "port_range", "tw_reuse", "offered_per_s", "ok", "EADDRNOTAVAIL", "other_errors",
           "first_error_s", "max_time_wait", "rate_last_window", "predicted_rate", "expected_rate",
           "measured/expected", "p50_ms", "p99_ms")
TIMELINE = ("t_s", "ok_per_s", "EADDRNOTAVAIL_per_s", "other_per_s", "skipped", "time_wait", "p50_ms", "p99_ms")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else None


def timeline(result, step):
    """Rows of `step` seconds: rates per second, TIME_WAIT at the end of the step, latency."""
    rows = []
    per_second = result["per_second"]
    for begin in range(0, len(per_second), step):
        part = per_second[begin:begin + step]
        width = float(len(part))
        latencies = [value for bucket in part for value in bucket["lat"]]
        rows.append({"t_s": "%d-%d" % (begin, begin + len(part)),
                     "ok_per_s": round(sum(b["ok"] for b in part) / width),
                     "EADDRNOTAVAIL_per_s": round(sum(b["eaddrnotavail"] for b in part) / width),
                     "other_per_s": round(sum(sum(b["other"].values()) for b in part) / width),
                     "skipped": sum(b["skipped"] for b in part),
                     "time_wait": result["time_wait"][begin + len(part) - 1],
                     "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99)})
    return rows


def summarize(label, tuning, sysctl, predicted, result, window):
    per_second = result["per_second"]
    errors = [second for second, bucket in enumerate(per_second) if bucket["eaddrnotavail"] or bucket["other"]]
    other = {}
    for bucket in per_second:
        for name, count in bucket["other"].items():
            other[name] = other.get(name, 0) + count
    last = per_second[-window:]
    measured = sum(bucket["ok"] for bucket in last) / float(len(last))
    expected = min(result["rate"], predicted)
    latencies = [value for bucket in per_second for value in bucket["lat"]]
    return {"config": label, "method": tuning["method"], "port_range": sysctl["net.ipv4.ip_local_port_range"],
            "tw_reuse": sysctl["net.ipv4.tcp_tw_reuse"], "offered_per_s": result["rate"],
            "ok": sum(bucket["ok"] for bucket in per_second),
            "EADDRNOTAVAIL": sum(bucket["eaddrnotavail"] for bucket in per_second),
            "other_errors": sum(other.values()), "first_error_s": errors[0] if errors else None,
            "max_time_wait": max(result["time_wait"]), "rate_last_window": round(measured, 1),
            "predicted_rate": predicted, "expected_rate": round(expected, 1),
            "measured/expected": round(measured / expected, 3) if expected else None,
            "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99)}, other


def run_one(index, label, workload, args):
    with Container("bench-churn-%d" % index) as container:
        tuning = {"method": "-"}
        if workload is not None:
            tuning = tune(container, PROFILE, workload, args.method)
        sysctl = {key: " ".join(container.read("/proc/sys/" + key.replace(".", "/")).split()) for key in WATCHED}
        host = container_host(container, PORT_KEYS)
        plan = sizing_module().compute_plan(host, {"profile": PROFILE, "outbound_rate": args.rate})
        predicted = plan["predicted"]["sustainable_outbound_rate_per_destination_current"]
        addr = container.exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout.split()[3].split("/")[0]
        container.copy_in(LOAD, "/tmp/load.py")
        done = container.exec(["python3", "/tmp/load.py", "--addr", addr, "--rate", str(args.rate),
                               "--seconds", str(args.seconds), "--procs", str(args.procs)],
                              timeout=args.seconds + 120)
        result = json.loads(done.stdout)
    window = min(LAST_WINDOW, args.seconds)
    row, other = summarize(label, tuning, sysctl, predicted, result, window)
    steps = timeline(result, 1 if args.seconds <= 10 else 5)
    print("\n%s (%s), %s -> %s:%d" % (label, tuning["method"], sysctl["net.ipv4.ip_local_port_range"], addr, 8000))
    print(table(TIMELINE, steps))
    detail = {"config": label, "workload": workload, "tuning": tuning, "sysctl": sysctl, "other_errors": other,
              "predicted": plan["predicted"], "last_window_s": window, "timeline": steps,
              "time_wait": result["time_wait"], "failed_clients": result["failed_clients"]}
    return row, detail


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 bench/churn/run.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1500.0, help="offered connects per second")
    parser.add_argument("--seconds", type=int, default=75, help="duration of each configuration's run")
    parser.add_argument("--procs", type=int, default=2, help="client processes sharing the rate")
    parser.add_argument("--method", choices=("auto", "role", "sizing"), default="auto",
                        help="how to tune: the real playbook (role), compute_plan + sysctl writes (sizing)")
    parser.add_argument("--smoke", action="store_true", help="4 s at 300/s (CI)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: remove containers
    if args.smoke:
        args.rate, args.seconds, args.procs = 300.0, 4, 1

    rows, details = [], []
    chosen = [("kernel defaults", None), (PROFILE, {"outbound_rate": int(args.rate)})]
    for index, (label, workload) in enumerate(chosen):
        row, detail = run_one(index, label, workload, args)
        rows.append(row)
        details.append(detail)
    print()
    command = "python3 bench/churn/run.py" + (" --smoke" if args.smoke else
                                              " --rate %g --seconds %d" % (args.rate, args.seconds))
    emit("churn-smoke" if args.smoke else "churn", COLUMNS, rows, runs=details, loadavg_at_end=os.getloadavg(),
         command=command)
    return 1 if any(detail["failed_clients"] for detail in details) else 0


if __name__ == "__main__":
    sys.exit(main())
