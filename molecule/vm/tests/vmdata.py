# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the VM scenario's playbooks recorded per guest (MOLECULE_EPHEMERAL_DIRECTORY), and the plan's
expectations derived from it, shared by test_1_tuned.py and test_2_reverted.py."""
import importlib
import json
import os
import sys

EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
GLOBAL_KEYS = ("fs.nr_open", "fs.epoll.max_user_watches", "net.core.netdev_max_backlog", "net.ipv4.tcp_mem")
SYSCTL_FILE = "/etc/sysctl.d/60-tcptune.conf"
# Files the role writes (limits.d, systemd drop-ins, txqueuelen persistence) and its state directory.
OUR_FILE_MARKERS = ("tcptune.conf", "60-tcptune", "tcptune-txqueuelen", "/var/lib/tcptune/")


def name_of(host):
    return getattr(host.backend, "host", None) or host.backend.get_hostname()


def load(kind, host):
    path = os.path.join(EPHEMERAL, "%s-%s.json" % (kind, name_of(host)))
    with open(path) as handle:
        return json.load(handle)


def text(kind, host, suffix="txt"):
    with open(os.path.join(EPHEMERAL, "%s-%s.%s" % (kind, name_of(host), suffix))) as handle:
        return handle.read()


def module_util(name):
    """A module_utils file of the checkout under test. They import each other, so each is imported as the
    collection: .cache/collections links ansible_collections/tcptune/linux to the checkout (tests/run-all.sh
    and `make collection` create it)."""
    collections = os.path.join(PROJECT, ".cache", "collections")
    if collections not in sys.path:
        sys.path.insert(0, collections)
    return importlib.import_module("ansible_collections.tcptune.linux.plugins.module_utils." + name)


def catalogue():
    """The collection's catalogue from the checkout under test."""
    return module_util("catalogue")


def kernel_version(release):
    """'6.1.0-50-amd64' -> (6, 1, 0), by the collection's own parser."""
    return module_util("kernel_release").parse_kernel_release(release)


def words(value):
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value).split())


def applied_settings(result):
    """{key: planned value as text} for every key the role applied (settings minus skipped)."""
    return dict((key, words(value)) for key, value in result["settings"].items() if key not in result["skipped"])


def parse_sysctl_file(content):
    pairs = [line.split("=", 1) for line in content.splitlines()
             if "=" in line and not line.lstrip().startswith(("#", ";"))]
    return dict((key.strip().lstrip("-"), words(value)) for key, value in pairs)


def planned_limits(result):
    """(login soft, login hard, service soft, service hard) the issue demands for this plan: logins keep
    soft 1024 (select()), services get soft = hard. Reads the plan's limits in either shape."""
    limits = result["plan"]["limits"]
    if "login" in limits:
        return (int(limits["login"]["soft"]), int(limits["login"]["hard"]),
                int(limits["services"]["soft"]), int(limits["services"]["hard"]))
    hard = int(limits["nofile_hard"])
    return min(1024, hard), hard, hard, hard


def explain_of(result, key):
    plan = result["plan"]
    return (plan.get("explain") or {}).get(key) or {}


def our_files(files):
    return sorted(path for path in files if any(marker in path for marker in OUR_FILE_MARKERS))
