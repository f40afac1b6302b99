"""Every plan of the fixture hosts and the seeds' hosts, as one JSON document: a restructure must leave it
byte-identical (issue 20).

    python3 tests/plan_snapshot.py --coll .cache/collections > after.json
    git archive REV | tar -x -C /tmp/rev/ansible_collections/tcptune/linux
    python3 tests/plan_snapshot.py --coll /tmp/rev > before.json && cmp before.json after.json

--coll is a directory holding ansible_collections/tcptune/linux (the revision under test); the fixtures are
always this checkout's tests/unit/fixtures, so both revisions plan from the same facts.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unit", "fixtures")
WORKLOADS = (
    {},
    {"profile": "high_concurrency_server", "target_connections": 1000000},
    {"profile": "high_concurrency_server", "target_connections": 100000, "busy_fraction": 1.0, "allow_lower": True},
    {"profile": "proxy", "accept_rate": 6000},
    {"profile": "outbound_client", "outbound_rate": 3000},
    {"profile": "bulk_transfer", "bandwidth_mbps": 10000, "rtt_ms": 40},
)
SEED_HOSTS = {
    "seed000": {"memory_bytes": 4 * 1024 ** 3, "kernel_release": "6.1.0-18-amd64"},
    "seed003": {"memory_bytes": 16 * 1024 ** 3, "kernel_release": "6.1.0-18-amd64"},
    "seed004": {"memory_bytes": 3922956 * 1024, "kernel_release": "6.1.0-18-amd64"},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--coll", required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.coll))
    from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
    from ansible_collections.tcptune.linux.plugins.module_utils import host_facts, sizing

    hosts = {}
    scratch = tempfile.mkdtemp()
    try:
        for name in sorted(os.listdir(os.path.join(FIXTURES, "proc"))):
            source = os.path.join(FIXTURES, "proc", name)
            if not os.path.isdir(source):
                continue
            proc_path = os.path.join(scratch, name, "proc")
            shutil.copytree(source, proc_path)
            sys_path = os.path.join(FIXTURES, "sys", name)
            facts = host_facts.gather(proc_path, sys_path if os.path.isdir(sys_path) else os.path.join(scratch, "none"),
                                      page_size=4096, sockets=False)
            hosts[name] = sizing_inputs.host_from_facts(facts)
    finally:
        shutil.rmtree(scratch)
    for name, overrides in SEED_HOSTS.items():
        hosts[name] = sizing_inputs.host_from_facts(None, overrides)
    plans = {}
    for name, host in sorted(hosts.items()):
        for index, workload in enumerate(WORKLOADS):
            try:
                plans["%s/%d" % (name, index)] = sizing.compute_plan(host, dict(workload))
            except Exception as exc:  # pylint: disable=broad-except  # an error is part of what must not change
                plans["%s/%d" % (name, index)] = "error: %s: %s" % (type(exc).__name__, exc)
    if len(plans) < 6 * len(WORKLOADS):
        sys.exit("only %d plans: fixtures missing?" % len(plans))
    sys.stdout.write(json.dumps(plans, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    main()
