# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""64 KiB pages (arm64 servers such as Ampere and Grace): review 2026-12-03, defect 9.

tcp_init() sets tcp_rmem[0] = tcp_wmem[0] = PAGE_SIZE and tcp_wmem[1] = 16384, so such a kernel boots with
tcp_wmem = 65536 16384 4194304; nf_ct_alloc_hashtable() rounds the conntrack hash to a multiple of
PAGE_SIZE / 8 = 8192. Each test here fails on cc78c24.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs
from ansible_collections.tcptune.linux.plugins.module_utils import (
    catalogue, catalogue_checks, catalogue_values, host_facts, kernel_defaults, sizing, sysctl_check)

GIB = 1024 ** 3
PAGE_64K = 65536
HOST_64K = {"memory_bytes": 24 * GIB, "page_size": PAGE_64K, "kernel": (6, 18, 0)}
KERNEL_TCP_WMEM_64K = [65536, 16384, 4194304]


def test_kernel_defaults_use_the_page_size_for_the_buffer_minimum():
    assert kernel_defaults.tcp_wmem(HOST_64K) == KERNEL_TCP_WMEM_64K
    assert kernel_defaults.tcp_rmem(HOST_64K) == [65536, 131072, 33554432]
    assert kernel_defaults.tcp_wmem(dict(HOST_64K, page_size=4096)) == [4096, 16384, 4194304]


def test_kernel_defaults_round_the_conntrack_hash_to_the_page():
    small = dict(HOST_64K, memory_bytes=512 * 1024 ** 2)  # RAM / 16384 / 8 = 4096 buckets before rounding
    assert kernel_defaults.conntrack_buckets(small) == 8192
    assert kernel_defaults.conntrack_max(small) == 8192
    assert kernel_defaults.conntrack_buckets(dict(small, page_size=4096)) == 4096
    assert kernel_defaults.conntrack_buckets(dict(small, memory_bytes=1000 * 1024 ** 2, page_size=4096)) == 8192


def test_every_kernel_default_on_64k_pages_validates():
    for name, row in sorted(catalogue.CATALOGUE.items()):
        if row.kernel_default is None:
            continue
        value = catalogue_values.coerce_value(row, row.kernel_default(HOST_64K))
        assert catalogue_checks.validation_errors(row, value, HOST_64K["kernel"], page_size=PAGE_64K) == [], name
    for size in (512 * 1024 ** 2, 2 * GIB):  # conntrack sizes rounded to 8192 validate at that page size
        row = catalogue.get("net.netfilter.nf_conntrack_buckets")
        value = kernel_defaults.conntrack_buckets(dict(HOST_64K, memory_bytes=size))
        assert catalogue_checks.validation_errors(row, value, HOST_64K["kernel"], page_size=PAGE_64K) == []


def test_an_override_keeping_the_kernel_min_passes():
    # review: "override keeping the kernel's min: invalid settings, nothing was changed: ... 65536 16384 8388608"
    tcp_mem = kernel_defaults.tcp_mem(HOST_64K)
    values, errors = sysctl_check.validate({"net.ipv4.tcp_wmem": "65536 16384 8388608"}, (6, 18, 0),
                                           memory_bytes=HOST_64K["memory_bytes"], page_size=PAGE_64K,
                                           tcp_mem_in_force=tcp_mem)
    assert errors == []
    assert values == {"net.ipv4.tcp_wmem": [65536, 16384, 8388608]}


def test_bulk_transfer_plan_on_64k_pages_has_a_valid_tcp_wmem(fixture_tree):
    # review: "bulk_transfer plan: AssertionError sizing produced an invalid value: net.ipv4.tcp_wmem ..."
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    facts = host_facts.gather(proc_path, sys_path, page_size=PAGE_64K, sockets=False)
    host64 = {"memory_bytes": facts["kernel"]["mem_total_bytes"], "page_size": PAGE_64K, "kernel": (6, 18, 44)}
    live = {  # what this 24 GB host shows on a 64 KiB-page kernel (the fixture was taken on 4 KiB pages)
        "net.ipv4.tcp_mem": kernel_defaults.tcp_mem(host64),  # pages of 64 KiB
        "net.ipv4.tcp_rmem": [65536, 131072, 33554432],
        "net.ipv4.tcp_wmem": KERNEL_TCP_WMEM_64K,
    }
    host = sizing_inputs.host_from_facts(facts, {"sysctl": live})
    assert host["page_size"] == PAGE_64K
    plan = sizing.compute_plan(host, {"profile": "bulk_transfer"})  # no AssertionError
    row = catalogue.get("net.ipv4.tcp_wmem")
    wmem = catalogue_values.coerce_value(row, plan["sysctl"]["net.ipv4.tcp_wmem"])
    assert wmem[:2] == [65536, 16384]  # the kernel's min and default kept
    assert wmem[2] > KERNEL_TCP_WMEM_64K[2]  # the max raised for the bandwidth-delay product
    assert catalogue_checks.validation_errors(row, wmem, host["kernel"], page_size=PAGE_64K) == []
    rmem = catalogue_values.coerce_value(catalogue.get("net.ipv4.tcp_rmem"), plan["sysctl"]["net.ipv4.tcp_rmem"])
    assert rmem[0] == 65536
