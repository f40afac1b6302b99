# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmarks run this checkout's collection, whatever an earlier checkout left behind."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from bench.lib import playbook  # noqa: E402  pylint: disable=wrong-import-position


def test_collections_path_replaces_a_link_to_another_checkout(tmp_path, monkeypatch):
    """CI failed when a shared link in /tmp still pointed at a removed checkout: the role was not found."""
    root = tmp_path / "collections"
    link = root / "ansible_collections" / "tcptune" / "linux"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "removed-checkout")
    monkeypatch.setattr(playbook, "COLLECTIONS_ROOT", str(root))
    assert playbook.collections_path() == str(root)
    assert os.path.realpath(str(link)) == os.path.realpath(REPO)
    assert os.path.isfile(os.path.join(str(link), "roles", "tcp_tuning", "tasks", "main.yml"))


def test_collections_path_is_inside_this_checkout():
    assert os.path.realpath(playbook.collections_path()).startswith(os.path.realpath(REPO) + os.sep)
