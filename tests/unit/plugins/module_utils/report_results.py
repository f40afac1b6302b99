# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host results in the shape tcp_tune returns, and page helpers, shared by the report tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils import report_html

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def host_result(mode="apply", container=True, changed=True, drift=None, overridden_by=None):
    return {
        "host": "web1", "mode": mode, "profile": "proxy", "kernel": "6.1.0-28-amd64", "container": container,
        "facts_before": {"sysctl": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 6291456]},
                         "sockets": {"states": {"ESTABLISHED": 120, "TIME_WAIT": 3400}},
                         "interfaces": {"eth0": {"txqueuelen": 1000}}},
        "facts_after": {"sysctl": {"net.core.somaxconn": 65535, "net.ipv4.tcp_rmem": [4096, 131072, 16777216]},
                        "interfaces": {"eth0": {"txqueuelen": 10000}}},
        "plan": {"feasible": True, "warnings": ["raise the listen() backlog of the application too"],
                 "sysctl": {"net.core.somaxconn": 65535, "net.ipv4.tcp_rmem": "4096 131072 16777216"},
                 "changes": [{"key": "net.core.somaxconn", "before": 4096, "planned": 65535,
                              "reason": "accept_rate=6000 x 1 s"}],
                 "explain": {"net.ipv4.tcp_rmem": {"value": [4096, 131072, 16777216], "formula": "bdp x 2",
                                                   "inputs": {"rtt_ms": 40}, "kernel_default": [4096, 131072, 6291456],
                                                   "source": "facts §4"},
                             "txqueuelen.eth0": {"inputs": {"reason": "sized from speed"}}},
                 "limits": {"login": {"soft": 1024, "hard": 524288}, "services": {"soft": 524288, "hard": 524288},
                            "nr_open": 1048576, "file_max": 2000000},
                 "txqueuelen": {"eth0": 10000, "veth1": None}},
        "settings": {"net.core.somaxconn": "65535", "net.ipv4.tcp_rmem": "4096 131072 16777216"},
        "applied": {"changed_keys": ["net.core.somaxconn", "net.ipv4.tcp_rmem"] if changed else [],
                    "previous": {"net.core.somaxconn": 4096, "net.ipv4.tcp_rmem": [4096, 131072, 6291456]}
                    if changed else {},
                    "drift": drift or {}, "overridden_by": overridden_by or {}},
        "skipped": {"fs.file-max": "global key: set it on the host (a container cannot set it for itself)"},
        "limits": {"changed": changed, "changed_files": ["/etc/security/limits.d/60-tcptune.conf"]},
        "txqueuelen": {"results": [{"changed": changed, "changed_interfaces": ["eth0"] if changed else [],
                                    "previous": {"eth0": 1000} if changed else {}}]},
        "findings_before": [
            {"id": "listen_queue_overflow", "severity": "critical", "summary": "accept queue <full>",
             "evidence": {"ListenOverflows": 1200}, "recommendation": "raise net.core.somaxconn"},
        ],
        "findings_after": [],
        "mismatches": {},
    }


def status_of(report, host):
    return dict((h["host"], (h["status"], h["reason"])) for h in report["hosts"])[host]


def page_parts(page):
    """(markup, data, script) of a report page: the data is the JSON element the script reads."""
    markup, rest = page.split('<script type="application/json" id="%s">' % report_html.DATA_ID, 1)
    data, script = rest.split("</script>", 1)
    return markup, json.loads(data), script


def page_details(data, index):
    """A host's details as the page's script joins them."""
    return "".join(data["fragments"][number] for number in data["details"][data["hosts"][index][7]])


LOGIN_FILE = "/etc/security/limits.d/60-tcptune-nofile.conf"
DEFAULT_FILE = "/etc/systemd/system.conf.d/60-tcptune-nofile.conf"
NGINX_FILE = "/etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf"


def limits_result(registered, container=False, self_nofile=None, changed=False):
    """A host whose plan sizes nofile 221184 (login soft 1024, services soft = hard) and whose
    nofile_limits result is ``registered``."""
    result = host_result(container=container, changed=changed)
    result["plan"]["limits"] = {"login": {"soft": 1024, "hard": 221184}, "services": {"soft": 221184, "hard": 221184},
                                "nr_open": 1048576, "file_max": 2000000}
    result["limits"] = registered
    if self_nofile is not None:
        result["facts_before"]["nofile"] = {"self": self_nofile}
    return result


def infeasible_plan():
    from ansible_collections.tcptune.linux.plugins.module_utils import sizing, sizing_inputs
    host = sizing_inputs.host_from_facts(None, {"memory_bytes": 4 * 1024 ** 3, "kernel_release": "6.18.44"})
    return sizing.compute_plan(host, {"profile": "high_concurrency_server", "target_connections": 1000000})
