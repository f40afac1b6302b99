# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loads tcptune.linux.tcp_report for the playbooks next to this directory, without configuration.

Ansible loads callbacks found next to a playbook; a collection callback needs callbacks_enabled.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.callback.tcp_report import CallbackModule as _CollectionCallback


class CallbackModule(_CollectionCallback):
    CALLBACK_NAME = "tcp_report_next_to_playbook"
    CALLBACK_NEEDS_ENABLED = False
