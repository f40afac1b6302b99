"""Issue 8: tune a container with tune-tcp.yml, then hold 1 000 000 loopback TCP connections in it.

    python3 bench/million/run.py            # the full run: a few minutes, ~10 GB of kernel slab
    python3 bench/million/run.py --smoke    # tiny sizes, same steps (CI)

Steps, all inside one privileged container ``million-box`` that is removed at the end:
1 start it; 2 probe the kernel defaults (fds per process, an accept burst, ports per 4-tuple, and
200 000 connections spread out) and record what breaks and the counters that show it; 3 plan with
tcp_sizing for the target (facts read in the container); 4 tune with playbooks/tune-tcp.yml over
the containers.podman connection; 5 hold the target (102 processes x 9850 connections, 8 127.x
addresses, one listening port per process) for at least --hold seconds; 6 measure; 7 run tcp_facts
at full load. The holders stop opening when MemAvailable falls below --mem-floor-mb, and every
holder dies with the container. No global sysctl is written anywhere (fs.file-max is only read).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)

from lib import holder, output, playbook, podman  # noqa: E402
from memory_model import model  # noqa: E402
from million import figure  # noqa: E402

CONTAINER = "million-box"
REPO = playbook.REPO
COLL_IN_BOX = "/opt/coll"


def _ansible_bin():
    """The bin directory holding ansible-playbook: .venv, then the bench venvs, then PATH."""
    for candidate in (os.path.join(REPO, ".venv", "bin"), "/tmp/benchvenv/bin", "/tmp/millionvenv/bin"):
        if os.path.exists(os.path.join(candidate, "ansible-playbook")):
            return candidate
    found = shutil.which("ansible-playbook")
    return os.path.dirname(found) if found else os.path.join(REPO, ".venv", "bin")


VENV = _ansible_bin()
PROFILE = "high_concurrency_server"
SLAB_PER_SOCKET_GUESS = 4800  # bytes, for the up-front memory check only (facts §11)
WATCHED_SYSCTLS = ("net.core.somaxconn", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_max_syn_backlog",
                   "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_rmem",
                   "net.ipv4.tcp_wmem", "net.ipv4.tcp_fin_timeout")


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def meminfo():
    return holder.read_meminfo()


def moved(start, end):
    return {key: end[key] - start.get(key, 0) for key in end if end[key] != start.get(key, 0)}


def read_sysctls(box):
    command = " ; ".join("cat /proc/sys/%s" % key.replace(".", "/") for key in WATCHED_SYSCTLS)
    text = box.exec(["sh", "-c", command]).stdout.splitlines()
    return {key: " ".join(value.split()) for key, value in zip(WATCHED_SYSCTLS, text)}


def fleet(box, fleet_args, timeout, on_line=None):
    """Run a fleet that ends by itself (--hold), return its lines by phase plus the samples."""
    run = holder.FleetRun(box.name, fleet_args + ["--no-stdin"], on_line=on_line)
    try:
        run.wait_for(("exit",), timeout)
    finally:
        lines = run.stop(timeout=60)
    phases = {line["phase"]: line for line in lines if line["phase"] != "sample"}
    phases["samples"] = [line for line in lines if line["phase"] in ("sample", "reached", "end")]
    return phases


# --- step 2: kernel defaults ----------------------------------------------------------------------

def probes(smoke):
    if smoke:
        return [("fds: one process asks for 12000 connections", ["--connections", 12000, "--per-process", 12000], 1),
                ("burst: 5000 connects before the first accept", ["--connections", 5000, "--per-process", 5000,
                                                                  "--batch", 5000], 4)]
    return [
        ("fds: one process asks for 12000 connections", ["--connections", 12000, "--per-process", 12000], 1),
        ("burst: 9000 connects before the first accept", ["--connections", 9000, "--per-process", 9000,
                                                          "--batch", 9000], 8),
        ("ports: 29700 connections to one 127.0.0.1 port",
         ["--connections", 29700, "--per-process", 9900, "--single-port"], 1),
        ("spread: 200000 over 21 processes, 8 addresses, 21 ports", ["--connections", 200000], 3),
    ]


def probe_defaults(box, smoke):
    rows = []
    for name, fleet_args, hold in probes(smoke):
        log("defaults probe: %s" % name)
        result = fleet(box, fleet_args + ["--hold", hold, "--interval", 0.5, "--max-seconds", 120], 180)
        start, end, reached = result["start"], result["end"], result.get("reached") or {}
        target = int(fleet_args[1])
        full = next((line["t"] for line in result["samples"] if line["connections"] >= target), None)
        rows.append({
            "probe": name, "target": target, "processes": start["processes"],
            "connected_when_opening_stopped": reached.get("connections"),
            "connections": end["connections"], "client_sockets": end["clients"],
            "errors": end["errors"], "seconds_opening": reached.get("t"), "seconds_to_target": full,
            "tcpext_moved": moved(start["tcpext"], end["tcpext"]),
            "sockstat_tcp": end["sockstat"]["tcp"],
            "slab_delta_bytes": end["meminfo"]["Slab"] - start["meminfo"]["Slab"],
        })
        shown = ("connections", "errors", "tcpext_moved", "seconds_to_target")
        log("  -> %s" % json.dumps({key: rows[-1][key] for key in shown}))
    return rows


# --- step 3: plan ---------------------------------------------------------------------------------

def copy_collection(box):
    box.exec(["mkdir", "-p", COLL_IN_BOX + "/ansible_collections/tcptune/linux"])
    box.copy_in(os.path.join(REPO, "plugins"), COLL_IN_BOX + "/ansible_collections/tcptune/linux/plugins")


def gather_in_box(box, sockets):
    """host_facts.gather() run by python3 in the container (module_utils are stdlib only); (facts, seconds)."""
    code = ("import json,sys,time; t=time.monotonic(); "
            "from ansible_collections.tcptune.linux.plugins.module_utils import host_facts; "
            "f=host_facts.gather(sockets=%s); f['_seconds']=time.monotonic()-t; print(json.dumps(f))" % sockets)
    done = box.exec(["env", "PYTHONPATH=" + COLL_IN_BOX, "python3", "-c", code], timeout=600)
    facts = json.loads(done.stdout)
    return facts, round(facts.pop("_seconds"), 3)


def plan_step(box, target):
    facts, seconds = gather_in_box(box, False)
    plan = model.sizing_plan(target, sockets_per_connection=2, facts=facts, profile=PROFILE)
    files = facts.get("files", {})
    return {"facts_seconds": seconds, "feasible": plan["feasible"], "memory_estimate": plan["memory_estimate"],
            "skipped": plan["skipped"], "warnings": plan["warnings"], "limits": plan["limits"],
            "sysctl": plan["sysctl"], "predicted": plan["predicted"],
            "host_files": files, "sysctl_unavailable_sample": {
                key: facts.get("sysctl_unavailable", {}).get(key)
                for key in ("fs.file-max", "fs.nr_open", "net.ipv4.tcp_mem", "net.core.rmem_max")}}


# --- step 4: tune ---------------------------------------------------------------------------------

def ansible_env(workdir):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=playbook.collections_path(), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_LOCAL_TEMP=workdir + "/tmp",
               ANSIBLE_STDOUT_CALLBACK="default")
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("%s ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3\n"
                     % CONTAINER)
    return env, inventory


def tune_step(box, target, workdir, logfile):
    env, inventory = ansible_env(workdir)
    extra = ["-e", "tcp_tuning_target_connections=%d" % target, "-e", "tcp_tuning_profile=" + PROFILE,
             "-e", "tcp_tuning_report_dir=" + os.path.join(workdir, "report"),
             "-e", "tcp_tuning_sockets_per_connection=2"]  # both ends of every connection are in the box
    before = read_sysctls(box)
    argv = [os.path.join(VENV, "ansible-playbook"), "-i", inventory, os.path.join(REPO, "playbooks", "tune-tcp.yml")]
    started = time.monotonic()
    with open(logfile, "w") as handle:
        done = subprocess.run(argv + extra, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=workdir,
                              timeout=900, check=False)
    seconds = round(time.monotonic() - started, 1)
    after = read_sysctls(box)
    recap = [line for line in open(logfile) if line.startswith(CONTAINER) and "ok=" in line]
    return {"rc": done.returncode, "seconds": seconds, "command": " ".join(argv[1:] + extra),
            "recap": recap[-1].strip() if recap else None,
            "sysctl_before": before, "sysctl_after": after,
            "changed": {key: [before[key], after[key]] for key in before if before[key] != after[key]}}


# --- step 5-7: hold, measure, tcp_facts -----------------------------------------------------------

def run_tcp_facts_module(workdir):
    """The module through Ansible (podman connection): wall time, findings, socket states."""
    env, inventory = ansible_env(tempfile.mkdtemp(dir=workdir))
    argv = [os.path.join(VENV, "ansible"), CONTAINER, "-i", inventory, "-m", "tcptune.linux.tcp_facts",
            "-o"]
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    seconds = round(time.monotonic() - started, 2)
    payload = done.stdout.split("=>", 1)[-1].strip() if "=>" in done.stdout else ""
    try:
        facts = json.loads(payload)["ansible_facts"]["tcp"]
    except (ValueError, KeyError):
        return {"rc": done.returncode, "seconds": seconds, "error": (done.stdout + done.stderr)[-2000:]}
    return {"rc": done.returncode, "seconds": seconds, "facts": facts}


def compare_states(facts):
    """tcp_facts' netlink per-state counts against its own sockstat: inuse counts hashed sockets."""
    states = facts["sockets"]["states"]
    hashed = sum(count for state, count in states.items() if state not in ("TIME_WAIT", "NEW_SYN_RECV"))
    inuse = facts["sockstat"]["tcp"]["inuse"] + facts["sockstat"].get("tcp6", {}).get("inuse", 0)
    return {"source": facts["sockets"]["source"], "states": {k: v for k, v in states.items() if v},
            "hashed_from_states": hashed, "sockstat_inuse_tcp_tcp6": inuse,
            "tw_from_states": states.get("TIME_WAIT", 0), "sockstat_tw": facts["sockstat"]["tcp"].get("tw"),
            "difference": hashed - inuse, "match": abs(hashed - inuse) <= max(10, inuse // 10000)}


def hold_step(box, args, workdir):
    series = []
    fleet_args = ["--connections", args.connections, "--per-process", args.per_process,
                  "--addresses", args.addresses, "--batch", 512, "--interval", 1,
                  "--max-seconds", args.max_seconds, "--mem-floor-mb", args.mem_floor_mb]
    run = holder.FleetRun(box.name, fleet_args, on_line=series.append)
    result = {"fleet_args": [str(arg) for arg in fleet_args]}
    try:
        reached = run.wait_for(("reached",), args.max_seconds)
        if reached is None or reached["phase"] != "reached":
            raise RuntimeError("the fleet did not finish opening: %s" % (series[-1:] or reached))
        log("opening finished at %.1f s: %d connections" % (reached["t"], reached["connections"]))
        reached_wall = time.monotonic()
        result["facts_direct_seconds"] = None
        if args.facts:
            log("tcp_facts at full load (module through Ansible)")
            result["facts_started_at_t"] = series[-1]["t"] if series else None
            module = run_tcp_facts_module(workdir)
            result["tcp_facts_module"] = {key: module[key] for key in module if key != "facts"}
            if "facts" in module:
                facts = module["facts"]
                result["tcp_facts_module"]["findings"] = [
                    {key: finding.get(key) for key in ("id", "severity", "summary")} for finding in facts["findings"]]
                result["tcp_facts_module"]["states_vs_sockstat"] = compare_states(facts)
                result["tcp_facts_module"]["files"] = facts.get("files")
            log("  module: %s s, rc %s" % (module["seconds"], module["rc"]))
            direct, seconds = gather_in_box(box, True)
            result["facts_direct_seconds"] = seconds
            result["facts_direct_states_vs_sockstat"] = compare_states(direct)
            result["facts_done_at_t"] = series[-1]["t"] if series else None
            log("  module_utils gather() in the box: %s s" % seconds)
        left = args.hold - (time.monotonic() - reached_wall)
        if left > 0:
            log("holding %.0f s more" % left)
            time.sleep(left)
        result["held_seconds_after_opening"] = round(time.monotonic() - reached_wall, 1)
    finally:
        lines = run.stop(timeout=180)
    start = next(line for line in lines if line["phase"] == "start")
    end = next((line for line in lines if line["phase"] == "end"), None) or series[-1]
    peak = max((line for line in lines if "connections" in line), key=lambda line: line["connections"])
    target_t = next((line["t"] for line in lines if line.get("connections", 0) >= args.connections), None)
    result.update({
        "processes": start["processes"], "layout_head": start["layout"],
        "connections_peak": peak["connections"], "connections_at_end": end["connections"],
        "seconds_to_target": target_t, "seconds_opening": reached["t"], "errors": end["errors"],
        "status": end.get("status"), "memory_floor_hit_at": end.get("memory_floor_hit_at"),
        "memory": model.slab_delta(start, end),
        "mem_available_min": min(line["meminfo"]["MemAvailable"] for line in lines if "meminfo" in line),
        "sockstat_start": start["sockstat"], "sockstat_end": end["sockstat"],
        "file_nr_start": start["file_nr"], "file_nr_end": end["file_nr"],
        "file_nr_peak": max(line["file_nr"]["allocated"] for line in lines if "file_nr" in line),
        "tcpext_moved": moved(start["tcpext"], end["tcpext"]),
        "series": [{"t": line["t"], "connections": line.get("connections", 0),
                    "slab": line["meminfo"]["Slab"] - start["meminfo"]["Slab"],
                    "sunreclaim": line["meminfo"]["SUnreclaim"] - start["meminfo"]["SUnreclaim"],
                    "mem_available": line["meminfo"]["MemAvailable"]}
                   for line in lines if line["phase"] in ("start", "sample", "reached", "end")],
    })
    return result


def draw(path, hold, title, predicted_bytes):
    series = hold["series"]
    markers = [(hold["seconds_opening"], "opening done")]
    if hold.get("facts_started_at_t"):
        markers.append((hold["facts_started_at_t"], "tcp_facts runs"))
    if hold.get("facts_done_at_t"):
        markers.append((hold["facts_done_at_t"], "tcp_facts done"))
    figure.render(
        path, title,
        connections=[("established connections", [(p["t"], p["connections"]) for p in series])],
        memory=[("Slab delta (GB)", [(p["t"], p["slab"] / 1e9) for p in series]),
                ("SUnreclaim delta (GB)", [(p["t"], p["sunreclaim"] / 1e9) for p in series]),
                ("MemAvailable (GB)", [(p["t"], p["mem_available"] / 1e9) for p in series])],
        markers=markers,
        memory_lines=[(predicted_bytes / 1e9, "tcp_sizing estimate %.2f GB" % (predicted_bytes / 1e9))])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--connections", type=int, default=1000000)
    parser.add_argument("--per-process", type=int, default=9850)
    parser.add_argument("--addresses", type=int, default=8)
    parser.add_argument("--hold", type=float, default=30, help="seconds to hold after opening finished")
    parser.add_argument("--max-seconds", type=float, default=360, help="cap on the whole hold phase")
    parser.add_argument("--mem-floor-mb", type=int, default=3072)
    parser.add_argument("--skip-defaults", action="store_true")
    parser.add_argument("--skip-tune", action="store_true")
    parser.add_argument("--no-facts", dest="facts", action="store_false")
    parser.add_argument("--smoke", action="store_true", help="2000 connections, small probes, short hold")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: holders die, container goes
    name = "million"
    if args.smoke:
        args.connections, args.per_process, args.hold, name = 2000, 500, 3, "million_smoke"

    need = args.connections * 2 * SLAB_PER_SOCKET_GUESS + args.mem_floor_mb * 2 ** 20
    available = meminfo()["MemAvailable"]
    if available < need:
        sys.exit("not enough memory: MemAvailable %.1f GB, this run needs about %.1f GB (slab + floor)"
                 % (available / 1e9, need / 1e9))
    workdir = tempfile.mkdtemp(prefix="million-")
    report = {"target_connections": args.connections, "command": " ".join(["python3", "bench/million/run.py"]
                                                                          + sys.argv[1:])}
    wall = time.monotonic()
    try:
        with podman.Container(CONTAINER) as box:
            log("container %s up" % CONTAINER)
            box.copy_in(holder.__file__, holder.CONTAINER_PATH)
            copy_collection(box)
            report["nofile_in_box"] = box.exec(["sh", "-c", "ulimit -Sn; ulimit -Hn"]).stdout.split()
            report["sysctl_defaults"] = read_sysctls(box)
            if not args.skip_defaults:
                report["defaults"] = probe_defaults(box, args.smoke)
            log("plan: tcp_sizing for %d connections (2 sockets each)" % args.connections)
            report["plan"] = plan_step(box, args.connections)
            log("  feasible=%s estimate=%s skipped=%s" % (report["plan"]["feasible"],
                                                          report["plan"]["memory_estimate"], report["plan"]["skipped"]))
            if not args.skip_tune:
                log("tune: ansible-playbook playbooks/tune-tcp.yml")
                report["tune"] = tune_step(box, args.connections, workdir,
                                           os.path.join(output.RESULTS_DIR, name + "-tune.log"))
                log("  rc=%s in %s s, changed %s" % (report["tune"]["rc"], report["tune"]["seconds"],
                                                     report["tune"]["changed"]))
            log("hold: %d connections" % args.connections)
            report["hold"] = hold_step(box, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["wall_seconds"] = round(time.monotonic() - wall, 1)

    hold = report["hold"]
    estimate = report["plan"]["memory_estimate"]
    hold["predicted_slab_bytes"] = estimate["per_socket_bytes"] * hold["memory"]["sockets"]
    hold["predicted_over_measured"] = round(hold["predicted_slab_bytes"] / float(hold["memory"]["slab_bytes"]), 3)
    os.makedirs(output.RESULTS_DIR, exist_ok=True)
    svg = os.path.join(output.RESULTS_DIR, name + ".svg")
    draw(svg, hold, "%d loopback connections in one container (%s)" % (args.connections, time.strftime("%Y-%m-%d")),
         hold["predicted_slab_bytes"])
    rows = [{"measure": "connections held (peak / at end)",
             "value": "%d / %d" % (hold["connections_peak"], hold["connections_at_end"])},
            {"measure": "seconds to reach target", "value": hold["seconds_to_target"]},
            {"measure": "processes", "value": hold["processes"]},
            {"measure": "Slab delta (bytes)", "value": hold["memory"]["slab_bytes"]},
            {"measure": "SUnreclaim delta (bytes)", "value": hold["memory"]["sunreclaim_bytes"]},
            {"measure": "Slab per socket (bytes)", "value": hold["memory"]["slab_per_socket"]},
            {"measure": "Slab per socket, host-wide TCP alloc delta (bytes)",
             "value": hold["memory"].get("slab_per_socket_host_wide")},
            {"measure": "predicted / measured slab", "value": hold["predicted_over_measured"]},
            {"measure": "sockstat TCP at end", "value": json.dumps(hold["sockstat_end"]["tcp"])},
            {"measure": "file-nr peak / fs.file-max",
             "value": "%d / %d" % (hold["file_nr_peak"], hold["file_nr_end"]["max"])},
            {"measure": "TcpExt moved", "value": json.dumps(hold["tcpext_moved"])},
            {"measure": "errors", "value": json.dumps(hold["errors"])},
            {"measure": "tcp_facts module seconds", "value": hold.get("tcp_facts_module", {}).get("seconds")},
            {"measure": "states match sockstat", "value": hold.get("tcp_facts_module", {}).get(
                "states_vs_sockstat", {}).get("match")}]
    output.emit(name, ["measure", "value"], rows, report=report, figure=os.path.basename(svg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
