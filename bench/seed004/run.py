"""Seed 004 on a whole host: the most connections the plan says fit, held 5 minutes; then the boundary.

    python3 bench/seed004/run.py                    # the 3.9 GB guest, then the boundary in a ~1 GB guest
    python3 bench/seed004/run.py --skip-boundary    # the 3.9 GB guest only
    python3 bench/seed004/run.py --boundary-only   # results/seed004_boundary.json
    python3 bench/seed004/run.py --smoke            # 1 GB guest, 5000 connections, 10 s hold, no boundary (CI)

Seed 004 held one million connections on a host with MemTotal 3 922 956 kB. Here:

1. One Debian 12 guest (kernel 6.1) with ``--memory-mb`` chosen so that MemTotal lands there (4012 MB
   gives about 3 922 000 kB; the run records the real figure), booted with a third NIC on a tap in a
   child network namespace of the host (bench/lib/netns.py, bench/lib/vm.py TapGuest).
2. The plan for seed 004's workload (high_concurrency_server, 1 000 000 connections, one socket each:
   the clients are elsewhere) from the guest's own facts: this checkout's verdict, and the verdict of
   ``--before-rev`` (the sizing before issue 18) for the same facts.
3. playbooks/tune-tcp.yml tunes the guest for N, the plan's "at most about N connections fit".
4. The guest's server (bench/lib/conns.py serve: accept, then epoll) holds N connections from clients
   in the namespace (conns.py connect), spread over 4 source addresses and 16 server ports, for
   ``--hold`` seconds (300). Every 30 s ssh must answer. In the middle of the hold, tcp_facts runs
   against `ss -s; nstat -az` in the guest, side by side (facts_side_by_side.py).
5. Judged: the guest's Slab growth against the plan's socket slab (within 10 %), no TCPAbortOnMemory,
   no OOM kill, no failed connect, ssh answering throughout.
6. The boundary, in a guest of ``--boundary-memory-mb`` (1024): its plan's N for the same workload,
   tune-tcp.yml for N, then 0.9 x N held ``--boundary-hold`` s: no trouble; a reboot; then 1.3 x N:
   the kernel's own trouble (memory pressure, aborts, an OOM kill, failed connects or ssh silent).
   For 1.3 x N the clients give up after 1 % failed connects; the holds are bounded.

Traffic goes only between the namespace and our guests; every count and time is bounded; the guests
are stopped and the namespaces removed at the end, also on an error or SIGTERM.
"""

import argparse
import os
import re
import signal
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench.lib import output  # noqa: E402
from bench.lib.netns import Netns  # noqa: E402
from bench.lib.vm import AGENT_DIR, TapGuest  # noqa: E402
from memory_model import model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_MEMTOTAL_KB = 3922956
SEED_CONNECTIONS = 1000000
PROFILE = "high_concurrency_server"
BEFORE_REV = "b5da825"  # main before issue 18: 4700 B per socket from 6.0 on, every socket busy
PORTS = "20000-20015"
SOURCES = 4
PORT_RANGE = "1024 65535"  # per-netns, in the namespace only
TARGET_SLAB_RATIO = (0.9, 1.1)
OOM = re.compile(r"Out of memory|oom-kill|invoked oom-killer|out of memory -- consider tuning tcp_mem|"
                 r"page allocation failure|too many orphaned sockets", re.IGNORECASE)
TCPEXT_TROUBLE = ("TCPMemoryPressures", "TCPAbortOnMemory", "ListenOverflows", "ListenDrops", "TCPAbortFailed")


def workload(connections):
    return {"profile": PROFILE, "target_connections": connections, "sockets_per_connection": 1}


def prepare(guest, netns):
    guest.install_agent()
    guest.install_collection()
    guest.put(os.path.join(REPO, "bench", "facts_cost", "cli.py"), AGENT_DIR + "/cli.py")
    guest.put(os.path.join(HERE, "facts_side_by_side.py"), AGENT_DIR + "/facts_side_by_side.py")
    netns.sysctl("net.ipv4.ip_local_port_range", PORT_RANGE)


def verdicts(facts, connections, before_rev):
    """The plan for ``connections`` on these facts: this checkout's and ``before_rev``'s."""
    work = workload(connections)
    after = model.sizing_plan(connections, sockets_per_connection=1, facts=facts, profile=PROFILE)
    out = {"after": summary_of(after)}
    try:
        out["before"] = summary_of(model.plan_at_revision(before_rev, facts, work))
        out["before"]["revision"] = before_rev
    except Exception as error:  # pylint: disable=broad-except
        out["before"] = {"revision": before_rev, "error": str(error)[-500:]}
    return out, after


def summary_of(plan):
    estimate = plan["memory_estimate"]
    return {"feasible": plan["feasible"], "reason": plan["warnings"][0] if not plan["feasible"] else None,
            "max_connections": plan["predicted"]["max_connections_in_memory"],
            "per_socket_bytes": estimate["per_socket_bytes"], "per_socket_source": estimate.get("per_socket_source"),
            "slab_bytes": estimate["slab_bytes"], "buffer_bytes": estimate["buffer_bytes"],
            "idle_bytes": estimate.get("idle_bytes"), "total_bytes": estimate["total_bytes"],
            "safe_bytes": estimate["safe_bytes"], "summary": estimate.get("summary")}


def ssh_probe(guest):
    began = time.monotonic()
    try:
        ok = guest.run(["true"], timeout=60, check=False).returncode == 0
    except Exception:  # pylint: disable=broad-except
        # a timeout: ssh did not answer
        ok = False
    return {"ok": ok, "seconds": round(time.monotonic() - began, 2)}


def kernel_log(guest):
    """OOM and TCP memory lines from dmesg, or from the serial console when ssh no longer answers."""
    try:
        text = guest.run(["dmesg"], timeout=60).stdout
        where = "dmesg"
    except Exception:  # pylint: disable=broad-except
        console = os.path.join(os.environ.get("TCPTUNE_VM_RUN", "/tmp/tcptune-vm"), guest.name, "console.log")
        with open(console, errors="replace") as handle:
            text, where = handle.read(), "serial console"
    lines = [line.strip() for line in text.splitlines() if OOM.search(line)]
    return {"source": where, "lines": lines[:40], "count": len(lines)}


def hold(guest, netns, count, seconds, facts_runs=0, open_timeout=None):
    """The guest serves ``count`` connections from the namespace and holds them ``seconds``."""
    open_timeout = open_timeout or int(600 + count / 300.0)
    bound = open_timeout + seconds + 600
    server = guest.agent(["serve", "--ports", PORTS, "--expect", count, "--settle", 10, "--interval", 10,
                          "--idle-reach", 60, "--max-seconds", bound])
    if (server.wait_for(("listening",), 300) or {}).get("phase") != "listening":
        server.stop(timeout=30)
        raise RuntimeError("the guest's server did not listen: %s" % server.lines[-3:])
    began = time.monotonic()
    client = netns.agent(["connect", "--dest", guest.address, "--ports", PORTS, "--sources", ",".join(guest.sources),
                          "--count", count, "--window", 512, "--settle", 10, "--interval", 10, "--connect-timeout", 10,
                          "--max-failures", max(1000, count // 100), "--max-seconds", bound])
    result = {"target": count}
    try:
        reached = [side.wait_for(("reached",), open_timeout) for side in (client, server)]
        result["opening_seconds"] = round(time.monotonic() - began, 1)
        result["reached"] = all(line is not None and line["phase"] == "reached" for line in reached)
        probes, facts = [], None
        held_from = time.monotonic()
        while time.monotonic() - held_from < seconds and server.last("eof") is None:
            time.sleep(min(30, max(seconds - (time.monotonic() - held_from), 0)))
            probes.append(dict(ssh_probe(guest), t=round(time.monotonic() - held_from, 1)))
            if facts_runs and facts is None and time.monotonic() - held_from >= seconds / 2:
                try:
                    facts = guest.run_json(["python3", AGENT_DIR + "/facts_side_by_side.py", "--coll",
                                            AGENT_DIR + "/coll", "--cli", AGENT_DIR + "/cli.py", "--runs",
                                            str(facts_runs)], timeout=900)
                except Exception as error:  # pylint: disable=broad-except
                    facts = {"error": str(error)[-500:]}
        result["held_seconds"] = round(time.monotonic() - held_from, 1)
        result["ssh_probes"] = probes
        result["facts_cost"] = facts
        result["kernel_log"] = kernel_log(guest)
    finally:
        client_held = list(client.lines)  # before the server ends: its SO_LINGER 0 exit resets every connection
        server_lines = server.stop(timeout=900)
        client_lines = client.stop(timeout=300)
    result.update(judge_sides(server_lines, client_held))
    client_end = phase(client_lines, "end") or {}
    result["client_at_end"] = {key: client_end.get(key) for key in ("connected", "open", "closed_by_peer")}
    return result


def phase(lines, name):
    return next((line for line in lines if line["phase"] == name), None)


def judge_sides(server_lines, client_lines):
    start, reached = phase(server_lines, "start"), phase(server_lines, "reached")
    samples = [line for line in server_lines if line["phase"] in ("sample", "reached", "end")]
    last = phase(server_lines, "end") or (samples[-1] if samples else None)
    cstart = phase(client_lines, "start")
    # the client's last line before the server was stopped (its "end" line comes after the server's resets)
    clast = next((line for line in reversed(client_lines) if line["phase"] in ("sample", "reached", "end")), None)
    out = {"server_ended": "end" if phase(server_lines, "end") else "no end line (the server died or ssh stopped)"}
    if start and last:
        out["tcpext_delta"] = {key: last["tcpext"].get(key, 0) - start["tcpext"].get(key, 0) for key in TCPEXT_TROUBLE}
        out["server"] = {key: last.get(key) for key in ("accepted", "open", "closed_by_peer", "errors", "nofile")}
        out["mem_total_bytes"] = start["meminfo"]["MemTotal"]
        out["mem_available_min_bytes"] = min(line["meminfo"]["MemAvailable"] for line in samples)
        out["tcp_mem_pages_max"] = max(line["sockstat"]["tcp"]["mem"] for line in samples)
        out["timeline"] = [{"t": line["t"], "accepted": line.get("accepted"), "open": line.get("open"),
                            "slab": line["meminfo"]["Slab"], "available": line["meminfo"]["MemAvailable"],
                            "tcp_mem_pages": line["sockstat"]["tcp"]["mem"]} for line in samples]
    if start and reached:
        out["memory"] = model.slab_delta(start, reached, sockets=reached["accepted"])
    if cstart and clast:
        keys = ("connected", "open", "failed", "timeouts", "closed_by_peer", "errors")
        out["client"] = {key: clast.get(key) for key in keys}
    return out


def trouble(result):
    """What the kernel did wrong during a hold, each with its figure; [] when nothing."""
    found = []
    for key, value in (result.get("tcpext_delta") or {}).items():
        if value:
            found.append("%s +%d" % (key, value))
    if result.get("kernel_log", {}).get("count"):
        found.append("%d kernel log lines (%s)" % (result["kernel_log"]["count"], result["kernel_log"]["lines"][0]))
    client = result.get("client") or {}
    if client.get("failed"):
        found.append("%d failed connects (%d timed out; %s)" % (client["failed"], client.get("timeouts") or 0,
                                                                client.get("errors")))
    if client.get("closed_by_peer"):
        found.append("%d connections closed by the guest" % client["closed_by_peer"])
    server = result.get("server") or {}
    if server.get("accepted") is not None and server["accepted"] < result.get("target", 0):
        found.append("the server accepted %d of %d (a worker died: see its stderr)"
                     % (server["accepted"], result["target"]))
    if server.get("errors"):
        found.append("server errors %s" % server["errors"])
    if result.get("server_ended") != "end":
        found.append(result.get("server_ended"))
    if not all(probe["ok"] for probe in result.get("ssh_probes") or [{"ok": True}]):
        found.append("ssh did not answer %d of %d times" % (sum(not p["ok"] for p in result["ssh_probes"]),
                                                            len(result["ssh_probes"])))
    if not result.get("reached"):
        found.append("the target was not reached within the time bound")
    return found


def seed_host(args):
    with Netns() as netns, TapGuest("seed004", netns, release=args.release, memory_mb=args.memory_mb,
                                    peer_aliases=SOURCES - 1) as guest:
        prepare(guest, netns)
        facts = guest.tcp_facts()
        memtotal_kb = facts["kernel"]["mem_total_bytes"] // 1024
        print("guest %s: MemTotal %d kB (seed 004: %d kB, %+.2f %%)" % (
            facts["kernel"]["release"], memtotal_kb, SEED_MEMTOTAL_KB,
            100.0 * (memtotal_kb - SEED_MEMTOTAL_KB) / SEED_MEMTOTAL_KB), flush=True)
        verdict, plan = verdicts(facts, SEED_CONNECTIONS, args.before_rev)
        before = verdict["before"].get("reason") or verdict["before"]
        print("plan for 1 000 000 before (%s): %s" % (args.before_rev, before), flush=True)
        print("plan for 1 000 000 now: %s" % (verdict["after"]["reason"] or "feasible"), flush=True)
        count = args.connections or (SEED_CONNECTIONS if plan["feasible"]
                                     else plan["predicted"]["max_connections_in_memory"])
        planned = model.sizing_plan(count, sockets_per_connection=1, facts=facts, profile=PROFILE)
        if not planned["feasible"]:
            raise RuntimeError("the plan for its own N = %d is infeasible: %s" % (count, planned["warnings"][0]))
        tuning = guest.tune({"tcp_tuning_profile": PROFILE, "tcp_tuning_target_connections": count}, timeout=900)
        print("tune-tcp.yml for %d connections: %s s, %s" % (count, tuning["seconds"], tuning["recap"]), flush=True)
        print("\n".join("  " + line for line in tuning["summary"]), flush=True)
        result = hold(guest, netns, count, args.hold, facts_runs=args.facts_runs)
        result.update(guest={"release": facts["kernel"]["release"], "memory_mb": args.memory_mb,
                             "mem_total_kb": memtotal_kb, "seed_mem_total_kb": SEED_MEMTOTAL_KB},
                      verdicts=verdict, planned=summary_of(planned), tune=tuning)
    predicted = planned["memory_estimate"]["slab_bytes"]
    measured = (result.get("memory") or {}).get("slab_bytes")
    result["slab_predicted_bytes"] = predicted
    result["slab_ratio"] = round(predicted / float(measured), 3) if measured else None
    result["trouble"] = trouble(result)
    result["ok"] = (not result["trouble"] and result["slab_ratio"] is not None
                    and TARGET_SLAB_RATIO[0] <= result["slab_ratio"] <= TARGET_SLAB_RATIO[1])
    return result


def boundary(args):
    out = {}
    with Netns() as netns, TapGuest("seed004-small", netns, release=args.release,
                                    memory_mb=args.boundary_memory_mb, peer_aliases=SOURCES - 1) as guest:
        prepare(guest, netns)
        facts = guest.tcp_facts()
        verdict, plan = verdicts(facts, SEED_CONNECTIONS, args.before_rev)
        fit = plan["predicted"]["max_connections_in_memory"]
        out.update(mem_total_kb=facts["kernel"]["mem_total_bytes"] // 1024, verdicts=verdict, fit=fit)
        print("boundary guest: MemTotal %d kB, the plan says at most about %d connections fit"
              % (out["mem_total_kb"], fit), flush=True)
        out["tune"] = guest.tune({"tcp_tuning_profile": PROFILE, "tcp_tuning_target_connections": fit}, timeout=900)
        for share in (0.9, 1.3):
            if share != 0.9:
                guest.reboot()  # a clean kernel for the second load; the tuned values come back from sysctl.d
            count = int(fit * share)
            print("boundary: %.1f x %d = %d connections" % (share, fit, count), flush=True)
            try:
                result = hold(guest, netns, count, args.boundary_hold)
            except Exception as error:  # pylint: disable=broad-except
                # 1.3 x N may take the guest down
                result = {"target": count, "error": str(error)[-800:]}
            result["trouble"] = trouble(result) + ([result["error"]] if "error" in result else [])
            out["x%.1f" % share] = result
            print("  trouble: %s" % (result["trouble"] or "none"), flush=True)
    out["agrees"] = not out["x0.9"]["trouble"] and bool(out["x1.3"]["trouble"])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--release", default="12", help="Debian release of the guests (12: kernel 6.1)")
    parser.add_argument("--memory-mb", type=int, default=4012, help="guest RAM; 4012 gives MemTotal ~3 922 000 kB")
    parser.add_argument("--connections", type=int, default=None, help="hold this many instead of the plan's N")
    parser.add_argument("--hold", type=int, default=300, help="seconds to hold them")
    parser.add_argument("--facts-runs", type=int, default=7, help="rounds of tcp_facts vs ss -s; nstat")
    parser.add_argument("--boundary-memory-mb", type=int, default=1024)
    parser.add_argument("--boundary-hold", type=int, default=60)
    parser.add_argument("--before-rev", default=BEFORE_REV, help="git revision whose plan is 'before'")
    parser.add_argument("--skip-boundary", action="store_true")
    parser.add_argument("--boundary-only", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="1 GB guest, 5000 connections, 10 s hold, no boundary")
    args = parser.parse_args(argv)
    if args.smoke:
        args.memory_mb, args.connections, args.hold, args.facts_runs = 1024, 5000, 10, 1
        args.skip_boundary = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: agents end, guests stop, namespaces go
    began = time.monotonic()
    results = {}
    if not args.boundary_only:
        results["seed004"] = seed_host(args)
    if not args.skip_boundary:
        results["boundary"] = boundary(args)
    rows = []
    if "seed004" in results:
        res = results["seed004"]
        facts_cost = (res.get("facts_cost") or {}).get("commands") or {}
        rows.append({"case": "seed004", "mem_total_kb": res["guest"]["mem_total_kb"], "connections": res["target"],
                     "opening_s": res.get("opening_seconds"), "held_s": res.get("held_seconds"),
                     "slab_per_socket": (res.get("memory") or {}).get("slab_per_socket"),
                     "predicted_per_socket": res["planned"]["per_socket_bytes"], "slab_ratio": res["slab_ratio"],
                     "facts_off_x": (facts_cost.get("tcp_facts, sockets off") or {}).get("ratio_to_ss_nstat"),
                     "facts_on_x": (facts_cost.get("tcp_facts, sockets on (netlink)") or {}).get("ratio_to_ss_nstat"),
                     "trouble": "; ".join(res["trouble"]) or "none"})
    if "boundary" in results:
        for share in ("x0.9", "x1.3"):
            res = results["boundary"][share]
            rows.append({"case": "boundary " + share, "mem_total_kb": results["boundary"]["mem_total_kb"],
                         "connections": res["target"], "opening_s": res.get("opening_seconds"),
                         "held_s": res.get("held_seconds"),
                         "slab_per_socket": (res.get("memory") or {}).get("slab_per_socket"),
                         "trouble": "; ".join(res["trouble"]) or "none"})
    columns = ["case", "mem_total_kb", "connections", "opening_s", "held_s", "slab_per_socket", "predicted_per_socket",
               "slab_ratio", "facts_off_x", "facts_on_x", "trouble"]
    name = "seed004" + ("_smoke" if args.smoke else "_boundary" if args.boundary_only else "")
    output.emit(name, columns, rows,
                command="python3 bench/seed004/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                seconds=round(time.monotonic() - began, 1), **results)
    ok = True
    if "seed004" in results:
        res = results["seed004"]
        print("seed 004: %d connections held %s s on MemTotal %d kB; slab predicted/measured %s (target %.1f-%.1f); "
              "trouble: %s" % (res["target"], res.get("held_seconds"), res["guest"]["mem_total_kb"], res["slab_ratio"],
                               TARGET_SLAB_RATIO[0], TARGET_SLAB_RATIO[1], "; ".join(res["trouble"]) or "none"))
        ok = ok and (args.smoke or res["ok"])
    if "boundary" in results:
        print("boundary: 0.9 x N %s, 1.3 x N %s: the plan agrees with the kernel: %s" % (
            "held" if not results["boundary"]["x0.9"]["trouble"] else "FAILED",
            "showed trouble" if results["boundary"]["x1.3"]["trouble"] else "held too", results["boundary"]["agrees"]))
        ok = ok and results["boundary"]["agrees"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
