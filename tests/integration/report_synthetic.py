"""Synthetic fleet results for the report at scale: every status, several kernels, host sizes, profiles
and findings, in the shape tcp_tune returns (module_utils/tune.py).

Each host is made the way a real run makes its result: facts (kernel defaults sized from the host's RAM,
counters that differ from host to host) -> diagnosis_rules.diagnose -> sizing.compute_plan -> tune.plan_view.
So the plans, reasons, formulas and evidence are the collection's own, and what differs between hosts
(RAM-sized values, counters in the evidence) differs as in a real fleet. Deterministic (seeded).
"""

import random

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import diagnosis_rules, sizing, tune

GIB = 1024 ** 3
# (RAM GiB, CPUs, kernel, in a container); weights: most of a fleet is a few host sizes.
HOST_CLASSES = [((8, 4, "5.10.0-33-amd64", False), 2), ((16, 8, "6.1.0-28-amd64", False), 5),
                ((32, 16, "6.1.0-28-amd64", False), 5), ((64, 32, "6.12.9-amd64", False), 3),
                ((128, 64, "6.12.9-amd64", False), 1), ((4, 2, "6.18.44-cloud", True), 2)]
WORKLOADS = [({"profile": "proxy", "target_connections": 200000}, 3),
             ({"profile": "high_concurrency_server"}, 3),
             ({"profile": "outbound_client", "outbound_rate": 1500}, 2),
             ({"profile": "balanced"}, 2)]
# Counters that make diagnosis report a finding: (finding, counter, low, high); each host has each
# with the probability given.
COUNTERS = [("listen_queue_overflow", "TcpExt.ListenOverflows", 1200, 90000, 0.2),
            ("time_wait_overflow", "TcpExt.TCPTimeWaitOverflow", 500, 40000, 0.1),
            ("tcp_memory_pressure", "TcpExt.TCPMemoryPressures", 3, 400, 0.08),
            ("syn_queue_pressure", "TcpExt.SyncookiesSent", 2000, 80000, 0.1),
            ("rst_send_failed", "TcpExt.TCPAbortFailed", 5, 300, 0.03)]
GLOBAL_REASON = "global key: set it on the host (a container cannot set it for itself)"
LIMITS_FILE = "/etc/security/limits.d/60-tcptune-nofile.conf"


def _weighted(rng, choices):
    return rng.choices([item for item, dummy in choices], [weight for dummy, weight in choices])[0]


def _defaults(memory, cpus):
    """The kernel's defaults of a host of ``memory`` bytes (kernel-tcp-facts: tcp_mem from free pages,
    the established hash and tw_buckets from RAM)."""
    pages = memory // 4096
    limit = pages // 16
    ehash = min(1 << max(10, (memory // (128 * 1024)).bit_length() - 1), 1 << 20)
    return {"net.core.somaxconn": 4096, "net.ipv4.tcp_max_syn_backlog": max(128, min(4096, ehash // 128)),
            "net.ipv4.tcp_max_tw_buckets": ehash // 2, "net.ipv4.tcp_mem": [limit // 4 * 3, limit, limit // 4 * 6],
            "net.ipv4.ip_local_port_range": [32768, 60999], "net.ipv4.ip_local_reserved_ports": "",
            "net.ipv4.tcp_tw_reuse": 2, "net.ipv4.tcp_timestamps": 1, "net.ipv4.tcp_fin_timeout": 60,
            "net.ipv4.tcp_rmem": [4096, 131072, 6291456], "net.ipv4.tcp_wmem": [4096, 16384, 4194304],
            "net.core.rmem_max": 212992, "net.core.wmem_max": 212992, "net.core.netdev_max_backlog": 1000,
            "net.ipv4.tcp_syncookies": 1, "fs.file-max": memory // 10240, "fs.nr_open": 1048576,
            "net.ipv4.tcp_max_orphans": ehash // 2, "net.ipv4.tcp_congestion_control": "cubic",
            "net.core.default_qdisc": "fq_codel", "cpus": cpus}


def _facts(rng, memory, cpus, kernel, container):
    sysctl = _defaults(memory, cpus)
    sysctl.pop("cpus")
    if rng.random() < 0.04:  # set by hand on a few hosts: the fleet views show them
        sysctl["net.core.somaxconn"] = rng.choice([1024, 16384, 65535])
    counters = {"Tcp.OutSegs": rng.randint(10 ** 7, 10 ** 9), "Tcp.RetransSegs": rng.randint(0, 10 ** 5)}
    for dummy, counter, low, high, share in COUNTERS:
        counters[counter] = rng.randint(low, high) if rng.random() < share else 0
    established, time_wait = rng.randint(0, 90000), rng.randint(0, 40000)
    facts = {
        "kernel": {"release": kernel, "version": [int(part) for part in kernel.split("-")[0].split(".")],
                   "page_size": 4096, "mem_total_bytes": memory, "mem_available_bytes": memory // 2, "cpus": cpus},
        "namespace": {"init_netns": not container, "proc_sys_writable": True, "container": container},
        "sysctl": sysctl, "counters": counters, "rates": {}, "sample_seconds": 0,
        "sysctl_unavailable": dict((key, GLOBAL_REASON) for key in sysctl
                                   if container and (key.startswith("fs.") or key == "net.ipv4.tcp_mem")),
        "sockstat": {"sockets_used": established + 200, "tcp": {"inuse": established, "orphan": 0, "tw": time_wait,
                                                                "alloc": established + 50, "mem_pages": 2000}},
        "files": {"allocated": rng.randint(2000, 90000), "max": sysctl["fs.file-max"], "nr_open": 1048576},
        "nofile": {"self": {"soft": 1024, "hard": 524288}},
        "conntrack": {"available": False},
        "interfaces": {"eth0": {"txqueuelen": 1000, "mtu": 1500, "speed_mbps": 10000, "duplex": "full",
                                "operstate": "up", "admin_up": True, "carrier": True, "virtual": False,
                                "qdisc": "mq", "qdisc_leaves": ["fq_codel"]}},
        "sockets": {"source": "netlink", "states": {"ESTABLISHED": established, "TIME_WAIT": time_wait,
                                                    "LISTEN": 12, "SYN_RECV": 0},
                    "listeners": [], "listening_ports": [22, 443], "local_ports_in_ephemeral_range": 0},
    }
    facts["findings"] = diagnosis_rules.diagnose(facts)
    return facts


def _written(plan):
    login = (plan.get("limits") or {}).get("login")
    if not login:
        return {}
    return {LIMITS_FILE: {"kind": "login", "unit": None, "soft": login.get("soft"), "hard": login.get("hard")}}


def result(rng, name, mode, status):
    """One host's tcp_tuning_result, as tcp_tune returns it for ``mode``, that the report calls ``status``."""
    (memory_gib, cpus, kernel, container) = _weighted(rng, HOST_CLASSES)
    workload = dict(_weighted(rng, WORKLOADS))
    if status != "unchanged" and workload["profile"] == "balanced":
        workload = {"profile": "proxy", "target_connections": 200000}  # a host the report calls changed has changes
    memory = memory_gib * GIB + rng.choice([0, -64, -128, -192]) * 1024 * 1024  # what firmware leaves differs
    facts = _facts(rng, memory, cpus, kernel, container)
    host = sizing_inputs.host_from_facts(facts)
    plan = sizing.compute_plan(host, workload)
    settings = dict(plan["sysctl"])
    before = dict(facts["sysctl"])
    if status == "unchanged":  # an earlier run applied the plan
        before.update((key, value) for key, value in settings.items())
    changed = [] if status == "unchanged" else [key for key in settings if str(before.get(key)) != str(settings[key])]
    after = dict(before)
    if mode != "audit":
        after.update(settings)
    drift = {}
    if status == "drift":
        key = sorted(settings)[0] if settings else "net.core.somaxconn"
        drift = {key: {"persisted": str(settings.get(key, "8192")), "live": "4096"}}
    keys = set(settings) | set(plan.get("skipped") or {})
    facts_after = dict(facts, sysctl=after)
    limits_changed = bool(_written(plan)) and status not in ("unchanged", "drift")
    verb = "would change" if mode == "audit" else "changed"
    return {
        "host": name, "mode": mode, "profile": workload["profile"], "kernel": kernel, "container": container,
        "components": ["sysctl", "limits", "txqueuelen"], "changed": bool(changed),
        "facts_before": tune.facts_view(facts, keys), "facts_after": tune.facts_view(facts_after, keys),
        "plan": tune.plan_view(plan), "settings": settings,
        "applied": {"changed": bool(changed), "changed_keys": changed,
                    "previous": dict((key, before.get(key)) for key in changed),
                    "applied": dict((key, after.get(key)) for key in settings), "drift": drift, "overridden_by": {},
                    "path": "/etc/sysctl.d/60-tcptune.conf", "file_changed": bool(changed)},
        "skipped": dict(plan.get("skipped") or {}),
        "limits": {"changed": limits_changed, "files": sorted(_written(plan)),
                   "changed_files": sorted(_written(plan)) if limits_changed else [], "written": _written(plan)},
        "txqueuelen": {"changed": False, "changed_interfaces": [], "previous": {}},
        "reverted": {}, "mismatches": {},
        "findings_before": facts["findings"], "findings_after": [] if mode == "apply" else facts["findings"],
        "limits_written": limits_changed, "daemon_reload_needed": False,
        "summary": ["%s: kernel %s, profile %s" % (mode, kernel, workload["profile"])]
        + ["finding [%s] %s: %s" % (f["severity"], f["id"], f["summary"]) for f in facts["findings"]]
        + ["sysctl %s: %s %s -> %s" % (verb, key, before.get(key), settings[key]) for key in changed],
    }


def _infeasible(rng, name):
    (memory_gib, cpus, kernel, dummy) = _weighted(rng, HOST_CLASSES)
    host = sizing_inputs.host_from_facts(None, {"memory_bytes": memory_gib * GIB, "cpus": cpus, "kernel_release": kernel})
    plan = sizing.compute_plan(host, {"profile": "high_concurrency_server",
                                      "target_connections": min(memory_gib * rng.choice([400000, 600000]), 50000000)})
    return {"task": "Refuse an infeasible plan", "plan": tune.plan_view(plan), "profile": "high_concurrency_server",
            "kernel": kernel, "message": "tcp_tuning: the target does not fit, nothing was changed: "
            + " ".join(plan["warnings"])}


def fleet(size, seed=14):
    """(results, failures, unreachable, play_hosts) for ``size`` hosts with every status present."""
    rng = random.Random(seed)
    results, failures, unreachable, play_hosts = {}, {}, {}, []
    cycle = (["tuned"] * 10 + ["unchanged"] * 6 + ["would change"] * 2
             + ["drift", "infeasible", "failed", "unreachable", "not reached"])
    first = ["tuned", "unchanged", "would change", "drift", "infeasible", "failed", "unreachable", "not reached"]
    width = max(3, len(str(size - 1)))
    for index in range(size):
        name = "host-%0*d.example.net" % (width, index)
        play_hosts.append(name)
        status = cycle[index % len(cycle)] if index >= len(first) else first[index]
        if status in ("tuned", "unchanged", "drift"):
            results[name] = result(rng, name, "apply", status)
        elif status == "would change":
            results[name] = result(rng, name, "audit", status)
        elif status == "infeasible":
            failures[name] = _infeasible(rng, name)
        elif status == "failed":
            failures[name] = {"task": "Apply every sysctl key in one call",
                              "message": "invalid settings, nothing was changed: net.ipv4.tcp_mem: the three "
                                         "values must not decrease"}
        elif status == "unreachable":
            unreachable[name] = "Failed to connect to the host via ssh: ssh: connect to host %s port 22: " \
                                "Connection timed out" % name
    return results, failures, unreachable, play_hosts
