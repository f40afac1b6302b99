# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The four report files in the report directory, written only when their text changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import fileutil
from ansible_collections.tcptune.linux.plugins.module_utils.report_html import render_html
from ansible_collections.tcptune.linux.plugins.module_utils.report_text import render_json, render_junit, render_markdown

# Each kind of file: its name in the report directory and its renderer.
FILES = (("json", "report.json", render_json), ("markdown", "report.md", render_markdown),
         ("html", "report.html", render_html), ("junit", "report.junit.xml", render_junit))


def report_files(report, dest):
    """{kind: (path, text)} of the four report files in ``dest``."""
    return dict((kind, (os.path.join(dest, name), render(report))) for kind, name, render in FILES)


def write_report(report, dest, check_mode=False):
    """Write the four files into ``dest``, atomically and only those whose text changes; one text is
    held at a time, so the peak memory is the largest file, not their sum.

    Returns (changed, {kind: path}); in check mode nothing is written and ``changed`` says whether it
    would be."""
    changed = not os.path.isdir(dest)
    paths = {}
    for kind, name, render in FILES:
        path = paths[kind] = os.path.join(dest, name)
        text = render(report)
        if fileutil.read_file(path) != text:
            changed = True
            if not check_mode:
                fileutil.atomic_write(path, text)
        del text
    return changed, paths
