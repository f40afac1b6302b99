# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter that makes the collector's module_utils bundle on the controller (plugins/filter/collector_sources.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.tcptune.linux.plugins.filter import collector_sources
from ansible_collections.tcptune.linux.plugins.module_utils import collector_plan

MODULE_UTILS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "plugins", "module_utils")


def test_the_bundle_holds_the_collections_own_sources():
    names = list(collector_plan.COLLECTOR_MODULE_UTILS)
    sources = {}
    for name in names:
        with open(os.path.join(MODULE_UTILS, name + ".py"), encoding="utf-8") as handle:
            sources[name] = handle.read()
    assert collector_sources.collector_sources(names) == collector_plan.bundle_text(sources)


def test_the_filter_refuses_what_is_not_a_module_utils_file():
    with pytest.raises(AnsibleFilterError, match="cannot read module_utils 'no_such_file'"):
        collector_sources.collector_sources(["no_such_file"])
    with pytest.raises(AnsibleFilterError, match="list of module_utils names"):
        collector_sources.collector_sources("procfs")
    with pytest.raises(AnsibleFilterError, match="not a module name"):
        collector_sources.collector_sources(["procfs", "../../galaxy"])
