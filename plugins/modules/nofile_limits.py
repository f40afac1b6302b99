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
  - Writes each file atomically (temp file, fsync, rename, mode 0644) with a header saying
    tcptune.linux owns it.
  - C(/etc/security/limits.d/60-tcptune-nofile.conf) for PAM login sessions, with C(*) and C(root)
    lines (wildcard lines do not apply to root). Logins get soft O(soft) (1024 by default, because
    C(select()) cannot watch a descriptor above 1023) and hard O(hard).
  - C(/etc/systemd/system/SERVICE.service.d/60-tcptune-nofile.conf) with C(LimitNOFILE=hard:hard) for
    each service in O(services). Drop-ins of ours for services no longer listed are removed.
  - C(/etc/systemd/system.conf.d/60-tcptune-nofile.conf) with C(DefaultLimitNOFILE=SOFT:hard), only
    when O(hard) is above systemd's default hard limit. SOFT stays systemd's (1024 unless configured).
  - systemd's default is read from its configuration files (C(/etc/systemd/system.conf) and the
    C(system.conf.d) drop-in directories, ours left out), falling back to C(1024:524288), the built-in
    default since systemd 240. No process is started for it, so check mode and containers see the same.
  - Never lowers a hard limit below systemd's default unless O(allow_lower=true) - not for logins
    (which inherit it from sshd or getty), not for services, and never for C(DefaultLimitNOFILE).
    What was left out and why is returned in RV(left_out).
  - Refuses, before writing anything, a soft limit above the hard one and a hard limit above
    C(fs.nr_open), because the kernel refuses a larger RLIMIT_NOFILE and pam_limits then fails every login.
    The ceiling is the smaller of the live C(fs.nr_open) and the one the next boot sets (the last
    sysctl file in systemd-sysctl order that sets it, or the kernel default 1048576).
  - Runs C(systemctl daemon-reload) only when a systemd file changed and systemd is PID 1.
    Services keep their old limit until restarted; see RV(restart_needed).
  - Fails with one message naming the need for root before reading anything as writable when it
    would write under C(/) without root.
attributes:
  check_mode:
    description: Predicts the changes and writes nothing.
    support: full
  diff_mode:
    description: Returns the limits.d file and the systemd drop-ins before and after.
    support: full
  platform:
    description: Linux hosts (reads /proc, /sys and netlink).
    support: full
    platforms: linux
options:
  soft:
    description: Soft limit of login sessions.
    type: int
    default: 1024
  hard:
    description: Hard limit of login sessions and soft and hard limit of O(services). Required with O(state=present).
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
    description: Write the systemd C(DefaultLimitNOFILE) drop-in when O(hard) is above systemd's default (false removes it).
    type: bool
    default: true
  allow_lower:
    description: Write O(hard) for logins and services even where it is below systemd's default hard limit.
    type: bool
    default: false
  nr_open:
    description:
      - In check mode only, the C(fs.nr_open) that a M(tcptune.linux.tcp_sysctl) task of the same check-mode run
        would set (its RV(tcptune.linux.tcp_sysctl#module:applied) value). Nothing has been written then, so the live
        value would refuse a plan that is safe.
      - Ignored outside check mode, where the live and persisted value is what the kernel enforces.
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
  - A module rather than role templates, so that the checks against C(fs.nr_open) and systemd's default,
    the atomic writes, check and diff modes, the removal of stale drop-ins and O(state=absent) live in one
    tested place.
"""

EXAMPLES = r"""
- name: Logins keep soft 1024 with hard 2 Mi; nginx gets 2 Mi soft and hard
  tcptune.linux.nofile_limits:
    hard: 2097152
    services: [nginx]

- name: Limits above the current nr_open, raised first in the same play
  block:
    - name: Raise fs.nr_open
      tcptune.linux.tcp_sysctl:
        settings: {fs.nr_open: 4194304}
      register: raised
    - name: Then the limits (in check mode, against what tcp_sysctl would set)
      tcptune.linux.nofile_limits:
        hard: 4194304
        nr_open: "{{ raised.applied['fs.nr_open'] if ansible_check_mode else omit }}"
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
left_out:
  description: Limits not written, with the reason (they would lower systemd's default, or change nothing).
  returned: always
  type: dict
  sample: {DefaultLimitNOFILE: "hard 65536 is not above systemd's default hard 524288, which it would lower for every unit"}
systemd_default:
  description: systemd's DefaultLimitNOFILE without our drop-in, and where it comes from.
  returned: with O(state=present)
  type: dict
  sample: {soft: 1024, hard: 524288, source: systemd >= 240 built-in default}
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
  description: The C(fs.nr_open) ceiling the hard limit was checked against (null with O(state=absent)).
  returned: always
  type: int
nr_open_detail:
  description: Live and persisted C(fs.nr_open) and the file that persists it, or the planned value in check mode.
  returned: always
  type: dict
  sample: {live: 1048576, persisted: 1048576, persisted_by: kernel default}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import limits
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            soft=dict(type="int", default=limits.LOGIN_SOFT),
            hard=dict(type="int"),
            services=dict(type="list", elements="str", default=[]),
            login=dict(type="bool", default=True),
            default_limit=dict(type="bool", default=True),
            allow_lower=dict(type="bool", default=False),
            nr_open=dict(type="int"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            root=dict(type="path", default="/"),
            proc_path=dict(type="path", default="/proc"),
        ),
        required_if=[("state", "present", ["hard"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["root"] == "/" and not module.check_mode and os.geteuid() != 0:
        module.fail_json(msg="nofile_limits: writing /etc/security/limits.d and /etc/systemd needs root; "
                             "run it with become: true. Nothing was changed.")
    try:
        result = limits.sync_limits(
            root=params["root"], hard=params["hard"], login_soft=params["soft"], services=params["services"],
            login=params["login"], default_limit=params["default_limit"], allow_lower=params["allow_lower"],
            proc_path=params["proc_path"], nr_open=params["nr_open"] if module.check_mode else None,
            state=params["state"], check_mode=module.check_mode)
    except ApplyError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except (IOError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (exc.filename or "(no path)", exc.strerror or exc), failed_path=exc.filename)
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
