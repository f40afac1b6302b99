# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Port lists: the one parser of a port or a 'low-high' range, and the kernel's merged, sorted form of
net.ipv4.ip_local_reserved_ports (proc_do_large_bitmap)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def parse_port_item(item):
    """One item of a port list, a port (8080 or '8080') or a 'low-high' range, -> (low, high) as written;
    the one parser of port lists (reserved ports as a sysctl value and as a workload number). ValueError
    when it is neither; 1..65535 and low <= high are the callers' checks."""
    if isinstance(item, bool) or not isinstance(item, (int, str)):
        raise ValueError("%r is not a port or a low-high range" % (item,))
    if isinstance(item, int):
        return item, item
    bounds = item.split("-")
    if len(bounds) > 2 or not all(bound.strip().isdigit() for bound in bounds):
        raise ValueError("%r is not a port or a low-high range" % item)
    return int(bounds[0]), int(bounds[-1])


def parse_port_ranges(text):
    """'8080,8081, 9000-9010' -> [(8080, 8081), (9000, 9010)]: merged (adjacent and overlapping) and sorted.

    Raises ValueError for an item that is not a port or a low-high range of ports 1..65535.
    """
    items = []
    for item in [part for part in str(text).replace(" ", "").split(",") if part]:
        low, high = parse_port_item(item)
        if not (1 <= low <= high <= 65535):
            raise ValueError("%r must be ports 1..65535, low before high" % item)
        items.append((low, high))
    return merge_port_ranges(items)


def merge_port_ranges(items):
    """[(low, high), ...] -> sorted, with adjacent and overlapping ranges merged, as the kernel's bitmap does."""
    merged = []
    for low, high in sorted(items):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def format_port_ranges(ranges):
    """[(8080, 8082), (9000, 9000)] -> '8080-8082,9000', the text proc_do_large_bitmap reads back."""
    return ",".join(str(low) if low == high else "%d-%d" % (low, high) for low, high in ranges)
