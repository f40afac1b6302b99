#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_sysctl
short_description: Apply a batch of TCP sysctl settings safely, persist them, and revert them
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - Validates every setting against the tcptune.linux sysctl catalogue before changing anything
    (unknown key, wrong type, triple that decreases, value out of range, keys refused or removed on
    the running kernel such as C(net.ipv4.tcp_tw_recycle) on Linux 4.12+). All errors are reported
    at once and nothing is changed.
  - Writes C(/proc/sys) directly in a safe order (C(fs.nr_open) first), without a shell and without
    C(sysctl -p). Each value is read back and compared as a value, not as text.
  - If a write fails part way, every key already written goes back to its previous value (in reverse
    order), the persist file is left untouched, and the error names the failing key.
  - Persists the applied keys in one sysctl.d file, written atomically (temp file, fsync, rename,
    mode 0644) with a header saying tcptune.linux owns it. Skipped keys are kept in that file as
    comments with their reason, so the file documents what could not be set here.
  - Reports keys that another file applied later at boot sets to a different value (systemd-sysctl
    precedence), as RV(overridden_by) and a warning.
  - Inside a child network namespace (container, C(unshare --net)) a global key is never written,
    even when its file is writable (C(fs.file-max) written from a container changes the host). It is
    skipped, and RV(skipped_keys) gives the reason, which starts with C(global key).
  - The first apply records the previous live value of each key it changes in O(state_dir); later
    applies add newly touched keys without overwriting earlier records. O(state=absent) restores them,
    removes the persist file and the record.
  - Runs hold an exclusive C(flock) on O(state_dir)/lock so two runs on one host never interleave.
attributes:
  check_mode:
    description: Predicts the changes and writes nothing, not even O(state_dir).
    support: full
  diff_mode:
    description: Returns the live values and the sysctl.d file before and after.
    support: full
extends_documentation_fragment:
  - tcptune.linux.linux_platform
options:
  settings:
    description:
      - Sysctl key to value. A value is an integer, a string, or a list of integers for pairs and
        triples (C(net.ipv4.tcp_rmem), C(net.ipv4.ip_local_port_range)).
      - Ignored with O(state=absent).
    type: dict
    default: {}
  path:
    description:
      - The persist file. With O(state=present) it must be a file systemd-sysctl applies at boot, or the module
        fails before any change. That is a C(*.conf) name not starting with C(.), in C(/etc/sysctl.d),
        C(/usr/local/lib/sysctl.d) or C(/usr/lib/sysctl.d) (or one of O(sysctl_dirs) when given), not masked by a
        file of the same name in a directory of higher priority. C(/run/sysctl.d) is refused (a tmpfs, emptied at
        every boot).
    type: path
    default: /etc/sysctl.d/60-tcptune.conf
  state:
    description:
      - V(present) applies and persists O(settings).
      - V(absent) restores the values recorded by earlier applies, removes O(path) and the record.
    type: str
    choices: [present, absent]
    default: present
  policy:
    description:
      - V(set) sets each value as given.
      - V(raise) only ever increases, like tuned's C(>), comparing numbers element by element; the
        elements of a pair or triple are then kept in non-decreasing order. Text keys are set as given.
        RV(applied) holds what was written (the larger of live and wanted), and that is what is persisted.
      - The alias C(mode) is deprecated (everywhere else in Ansible C(mode) means file permissions)
        and will be removed in 2.0.0.
    type: str
    choices: [set, raise]
    default: set
    aliases: [mode]
  unsupported:
    description:
      - What to do with keys that are absent, read-only or global inside a container.
      - V(skip) leaves them out and returns the reason in RV(skipped_keys).
      - V(fail) stops before any change.
    type: str
    choices: [skip, fail]
    default: skip
  state_dir:
    description: Directory of the record of previous values and of the lock file.
    type: path
    default: /var/lib/tcptune
  proc_path:
    description: Root of procfs. Only tests change it.
    type: path
    default: /proc
  sysctl_dirs:
    description:
      - Where boot-time sysctl files are searched for conflicts, highest priority first.
        A directory contributes its C(*.conf) files (merged by file name, the first directory wins,
        then sorted by name); a plain file is read after all of them.
      - Defaults to C(/etc/sysctl.d), C(/run/sysctl.d), C(/usr/local/lib/sysctl.d), C(/usr/lib/sysctl.d)
        and C(/etc/sysctl.conf) (read last by C(sysctl --system), and by systemd-sysctl through the
        Debian symlink C(/etc/sysctl.d/99-sysctl.conf)).
    type: list
    elements: path
  lock_timeout:
    description: Seconds to wait for the lock held by another run.
    type: float
    default: 30
  root:
    description:
      - Prefix of the nofile limit files checked before C(fs.nr_open) is set or restored
        (C(/etc/security/limits.conf), C(/etc/security/limits.d), C(/etc/systemd/system.conf{,.d}), unit drop-ins
        under C(/etc/systemd/system)), and of the sysctl.d directories O(path) is checked against when
        O(sysctl_dirs) is not given. Only tests change it.
    type: path
    default: /
notes:
  - Refuses, before any change, an C(fs.nr_open) (set, or restored with O(state=absent)) below a hard
    nofile limit configured on the host, because pam_limits would fail every login and systemd every unit with that
    limit. Remove or lower those limits first (M(tcptune.linux.nofile_limits) with O(tcptune.linux.nofile_limits#module:state=absent)).
  - Supports check mode (predicts the changes and writes nothing, not even O(state_dir)) and diff mode
    (live values and the persist file, before and after).
"""

EXAMPLES = r"""
- name: Raise the accept queue and widen the ephemeral ports
  tcptune.linux.tcp_sysctl:
    settings:
      net.core.somaxconn: 65535
      net.ipv4.ip_local_port_range: [10240, 65000]
      net.ipv4.tcp_rmem: "4096 131072 33554432"

- name: Never lower what is already there
  tcptune.linux.tcp_sysctl:
    settings:
      fs.file-max: 4000000
      net.core.somaxconn: 4096
    policy: raise

- name: Put everything back as it was
  tcptune.linux.tcp_sysctl:
    state: absent
"""

RETURN = r"""
changed_keys:
  description: Keys whose live value changed (or would change in check mode), in apply order.
  returned: always
  type: list
  elements: str
  sample: [net.core.somaxconn]
skipped_keys:
  description:
    - Keys not set here, with the reason.
    - Not named C(skipped) because Ansible reads a truthy C(skipped) as "the task was skipped".
  returned: always
  type: dict
  sample: {fs.file-max: "global key: set it on the host (a container cannot set it for itself)"}
previous:
  description: Live value before this run of every changed key.
  returned: always
  type: dict
  sample: {net.core.somaxconn: 4096}
applied:
  description:
    - Value of every settable key after this run, as written and read back (with O(policy=raise), the raised
      value, not the requested one); with O(state=absent), the restored values.
  returned: always
  type: dict
  sample: {net.core.somaxconn: 65535}
overridden_by:
  description: For each key, the boot-time files applied after O(path) that set a different value.
  returned: always
  type: dict
  sample: {net.core.somaxconn: [{file: /etc/sysctl.d/99-local.conf, value: "1024"}]}
drift:
  description:
    - Keys whose value in O(path), as found before this run, differs from the live value before this run
      (changed by hand, or a boot-time file wins over O(path)). With O(state=absent), empty.
  returned: always
  type: dict
  sample: {net.ipv4.tcp_fin_timeout: {persisted: "15", live: "60"}}
path:
  description: The persist file.
  returned: always
  type: str
  sample: /etc/sysctl.d/60-tcptune.conf
file_changed:
  description: Whether the persist file was (or would be) written or removed.
  returned: always
  type: bool
in_init_netns:
  description: Whether the module ran in the initial network namespace (false in containers).
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import fileutil, module_errors, sysctl_apply, sysctl_check, sysctld


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", default={}),
            path=dict(type="path", default=sysctld.DEFAULT_PATH),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            policy=dict(type="str", choices=["set", "raise"], default="set", aliases=["mode"],
                        deprecated_aliases=[dict(name="mode", version="2.0.0", collection_name="tcptune.linux")]),
            unsupported=dict(type="str", choices=["skip", "fail"], default="skip"),
            state_dir=dict(type="path", default=sysctl_apply.DEFAULT_STATE_DIR),
            proc_path=dict(type="path", default="/proc"),
            sysctl_dirs=dict(type="list", elements="path"),
            lock_timeout=dict(type="float", default=30.0),
            root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "present":
        dirs = params["sysctl_dirs"]  # directories only: a plain file there (/etc/sysctl.conf) is read last
        dirs = None if dirs is None else [item for item in dirs if not os.path.isfile(item)]
        error = sysctld.boot_path_error(params["path"], params["root"], dirs=dirs, option="path")
        if error:
            module.fail_json(msg="%s. Nothing was changed." % error)
    if params["proc_path"] == "/proc" and not module.check_mode and os.geteuid() != 0:
        module.fail_json(msg=module_errors.needs_root("tcp_sysctl", "/proc/sys and %s" % params["path"]))
    host = sysctl_check.host_facts(params["proc_path"])
    lockout = sysctl_apply.nr_open_lockout(params["root"], params["proc_path"], host, params["state"],
                                           params["settings"], params["policy"], params["state_dir"], params["path"])
    if lockout:
        module.fail_json(msg="fs.nr_open: %s refused, it is below hard nofile limits that depend on it (logins and units "
                             "would fail): %s. Lower or remove those limits first. Nothing was changed."
                             % (lockout[0], "; ".join(lockout[1])))
    try:
        if params["state"] == "present":
            result = sysctl_apply.apply_settings(
                params["settings"], path=params["path"], mode=params["policy"],
                unsupported=params["unsupported"], state_dir=params["state_dir"],
                proc_path=params["proc_path"], sysctl_sources=params["sysctl_dirs"],
                check_mode=module.check_mode, lock_timeout=params["lock_timeout"], host=host)
        else:
            result = sysctl_apply.revert_settings(
                path=params["path"], state_dir=params["state_dir"], proc_path=params["proc_path"],
                check_mode=module.check_mode, lock_timeout=params["lock_timeout"], host=host)
    except (fileutil.ApplyError, IOError, OSError) as exc:
        module.fail_json(**module_errors.failure(exc))
    diff = result.pop("diff")
    for warning in result.pop("warnings"):
        module.warn(warning)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
