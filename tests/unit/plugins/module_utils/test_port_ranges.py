# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""port_ranges.py: the one parser of a port or a 'low-high' range, and the kernel's merged form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import port_ranges


@pytest.mark.parametrize("item, expected", [
    (8080, (8080, 8080)), ("8080", (8080, 8080)), ("9000-9010", (9000, 9010)), (" 80 - 81 ", (80, 81)),
    ("9010-9000", (9010, 9000)),  # as written: low <= high is the caller's check
    (0, (0, 0)),
])
def test_an_item_is_a_port_or_a_range_as_written(item, expected):
    assert port_ranges.parse_port_item(item) == expected


@pytest.mark.parametrize("item", [True, 8080.0, None, "", "http", "1-2-3", "-5", "80,81"])
def test_anything_else_is_refused(item):
    with pytest.raises(ValueError):
        port_ranges.parse_port_item(item)


def test_a_list_is_merged_and_sorted_as_the_kernel_does():
    assert port_ranges.parse_port_ranges("9000-9010, 8081,8080,9005-9020,9021") == [(8080, 8081), (9000, 9021)]
    assert port_ranges.merge_port_ranges([(5, 6), (1, 2), (3, 3)]) == [(1, 3), (5, 6)]
    assert port_ranges.parse_port_ranges("") == []


@pytest.mark.parametrize("text", ["0", "65536", "10-5", "x"])
def test_a_list_outside_1_to_65535_or_reversed_is_refused(text):
    with pytest.raises(ValueError):
        port_ranges.parse_port_ranges(text)


def test_format_is_what_the_kernel_reads_back():
    assert port_ranges.format_port_ranges([(8080, 8082), (9000, 9000)]) == "8080-8082,9000"
    assert port_ranges.format_port_ranges(port_ranges.parse_port_ranges("9000,8080-8082")) == "8080-8082,9000"
