# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each key is sized, and in which order: the one rule registry.

A catalogue row names its rule (``catalogue.get(key).rule``), a name in ``RULES``; ``REGISTRY`` is the
order the plan runs them in. The rules live by family: rules_memory (tcp_mem, buffers), rules_queues
(backlogs, txqueuelen), rules_ports (ports and TIME_WAIT), rules_files (descriptors, epoll),
rules_conntrack; they share sizing_policy (reasons, never lower, explain) and sizing_memory (the memory
model).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue
from ansible_collections.tcptune.linux.plugins.module_utils.rules_conntrack import rule_conntrack
from ansible_collections.tcptune.linux.plugins.module_utils.rules_files import rule_epoll_watches, rule_files
from ansible_collections.tcptune.linux.plugins.module_utils.rules_memory import (
    rule_core_mem_max, rule_socket_buffers, rule_tcp_mem)
from ansible_collections.tcptune.linux.plugins.module_utils.rules_ports import (
    rule_port_range, rule_reserved_ports, rule_tw_buckets, rule_tw_reuse)
from ansible_collections.tcptune.linux.plugins.module_utils.rules_queues import rule_backlogs, rule_txqueuelen

# The one registry: every rule, in the order the plan runs them, with the keys a per-key rule is called
# for (None: the rule takes only ctx). A catalogue row's ``rule`` is a name here; RULES is the lookup.
REGISTRY = (
    (rule_tcp_mem, None),
    (rule_socket_buffers, ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")),
    (rule_core_mem_max, ("net.core.rmem_max", "net.core.wmem_max")),
    (rule_backlogs, None),
    (rule_reserved_ports, None),
    (rule_tw_reuse, None),
    (rule_port_range, None),
    (rule_tw_buckets, None),
    (rule_conntrack, None),
    (rule_files, None),
    (rule_epoll_watches, None),
    (rule_txqueuelen, None),
)
RULES = dict((rule.__name__, rule) for rule, _keys in REGISTRY)


def run_rules(ctx):
    """Every registered rule, in REGISTRY order."""
    for rule, keys in REGISTRY:
        if keys is None:
            rule(ctx)
        else:
            for key in keys:
                rule(ctx, key)


def rule_for(key):
    """The function that sizes ``key`` (catalogue row -> RULES), or None when the plan never sets it."""
    name = catalogue.get(key).rule
    return RULES[name] if name else None
