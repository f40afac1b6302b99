# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogue rows and what a row says by itself: scope, presence, order, the rule that sizes it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_checks, catalogue_values, sizing_inputs


def test_unknown_key_is_named():
    with pytest.raises(KeyError, match="net.ipv4.tcp_nonsense"):
        catalogue.get("net.ipv4.tcp_nonsense")


def test_nr_open_is_applied_before_file_max_and_everything_else():
    names = catalogue.ordered(["net.core.somaxconn", "fs.file-max", "net.ipv4.tcp_mem", "fs.nr_open"])
    assert names[:2] == ["fs.nr_open", "fs.file-max"]


def test_scope_follows_kernel_version():
    rmem = catalogue.get("net.ipv4.tcp_rmem")
    assert catalogue.scope_on(rmem, (4, 14, 0)) == catalogue.GLOBAL
    assert catalogue.scope_on(rmem, (4, 15, 0)) == catalogue.NETNS
    assert catalogue.scope_on(catalogue.get("net.ipv4.tcp_mem"), (6, 18, 0)) == catalogue.GLOBAL
    assert catalogue.scope_on(catalogue.get("net.core.somaxconn"), (3, 10, 0)) == catalogue.NETNS


def test_absent_reason_order_and_wording():
    recycle = catalogue.get("net.ipv4.tcp_tw_recycle")
    assert "removed in Linux 4.12" in catalogue.absent_reason(recycle, (5, 10, 0), True)
    assert catalogue.absent_reason(recycle, (4, 9, 0), True) is None
    tcp_mem = catalogue.get("net.ipv4.tcp_mem")
    assert catalogue.absent_reason(tcp_mem, (6, 18, 0), True) is None
    assert catalogue.absent_reason(tcp_mem, (6, 18, 0), False).startswith("global key: set it on the host")
    delay = catalogue.get("net.ipv4.tcp_tw_reuse_delay")
    assert "appeared in Linux 6.14" in catalogue.absent_reason(delay, (6, 1, 0), True)


def test_every_row_is_consistent():
    for name, key in catalogue.CATALOGUE.items():
        assert key.name == name
        assert key.shape in (catalogue.INT, catalogue.PAIR, catalogue.TRIPLE, catalogue.TEXT)
        assert key.minimum <= key.maximum, name
        assert key.netns_since is None or isinstance(key.netns_since, tuple)
        assert catalogue.proc_relpath(name).count("/") == name.count(".")


# --- where is this sized? (one step from the row) -------------------------------------------------


def test_every_rule_name_resolves_and_every_sized_key_has_a_kernel_default():
    from ansible_collections.tcptune.linux.plugins.module_utils import rules_memory, sizing_rules
    host = {"memory_bytes": 8 * 1024 ** 3, "page_size": 4096, "kernel": (6, 1, 0)}
    for name, key in catalogue.CATALOGUE.items():
        if key.rule is not None:
            assert key.rule in sizing_rules.RULES, name
            assert sizing_rules.rule_for(name) is sizing_rules.RULES[key.rule]
            assert key.kernel_default is not None, name
        if key.kernel_default is not None:
            default = key.kernel_default(host)
            assert catalogue_checks.validation_errors(key, catalogue_values.coerce_value(key, default), (6, 1, 0)) == [], name
    assert catalogue.get("net.ipv4.tcp_mem").rule == "rule_tcp_mem"
    assert sizing_rules.rule_for("net.ipv4.tcp_mem") is rules_memory.rule_tcp_mem
    assert catalogue.get("net.ipv4.tcp_mem").kernel_default(host) == [98304, 131072, 196608]  # 2097152 pages / 16


@pytest.mark.parametrize("name, kernel, present", [
    ("net.ipv4.tcp_tw_recycle", (4, 11, 0), True),
    ("net.ipv4.tcp_tw_recycle", (4, 12, 0), False),
    ("net.ipv4.tcp_tw_reuse_delay", (6, 13, 9), False),
    ("net.ipv4.tcp_tw_reuse_delay", (6, 14, 0), True),
    ("net.core.somaxconn", (3, 10, 0), True),
])
def test_exists_on_follows_since_and_removed(name, kernel, present):
    key = catalogue.get(name)
    assert catalogue.exists_on(key, kernel) is present
    assert (catalogue.absent_reason(key, kernel, True) is None) is present


def test_every_policy_row_describes_the_kernel_range():
    for name, row in catalogue.CATALOGUE.items():
        if row.policy:
            assert row.kernel_range or row.kernel_text, name
        if row.kernel_range:
            low, high = row.kernel_range
            assert low <= row.minimum <= row.maximum <= high, name  # never wider than the kernel


def test_every_registered_rule_runs_once_per_key_in_registry_order(monkeypatch):
    """One registry gives the lookup and the order (structure review of cc78c24: a rule in RULES but not in
    ORDER silently never ran). Every rule runs, in REGISTRY order, per-key rules once per key."""
    from ansible_collections.tcptune.linux.plugins.module_utils import sizing, sizing_rules
    calls = []
    registry = []
    original = sizing_rules.REGISTRY
    for rule, keys in original:
        def spy(ctx, key=None, _rule=rule):
            calls.append((_rule.__name__, key))
            return _rule(ctx, key) if key is not None else _rule(ctx)
        registry.append((spy, keys))
    monkeypatch.setattr(sizing_rules, "REGISTRY", tuple(registry))
    plan = sizing.compute_plan(sizing_inputs.host_from_facts(None, {"memory_bytes": 16 * 1024 ** 3, "kernel_release": "6.1.0"}),
                               {"profile": "proxy"})
    assert plan["feasible"] is True
    expected = [(rule.__name__, key) for rule, keys in original for key in (keys or (None,))]
    assert calls == expected
    assert sorted(set(name for name, _key in calls)) == sorted(sizing_rules.RULES)
    rows = set(row.rule for row in catalogue.CATALOGUE.values() if row.rule)
    assert rows <= set(sizing_rules.RULES)
