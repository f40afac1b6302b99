# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcptune.linux's textfile collector: TCP facts, findings and drift for node_exporter.

Installed by the role tcptune.linux.tcp_tuning (tcp_tuning_monitor: true) with the collection's
module_utils in ./module_utils and its settings in ./tcptune-textfile.json; run by
tcptune-textfile.timer. By hand:

    python3 -I /usr/local/lib/tcptune/tcptune-textfile.py --stdout   # print the metrics, write nothing
    python3 -I /usr/local/lib/tcptune/tcptune-textfile.py --check    # check the settings

All the logic is plugins/module_utils/metrics.py of the collection (docs/monitoring.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
import types

HERE = os.path.dirname(os.path.realpath(__file__))
PACKAGE = "ansible_collections.tcptune.linux.plugins.module_utils"


def use_module_utils(directory):
    """Make ``directory`` (the module_utils files, copied flat) the collection's module_utils package,
    whatever else on this host is importable as ansible_collections."""
    parent = None
    parts = PACKAGE.split(".")
    for index in range(1, len(parts) + 1):
        module = types.ModuleType(".".join(parts[:index]))
        module.__path__ = [directory] if index == len(parts) else []
        sys.modules[module.__name__] = module
        if parent is not None:
            setattr(parent, parts[index - 1], module)
        parent = module


if __name__ == "__main__":
    use_module_utils(os.path.join(HERE, "module_utils"))
    from ansible_collections.tcptune.linux.plugins.module_utils import metrics

    sys.exit(metrics.main(sys.argv[1:], settings_path=os.path.join(HERE, "tcptune-textfile.json")))
