# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcptune.linux.tcp_report runs here, in the controller's own process (documented in plugins/modules/).

The report is written where the play runs anyway, so nothing is sent anywhere: with ``collect`` the
per-host records are read from hostvars directly, instead of being templated into module arguments,
serialised and read back by a module process (at 10 000 hosts that is hundreds of MB, twice).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.tcptune.linux.plugins.module_utils import report, report_write

ARGUMENT_SPEC = dict(
    results=dict(type="dict", default={}),
    failures=dict(type="dict", default={}),
    unreachable=dict(type="dict", default={}),
    play_hosts=dict(type="list", elements="str", default=[]),
    collect=dict(type="bool", default=False),
    dest=dict(type="path", required=True),
    title=dict(type="str", default=report.DEFAULT_TITLE),
)


def _recorded(variables):
    if not hasattr(variables, "get"):  # not a host (an undefined marker)
        return {}
    return dict((key, variables.get(key)) for key in report.RECORDED if variables.get(key) is not None)


def recorded_vars(hostvars):
    """host -> {name: value} of report.RECORDED, read without templating (the values are what set_fact
    stored). The hosts are localhost and the play hosts tune_tcp.yml recorded there, or every inventory
    host when localhost has none (reading one host's variables costs about a millisecond)."""
    if hostvars is None:
        return {}
    recorded = {}
    local = _recorded(hostvars.raw_get("localhost"))
    if local:
        recorded["localhost"] = local
    names = local.get("tcp_tuning_play_hosts") or list(hostvars)
    for name in names:
        if name != "localhost":
            item = _recorded(hostvars.raw_get(name))
            if item:
                recorded[name] = item
    return recorded


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        recorded = recorded_vars((task_vars or {}).get("hostvars")) if args["collect"] else {}
        found = report.collect(recorded, given=args)
        del recorded
        fleet = report.build_report(found["results"], args["title"], failures=found["failures"],
                                    unreachable=found["unreachable"], play_hosts=found["play_hosts"])
        del found
        try:
            changed, paths = report_write.write_report(fleet, args["dest"], check_mode=self._task.check_mode)
        except (IOError, OSError) as error:
            raise AnsibleActionFail("cannot write the report into %s: %s" % (args["dest"], error))
        result.update(paths)
        result.update(changed=changed, hosts=len(fleet["hosts"]), summary=fleet["summary"],
                      statuses=report.hosts_by_status(fleet))
        return result
