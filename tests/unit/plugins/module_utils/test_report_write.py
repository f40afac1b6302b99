# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The four report files, written only when their text changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_write import report_files, write_report
from ansible_collections.tcptune.linux.tests.unit.plugins.module_utils.report_results import host_result


def test_report_files_names():
    files = report_files(build_report({}), "/r")
    assert sorted(path for path, text in files.values()) == [
        "/r/report.html", "/r/report.json", "/r/report.junit.xml", "/r/report.md"]


def test_write_report_writes_each_file_once_and_only_when_it_changes(tmp_path):
    dest = str(tmp_path / "out")
    report = build_report({"web1": host_result()})
    assert write_report(report, dest, check_mode=True)[0] is True
    assert not os.path.exists(dest)
    changed, paths = write_report(report, dest)
    assert changed is True
    expected = report_files(report, dest)
    for kind, (path, text) in expected.items():
        assert paths[kind] == path
        with open(path) as handle:
            assert handle.read() == text
    stamps = dict((path, os.stat(path).st_mtime_ns) for path in paths.values())
    assert write_report(report, dest) == (False, paths)
    assert stamps == dict((path, os.stat(path).st_mtime_ns) for path in paths.values())
    other = build_report({"web1": host_result(), "web2": host_result()})
    assert write_report(other, dest, check_mode=True)[0] is True
    assert stamps == dict((path, os.stat(path).st_mtime_ns) for path in paths.values())
    assert write_report(other, dest)[0] is True
    with open(paths["json"]) as handle:
        assert json.load(handle)["summary"]["hosts"] == 2
