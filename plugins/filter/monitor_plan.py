# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcptune.linux.monitor_plan: the role's textfile collector decision (collector_plan.monitor_plan) as a filter.
Documentation: monitor_plan.yml next to this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible.errors import AnsibleFilterError

from ansible_collections.tcptune.linux.plugins.module_utils import collector_plan


def _installed(slurped):
    """The settings file as ansible.builtin.slurp returned it, parsed; None when absent or unreadable."""
    if not isinstance(slurped, dict) or not slurped.get("content"):
        return None
    try:
        return json.loads(base64.b64decode(slurped["content"]).decode("utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def monitor_plan(variables, installed=None):
    try:
        return collector_plan.monitor_plan(dict(variables), _installed(installed))
    except (ValueError, TypeError) as error:
        raise AnsibleFilterError("tcp_tuning: %s" % error)


class FilterModule(object):
    def filters(self):
        return {"monitor_plan": monitor_plan}
