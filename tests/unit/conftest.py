# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest helpers: copies of the /proc and /sys fixture trees; tests/import_graph.py as a module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import shutil

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
IMPORT_GRAPH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "import_graph.py")


@pytest.fixture(scope="session")
def import_graph():
    """tests/import_graph.py: the one reader of the collection's imports (imports_of, closure)."""
    spec = importlib.util.spec_from_file_location("tcptune_import_graph", IMPORT_GRAPH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fixture_tree(tmp_path):
    """fixture_tree("linux-6.18-host") -> (proc_path, sys_path) of a private copy.

    Git keeps no file modes, so a tree's READONLY file lists the paths that were 0444 on the
    real kernel (a global key's read-only copy in a child netns); the copy gets that mode back.
    """

    def make(name):
        proc_path = str(tmp_path / name / "proc")
        sys_path = str(tmp_path / name / "sys")
        shutil.copytree(os.path.join(FIXTURES, "proc", name), proc_path)
        if os.path.isdir(os.path.join(FIXTURES, "sys", name)):
            shutil.copytree(os.path.join(FIXTURES, "sys", name), sys_path)
        readonly = os.path.join(proc_path, "READONLY")
        if os.path.exists(readonly):
            with open(readonly) as handle:
                for relpath in handle.read().split():
                    os.chmod(os.path.join(proc_path, relpath), 0o444)
        return proc_path, sys_path

    return make
