# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The platform attribute of every module that runs on the target (all but tcp_report, which runs on the
    # controller); check_mode and diff_mode differ per module and stay in each module.
    DOCUMENTATION = r"""
attributes:
  platform:
    description: Linux hosts (reads /proc, /sys and netlink).
    support: full
    platforms: linux
"""
