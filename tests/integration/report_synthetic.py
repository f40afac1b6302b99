"""Synthetic fleet results for the report at scale: every status, several kernels, profiles and findings.

Deterministic (seeded). Shapes follow roles/tcp_tuning/tasks/report.yml and the sizing plan.
"""

import random

KEYS = {  # key -> (kernel default, planned)
    "net.core.somaxconn": (4096, 65535), "net.ipv4.tcp_max_syn_backlog": (1024, 65535),
    "net.ipv4.ip_local_port_range": ("32768 60999", "10240 65001"), "net.ipv4.tcp_fin_timeout": (60, 15),
    "net.ipv4.tcp_tw_reuse": (2, 1), "net.ipv4.tcp_rmem": ("4096 131072 6291456", "4096 131072 16777216"),
    "net.ipv4.tcp_wmem": ("4096 16384 4194304", "4096 16384 16777216"), "net.ipv4.tcp_keepalive_time": (7200, 600),
    "net.ipv4.tcp_keepalive_intvl": (75, 30), "net.ipv4.tcp_keepalive_probes": (9, 5),
    "net.ipv4.tcp_max_tw_buckets": (262144, 2000000), "net.ipv4.tcp_slow_start_after_idle": (1, 0),
    "net.ipv4.tcp_notsent_lowat": (4294967295, 131072), "net.ipv4.tcp_mtu_probing": (0, 1),
    "net.ipv4.tcp_synack_retries": (5, 3), "net.ipv4.tcp_syncookies": (1, 1),
}
GLOBAL = {"fs.file-max": "global key: set it on the host (a container cannot set it for itself)",
          "net.core.rmem_max": "global key: set it on the host (a container cannot set it for itself)"}
FINDINGS = [("listen_queue_overflow", "critical", "accept queue overflowed 1200 times",
             {"ListenOverflows": 1200}, "raise net.core.somaxconn and the listen() backlog"),
            ("ephemeral_ports_low", "warning", "82 % of the ephemeral ports in use",
             {"ports_in_use": 23400, "ports": 28232}, "widen net.ipv4.ip_local_port_range"),
            ("time_wait_many", "info", "many TIME_WAIT sockets", {"TIME_WAIT": 40000}, "enable tcp_tw_reuse"),
            ("tcp_memory_pressure", "critical", "TCP memory pressure entered 14 times",
             {"TCPMemoryPressures": 14}, "raise net.ipv4.tcp_mem")]
KERNELS = ["6.1.0-28-amd64", "6.12.9-amd64", "5.10.0-33-amd64", "6.18.44-cloud"]
PROFILES = ["proxy", "web", "client", "broker"]


def _explain(key, planned):
    return {"value": planned, "formula": "max(current, target_connections / accept_window) for %s" % key,
            "inputs": {"target_connections": 200000, "accept_rate": 6000}, "kernel_default": KEYS[key][0],
            "source": "facts §3"}


def result(rng, name, mode, status):
    kernel, profile = rng.choice(KERNELS), rng.choice(PROFILES)
    findings = [dict(zip(("id", "severity", "summary", "evidence", "recommendation"), f))
                for f in FINDINGS if rng.random() < 0.25]
    planned = dict((k, v[1]) for k, v in KEYS.items())
    if rng.random() < 0.05:
        planned["net.core.somaxconn"] = 32768  # an outlier
    before = dict((k, v[0]) for k, v in KEYS.items())
    changed = [] if status == "unchanged" else [k for k in KEYS if str(before[k]) != str(planned[k])]
    if status == "unchanged":
        before = dict(planned)
    after = dict(before) if mode == "audit" else dict(planned)
    drift = {}
    if status == "drift":
        drift = {"net.core.somaxconn": {"persisted": "65535", "live": "4096"}}
    return {
        "host": name, "mode": mode, "profile": profile, "kernel": kernel, "container": False,
        "facts_before": {"sysctl": before,
                         "sockets": {"states": {"ESTABLISHED": rng.randint(0, 90000), "TIME_WAIT": rng.randint(0, 40000)}},
                         "interfaces": {"eth0": {"txqueuelen": 1000}}},
        "facts_after": {"sysctl": after, "interfaces": {"eth0": {"txqueuelen": 1000 if mode == "audit" else 10000}}},
        "plan": {"feasible": True, "warnings": [], "sysctl": planned,
                 "explain": dict((k, _explain(k, planned[k])) for k in KEYS),
                 "changes": [{"key": k, "before": before[k], "planned": planned[k],
                              "reason": "target_connections=200000" if i % 2 else "finding listen_queue_overflow"}
                             for i, k in enumerate(changed)],
                 "limits": {"login": {"soft": 1024, "hard": 524288}, "services": {"soft": 524288, "hard": 524288},
                            "nr_open": 1048576, "file_max": 9223372036854775807},
                 "txqueuelen": {"eth0": 10000}},
        "settings": planned,
        "applied": {"changed_keys": changed, "previous": dict((k, before[k]) for k in changed), "drift": drift},
        "skipped": dict(GLOBAL),
        "limits": {"changed": status != "unchanged", "changed_files": ["/etc/security/limits.d/60-tcptune.conf"]},
        "txqueuelen": {"changed": status != "unchanged", "changed_interfaces": ["eth0"] if status != "unchanged" else [],
                       "previous": {"eth0": 1000}},
        "findings_before": findings, "findings_after": [],
    }


def fleet(size, seed=14):
    """(results, failures, unreachable, play_hosts) for ``size`` hosts with every status present."""
    rng = random.Random(seed)
    results, failures, unreachable, play_hosts = {}, {}, {}, []
    cycle = (["tuned"] * 10 + ["unchanged"] * 6 + ["would change"] * 2
             + ["drift", "infeasible", "failed", "unreachable", "not reached"])
    first = ["tuned", "unchanged", "would change", "drift", "infeasible", "failed", "unreachable", "not reached"]
    for index in range(size):
        name = "host-%03d.example.net" % index
        play_hosts.append(name)
        status = cycle[index % len(cycle)] if index >= len(first) else first[index]
        if status in ("tuned", "unchanged", "drift"):
            results[name] = result(rng, name, "apply", status)
        elif status == "would change":
            results[name] = result(rng, name, "audit", status)
        elif status == "infeasible":
            failures[name] = {"task": "Refuse an infeasible plan", "message": "does not fit",
                              "plan": {"feasible": False, "warnings": ["infeasible: 2000000 connections x 1 sockets"],
                                       "memory_estimate": {"sockets": 2000000, "total_bytes": 20 << 30,
                                                           "ram_bytes": 8 << 30, "per_socket_bytes": 4700}}}
        elif status == "failed":
            failures[name] = {"task": "Apply every sysctl key in one call",
                              "message": "invalid settings, nothing was changed: net.ipv4.tcp_mem: the three "
                                         "values must not decrease"}
        elif status == "unreachable":
            unreachable[name] = "Failed to connect to the host via ssh: Connection timed out"
    return results, failures, unreachable, play_hosts
