#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nofile_limits
short_description: Set the open-files limit for login sessions, systemd's default and named services
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - Writes, each atomically (temp file, fsync, rename, mode 0644) and with a header saying
    tcptune.linux owns it
  - C(/etc/security/limits.d/60-tcptune-nofile.conf) for PAM login sessions (C(*) and C(root) lines,
    because wildcard lines do not apply to root);
  - C(/etc/systemd/system.conf.d/60-tcptune-nofile.conf) with C(DefaultLimitNOFILE=soft:hard);
  - C(/etc/systemd/system/SERVICE.service.d/60-tcptune-nofile.conf) with C(LimitNOFILE=soft:hard) for
    each service in O(services). Drop-ins of ours for services no longer listed are removed.
  - Refuses, before writing anything, soft above hard and any limit above C(fs.nr_open) (the
    kernel refuses a larger RLIMIT_NOFILE). It compares with the live C(fs.nr_open), or with
    O(nr_open) when the same run raises it (apply C(fs.nr_open) with M(tcptune.linux.tcp_sysctl) first).
  - Runs C(systemctl daemon-reload) only when a systemd file changed and systemd is PID 1.
    Services keep their old limit until restarted; see RV(restart_needed).
  - A module rather than role templates, so that the validation against C(fs.nr_open), the
    atomic writes, check and diff modes, the removal of stale drop-ins and O(state=absent) live in
    one tested place.
options:
  soft:
    description: Soft limit. Required with O(state=present).
    type: int
  hard:
    description: Hard limit. Required with O(state=present).
    type: int
  services:
    description: Services (C(nginx) or C(nginx.service)) that get a C(LimitNOFILE) drop-in.
    type: list
    elements: str
    default: []
  login:
    description: Write the limits.d file for login sessions (false removes it).
    type: bool
    default: true
  default_limit:
    description: Write the systemd C(DefaultLimitNOFILE) drop-in (false removes it).
    type: bool
    default: true
  nr_open:
    description: The C(fs.nr_open) this run sets; when omitted the live value is read.
    type: int
  state:
    description: V(present) writes the files; V(absent) removes every file of this module.
    type: str
    choices: [present, absent]
    default: present
  root:
    description: Prefix of every path written or checked (C(/etc/...), C(/run/systemd/system)). Only tests change it.
    type: path
    default: /
  proc_path:
    description: Root of procfs, for C(fs.nr_open). Only tests change it.
    type: path
    default: /proc
notes:
  - Supports check mode (writes nothing) and diff mode (each file, before and after).
"""

EXAMPLES = r"""
- name: One million files for nginx, logins and every service
  tcptune.linux.nofile_limits:
    soft: 1048576
    hard: 1048576
    services: [nginx]

- name: Limits above the current nr_open, raised in the same play
  block:
    - tcptune.linux.tcp_sysctl:
        settings: {fs.nr_open: 4194304}
    - tcptune.linux.nofile_limits:
        soft: 2097152
        hard: 4194304
        nr_open: 4194304
"""

RETURN = r"""
files:
  description: Files this module now manages.
  returned: always
  type: list
  elements: str
changed_files:
  description: Files written or removed (or that would be).
  returned: always
  type: list
  elements: str
removed_files:
  description: Files removed (or that would be).
  returned: always
  type: list
  elements: str
daemon_reload_needed:
  description: Whether a systemd file changed.
  returned: always
  type: bool
daemon_reloaded:
  description: Whether C(systemctl daemon-reload) ran.
  returned: always
  type: bool
restart_needed:
  description: Services whose drop-in changed; they get the new limit at their next start.
  returned: always
  type: list
  elements: str
  sample: [nginx.service]
nr_open:
  description: The fs.nr_open the limits were checked against.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import limits
from ansible_collections.tcptune.linux.plugins.module_utils.apply import ApplyError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            soft=dict(type="int"),
            hard=dict(type="int"),
            services=dict(type="list", elements="str", default=[]),
            login=dict(type="bool", default=True),
            default_limit=dict(type="bool", default=True),
            nr_open=dict(type="int"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            root=dict(type="path", default="/"),
            proc_path=dict(type="path", default="/proc"),
        ),
        required_if=[("state", "present", ["soft", "hard"])],
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = limits.sync_limits(
            root=params["root"], soft=params["soft"], hard=params["hard"], services=params["services"],
            login=params["login"], default_limit=params["default_limit"], proc_path=params["proc_path"],
            nr_open=params["nr_open"], state=params["state"], check_mode=module.check_mode)
    except ApplyError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    diff = result.pop("diff")
    result["daemon_reloaded"] = False
    if result["daemon_reload_needed"] and not module.check_mode and limits.systemd_is_pid1(params["root"]):
        rc, out, err = module.run_command([module.get_bin_path("systemctl", required=True), "daemon-reload"])
        if rc != 0:
            module.fail_json(msg="systemctl daemon-reload failed: %s" % (err or out).strip(), **result)
        result["daemon_reloaded"] = True
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
