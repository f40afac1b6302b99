# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_release.parse_kernel_release."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import kernel_release


@pytest.mark.parametrize("release, expected", [
    ("6.18.44-fc-v657", (6, 18, 44)),
    ("4.19.0-27-amd64", (4, 19, 0)),
    ("3.10.0-1160.el7.x86_64", (3, 10, 0)),
    ("5.15", (5, 15, 0)),
    ("garbage", (0, 0, 0)),
])
def test_parse_kernel_release(release, expected):
    assert kernel_release.parse_kernel_release(release) == expected
