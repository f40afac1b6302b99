# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the alert rule pack from the findings catalogue: files/prometheus/tcptune-alerts.yml (Prometheus
rule_files) and files/prometheus/tcptune-prometheusrule.yml (Prometheus Operator).

    python3 files/prometheus/generate.py            # write both files
    python3 files/prometheus/generate.py --check    # exit 1 when a shipped file differs (a test runs this)
    python3 files/prometheus/generate.py --for 10s --stdout   # a copy with every for: shortened, for tests

The runbook links point at the repository named in galaxy.yml. Stdlib only; imports the checkout's
module_utils as the collection (ansible_collections/tcptune/linux may be this checkout or a link to it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RULES = os.path.join(HERE, "tcptune-alerts.yml")
PROMETHEUS_RULE = os.path.join(HERE, "tcptune-prometheusrule.yml")


def _alert_rules():
    """plugins/module_utils/alert_rules.py of this checkout, imported as the collection."""
    try:
        from ansible_collections.tcptune.linux.plugins.module_utils import alert_rules
    except ImportError:
        sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))
        from ansible_collections.tcptune.linux.plugins.module_utils import alert_rules
    return alert_rules


def docs_url(galaxy=os.path.join(ROOT, "galaxy.yml")):
    """<repository>/blob/main/ from galaxy.yml (read line by line: no YAML library needed)."""
    with open(galaxy) as handle:
        match = re.search(r"^repository:\s*(\S+)\s*$", handle.read(), re.M)
    return match.group(1).rstrip("/") + "/blob/main/"


def outputs(for_override=None):
    """{path: text} of the files this script writes."""
    alert_rules = _alert_rules()
    url = docs_url()
    return {RULES: alert_rules.render_rules(url, for_override), PROMETHEUS_RULE: alert_rules.render_prometheus_rule(url)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a shipped file differs")
    parser.add_argument("--stdout", action="store_true", help="print the rule file instead of writing")
    parser.add_argument("--for", dest="for_override", help="replace every for: (tests only)")
    args = parser.parse_args(argv)
    if args.stdout or args.for_override:
        sys.stdout.write(outputs(args.for_override)[RULES])
        return 0
    differs = []
    for path, text in sorted(outputs().items()):
        with open(path) if os.path.exists(path) else open(os.devnull) as handle:
            same = handle.read() == text
        if args.check:
            if not same:
                differs.append(os.path.relpath(path, ROOT))
        elif not same:
            with open(path, "w") as handle:
                handle.write(text)
            print("wrote %s" % os.path.relpath(path, ROOT))
    if differs:
        print("differs from the generator's output (run python3 files/prometheus/generate.py): %s" % ", ".join(differs))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
