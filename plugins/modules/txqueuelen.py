#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: txqueuelen
short_description: Set the transmit queue length of network interfaces and persist it
version_added: 1.0.0
author:
  - tcptune.linux contributors (@tcptune)
description:
  - Sets C(/sys/class/net/IFACE/tx_queue_len) for the interfaces named or matched by glob, reads
    each value back, and rolls back the interfaces already set if one fails.
  - Persists the value with a udev rule file or a systemd C(.link) file, written atomically.
    The module owns both paths; after a run only the chosen one exists (V(none) removes both).
  - Virtual interfaces (no C(device) link in sysfs, such as lo, veth, bridges) are skipped unless
    O(include_virtual=true).
  - The first value seen per interface is recorded in O(state_dir); O(state=absent) restores it and
    removes the persisted files.
  - txqueuelen only sizes qdiscs that use it (pfifo_fast, pfifo, bfifo, and mq whose children are those);
    fq_codel, fq and cake ignore it.
  - An interface whose live value is above the wanted one is left alone unless O(allow_lower=true);
    RV(skipped_interfaces) says so.
  - The persisted file is rebuilt on every run. It keeps the value an earlier run persisted for an interface
    this run does not set (left alone, or not named) as long as its live value still equals it (RV(kept)),
    so what is persisted is what is live; only a run that lowers it (O(allow_lower=true)), O(persist=none)
    or O(state=absent) removes it.
  - With O(values), every interface is set and persisted by this one call, so the persisted file holds
    all of them and a second call with the same map changes nothing.
attributes:
  check_mode:
    description: Predicts the changes and writes nothing.
    support: full
  diff_mode:
    description: Returns the live txqueuelen and the udev rule or .link files before and after.
    support: full
  platform:
    description: Linux hosts (reads /proc, /sys and netlink).
    support: full
    platforms: linux
options:
  interfaces:
    description:
      - Interface names or shell globs (C(eth*), C(ens[0-9]*)), all set to O(value). Ignored with O(state=absent).
      - Mutually exclusive with O(values).
    type: list
    elements: str
    default: []
  value:
    description: The tx_queue_len in packets for O(interfaces), 1 to 2147483647.
    type: int
  values:
    description:
      - Interface name to tx_queue_len in packets (1 to 2147483647), for interfaces that need different values.
      - Names are exact; a name that is not present is reported in RV(unmatched).
    type: dict
  allow_lower:
    description: Lower a live value that is above the wanted one.
    type: bool
    default: false
  include_virtual:
    description: Also change virtual interfaces.
    type: bool
    default: false
  persist:
    description:
      - V(udev) writes O(rules_path) with two rules per interface, matching KERNEL and NAME.
      - V(link) writes O(link_path) for systemd-udevd's link setup (C(TransmitQueueLength=), systemd 248+),
        matching MAC addresses; it repeats the naming policies of C(99-default.link), which it replaces
        for the matched devices. A C(.link) file holds one value, so interfaces with different values
        get one file per value, named after O(link_path) with C(-VALUE) before C(.link).
      - systemd-udevd applies only the first C(.link) file (by file name, over C(/etc), C(/run),
        C(/usr/local/lib) and C(/usr/lib) C(systemd/network)) that matches a device. So no C(.link) entry is
        written for an interface that another C(.link) file matches or may match (a C([Match]) key that cannot
        be evaluated from sysfs counts as a match); one before ours would keep ours from ever applying, one
        after ours would stop applying (its C(Name=) lost at the next boot). The distribution's
        C(99-default.link) and C(73-usb-net-by-mac.link) (for a device not on USB) are not counted; a masked
        C(99-default.link) is. With V(link) the module then fails before changing anything, naming the
        other file; RV(link_conflicts) lists them.
      - V(auto) picks V(link) when systemd-networkd manages links (C(/run/systemd/netif/links) exists)
        and V(udev) otherwise. An interface another C(.link) file may match is persisted by the udev rule
        instead (it sets the queue length and leaves naming alone), and RV(persist_warnings) says why.
      - V(none) sets the live value only and removes both files.
    type: str
    choices: [auto, udev, link, none]
    default: auto
  state:
    description: V(present) sets and persists; V(absent) restores recorded values and removes the files.
    type: str
    choices: [present, absent]
    default: present
  sys_path:
    description: Root of sysfs. Only tests change it.
    type: path
    default: /sys
  run_path:
    description: Root of C(/run), used by V(auto). Only tests change it.
    type: path
    default: /run
  rules_path:
    description: The udev rule file.
    type: path
    default: /etc/udev/rules.d/90-tcptune-txqueuelen.rules
  link_path:
    description: The systemd .link file (and the stem of the per-value files).
    type: path
    default: /etc/systemd/network/60-tcptune-txqueuelen.link
  state_dir:
    description: Directory of the record of previous values and of the lock file.
    type: path
    default: /var/lib/tcptune
notes:
  - Supports check mode (writes nothing) and diff mode (live values and files, before and after).
  - The udev file is numbered 90 so that it runs after C(80-net-setup-link.rules) has chosen the
    predictable interface name.
"""

EXAMPLES = r"""
- name: Two NICs with their own values, persisted together
  tcptune.linux.txqueuelen:
    values:
      eth0: 10000
      eth1: 4000

- name: Longer queues on the physical uplinks
  tcptune.linux.txqueuelen:
    interfaces: ["eth*", "ens*"]
    value: 10000

- name: Back to what it was
  tcptune.linux.txqueuelen:
    state: absent
"""

RETURN = r"""
interfaces:
  description: Interfaces set and persisted (with O(state=absent), the interfaces recorded).
  returned: always
  type: list
  elements: str
  sample: [eth0]
changed_interfaces:
  description: Interfaces whose live value changed (or would change).
  returned: always
  type: list
  elements: str
previous:
  description: Live value before this run of every changed interface.
  returned: always
  type: dict
  sample: {eth0: 1000}
skipped_interfaces:
  description: Matched interfaces left alone, with the reason.
  returned: always
  type: dict
  sample: {veth0: "virtual interface (set include_virtual to change it)"}
unmatched:
  description: Patterns that matched no interface.
  returned: always
  type: list
  elements: str
persist:
  description: The persistence method used (V(auto) resolved). With V(link), RV(persisted_with) shows the
    interfaces that went into the udev rule instead.
  returned: always
  type: str
  sample: udev
persisted_with:
  description: Interface to the persistence that holds its value, V(udev) or V(link).
  returned: always
  type: dict
  sample: {eth0: udev, eth1: link}
kept:
  description: Interface to the value an earlier run persisted and this run keeps, because this run does not
    set the interface and the live value still equals it.
  returned: always
  type: dict
  sample: {eth0: 5000}
link_conflicts:
  description: Interface to the other C(.link) files that match it or may match it, each with C(file),
    C(order) (V(before) or V(after) ours, or V(masked) for a masked C(99-default.link)), C(match)
    (V(yes) or V(may)) and C(unknown) (the C([Match]) keys that could not be evaluated).
  returned: always
  type: dict
  sample: {eth0: [{file: /etc/systemd/network/70-wan.link, order: after, match: "yes", unknown: []}]}
persist_warnings:
  description: Why an interface is persisted by the udev rule although V(link) was chosen.
  returned: always
  type: list
  elements: str
applied:
  description: Interface to the value now set and persisted.
  returned: always
  type: dict
  sample: {eth0: 10000, eth1: 4000}
persisted_path:
  description: The first of RV(persisted_paths), or null.
  returned: always
  type: str
persisted_paths:
  description: Every file now holding values.
  returned: always
  type: list
  elements: str
  sample: [/etc/udev/rules.d/90-tcptune-txqueuelen.rules]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tcptune.linux.plugins.module_utils import params as checks
from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interfaces=dict(type="list", elements="str", default=[]),
            value=dict(type="int"),
            values=dict(type="dict"),
            allow_lower=dict(type="bool", default=False),
            include_virtual=dict(type="bool", default=False),
            persist=dict(type="str", choices=["auto", "udev", "link", "none"], default="auto"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            sys_path=dict(type="path", default="/sys"),
            run_path=dict(type="path", default="/run"),
            rules_path=dict(type="path", default=txqueue.DEFAULT_RULES_PATH),
            link_path=dict(type="path", default=txqueue.DEFAULT_LINK_PATH),
            state_dir=dict(type="path", default="/var/lib/tcptune"),
        ),
        required_if=[("state", "present", ["value", "values"], True)],
        mutually_exclusive=[("value", "values"), ("interfaces", "values")],
        supports_check_mode=True,
    )
    params = module.params
    if params["sys_path"] == "/sys" and not module.check_mode and os.geteuid() != 0:
        module.fail_json(msg="txqueuelen: writing /sys/class/net and the udev or .link file needs root; "
                             "run it with become: true. Nothing was changed.")
    values = None
    if params["values"] is not None:
        values, bad = checks.txqueuelen_values(params["values"], "values")
        if bad:
            module.fail_json(msg="; ".join(bad) + ". Nothing was changed.")
    try:
        if params["state"] == "present":
            result = txqueue.apply_txqueuelen(
                params["interfaces"], params["value"], values=values, allow_lower=params["allow_lower"],
                include_virtual=params["include_virtual"],
                persist=params["persist"], sys_path=params["sys_path"], rules_path=params["rules_path"],
                link_path=params["link_path"], run_path=params["run_path"],
                state_dir=params["state_dir"], check_mode=module.check_mode)
        else:
            result = txqueue.revert_txqueuelen(
                sys_path=params["sys_path"], rules_path=params["rules_path"],
                link_path=params["link_path"], state_dir=params["state_dir"],
                check_mode=module.check_mode)
    except ApplyError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except (IOError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (exc.filename or "(no path)", exc.strerror or exc), failed_path=exc.filename)
    diff = result.pop("diff")
    for pattern in result["unmatched"]:
        module.warn("txqueuelen: %s matches no interface" % pattern)
    for text in result.get("persist_warnings") or []:
        module.warn(text)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
