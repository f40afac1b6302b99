"""The process the benchmark times: tcp_facts' gather() from a tiny entry point.

    python3 -I -S cli.py [--no-sockets] [--proc-fallback] [--coll DIR]

It imports only the collection's module_utils (no ansible), runs host_facts.gather() as the module
does, and prints one line of per-state counts and the finding ids. -I -S keep Python's own start
small (no site, no user paths); the collection is found through --coll (default /opt/coll).
"""

import sys

args = sys.argv[1:]
coll = args[args.index("--coll") + 1] if "--coll" in args else "/opt/coll"
sys.path.insert(0, coll)

from ansible_collections.tcptune.linux.plugins.module_utils import host_facts, sockdiag  # noqa: E402

if "--proc-fallback" in args:
    def _no_netlink(port_range, listeners_max=100, established=None, timewait=None):
        raise OSError(93, "netlink disabled for the benchmark")
    sockdiag.summarize_netlink = _no_netlink

facts = host_facts.gather(sockets="--no-sockets" not in args)
sockets = facts["sockets"]
sys.stdout.write("%s total=%d %r findings=%s\n" % (
    sockets["source"], sockets["total"], sorted((k, v) for k, v in sockets["states"].items() if v),
    ",".join(finding["id"] for finding in facts["findings"])))
