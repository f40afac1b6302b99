# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the three generators share (docs/generate.py, files/workload/generate.py, files/prometheus/generate.py):
importing this checkout as the collection, and writing their files or, with --check, saying which differ.
Stdlib only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import difflib
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_checkout(root=ROOT):
    """Make ansible_collections.tcptune.linux the checkout at ``root``, whatever else is installed or linked."""
    for name, path in (("ansible_collections", None), ("ansible_collections.tcptune", None),
                       ("ansible_collections.tcptune.linux", root)):
        module = sys.modules.get(name)
        if module is None or (path and list(getattr(module, "__path__", [])) != [path]):
            module = types.ModuleType(name)
            module.__path__ = [path] if path else []
            sys.modules[name] = module


def parser(description):
    """The generators' command line: no option writes, --check changes nothing."""
    arguments = argparse.ArgumentParser(description=description.strip().split("\n", 1)[0])
    arguments.add_argument("--check", action="store_true", help="change nothing; exit 1 and show what differs")
    return arguments


def read(path):
    """A file's text; empty when it does not exist (a generated file not written yet)."""
    if not os.path.exists(path):
        return ""
    with open(path) as handle:
        return handle.read()


def write_or_check(outputs, check, command, root=ROOT):
    """Write each of ``outputs`` ({absolute path: text}) that differs, or with ``check`` write nothing, show the
    first lines of each difference and return 1 when any differs. ``command`` is what the message tells to run."""
    differs = []
    for path, text in sorted(outputs.items()):
        current = read(path)
        if current == text:
            continue
        name = os.path.relpath(path, root)
        differs.append(name)
        if check:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), name, name + " (generated)",
                                        n=0, lineterm="")
            print("\n".join(list(diff)[:40]))
            continue
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, "w") as handle:
            handle.write(text)
        print("wrote %s" % name)
    if check and differs:
        print("out of date with the code (run %s): %s" % (command, ", ".join(differs)))
        return 1
    return 0
