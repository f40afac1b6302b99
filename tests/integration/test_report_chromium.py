# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's HTML page renders in headless Chromium (Debian's package) with no console errors.

The screenshot stays in tests/output/report.png as an artifact.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report, render_html

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "output")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--window-size=1200,1600"]
# Chromium logs every console message of the page as "...:CONSOLE(line)] "text", source: URL (line)".
CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)?\]")

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="chromium is not installed (apt-get install chromium)")


def _result(host, critical, time_wait):
    return {
        "mode": "apply", "profile": "proxy", "kernel": "6.1.0-28-amd64", "container": True,
        "facts_before": {"sysctl": {"net.core.somaxconn": 4096},
                         "sockets": {"states": {"ESTABLISHED": 250, "TIME_WAIT": time_wait}}},
        "facts_after": {"sysctl": {"net.core.somaxconn": 65535}},
        "plan": {"feasible": True, "warnings": []},
        "settings": {"net.core.somaxconn": "65535"},
        "applied": {"changed_keys": ["net.core.somaxconn"], "previous": {"net.core.somaxconn": 4096}},
        "skipped": {"fs.file-max": "global key: set it on the host (a container cannot set it for itself)"},
        "findings_before": [{"id": "listen_queue_overflow", "severity": "critical", "summary": "accept queue full",
                             "recommendation": "raise net.core.somaxconn"}] * critical,
        "findings_after": [],
    }


def _chromium(url, *extra):
    profile = tempfile.mkdtemp(prefix="tcptune-chromium-")
    try:
        return subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile] + list(extra) + [url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _console_lines(stderr):
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture(scope="module")
def report_page():
    if not os.path.isdir(OUTPUT):
        os.makedirs(OUTPUT)
    path = os.path.join(OUTPUT, "report.html")
    report = build_report({"web1": _result("web1", 1, 3400), "web2": _result("web2", 0, 120)}, "Fleet test report")
    with open(path, "w") as handle:
        handle.write(render_html(report))
    return path


def test_report_renders_content_without_console_errors(report_page):
    run = _chromium("file://" + report_page, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert "Fleet test report" in dom
    assert dom.count("<svg") == 2
    assert "web1" in dom and "web2" in dom
    assert "global key: set it on the host" in dom
    assert _console_lines(run.stderr) == []


def test_report_screenshot_is_kept(report_page):
    png = os.path.join(OUTPUT, "report.png")
    if os.path.exists(png):
        os.unlink(png)
    run = _chromium("file://" + report_page, "--screenshot=" + png)
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console_lines(run.stderr) == []
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(png) > 10000  # a blank page is about 3 KB


def test_console_error_detection_works(tmp_path):
    """Negative control: a page that logs an error is caught, so a clean run above means something."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom')</script></body></html>")
    run = _chromium("file://" + str(page), "--dump-dom")
    assert any("boom" in line for line in _console_lines(run.stderr))
