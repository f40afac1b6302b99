"""Benchmark 3, memory model: memory per idle ESTABLISHED socket on every kernel line, vs tcp_sizing's table.

    python3 bench/memory_model/run.py                          # Debian 11, 12, 13 guests + the host; 50 000 each way, 3 repeats
    python3 bench/memory_model/run.py --releases 12 --connections 20000 --repeat 1
    python3 bench/memory_model/run.py --smoke                  # Debian 12, 1000 each way, 1 repeat (CI)

For each Debian release of the VM test bed (kernels 5.10, 6.1, 6.12) it boots one guest whose third
NIC is a tap in a child network namespace on the host (bench/lib/netns.py, TapGuest), and runs
bench/lib/conns.py on both sides, in two directions:

  guest serves    the guest accepts K connections from the namespace and registers each with epoll,
                  as a server holds them: the guest's growth per accepted socket is the SERVER
                  socket of its kernel line; the namespace's is the CLIENT socket of the host's.
  guest connects  the guest opens K connections to a server in the namespace: the guest's growth is
                  the CLIENT socket of its line; the namespace's the SERVER socket of the host kernel.

So each side's sockets are counted apart: a guest holds one kind at a time, and the host kernel
(6.18 here) is measured in the same runs. Per socket: Slab, SUnreclaim, the MemAvailable drop
(/proc/meminfo), sockstat's TCP mem pages, and the caches that grew (/proc/slabinfo). Host figures
are kernel-wide on a shared machine: other jobs' allocations are noise there, the guests have none.
Predicted: tcp_sizing's per-socket bytes for that kernel (sizing_memory.socket_line). Target: every
line's predicted / measured server socket within 0.9-1.1. The guest is stopped and the namespace
removed at the end, also on an error or SIGTERM. Traffic stays between the namespace and the guest.
"""

import argparse
import json
import os
import signal
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench.lib import holder, output, rawpeer  # noqa: E402
from bench.lib.netns import Netns  # noqa: E402
from bench.lib.playbook import module_utils  # noqa: E402
from bench.lib.vm import TapGuest  # noqa: E402
from memory_model import model  # noqa: E402

TARGET = (0.9, 1.1)
PORTS = "20000-20007"
GUEST_PORT_RANGE = "1024 65535"  # per-netns, in the namespace and the guest: room for K per source
SMOKE = {"connections": 2000, "repeat": 1, "releases": ["host"]}
HOST_ADDR, RAW_ADDR, RAW_SOURCES = "10.214.0.1", "10.214.0.2", "10.214.1.1-16"  # the host line's veth


def line_of(release):
    """'6.1.0-50-amd64' -> '6.1'."""
    return ".".join(release.split("-")[0].split(".")[:2])


def run_pair(server, client, connections, timeout, peer_phase="reached"):
    """Start the server, then the client; wait for both to reach (the client: ``peer_phase``); end
    both. Returns (server, client) lines."""
    if (server.wait_for(("listening",), 300) or {}).get("phase") != "listening":
        server.stop(timeout=30)
        raise RuntimeError("the server did not start listening: %s" % server.lines[-3:])
    clients = client()
    deadline = time.monotonic() + timeout
    for side, phase in ((clients, peer_phase), (server, "reached")):
        if (side.wait_for((phase,), max(deadline - time.monotonic(), 1)) or {}).get("phase") != phase:
            for other in (clients, server):
                other.stop(timeout=30)
            raise RuntimeError("%d connections not reached in %d s: %s" % (connections, timeout, side.lines[-2:]))
    server_lines = server.stop(timeout=300)  # the server resets its sockets (SO_LINGER 0) on exit
    client_lines = clients.stop(timeout=300)
    return server_lines, client_lines


def measured_delta(lines, count_key):
    start = next(line for line in lines if line["phase"] == "start")
    reached = next(line for line in lines if line["phase"] == "reached")
    delta = model.slab_delta(start, reached, sockets=reached[count_key])
    delta.update(errors=reached["errors"], seconds=round(reached["t"] - start["t"], 1),
                 tcpext_moved={key: reached["tcpext"][key] - start["tcpext"].get(key, 0) for key in reached["tcpext"]
                               if reached["tcpext"][key] != start["tcpext"].get(key, 0)})
    return delta


def one_release(release, args, sizing_memory):
    """Both directions ``args.repeat`` times on one guest; rows for the guest's line and the host's."""
    rows = []
    common = ["--ports", PORTS, "--settle", args.settle, "--interval", 10, "--max-seconds", args.timeout + 120]
    with Netns() as netns, TapGuest("mm-deb%s" % release, netns, release=release, memory_mb=args.memory_mb,
                                    peer_aliases=args.sources - 1) as guest:
        guest.install_agent()
        guest_kernel = guest.run(["uname", "-r"]).stdout.strip()
        host_kernel = os.uname().release
        netns.sysctl("net.ipv4.ip_local_port_range", GUEST_PORT_RANGE)
        guest.write_sysctl("net.ipv4.ip_local_port_range", GUEST_PORT_RANGE)
        sources = ",".join(guest.sources)
        print("guest %s (%s) on %s, sources %s" % (guest.name, guest_kernel, guest.tap, sources), flush=True)
        for repeat in range(1, args.repeat + 1):
            server = guest.agent(["serve", "--expect", args.connections] + common)
            server_lines, client_lines = run_pair(
                server, lambda: netns.agent(["connect", "--dest", guest.address, "--sources", sources,
                                             "--count", args.connections] + common),
                args.connections, args.timeout)
            rows.append(dict(measured_delta(server_lines, "accepted"), kernel=guest_kernel, side="server",
                             where="guest", direction="guest serves", repeat=repeat))
            rows.append(dict(measured_delta(client_lines, "connected"), kernel=host_kernel, side="client",
                             where="host netns", direction="guest serves", repeat=repeat))
            print(json.dumps({key: rows[-2][key] for key in ("kernel", "side", "sockets", "slab_per_socket",
                                                             "seconds")}), flush=True)
            time.sleep(args.settle)
            server = netns.agent(["serve", "--addr", guest.peer, "--expect", args.connections] + common)
            server_lines, client_lines = run_pair(
                server, lambda: guest.agent(["connect", "--dest", guest.peer, "--sources", guest.address,
                                             "--count", args.connections] + common),
                args.connections, args.timeout)
            rows.append(dict(measured_delta(client_lines, "connected"), kernel=guest_kernel, side="client",
                             where="guest", direction="guest connects", repeat=repeat))
            rows.append(dict(measured_delta(server_lines, "accepted"), kernel=host_kernel, side="server",
                             where="host netns", direction="guest connects", repeat=repeat))
            print(json.dumps({key: rows[-2][key] for key in ("kernel", "side", "sockets", "slab_per_socket",
                                                             "seconds")}), flush=True)
            time.sleep(args.settle)
    return with_prediction(rows, sizing_memory)


def host_line(args, sizing_memory):
    """The host kernel's own line, both kinds apart, with no VM: the measured namespace's sockets
    talk over a veth to bench/lib/rawpeer.py in a second namespace, which completes handshakes from
    a packet socket and holds no kernel socket per connection."""
    rows = []
    kernel = os.uname().release
    common = ["--ports", PORTS, "--settle", args.settle, "--interval", 10, "--max-seconds", args.timeout + 120]
    peer = [sys.executable, rawpeer.__file__]
    with Netns() as measured, Netns() as raw:
        measured.run(["ip", "link", "add", "veth-m", "type", "veth", "peer", "name", "veth-r"])
        measured.run(["ip", "link", "set", "veth-r", "netns", str(raw.holder.pid)])
        measured.run(["ip", "addr", "add", HOST_ADDR + "/16", "dev", "veth-m"])
        measured.run(["ip", "link", "set", "veth-m", "up"])
        raw.run(["ip", "link", "set", "veth-r", "up"])
        mac_measured = json.loads(measured.run(["ip", "-j", "link", "show", "veth-m"]).stdout)[0]["address"]
        mac_raw = json.loads(raw.run(["ip", "-j", "link", "show", "veth-r"]).stdout)[0]["address"]
        sources = rawpeer.address_range(RAW_SOURCES)
        for address in [RAW_ADDR] + sources:  # the peer answers no ARP
            measured.run(["ip", "neigh", "replace", address, "lladdr", mac_raw, "dev", "veth-m", "nud", "permanent"])
        measured.sysctl("net.ipv4.ip_local_port_range", GUEST_PORT_RANGE)
        for repeat in range(1, args.repeat + 1):
            server = measured.agent(["serve", "--addr", HOST_ADDR, "--expect", args.connections] + common)
            server_lines, _peer = run_pair(server, lambda: holder.LineRun(raw.argv(
                peer + ["initiate", "--ifname", "veth-r", "--dest", HOST_ADDR, "--dest-mac", mac_measured,
                        "--ports", PORTS, "--sources", RAW_SOURCES, "--count", args.connections,
                        "--max-seconds", args.timeout + 120])), args.connections, args.timeout, peer_phase="done")
            rows.append(dict(measured_delta(server_lines, "accepted"), kernel=kernel, side="server",
                             where="host netns", peer="raw", direction="raw peer connects", repeat=repeat))
            print(json.dumps({key: rows[-1][key] for key in ("kernel", "side", "sockets", "slab_per_socket",
                                                             "seconds")}), flush=True)
            time.sleep(args.settle)
            responder = holder.LineRun(raw.argv(peer + ["respond", "--ifname", "veth-r", "--addr", RAW_ADDR,
                                                        "--max-seconds", args.timeout + 120]))
            try:
                client = measured.agent(["connect", "--dest", RAW_ADDR, "--sources", HOST_ADDR,
                                         "--count", args.connections] + common)
                if (client.wait_for(("reached",), args.timeout) or {}).get("phase") != "reached":
                    client.stop(timeout=30)
                    raise RuntimeError("the host's clients did not reach %d: %s"
                                       % (args.connections, client.lines[-2:]))
                client_lines = client.stop(timeout=300)
            finally:
                responder.stop(timeout=30)
            rows.append(dict(measured_delta(client_lines, "connected"), kernel=kernel, side="client",
                             where="host netns", peer="raw", direction="raw peer answers", repeat=repeat))
            print(json.dumps({key: rows[-1][key] for key in ("kernel", "side", "sockets", "slab_per_socket",
                                                             "seconds")}), flush=True)
            time.sleep(args.settle)
    return with_prediction(rows, sizing_memory)


def with_prediction(rows, sizing_memory):
    for row in rows:
        table_row = sizing_memory.socket_line(list(catalogue_kernel(row["kernel"])))
        row["line"] = line_of(row["kernel"])
        row["predicted_per_socket"] = table_row["bytes"]
        row["table_line"] = table_row["line"]
        row["ratio"] = round(table_row["bytes"] / row["slab_per_socket"], 3) if row["slab_per_socket"] > 0 else None
    return rows


def catalogue_kernel(release):
    return module_utils("kernel_release").parse_kernel_release(release)


def summarize(rows):
    """One row per (kernel line, side): medians over the repeats (and, for the host, over the guests)."""
    raw_lines = {row["line"] for row in rows if row.get("peer") == "raw"}
    groups = {}
    for row in rows:
        if row["line"] in raw_lines and row.get("peer") != "raw":
            continue  # the host line's figure comes from its own runs (raw peer), not from a guest run's other side
        groups.setdefault((row["line"], row["side"]), []).append(row)
    out = []
    for (line, side), group in sorted(groups.items()):
        where = group[0]["where"]
        median = statistics.median(row["slab_per_socket"] for row in group)
        predicted = group[0]["predicted_per_socket"]
        out.append({"line": line, "kernel": group[0]["kernel"], "side": side, "where": where, "runs": len(group),
                    "connections": group[0]["sockets"],
                    "slab_per_socket": median,
                    "sunreclaim_per_socket": statistics.median(row["sunreclaim_per_socket"] for row in group),
                    "memavailable_per_socket": statistics.median(row["memavailable_per_socket"] for row in group),
                    "tcp_mem_pages_delta": max(row["tcp_mem_pages_delta"] for row in group),
                    "spread": [min(row["slab_per_socket"] for row in group), max(row["slab_per_socket"] for row in group)],
                    "predicted_per_socket": predicted, "table_line": group[0]["table_line"],
                    "ratio": round(predicted / median, 3) if median > 0 else None})
    return out


def primary(row):
    """A run that measures its own line: a guest's sockets, or the host's against the raw peer (a guest
    run's namespace side is a cross-check of the host line, on a shared machine)."""
    return row["where"] == "guest" or row.get("peer") == "raw"


def kept_runs(measured_lines):
    """The stored runs of the lines not measured in this invocation (``--keep``), and their commands."""
    path = os.path.join(REPO, "bench", "results", "memory_model.json")
    if not os.path.exists(path):
        return {"runs": [], "commands": []}
    with open(path) as handle:
        stored = json.load(handle)
    runs = [row for row in stored.get("runs", []) if not (primary(row) and row["line"] in measured_lines)]
    commands = [command for command in stored.get("command", "").split(" ; ") if command] if runs else []
    return {"runs": runs, "commands": commands}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--releases", default="host,11,12,13",
                        help="Debian releases of the VM test bed, and 'host': the host's kernel against a raw peer; "
                             "'stored': measure nothing, judge the stored runs against the table as it is now")
    parser.add_argument("--connections", type=int, default=50000, help="connections each way per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sources", type=int, default=2, help="source addresses on the namespace side")
    parser.add_argument("--memory-mb", type=int, default=2048, help="guest RAM")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between the last socket and the snapshot")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds for one direction to reach")
    parser.add_argument("--smoke", action="store_true", help="the host line only (no VM), 2000 each way, one run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the runs of the lines not measured now from bench/results/memory_model.json")
    args = parser.parse_args(argv)
    if args.smoke:
        args.connections, args.repeat, args.releases = SMOKE["connections"], SMOKE["repeat"], ",".join(SMOKE["releases"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: agents end, guest stops, namespace goes
    sizing_memory = module_utils("sizing_memory")
    began = time.monotonic()
    rows = []
    for release in [] if args.releases == "stored" else args.releases.split(","):
        if release.strip() == "host":
            rows.extend(host_line(args, sizing_memory))
        else:
            rows.extend(one_release(release.strip(), args, sizing_memory))
    commands = ["python3 bench/memory_model/run.py " + " ".join(argv if argv is not None else sys.argv[1:])]
    if args.releases == "stored":  # no measurement: the stored runs against the table as it is now
        args.keep, commands = True, []
    if args.keep and not args.smoke:
        kept = kept_runs({row["line"] for row in rows if primary(row)})
        rows.extend(with_prediction(kept["runs"], sizing_memory))  # against the table as it is now
        commands = kept["commands"] + commands
    summary = summarize(rows)
    verdict = all(row["ratio"] is not None and TARGET[0] <= row["ratio"] <= TARGET[1] for row in summary)
    columns = ["line", "kernel", "side", "where", "runs", "connections", "slab_per_socket", "sunreclaim_per_socket",
               "memavailable_per_socket", "tcp_mem_pages_delta", "predicted_per_socket", "table_line", "ratio"]
    output.emit("memory_model" + ("_smoke" if args.smoke else ""), columns, summary,
                runs=rows, target_ratio=list(TARGET), within_target=verdict,
                command=" ; ".join(commands),
                table=[dict(row, kernel=list(row["kernel"])) for row in sizing_memory.PER_SOCKET_TABLE],
                seconds=round(time.monotonic() - began, 1))
    print("predicted/measured per line and side: %s (target %.2f-%.2f): %s"
          % (", ".join("%s %s %s" % (row["line"], row["side"], row["ratio"]) for row in summary), TARGET[0],
             TARGET[1], "smoke: too few sockets to judge" if args.smoke else "within" if verdict else "OUTSIDE"))
    return 0 if args.smoke or verdict else 1


if __name__ == "__main__":
    sys.exit(main())
