#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_report
short_description: Write the fleet report of the tcp_tuning role as JSON, Markdown and HTML
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - Takes the C(tcp_tuning_result) fact of every host and writes C(report.json), C(report.md) and
    C(report.html) into O(dest).
  - Per host the report lists the findings, the planned or applied changes with before and after
    values, and the skipped keys with their reasons.
  - The HTML page is self-contained (inline CSS and inline SVG charts of findings by severity and of
    ESTABLISHED and TIME_WAIT sockets per host); it loads nothing and runs no script.
  - Files are written atomically and only when their content changes.
  - "Runs on the controller, usually with C(delegate_to: localhost) and C(run_once: true)."
notes:
  - Check mode is supported; nothing is written then.
options:
  results:
    description: Host name to that host's C(tcp_tuning_result) fact.
    type: dict
    required: true
  dest:
    description: Directory for the report files. Created when missing.
    type: path
    required: true
  title:
    description: Title of the report.
    type: str
    default: TCP tuning report
"""

EXAMPLES = r"""
- name: Write the fleet report
  tcptune.linux.tcp_report:
    results: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'tcp_tuning_result'))) }}"
    dest: ./tcp-report
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
json:
  description: Path of the JSON report.
  returned: always
  type: str
  sample: ./tcp-report/report.json
markdown:
  description: Path of the Markdown report.
  returned: always
  type: str
  sample: ./tcp-report/report.md
html:
  description: Path of the HTML report.
  returned: always
  type: str
  sample: ./tcp-report/report.html
hosts:
  description: Number of hosts in the report.
  returned: always
  type: int
  sample: 3
summary:
  description: Fleet totals (hosts, keys changed and skipped, findings by severity before and after).
  returned: always
  type: dict
  sample: {hosts: 3, keys_changed: 12, keys_skipped: 6, findings_before: {critical: 1, warning: 2, info: 0}}
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tcptune.linux.plugins.module_utils.report import (
    build_report,
    render_html,
    render_json,
    render_markdown,
)


def _write_if_changed(path, text, check_mode):
    """Atomically replace ``path`` with ``text``; returns whether the content differs."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except (IOError, OSError):
        pass
    if check_mode:
        return True
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".report-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            results=dict(type="dict", required=True),
            dest=dict(type="path", required=True),
            title=dict(type="str", default="TCP tuning report"),
        ),
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    report = build_report(module.params["results"], module.params["title"])
    outputs = {
        "json": (os.path.join(dest, "report.json"), render_json(report)),
        "markdown": (os.path.join(dest, "report.md"), render_markdown(report)),
        "html": (os.path.join(dest, "report.html"), render_html(report)),
    }
    changed = False
    try:
        if not os.path.isdir(dest):
            changed = True
            if not module.check_mode:
                os.makedirs(dest)
        for path, text in outputs.values():
            changed = _write_if_changed(path, text, module.check_mode) or changed
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot write the report into %s: %s" % (dest, error))
    result = dict((name, output[0]) for name, output in outputs.items())
    module.exit_json(changed=changed, hosts=len(report["hosts"]), summary=report["summary"], **result)


if __name__ == "__main__":
    main()
