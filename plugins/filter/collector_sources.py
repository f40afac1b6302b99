# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcptune.linux.collector_sources: the module_utils the textfile collector imports, read from this collection
on the controller, as the one file the role installs (collector_plan.bundle_text).
Documentation: collector_sources.yml next to this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.tcptune.linux.plugins.module_utils import collector_plan

MODULE_UTILS = os.path.dirname(os.path.abspath(collector_plan.__file__))


def collector_sources(names):
    if not isinstance(names, (list, tuple)) or not names:
        raise AnsibleFilterError("tcp_tuning: collector_sources takes the list of module_utils names, got %r" % (names,))
    try:
        return collector_plan.bundle_text(collector_plan.read_sources(names, MODULE_UTILS))
    except ValueError as error:
        raise AnsibleFilterError("tcp_tuning: %s" % error)
    except IOError as error:
        raise AnsibleFilterError("tcp_tuning: collector_sources: %s" % error)


class FilterModule(object):
    def filters(self):
        return {"collector_sources": collector_sources}
