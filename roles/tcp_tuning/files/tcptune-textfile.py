# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcptune.linux's textfile collector: TCP facts, findings and drift for node_exporter.

Installed by the role tcptune.linux.tcp_tuning (tcp_tuning_monitor: true) with the collection's
module_utils in ./module_utils.bundle and its settings in ./tcptune-textfile.json; run by
tcptune-textfile.timer. By hand:

    python3 -I /usr/local/lib/tcptune/tcptune-textfile.py --stdout   # print the metrics, write nothing
    python3 -I /usr/local/lib/tcptune/tcptune-textfile.py --check    # check the settings

All the logic is plugins/module_utils/metrics.py of the collection (docs/monitoring.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import io
import json
import os
import sys
import traceback
import types

HERE = os.path.dirname(os.path.realpath(__file__))
PACKAGE = "ansible_collections.tcptune.linux.plugins.module_utils"


class BundledModuleUtils(object):
    """Finds and loads the collection's module_utils from the bundle (collector_plan.bundle_text: two header
    lines, then JSON {module name: source} from the first line that starts with '{'). Tracebacks name
    <bundle>/<name>.py and show its lines (get_source, read by traceback.print_exception)."""

    def __init__(self, path):
        with io.open(path, encoding="utf-8") as handle:
            text = handle.read()
        self.path = path
        self.sources = json.loads(text[text.index("\n{") + 1:])

    def find_spec(self, fullname, path=None, target=None):
        package, name = fullname.rpartition(".")[::2]
        if package != PACKAGE or name not in self.sources:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=self.filename(name))

    def filename(self, name):
        return "%s/%s.py" % (self.path, name)

    def create_module(self, spec):
        return None  # the default module

    def exec_module(self, module):
        name = module.__name__.rpartition(".")[2]
        module.__file__ = self.filename(name)
        code = compile(self.sources[name], module.__file__, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used

    def get_source(self, fullname):
        return self.sources.get(fullname.rpartition(".")[2])


def use_bundle(path):
    """Make the bundle at ``path`` the collection's module_utils package, whatever else on this host is
    importable as ansible_collections."""
    parent = None
    parts = PACKAGE.split(".")
    for index in range(1, len(parts) + 1):
        module = types.ModuleType(".".join(parts[:index]))
        module.__path__ = []
        sys.modules[module.__name__] = module
        if parent is not None:
            setattr(parent, parts[index - 1], module)
        parent = module
    sys.meta_path.insert(0, BundledModuleUtils(path))


if __name__ == "__main__":
    # Before Python 3.13 the default hook prints tracebacks without asking a loader for the source lines.
    sys.excepthook = traceback.print_exception
    use_bundle(os.path.join(HERE, "module_utils.bundle"))
    from ansible_collections.tcptune.linux.plugins.module_utils import metrics

    sys.exit(metrics.main(sys.argv[1:], settings_path=os.path.join(HERE, "tcptune-textfile.json")))
