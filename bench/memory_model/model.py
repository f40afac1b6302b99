"""Measured slab per socket against tcp_sizing's estimate (shared by memory_model and million)."""

import os
import platform
from typing import Any, Dict, Optional

from lib.playbook import module_utils  # bench/ is on sys.path (run.py of memory_model and million)

TOP_CACHES = 10


def sizing_plan(target_connections: int, sockets_per_connection: int = 2,
                facts: Optional[Dict[str, Any]] = None, **workload: Any) -> Dict[str, Any]:
    """tcp_sizing's plan for ``target_connections`` loopback connections (both ends here).

    ``facts`` is ``ansible_facts.tcp`` of the target; without it the host's own /proc is read
    (read only) so the kernel release and RAM are right.
    """
    sizing = module_utils("sizing")
    if facts is None:
        facts = host_facts()
    workload.update(target_connections=target_connections,
                    sockets_per_connection=sockets_per_connection)
    return sizing.compute_plan(sizing.host_from_facts(facts), workload)


def host_facts() -> Dict[str, Any]:
    """This host's tcp facts (read only); the kernel part alone if the full reader fails."""
    try:
        return module_utils("procfs").gather(sockets=False)
    except Exception:  # pylint: disable=broad-except
        with open("/proc/meminfo") as meminfo:
            mem_total = int(meminfo.readline().split()[1]) * 1024
        return {"kernel": {"release": platform.release(), "mem_total_bytes": mem_total,
                           "page_size": os.sysconf("SC_PAGE_SIZE"), "cpus": os.cpu_count()}}


def slab_delta(start: Dict[str, Any], end: Dict[str, Any]) -> Dict[str, Any]:
    """Slab growth between two holder snapshots, per TCP socket held (sockstat TCP inuse delta).

    Slab is host-wide, so sockets that other work on the machine opens or closes meanwhile move
    it too; ``slab_per_socket_host_wide`` divides by the host-wide TCP ``alloc`` delta instead.
    """
    sockets = end["sockstat"]["tcp"]["inuse"] - start["sockstat"]["tcp"]["inuse"]
    host_wide = end["sockstat"]["tcp"]["alloc"] - start["sockstat"]["tcp"]["alloc"]
    slab = end["meminfo"]["Slab"] - start["meminfo"]["Slab"]
    unreclaim = end["meminfo"]["SUnreclaim"] - start["meminfo"]["SUnreclaim"]
    caches = {}
    for name, size in end.get("slabinfo", {}).items():
        grown = size - start.get("slabinfo", {}).get(name, 0)
        if grown:
            caches[name] = grown
    top = sorted(caches.items(), key=lambda item: -item[1])[:TOP_CACHES]
    per = max(sockets, 1)
    return {"sockets": sockets, "sockets_host_wide": host_wide, "slab_bytes": slab,
            "slab_per_socket_host_wide": round(slab / max(host_wide, 1), 1), "sunreclaim_bytes": unreclaim,
            "slab_per_socket": round(slab / per, 1), "sunreclaim_per_socket": round(unreclaim / per, 1),
            "top_caches_per_socket": {name: round(size / per, 1) for name, size in top}}
