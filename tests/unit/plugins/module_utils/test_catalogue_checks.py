# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""validation_errors: the row's bounds, the order within a triple and the rules of single keys, matched
against what the kernel accepts (catalogue_checks.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_checks


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
    errors = catalogue_checks.validation_errors(catalogue.get(name), value)
    assert errors and all(error.startswith(name + ":") for error in errors)
    assert any(rule in error for error in errors)


def test_valid_values_pass():
    assert catalogue_checks.validation_errors(catalogue.get("net.ipv4.tcp_mem"), [287901, 383869, 575802]) == []
    assert catalogue_checks.validation_errors(catalogue.get("net.ipv4.ip_local_reserved_ports"), "8080,9000-9100") == []
    assert catalogue_checks.validation_errors(catalogue.get("net.ipv4.tcp_tw_recycle"), 0, (4, 9, 0)) == []


def test_tw_recycle_on_new_kernel_names_the_removal():
    errors = catalogue_checks.validation_errors(catalogue.get("net.ipv4.tcp_tw_recycle"), 0, (4, 12, 0))
    assert errors == ["net.ipv4.tcp_tw_recycle: removed in Linux 4.12, this host runs 4.12.0"]


def test_somaxconn_maximum_depends_on_the_kernel():
    row = catalogue.get("net.core.somaxconn")
    assert catalogue_checks.validation_errors(row, 131072, (4, 1, 0)) == []
    assert "on kernels before 4.1" in catalogue_checks.validation_errors(row, 131072, (3, 10, 0))[0]


# --- the validator matches the kernel (review 2026-12-03, defects 9 and 14) --------------------------


def test_min_above_default_is_the_kernels_own_tcp_wmem_and_passes():
    # defect 9: tcp_init() sets tcp_wmem[0] = PAGE_SIZE and [1] = 16384, so a 64 KiB-page kernel boots with
    # 65536 16384 4194304; proc_dointvec_minmax (extra1 SYSCTL_ONE) checks no order
    row = catalogue.get("net.ipv4.tcp_wmem")
    assert catalogue_checks.validation_errors(row, [65536, 16384, 4194304], (6, 18, 0)) == []
    assert catalogue_checks.validation_errors(row, [65536, 16384, 4194304], (6, 18, 0), page_size=65536) == []
    # default above max stays refused, and the message says it is our policy, not the kernel's
    errors = catalogue_checks.validation_errors(row, [4096, 87380, 65536], (6, 18, 0))
    assert len(errors) == 1 and "a policy rule of tcptune.linux" in errors[0]
    assert "the kernel accepts the three values in any order" in errors[0]


def test_tw_reuse_delay_above_tcp_paws_msl_is_refused():
    # defect 14a: tcp_tw_reuse_delay_max = TCP_PAWS_MSL * MSEC_PER_SEC; 60001 gives EINVAL
    row = catalogue.get("net.ipv4.tcp_tw_reuse_delay")
    assert catalogue_checks.validation_errors(row, 60000, (6, 14, 0)) == []
    errors = catalogue_checks.validation_errors(row, 60001, (6, 14, 0))
    assert errors == ["net.ipv4.tcp_tw_reuse_delay: 60001 is outside the accepted range 1..60000"]


AVAILABLE = "reno cubic bbr"


ALLOWED = "reno bbr"


def test_cubic_is_refused_in_a_child_netns_when_not_allowed():
    # defect 14b: tcp_set_default_congestion_control() gives EPERM outside init_net for a restricted algorithm
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    context = catalogue_checks.validation_context(init_netns=False, available_congestion_control=AVAILABLE,
                                                  allowed_congestion_control=ALLOWED)
    errors = catalogue_checks.validation_errors(row, "cubic", (6, 18, 0), context=context)
    assert len(errors) == 1 and errors[0].startswith("net.ipv4.tcp_congestion_control: 'cubic' is not in")
    assert "tcp_allowed_congestion_control (reno bbr)" in errors[0] and "EPERM" in errors[0]
    assert catalogue_checks.validation_errors(row, "bbr", (6, 18, 0), context=context) == []


def test_cubic_is_accepted_in_the_init_netns_when_available():
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    context = catalogue_checks.validation_context(init_netns=True, available_congestion_control=AVAILABLE,
                                                  allowed_congestion_control=ALLOWED)
    assert catalogue_checks.validation_errors(row, "cubic", (6, 18, 0), context=context) == []


def test_unknown_congestion_control_is_refused_when_the_available_list_is_known():
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    context = catalogue_checks.validation_context(init_netns=True, available_congestion_control=AVAILABLE.split())
    errors = catalogue_checks.validation_errors(row, "vegas", (6, 18, 0), context=context)
    assert len(errors) == 1 and "'vegas' is not in net.ipv4.tcp_available_congestion_control" in errors[0]
    # with no list known, any single name passes as before
    assert catalogue_checks.validation_errors(row, "vegas", (6, 18, 0), context=catalogue_checks.validation_context()) == []


@pytest.mark.parametrize("name", ["", "cubic bbr", "a_name_of_16chars"])
def test_congestion_control_names_the_kernel_cannot_hold_are_refused(name):
    # proc_dostring keeps at most TCP_CA_NAME_MAX - 1 = 15 characters; an empty name is ENOENT
    row = catalogue.get("net.ipv4.tcp_congestion_control")
    errors = catalogue_checks.validation_errors(row, name, (6, 18, 0), context=catalogue_checks.validation_context())
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
    errors = catalogue_checks.validation_errors(row, value, (6, 18, 0), page_size=page_size)
    assert len(errors) == 1 and rule in errors[0], errors


@pytest.mark.parametrize("value, page_size", [(268434944, 4096), (262144, 4096), (8192, 65536), (1024, 4096)])
def test_conntrack_buckets_the_kernel_keeps_pass(value, page_size):
    row = catalogue.get("net.netfilter.nf_conntrack_buckets")
    assert catalogue_checks.validation_errors(row, value, (6, 18, 0), page_size=page_size) == []


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
    errors = catalogue_checks.validation_errors(row, value, (6, 18, 0))
    assert len(errors) == 1 and errors[0].startswith(name + ":"), errors
    assert "policy" in errors[0] and kernel_accepts in errors[0], errors[0]


def test_wmem_default_below_sock_min_sndbuf_is_refused():
    # sock_setsockopt's floor: proc_dointvec_minmax(extra1 = SOCK_MIN_SNDBUF, 4608 on x86_64) gives EINVAL
    row = catalogue.get("net.core.wmem_default")
    errors = catalogue_checks.validation_errors(row, 4096, (6, 18, 0))
    assert errors and "SOCK_MIN_SNDBUF" in errors[0]
    assert catalogue_checks.validation_errors(row, 212992, (6, 18, 0)) == []
