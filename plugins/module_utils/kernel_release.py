# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kernel release string -> the version tuple everything that depends on the kernel takes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _leading_digits(text):
    end = 0
    while end < len(text) and text[end] in "0123456789":
        end += 1
    return text[:end]


def parse_kernel_release(release):
    """'6.18.44-fc-v657' -> (6, 18, 44). Unparseable input gives (0, 0, 0).

    Plain string scanning, no ``re``: tcp_facts imports this module and its whole process must
    start fast (importing re costs several milliseconds).
    """
    text = release or ""
    major = _leading_digits(text)
    rest = text[len(major):]
    if not major or not rest.startswith("."):
        return (0, 0, 0)
    minor = _leading_digits(rest[1:])
    if not minor:
        return (0, 0, 0)
    rest = rest[1 + len(minor):]
    patch = _leading_digits(rest[1:]) if rest.startswith(".") else ""
    return (int(major), int(minor), int(patch or 0))
