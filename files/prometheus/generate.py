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

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import generated_files  # noqa: E402 (files/generated_files.py of this checkout)
RULES = os.path.join(HERE, "tcptune-alerts.yml")
PROMETHEUS_RULE = os.path.join(HERE, "tcptune-prometheusrule.yml")


def _alert_rules():
    """plugins/module_utils/alert_rules.py of this checkout, imported as the collection."""
    generated_files.use_checkout(ROOT)
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
    parser = generated_files.parser(__doc__)
    parser.add_argument("--stdout", action="store_true", help="print the rule file instead of writing")
    parser.add_argument("--for", dest="for_override", help="replace every for: (tests only)")
    args = parser.parse_args(argv)
    if args.stdout or args.for_override:
        sys.stdout.write(outputs(args.for_override)[RULES])
        return 0
    return generated_files.write_or_check(outputs(), args.check, "python3 files/prometheus/generate.py", ROOT)


if __name__ == "__main__":
    sys.exit(main())
