# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""memory_rules: the same refusals for the plan and for overrides (sysctl_check.validate, check_settings,
plan_settings)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import fileutil
from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, memory_rules, sysctl_check

GIB = 1024 ** 3
SEED_003_TCP_MEM = "8388608 12582912 16777216"  # seed 003's advice: 32/48/64 GiB in pages


def test_seed_003_tcp_mem_on_16g_is_refused_with_the_unit_explained():
    values, errors = sysctl_check.validate({"net.ipv4.tcp_mem": SEED_003_TCP_MEM}, (6, 1, 0), memory_bytes=16 * GIB)
    assert values == {"net.ipv4.tcp_mem": [8388608, 12582912, 16777216]}  # 1.0.0 accepted it
    assert len(errors) == 1
    message = errors[0]
    assert message.startswith("net.ipv4.tcp_mem:")
    assert "16777216 pages x 4096 bytes per page = 68719476736 bytes" in message
    assert "the unit of tcp_mem is pages, not bytes" in message
    assert "<= 2097152 pages" in message  # 50 % of 16 GiB / 4096


def test_seed_002_advice_is_refused():
    dummy, errors = sysctl_check.validate({"net.ipv4.tcp_tw_recycle": 1, "net.ipv4.tcp_rmem": "1024 87380 16777216"},
                                          (4, 9, 0), memory_bytes=16 * GIB)
    assert any(error.startswith("net.ipv4.tcp_tw_recycle: refused") for error in errors)
    assert any(error.startswith("net.ipv4.tcp_rmem: 1024 is outside") for error in errors)


def test_buffer_max_that_tcp_mem_cannot_hold_is_refused():
    # live tcp_mem max 49152 pages (2 GB default) = 201326592 bytes; / 8 = 25165824
    errors = memory_rules.memory_errors({"net.ipv4.tcp_rmem": [4096, 131072, 33554432]}, 2 * GIB, 4096,
                                        tcp_mem_in_force=[24576, 32768, 49152])
    assert errors and errors[0].startswith("net.ipv4.tcp_rmem: max 33554432 bytes is above tcp_mem max / 8")
    assert not memory_rules.memory_errors({"net.ipv4.tcp_rmem": [4096, 131072, 16777216]}, 2 * GIB, 4096,
                                          tcp_mem_in_force=[24576, 32768, 49152])


def test_tw_buckets_beyond_ehash_and_memory_are_refused():
    # 2 GiB: ehash = 2 GiB / 128 KiB = 16384; at most 2 per bucket
    assert memory_rules.tw_buckets_cap(2 * GIB, 16384) == 32768
    errors = memory_rules.memory_errors({"net.ipv4.tcp_max_tw_buckets": 1800000}, 2 * GIB)
    assert errors[0].startswith("net.ipv4.tcp_max_tw_buckets: 1800000 TIME_WAIT sockets x 256 bytes = 460800000")


def _proc(tmpdir, mem_kb, tcp_mem="24576\t32768\t49152"):
    proc = tmpdir.join("proc")
    proc.join("meminfo").write("MemTotal:       %d kB\nMemFree:        1000 kB\n" % mem_kb, ensure=True)
    for name, text in (("net.ipv4.tcp_mem", tcp_mem), ("net.ipv4.tcp_rmem", "4096\t131072\t6291456"),
                       ("net.ipv4.ip_local_reserved_ports", "")):
        proc.join("sys", catalogue.proc_relpath(name)).write(text + "\n", ensure=True)
    return str(proc)


def plan_settings(settings, proc, **host):
    """check_settings then plan_settings, on kernel 6.1 in the first netns, MemTotal from proc's meminfo."""
    host = dict(sysctl_check.host_facts(proc), kernel=(6, 1, 0), init_netns=True, **host)
    return sysctl_check.plan_settings(sysctl_check.check_settings(settings, host), proc, host)


def test_plan_settings_reads_memtotal_and_refuses_before_anything(tmpdir):
    proc = _proc(tmpdir, 16 * 1024 * 1024)
    with pytest.raises(fileutil.ApplyError) as error:
        plan_settings({"net.ipv4.tcp_mem": SEED_003_TCP_MEM}, proc)
    assert "pages" in str(error.value) and "nothing was changed" in str(error.value)
    # a cgroup limit below MemTotal is the memory compared
    with pytest.raises(fileutil.ApplyError):
        plan_settings({"net.ipv4.tcp_mem": "24576 32768 600000"}, proc, memory_bytes=2 * GIB)
    wanted, dummy_c, dummy_s = plan_settings({"net.ipv4.tcp_mem": "24576 32768 600000"}, proc)
    assert wanted["net.ipv4.tcp_mem"] == [24576, 32768, 600000]


def test_plan_settings_checks_buffers_against_the_live_tcp_mem(tmpdir):
    proc = _proc(tmpdir, 2 * 1024 * 1024)
    with pytest.raises(fileutil.ApplyError) as error:
        plan_settings({"net.ipv4.tcp_rmem": "4096 131072 2147483647"}, proc)
    assert "tcp_mem max / 8" in str(error.value)


def test_plan_settings_writes_reserved_ports_in_the_kernel_form(tmpdir):
    proc = _proc(tmpdir, 2 * 1024 * 1024)
    wanted, dummy_c, dummy_s = plan_settings({"net.ipv4.ip_local_reserved_ports": "8082,8080,8081"}, proc)
    assert wanted["net.ipv4.ip_local_reserved_ports"] == "8080-8082"
