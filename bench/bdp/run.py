"""Buffer sizing proved by throughput: one long fat path (netem) inside a VM guest, defaults vs the plan.

    python3 bench/bdp/run.py [--rate-mbit 100] [--rtt-ms 500] [--seconds 25] [--repeats 1] [--smoke]

This host's kernel has no netem; Debian's guest kernels ship sch_netem. One Debian 12 guest
(tests/vm/vm.py) runs guest_bdp.py once per configuration, alternating, `--repeats` times:
  - defaults: the guest's live tcp_rmem / tcp_wmem (the kernel's own);
  - plan: tcp_rmem / tcp_wmem of the collection's bulk_transfer plan for bandwidth_mbps x rtt_ms,
    computed with plugins/module_utils/sizing.py (compute_plan) from the guest's RAM, CPUs, kernel
    and live tcp_rmem / tcp_wmem / tcp_mem;
  - fixed (--fixed-max BYTES, optional): both maxima set to BYTES (e.g. 33554432, the hand test).
Path (guest_bdp.py): two network namespaces + veth; netem `delay RTT/2 rate R limit 100000` on the
sender's side, `delay RTT/2 limit 100000` on the receiver's side (ACKs); tcp_rmem / tcp_wmem set
inside both namespaces. Throughput: what the receiver got over the second half of the transfer.
Target: plan >= 90 % of the link rate. The guest is always stopped at the end.
"""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench.lib.output import emit  # noqa: E402
from bench.lib.playbook import module_utils, sizing_module  # noqa: E402
from bench.lib.vm import Guest, guest_facts  # noqa: E402

TRANSFER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_bdp.py")
GUEST_TRANSFER = "/root/guest_bdp.py"
TARGET_SHARE = 0.90
COLUMNS = ("config", "repeat", "tcp_rmem", "tcp_wmem", "rate_mbit", "rtt_ms", "mbit_second_half", "share_of_link",
           "mbit_whole", "rcvbuf_at_end", "sndbuf_at_end")
SMOKE = {"seconds": 6, "repeats": 1}


def plan_buffers(guest, rate_mbit, rtt_ms):
    """The bulk_transfer plan's tcp_rmem / tcp_wmem for this guest; returns (rmem, wmem, plan inputs)."""
    sizing, sizing_inputs = sizing_module(), module_utils("sizing_inputs")
    facts = guest_facts(guest)
    sysctl = dict((key, guest.sysctl(key)) for key in ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_mem"))
    host = sizing_inputs.host_from_facts(None, dict(facts, sysctl=sysctl))
    workload = {"profile": "bulk_transfer", "bandwidth_mbps": rate_mbit, "rtt_ms": rtt_ms}
    plan = sizing.compute_plan(host, workload)
    return (plan["sysctl"].get("net.ipv4.tcp_rmem", " ".join(map(str, sysctl["net.ipv4.tcp_rmem"]))),
            plan["sysctl"].get("net.ipv4.tcp_wmem", " ".join(map(str, sysctl["net.ipv4.tcp_wmem"]))),
            {"host": dict(facts, sysctl=sysctl), "workload": workload,
             "explain_tcp_rmem": plan["explain"].get("net.ipv4.tcp_rmem"),
             "explain_tcp_wmem": plan["explain"].get("net.ipv4.tcp_wmem")})


def transfer(guest, rmem, wmem, seconds, rate_mbit, rtt_ms):
    return guest.run_json(["python3", GUEST_TRANSFER, "run", "--rmem", rmem, "--wmem", wmem, "--seconds", str(seconds),
                           "--rate-mbit", str(rate_mbit), "--delay-ms", str(rtt_ms // 2)], timeout=seconds + 240)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rate-mbit", type=int, default=100)
    parser.add_argument("--rtt-ms", type=int, default=500, help="round trip; netem delays each direction by half")
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--fixed-max", type=int, default=None, help="also run with both maxima set to this")
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--release", default="12")
    parser.add_argument("--smoke", action="store_true", help="%(seconds)d s transfers, once" % SMOKE)
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.repeats = SMOKE["seconds"], SMOKE["repeats"]
    if args.rtt_ms % 2:
        parser.error("--rtt-ms: must be even (half of it each way)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    rows, details = [], []
    began = time.monotonic()
    with Guest("bench-bdp", release=args.release, memory_mb=args.memory_mb) as guest:
        guest.put(TRANSFER, GUEST_TRANSFER)
        defaults = tuple(" ".join(map(str, guest.sysctl(key))) for key in ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"))
        plan_rmem, plan_wmem, plan_inputs = plan_buffers(guest, args.rate_mbit, args.rtt_ms)
        configs = [("defaults",) + defaults, ("plan", plan_rmem, plan_wmem)]
        if args.fixed_max:
            configs.append(("fixed", "%s %s %d" % tuple(defaults[0].split()[:2] + [args.fixed_max]),
                            "%s %s %d" % tuple(defaults[1].split()[:2] + [args.fixed_max])))
        print("guest %s; plan tcp_rmem %s, tcp_wmem %s" % (plan_inputs["host"]["kernel_release"], plan_rmem, plan_wmem),
              flush=True)
        for repeat in range(1, args.repeats + 1):
            for name, rmem, wmem in configs:
                result = transfer(guest, rmem, wmem, args.seconds, args.rate_mbit, args.rtt_ms)
                rows.append({"config": name, "repeat": repeat, "tcp_rmem": rmem, "tcp_wmem": wmem,
                             "rate_mbit": args.rate_mbit, "rtt_ms": result["rtt_ms"],
                             "mbit_second_half": result["mbit_second_half"],
                             "share_of_link": round(result["mbit_second_half"] / args.rate_mbit, 3),
                             "mbit_whole": result["mbit_whole"], "rcvbuf_at_end": result["rcvbuf_at_end"],
                             "sndbuf_at_end": result["sndbuf_at_end"]})
                details.append(dict(result, config=name, repeat=repeat))
                print(json.dumps(rows[-1]), flush=True)

    name = "bdp" + ("" if args.release == "12" else "-debian" + args.release) + ("-smoke" if args.smoke else "")
    emit(name, COLUMNS, rows,
         command="python3 bench/bdp/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
         path={"rate_mbit": args.rate_mbit, "rtt_ms": args.rtt_ms, "bdp_bytes": args.rate_mbit * 125 * args.rtt_ms,
               "netem_sender": "delay %dms rate %dmbit limit 100000" % (args.rtt_ms // 2, args.rate_mbit),
               "netem_receiver": "delay %dms limit 100000" % (args.rtt_ms // 2)},
         plan=plan_inputs, target_share=TARGET_SHARE, details=details, seconds=round(time.monotonic() - began, 1))
    plan_rows = [entry for entry in rows if entry["config"] == "plan"]
    met = all(entry["share_of_link"] >= TARGET_SHARE for entry in plan_rows)
    print("plan reaches >= %d %% of the link: %s" % (TARGET_SHARE * 100, met))
    return 0 if (met or args.smoke) else 1


if __name__ == "__main__":
    sys.exit(main())
