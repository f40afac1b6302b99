"""Measured slab per socket against tcp_sizing's estimate (shared by memory_model and million)."""

import json
import os
import platform
import subprocess
import sys
import tempfile
from typing import Any, Dict, Optional

from lib.playbook import module_utils  # bench/ is on sys.path (run.py of memory_model and million)

TOP_CACHES = 10


def sizing_plan(target_connections: int, sockets_per_connection: int = 2,
                facts: Optional[Dict[str, Any]] = None, **workload: Any) -> Dict[str, Any]:
    """tcp_sizing's plan for ``target_connections`` loopback connections (both ends here).

    ``facts`` is ``ansible_facts.tcp`` of the target; without it the host's own /proc is read
    (read only) so the kernel release and RAM are right.
    """
    sizing, sizing_inputs = module_utils("sizing"), module_utils("sizing_inputs")
    if facts is None:
        facts = host_facts()
    workload.update(target_connections=target_connections,
                    sockets_per_connection=sockets_per_connection)
    return sizing.compute_plan(sizing_inputs.host_from_facts(facts), workload)


def plan_at_revision(revision: str, facts: Dict[str, Any], workload: Dict[str, Any]) -> Dict[str, Any]:
    """The plan that plugins/module_utils of git ``revision`` makes for ``facts`` and ``workload``: how
    an earlier version judged the same host (run in a child Python, from ``git archive``)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); from ansible_collections.tcptune.linux.plugins."
              "module_utils import sizing, sizing_inputs; given = json.load(sys.stdin); print(json.dumps(sizing.compute_plan("
              "sizing_inputs.host_from_facts(given['facts']), given['workload'])))")
    with tempfile.TemporaryDirectory(prefix="bench-rev-") as tmp:
        target = os.path.join(tmp, "ansible_collections", "tcptune", "linux")
        os.makedirs(target)
        archive = subprocess.run(["git", "-C", repo, "archive", revision, "plugins/module_utils"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
        given = json.dumps({"facts": facts, "workload": workload})
        done = subprocess.run([sys.executable, "-c", script, tmp], input=given, capture_output=True, text=True,
                              check=True)
    return json.loads(done.stdout)


def host_facts() -> Dict[str, Any]:
    """This host's tcp facts (read only); the kernel part alone if the full reader fails."""
    try:
        return module_utils("host_facts").gather(sockets=False)
    except Exception:  # pylint: disable=broad-except
        with open("/proc/meminfo") as meminfo:
            mem_total = int(meminfo.readline().split()[1]) * 1024
        return {"kernel": {"release": platform.release(), "mem_total_bytes": mem_total,
                           "page_size": os.sysconf("SC_PAGE_SIZE"), "cpus": os.cpu_count()}}


def slab_delta(start: Dict[str, Any], end: Dict[str, Any], sockets: Optional[int] = None) -> Dict[str, Any]:
    """Memory growth between two holder/conns snapshots, per TCP socket held.

    ``sockets``: the sockets the benchmark itself counts (accepted, connected); by default the
    sockstat TCP inuse delta of the snapshots' namespace. Slab and MemAvailable are kernel-wide,
    so sockets that other work opens or closes meanwhile move them too; ``slab_per_socket_host_wide``
    divides by the kernel-wide TCP ``alloc`` delta instead. Per cache: active objects x object size
    from /proc/slabinfo (root only), the largest ``TOP_CACHES``.
    """
    inuse = end["sockstat"]["tcp"]["inuse"] - start["sockstat"]["tcp"]["inuse"]
    sockets = inuse if sockets is None else sockets
    host_wide = end["sockstat"]["tcp"]["alloc"] - start["sockstat"]["tcp"]["alloc"]
    slab = end["meminfo"]["Slab"] - start["meminfo"]["Slab"]
    unreclaim = end["meminfo"]["SUnreclaim"] - start["meminfo"]["SUnreclaim"]
    available = start["meminfo"].get("MemAvailable", 0) - end["meminfo"].get("MemAvailable", 0)
    caches = {}
    for name, size in end.get("slabinfo", {}).items():
        grown = size - start.get("slabinfo", {}).get(name, 0)
        if grown:
            caches[name] = grown
    top = sorted(caches.items(), key=lambda item: -item[1])[:TOP_CACHES]
    per = max(sockets, 1)
    return {"sockets": sockets, "sockstat_inuse_delta": inuse, "sockets_host_wide": host_wide, "slab_bytes": slab,
            "slab_per_socket_host_wide": round(slab / max(host_wide, 1), 1), "sunreclaim_bytes": unreclaim,
            "slab_per_socket": round(slab / per, 1), "sunreclaim_per_socket": round(unreclaim / per, 1),
            "memavailable_drop_bytes": available, "memavailable_per_socket": round(available / per, 1),
            "tcp_mem_pages_delta": end["sockstat"]["tcp"]["mem"] - start["sockstat"]["tcp"]["mem"],
            "top_caches_per_socket": {name: round(size / per, 1) for name, size in top}}
