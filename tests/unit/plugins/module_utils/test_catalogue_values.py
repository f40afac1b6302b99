# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A key's value between kernel text, parsed value and user input (catalogue_values.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values


@pytest.mark.parametrize("name, text, parsed", [
    ("net.ipv4.tcp_mem", "287901\t383869\t575802\n", [287901, 383869, 575802]),
    ("net.ipv4.ip_local_port_range", "32768\t60999", [32768, 60999]),
    ("net.core.somaxconn", "4096\n", 4096),
    ("net.ipv4.tcp_congestion_control", " cubic \n", "cubic"),
])
def test_parse_and_format_round_trip(name, text, parsed):
    key = catalogue.get(name)
    assert catalogue_values.parse_value(key, text) == parsed
    assert catalogue_values.parse_value(key, catalogue_values.format_value(key, parsed)) == parsed


def test_tabs_and_spaces_compare_equal_after_parsing():
    key = catalogue.get("net.ipv4.tcp_rmem")
    assert catalogue_values.parse_value(key, "4096\t131072\t33554432") == catalogue_values.coerce_value(key, "4096 131072 33554432")


@pytest.mark.parametrize("name, value, message", [
    ("net.ipv4.tcp_mem", "1 2", "expected three integers"),
    ("net.core.somaxconn", "many", "expected one integer"),
    ("net.ipv4.ip_local_port_range", [1, 2, 3], "expected two integers"),
])
def test_coerce_rejects_wrong_shapes_naming_the_key(name, value, message):
    with pytest.raises(ValueError) as error:
        catalogue_values.coerce_value(catalogue.get(name), value)
    assert name in str(error.value) and message in str(error.value)


def test_bool_input_becomes_int():
    assert catalogue_values.coerce_value(catalogue.get("net.ipv4.tcp_slow_start_after_idle"), False) == 0


@pytest.mark.parametrize("text, canonical", [
    ("8080,8081,8082", "8080-8082"),
    ("9000-9010,9005-9020", "9000-9020"),
    ("9010, 8080 ,1", "1,8080,9010"),
    ("8080-8081,8082", "8080-8082"),
    ("", ""),
])
def test_reserved_ports_coerce_to_the_kernel_form(text, canonical):
    # what proc_do_large_bitmap reads back (checked live in tests/integration/test_canonical_netns.py)
    assert catalogue_values.coerce_value(catalogue.get("net.ipv4.ip_local_reserved_ports"), text) == canonical
