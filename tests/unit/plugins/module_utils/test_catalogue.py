# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import catalogue


@pytest.mark.parametrize("release, expected", [
    ("6.18.44-fc-v657", (6, 18, 44)),
    ("4.19.0-27-amd64", (4, 19, 0)),
    ("3.10.0-1160.el7.x86_64", (3, 10, 0)),
    ("5.15", (5, 15, 0)),
    ("garbage", (0, 0, 0)),
])
def test_parse_kernel_release(release, expected):
    assert catalogue.parse_kernel_release(release) == expected


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


@pytest.mark.parametrize("name, text, parsed", [
    ("net.ipv4.tcp_mem", "287901\t383869\t575802\n", [287901, 383869, 575802]),
    ("net.ipv4.ip_local_port_range", "32768\t60999", [32768, 60999]),
    ("net.core.somaxconn", "4096\n", 4096),
    ("net.ipv4.tcp_congestion_control", " cubic \n", "cubic"),
])
def test_parse_and_format_round_trip(name, text, parsed):
    key = catalogue.get(name)
    assert catalogue.parse_value(key, text) == parsed
    assert catalogue.parse_value(key, catalogue.format_value(key, parsed)) == parsed


def test_tabs_and_spaces_compare_equal_after_parsing():
    key = catalogue.get("net.ipv4.tcp_rmem")
    assert catalogue.parse_value(key, "4096\t131072\t33554432") == catalogue.coerce_value(key, "4096 131072 33554432")


@pytest.mark.parametrize("name, value, message", [
    ("net.ipv4.tcp_mem", "1 2", "expected three integers"),
    ("net.core.somaxconn", "many", "expected one integer"),
    ("net.ipv4.ip_local_port_range", [1, 2, 3], "expected two integers"),
])
def test_coerce_rejects_wrong_shapes_naming_the_key(name, value, message):
    with pytest.raises(ValueError) as error:
        catalogue.coerce_value(catalogue.get(name), value)
    assert name in str(error.value) and message in str(error.value)


def test_bool_input_becomes_int():
    assert catalogue.coerce_value(catalogue.get("net.ipv4.tcp_slow_start_after_idle"), False) == 0


@pytest.mark.parametrize("name, value, rule", [
    ("net.ipv4.tcp_mem", [300, 200, 400], "must not decrease"),
    ("net.ipv4.ip_local_port_range", [1000, 65000], "outside the accepted range 1024..65535"),
    ("net.ipv4.ip_local_port_range", [40000, 30000], "low must be below high"),
    ("net.ipv4.tcp_tw_reuse", 3, "outside the accepted range 0..2"),
    ("net.ipv4.tcp_tw_recycle", 1, "refused, tcp_tw_recycle drops connections from clients behind NAT"),
    ("net.ipv4.ip_local_reserved_ports", "8080,9000-8999", "low before high"),
    ("net.ipv4.ip_local_reserved_ports", "8080;9000", "is not a port"),
])
def test_validation_names_key_and_rule(name, value, rule):
    errors = catalogue.validation_errors(catalogue.get(name), value)
    assert errors and all(error.startswith(name + ":") for error in errors)
    assert any(rule in error for error in errors)


def test_valid_values_pass():
    assert catalogue.validation_errors(catalogue.get("net.ipv4.tcp_mem"), [287901, 383869, 575802]) == []
    assert catalogue.validation_errors(catalogue.get("net.ipv4.ip_local_reserved_ports"), "8080,9000-9100") == []
    assert catalogue.validation_errors(catalogue.get("net.ipv4.tcp_tw_recycle"), 0, (4, 9, 0)) == []


def test_tw_recycle_on_new_kernel_names_the_removal():
    errors = catalogue.validation_errors(catalogue.get("net.ipv4.tcp_tw_recycle"), 0, (4, 12, 0))
    assert errors == ["net.ipv4.tcp_tw_recycle: removed in Linux 4.12, this host runs 4.12.0"]


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
            assert catalogue.validation_errors(key, catalogue.coerce_value(key, default), (6, 1, 0)) == [], name
    assert catalogue.get("net.ipv4.tcp_mem").rule == "rule_tcp_mem"
    assert sizing_rules.rule_for("net.ipv4.tcp_mem") is rules_memory.rule_tcp_mem
    assert catalogue.get("net.ipv4.tcp_mem").kernel_default(host) == [98304, 131072, 196608]  # 2097152 pages / 16


@pytest.mark.parametrize("text, canonical", [
    ("8080,8081,8082", "8080-8082"),
    ("9000-9010,9005-9020", "9000-9020"),
    ("9010, 8080 ,1", "1,8080,9010"),
    ("8080-8081,8082", "8080-8082"),
    ("", ""),
])
def test_reserved_ports_coerce_to_the_kernel_form(text, canonical):
    # what proc_do_large_bitmap reads back (checked live in tests/integration/test_canonical_netns.py)
    assert catalogue.coerce_value(catalogue.get("net.ipv4.ip_local_reserved_ports"), text) == canonical


def test_somaxconn_maximum_depends_on_the_kernel():
    row = catalogue.get("net.core.somaxconn")
    assert catalogue.validation_errors(row, 131072, (4, 1, 0)) == []
    assert "on kernels before 4.1" in catalogue.validation_errors(row, 131072, (3, 10, 0))[0]


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


# --- the validator matches the kernel (review 2026-12-03, defects 9 and 14) --------------------------

def test_min_above_default_is_the_kernels_own_tcp_wmem_and_passes():
    # defect 9: tcp_init() sets tcp_wmem[0] = PAGE_SIZE and [1] = 16384, so a 64 KiB-page kernel boots with
    # 65536 16384 4194304; proc_dointvec_minmax (extra1 SYSCTL_ONE) checks no order
    row = catalogue.get("net.ipv4.tcp_wmem")
    assert catalogue.validation_errors(row, [65536, 16384, 4194304], (6, 18, 0)) == []
    assert catalogue.validation_errors(row, [65536, 16384, 4194304], (6, 18, 0), page_size=65536) == []
    # default above max stays refused, and the message says it is our policy, not the kernel's
    errors = catalogue.validation_errors(row, [4096, 87380, 65536], (6, 18, 0))
    assert len(errors) == 1 and "a policy rule of tcptune.linux" in errors[0]
    assert "the kernel accepts the three values in any order" in errors[0]


def test_tw_reuse_delay_above_tcp_paws_msl_is_refused():
    # defect 14a: tcp_tw_reuse_delay_max = TCP_PAWS_MSL * MSEC_PER_SEC; 60001 gives EINVAL
    row = catalogue.get("net.ipv4.tcp_tw_reuse_delay")
    assert catalogue.validation_errors(row, 60000, (6, 14, 0)) == []
    errors = catalogue.validation_errors(row, 60001, (6, 14, 0))
    assert errors == ["net.ipv4.tcp_tw_reuse_delay: 60001 is outside the accepted range 1..60000"]


AVAILABLE = "reno cubic bbr"
ALLOWED = "reno bbr"


def test_cubic_is_refused_in_a_child_netns_when_not_allowed():
    # defect 14b: tcp_set_default_congestion_control() gives EPERM outside init_net for a restricted algorithm
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    context = catalogue.validation_context(init_netns=False, available_congestion_control=AVAILABLE,
                                           allowed_congestion_control=ALLOWED)
    errors = catalogue.validation_errors(row, "cubic", (6, 18, 0), context=context)
    assert len(errors) == 1 and errors[0].startswith("net.ipv4.tcp_congestion_control: 'cubic' is not in")
    assert "tcp_allowed_congestion_control (reno bbr)" in errors[0] and "EPERM" in errors[0]
    assert catalogue.validation_errors(row, "bbr", (6, 18, 0), context=context) == []


def test_cubic_is_accepted_in_the_init_netns_when_available():
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    context = catalogue.validation_context(init_netns=True, available_congestion_control=AVAILABLE,
                                           allowed_congestion_control=ALLOWED)
    assert catalogue.validation_errors(row, "cubic", (6, 18, 0), context=context) == []


def test_unknown_congestion_control_is_refused_when_the_available_list_is_known():
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    context = catalogue.validation_context(init_netns=True, available_congestion_control=AVAILABLE.split())
    errors = catalogue.validation_errors(row, "vegas", (6, 18, 0), context=context)
    assert len(errors) == 1 and "'vegas' is not in net.ipv4.tcp_available_congestion_control" in errors[0]
    # with no list known, any single name passes as before
    assert catalogue.validation_errors(row, "vegas", (6, 18, 0), context=catalogue.validation_context()) == []


@pytest.mark.parametrize("name", ["", "cubic bbr", "a_name_of_16chars"])
def test_congestion_control_names_the_kernel_cannot_hold_are_refused(name):
    # proc_dostring keeps at most TCP_CA_NAME_MAX - 1 = 15 characters; an empty name is ENOENT
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    errors = catalogue.validation_errors(row, name, (6, 18, 0), context=catalogue.validation_context())
    assert len(errors) == 1 and errors[0].startswith("net.ipv4.tcp_congestion_control:")


@pytest.mark.parametrize("value, page_size, rule", [
    (268435456, 4096, "outside the accepted range 1024..268435455; the kernel refuses it too"),
    (268435455, 4096, "is not a multiple of 512"),
    (4096, 65536, "is not a multiple of 8192 (PAGE_SIZE 65536 / 8-byte bucket heads): the kernel would round "
                  "it up to 8192"),
    (1000000, 4096, "round it up to 1000448"),
])
def test_conntrack_buckets_the_kernel_refuses_or_rewrites_are_refused(value, page_size, rule):
    # defect 14c: nf_ct_alloc_hashtable() fails above INT_MAX / 8 and rounds up to a multiple of PAGE_SIZE / 8
    row = catalogue.get("net.netfilter.nf_conntrack_buckets")
    errors = catalogue.validation_errors(row, value, (6, 18, 0), page_size=page_size)
    assert len(errors) == 1 and rule in errors[0], errors


@pytest.mark.parametrize("value, page_size", [(268434944, 4096), (262144, 4096), (8192, 65536), (1024, 4096)])
def test_conntrack_buckets_the_kernel_keeps_pass(value, page_size):
    row = catalogue.get("net.netfilter.nf_conntrack_buckets")
    assert catalogue.validation_errors(row, value, (6, 18, 0), page_size=page_size) == []


@pytest.mark.parametrize("name, value, kernel_accepts", [
    ("net.core.somaxconn", 100, "the kernel accepts 0..2147483647"),
    ("net.core.optmem_max", 0, "the kernel accepts 0..2147483647"),
    ("net.ipv4.tcp_rmem", [1024, 131072, 6291456], "the kernel accepts 1..2147483647"),
    ("net.ipv4.tcp_mtu_probing", 3, "the kernel accepts 0..255"),
    ("net.ipv4.tcp_notsent_lowat", 0, "the kernel accepts 0..4294967295"),
    ("net.ipv4.tcp_slow_start_after_idle", 2, "the kernel accepts 0..255"),
    ("net.ipv4.tcp_max_syn_backlog", -1, "the kernel accepts -2147483648..2147483647"),
    ("net.ipv4.tcp_synack_retries", 0, "the kernel accepts 0..255"),
    ("net.ipv4.tcp_syncookies", 3, "the kernel accepts 0..255"),
    ("net.ipv4.tcp_timestamps", 3, "the kernel accepts 0..255"),
    ("net.ipv4.tcp_fin_timeout", 601, "the kernel accepts -INT_MAX/HZ..INT_MAX/HZ seconds"),
    ("net.ipv4.tcp_max_tw_buckets", 1023, "the kernel accepts -2147483648..2147483647"),
    ("net.ipv4.tcp_keepalive_time", 32768, "the kernel accepts -INT_MAX/HZ..INT_MAX/HZ seconds"),
    ("net.ipv4.tcp_keepalive_intvl", 0, "the kernel accepts -INT_MAX/HZ..INT_MAX/HZ seconds"),
    ("net.ipv4.tcp_keepalive_probes", 128, "the kernel accepts 0..255"),
    ("net.ipv4.ip_local_port_range", [40000, 40000], "the kernel accepts 1..65535 each"),
    ("net.ipv4.ip_local_reserved_ports", "0,8080", "the kernel accepts ports 0..65535"),
])
def test_policy_floors_say_they_are_policy_and_what_the_kernel_accepts(name, value, kernel_accepts):
    # defect 14d: the "validator refuses, kernel accepts" table of the review
    row = catalogue.get(name)
    assert row.policy, name  # the row documents why it is narrower than the kernel
    errors = catalogue.validation_errors(row, value, (6, 18, 0))
    assert len(errors) == 1 and errors[0].startswith(name + ":"), errors
    assert "policy" in errors[0] and kernel_accepts in errors[0], errors[0]


def test_wmem_default_below_sock_min_sndbuf_is_refused():
    # sock_setsockopt's floor: proc_dointvec_minmax(extra1 = SOCK_MIN_SNDBUF, 4608 on x86_64) gives EINVAL
    row = catalogue.get("net.core.wmem_default")
    errors = catalogue.validation_errors(row, 4096, (6, 18, 0))
    assert errors and "SOCK_MIN_SNDBUF" in errors[0]
    assert catalogue.validation_errors(row, 212992, (6, 18, 0)) == []


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
