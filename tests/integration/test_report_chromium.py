# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report page in headless Chromium, driven over the DevTools protocol with a stdlib websocket
client (chromium_cdp.py), at 30 and 500 hosts of the synthetic fleet (report_synthetic.py): the page
size, the first paint and a status-filter click within budget (bench/report_scale measures 10 000 hosts);
no console errors; the filters, paging, sorting, the fleet views' buttons and links, and a host's
details as report_html renders them. Screenshots stay in tests/output/ as artifacts (report-30.png,
report-500.png) and the times in tests/output/report-render.json.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import report_html
from ansible_collections.tcptune.linux.plugins.module_utils.report import build_report
from ansible_collections.tcptune.linux.plugins.module_utils.report_host import STATUSES
from ansible_collections.tcptune.linux.plugins.module_utils.report_html import render_html
from chromium_cdp import CHROMIUM, Browser
from report_synthetic import fleet

OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "output")
# Budgets with a wide margin: on this machine 500 hosts paint first in ~0.2 s and a click is drawn in
# ~0.06 s; at 10 000 hosts (bench/report_scale) 0.2-0.4 s and ~0.06 s, for a target of 2 s.
FIRST_PAINT_BUDGET_MS = 2000
CLICK_BUDGET_MS = 1000
PAGE_BUDGET_BYTES = {30: 200 * 1000, 500: 1000 * 1000}  # measured: 0.08 MB and 0.37 MB

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="chromium is not installed (apt-get install chromium)")

_PAGES = {}


def _page(size):
    """(path, report) of the synthetic fleet's page, rendered once per size."""
    if size not in _PAGES:
        if not os.path.isdir(OUTPUT):
            os.makedirs(OUTPUT)
        results, failures, unreachable, play_hosts = fleet(size)
        report = build_report(results, "Synthetic fleet of %d hosts" % size, failures, unreachable, play_hosts)
        path = os.path.join(OUTPUT, "report-%d.html" % size)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(render_html(report))
        _PAGES[size] = (path, report)
    return _PAGES[size]


@pytest.fixture(scope="module")
def browser():
    chromium = Browser()
    yield chromium
    chromium.close()


def _visible_statuses(browser):
    return browser.evaluate("Array.prototype.map.call(document.querySelectorAll('#hosts tbody tr.h'),"
                            "function(r){return r.dataset.status})")


def _shown(browser):
    return browser.evaluate("window.tcptuneReport.shownHosts()")


def _record_time(size, times):
    path = os.path.join(OUTPUT, "report-render.json")
    recorded = {}
    if os.path.exists(path):
        with open(path) as handle:
            recorded = json.load(handle)
    recorded["%d hosts" % size] = dict(times, chromium=os.path.basename(CHROMIUM))
    with open(path, "w") as handle:
        json.dump(recorded, handle, indent=1, sort_keys=True)


@pytest.mark.parametrize("size", [30, 500])
def test_report_is_small_paints_and_filters_in_budget_without_console_errors(browser, size):
    path, report = _page(size)
    with open(path, encoding="utf-8") as handle:
        html = handle.read()
    assert not re.search(r"(src|href)=[\"'](https?:)?//", html)  # one self-contained file
    assert os.path.getsize(path) <= PAGE_BUDGET_BYTES[size], os.path.getsize(path)
    opened = browser.open_timed("file://" + path)
    click = browser.timed_click('.filters button[data-status="failed"]')
    _record_time(size, dict(opened, filter_click_ms=click, page_bytes=os.path.getsize(path)))
    assert opened["first_paint_ms"] < FIRST_PAINT_BUDGET_MS, opened
    assert opened["ready_ms"] < FIRST_PAINT_BUDGET_MS, opened
    assert click < CLICK_BUDGET_MS, click
    assert _visible_statuses(browser) == ["failed"] * report["summary"]["status"]["failed"]
    browser.click('.filters button[data-status=""]')
    assert len(_visible_statuses(browser)) == min(size, report_html.PAGE_SIZE)
    assert browser.evaluate("document.getElementById('shown').textContent") == str(size)
    png = os.path.join(OUTPUT, "report-%d.png" % size)
    browser.screenshot(png)
    with open(png, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(png) > 20000  # a blank page is about 3 KB
    browser.evaluate("1")  # collect the events still queued
    assert browser.errors() == []
    assert report["summary"]["hosts"] == size


def test_clicking_status_filters_leaves_only_that_status(browser):
    path, report = _page(500)
    browser.open("file://" + path)
    counts = report["summary"]["status"]
    assert set(status for status in STATUSES if counts[status]) == set(STATUSES)  # every status is there
    for status in STATUSES:
        browser.click('.filters button[data-status="%s"]' % status)
        assert _shown(browser) == [host["host"] for host in report["hosts"] if host["status"] == status], status
        assert set(_visible_statuses(browser)) == {status}
        assert browser.evaluate("document.getElementById('shown').textContent") == str(counts[status])
    browser.click('.filters button[data-status=""]')
    assert _shown(browser) == [host["host"] for host in report["hosts"]]
    assert browser.errors() == []


def test_pages_of_rows_and_sorting(browser):
    path, report = _page(500)
    browser.open("file://" + path)
    names = [host["host"] for host in report["hosts"]]
    rows = "Array.prototype.map.call(document.querySelectorAll('#hosts tbody tr.h'),function(r){return r.cells[0].textContent})"
    assert browser.evaluate(rows) == names[:100]
    assert browser.evaluate("document.getElementById('range').textContent") == "1\u2013100 of 500"
    browser.click("#next")
    assert browser.evaluate(rows) == names[100:200]
    browser.click("#hosts thead th:nth-child(2)")  # status, in STATUSES order, back to the first page
    status_of = dict((host["host"], host["status"]) for host in report["hosts"])
    order = [STATUSES.index(status_of[name]) for name in _shown(browser)]
    assert order == sorted(order) and len(order) == 500
    assert browser.evaluate("document.getElementById('range').textContent").startswith("1\u2013100 ")
    browser.click("#hosts thead th:nth-child(7)")  # changes
    browser.click("#hosts thead th:nth-child(7)")  # descending
    changes = [sum(1 for row in h["keys"] if row["status"] in report_html.CHANGED_ROWS) for h in report["hosts"]]
    by_name = dict(zip(names, changes))
    shown = [by_name[name] for name in _shown(browser)]
    assert shown == sorted(changes, reverse=True)
    assert browser.errors() == []


def test_finding_filter_and_the_fleet_views(browser):
    path, report = _page(500)
    browser.open("file://" + path)
    finding = next(iter(report["finding_counts"]))
    browser.evaluate("(function(){var s=document.getElementById('f-finding');s.value=%s;"
                     "s.dispatchEvent(new Event('change'))})()" % json.dumps(finding))
    assert _shown(browser) == report["finding_counts"][finding]["hosts"]
    browser.evaluate("(function(){var s=document.getElementById('f-finding');s.value='';"
                     "s.dispatchEvent(new Event('change'))})()")
    # "show all" of a finding in the fleet view filters the table the same way
    browser.click('button.pick[data-finding="%s"]' % finding)
    assert _shown(browser) == report["finding_counts"][finding]["hosts"]
    browser.evaluate("(function(){var s=document.getElementById('f-finding');s.value='';"
                     "s.dispatchEvent(new Event('change'))})()")
    # a value of a key: the hosts with that value, and the chip clears it
    data = report_html.page_data(report)
    key, label, numbers = data["values"][0]
    browser.click('button.pick[data-value="0"]')
    assert _shown(browser) == [data["hosts"][number][0] for number in sorted(numbers)]
    assert browser.evaluate("document.getElementById('f-value').textContent").startswith("%s = %s" % (key, label))
    browser.click("#f-value button")
    assert len(_shown(browser)) == 500
    assert browser.errors() == []


def test_a_host_opens_with_its_details_and_a_link_opens_one_host(browser):
    path, report = _page(500)
    infeasible = next(host for host in report["hosts"] if host["status"] == "infeasible")
    browser.open("about:blank")  # a new document: the same page with another #fragment would not load again
    browser.open("file://" + path + "#host=" + infeasible["host"])
    assert _shown(browser) == [infeasible["host"]]
    same = browser.evaluate(
        "(function(){var t=document.createElement('template');t.innerHTML=%s;"
        "var cell=document.querySelector('#hosts tr.detail td');var copy=cell.cloneNode(false);"
        "Array.prototype.forEach.call(t.content.childNodes,function(n){copy.appendChild(n.cloneNode(true))});"
        "return copy.isEqualNode(cell)})()" % json.dumps(report_html.host_details_html(infeasible)))
    assert same is True
    assert "Memory estimate" in browser.evaluate("document.querySelector('#hosts tr.detail').textContent")
    browser.click("#f-value button")  # back to every host; the opened one stays open
    browser.click('.filters button[data-status="tuned"]')
    assert browser.evaluate("document.querySelectorAll('#hosts tr.detail').length") == 0
    browser.click("#hosts tbody tr.h button.hn")
    first = next(host for host in report["hosts"] if host["status"] == "tuned")
    assert browser.evaluate("document.querySelector('#hosts tr.detail').dataset.i") == str(
        report["hosts"].index(first))
    assert "sysctl" in browser.evaluate("document.querySelector('#hosts tr.detail').textContent")
    browser.click("#hosts tbody tr.h button.hn")  # closes it again
    assert browser.evaluate("document.querySelectorAll('#hosts tr.detail').length") == 0
    assert browser.errors() == []


def test_console_error_detection_works(browser, tmp_path):
    """Negative control: a page that logs an error is caught, so a clean run above means something."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom');null.x</script></body></html>")
    browser.open("file://" + str(page))
    browser.evaluate("1")
    errors = browser.errors()
    assert any("boom" in line for line in errors)
    assert any(line.startswith("exception:") for line in errors)
    browser.events = []
