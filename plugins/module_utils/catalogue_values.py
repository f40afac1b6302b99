# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value of a catalogue key in its three forms, following the row's shape: the kernel's text, the parsed
value (int, list of ints, or normalised text) and user input; and ``raised``, the never-lower merge."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_checks, port_ranges


def parse_value(key, text):
    """Kernel text -> int, list of ints, or normalised str, following the key's shape."""
    text = str(text).strip()
    if key.shape == catalogue.INT:
        return int(text)
    if key.shape in (catalogue.PAIR, catalogue.TRIPLE):
        return [int(part) for part in text.split()]
    return " ".join(text.split())


def format_value(key, value):
    """A value (int, list, or string) -> the text written to /proc/sys and sysctl.d."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(int(part)) for part in value)
    if key.shape in (catalogue.PAIR, catalogue.TRIPLE):
        return " ".join(str(int(part)) for part in str(value).split())
    if key.shape == catalogue.INT:
        return str(int(str(value).strip()))
    return " ".join(str(value).split())


def coerce_value(key, value):
    """User input -> the parsed form of ``parse_value``. Raises ValueError naming the key and rule.

    ip_local_reserved_ports comes back in the kernel's canonical form (merged, sorted ranges) when it
    parses, so what is written reads back equal.
    """
    if isinstance(value, bool):
        value = int(value)
    try:
        if key.shape == catalogue.TEXT:
            text = parse_value(key, value)
            if key.name == "net.ipv4.ip_local_reserved_ports" and not catalogue_checks.reserved_ports_errors(key, text):
                return port_ranges.format_port_ranges(port_ranges.parse_port_ranges(text))
            return text
        if isinstance(value, (list, tuple)):
            parts = [int(str(part).strip()) for part in value]
        else:
            parts = [int(part) for part in str(value).split()]
    except ValueError:
        raise ValueError("%s: expected %s, got %r" % (key.name, _shape_words(key), value))
    expected = {catalogue.INT: 1, catalogue.PAIR: 2, catalogue.TRIPLE: 3}[key.shape]
    if len(parts) != expected:
        partial = ("; the kernel would take fewer values and keep the rest, but tcptune.linux sets all of them "
                   "(policy)" if 0 < len(parts) < expected else "")
        raise ValueError("%s: expected %s, got %d value(s): %r%s"
                         % (key.name, _shape_words(key), len(parts), value, partial))
    return parts[0] if key.shape == catalogue.INT else parts


def _shape_words(key):
    return {catalogue.INT: "one integer", catalogue.PAIR: "two integers (low high)",
            catalogue.TRIPLE: "three integers (min default max)", catalogue.TEXT: "text"}[key.shape]


def raised(key, current, wanted):
    """Never lower (policy raise; an outdated value below the kernel default): element-wise max (tuned's
    '>'), then keep the elements ordered."""
    if current is None or key.shape == catalogue.TEXT:
        return wanted
    if key.shape == catalogue.INT:
        return max(current, wanted)
    result = [max(old, new) for old, new in zip(current, wanted)]
    for index in range(1, len(result)):
        result[index] = max(result[index], result[index - 1])
    return result
