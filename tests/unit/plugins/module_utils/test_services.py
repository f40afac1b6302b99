# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""services.py: a service's main PID and the open-file limits of PIDs, on a fake /proc."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import host_facts, services


def _process(proc_path, pid, ppid, comm, cgroup, soft=1024, hard=524288, fds=3):
    base = os.path.join(proc_path, str(pid))
    os.makedirs(os.path.join(base, "fd"))
    for number in range(fds):
        open(os.path.join(base, "fd", str(number)), "w").close()
    with open(os.path.join(base, "status"), "w") as handle:
        handle.write("Name:\t%s\nPPid:\t%d\n" % (comm, ppid))
    with open(os.path.join(base, "comm"), "w") as handle:
        handle.write(comm + "\n")
    with open(os.path.join(base, "cgroup"), "w") as handle:
        handle.write(cgroup + "\n")
    with open(os.path.join(base, "limits"), "w") as handle:
        handle.write("Limit                     Soft Limit           Hard Limit           Units\n"
                     "Max open files            %s                 %s               files\n" % (soft, hard))


def test_service_main_pid_from_cgroup_then_comm(tmp_path):
    proc_path = str(tmp_path)
    _process(proc_path, 1, 0, "init", "0::/init.scope")
    _process(proc_path, 200, 1, "nginx", "0::/system.slice/nginx.service", soft=65536, fds=10)
    _process(proc_path, 201, 200, "nginx", "0::/system.slice/nginx.service")
    _process(proc_path, 150, 1, "nginx", "0::/user.slice")  # same comm, other cgroup: not the service
    _process(proc_path, 300, 1, "haproxy", "0::/")
    _process(proc_path, 301, 300, "haproxy", "0::/")
    assert services.find_service_pid(proc_path, "nginx") == 200
    assert services.find_service_pid(proc_path, "nginx.service") == 200
    assert services.find_service_pid(proc_path, "haproxy") == 300
    assert services.find_service_pid(proc_path, "absent") is None
    assert services.read_pid_nofile(proc_path, 200) == {"soft": 65536, "hard": 524288, "open": 10}
    assert services.read_pid_nofile(proc_path, 999) is None


def test_gather_reports_pids_and_services(tmp_path, fixture_tree):
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    _process(proc_path, 200, 1, "nginx", "0::/system.slice/nginx.service", soft="unlimited", hard="unlimited")
    facts = host_facts.gather(proc_path, sys_path, sockets=False, pids=[200, 4242], services=["nginx", "gone"])
    assert facts["nofile"]["pids"] == {"200": {"soft": -1, "hard": -1, "open": 3}, "4242": None}
    assert facts["nofile"]["services"] == {"nginx": {"soft": -1, "hard": -1, "open": 3, "pid": 200},
                                           "gone": {"soft": None, "hard": None, "open": None, "pid": None}}
    assert facts["nofile"]["self"]["soft"] > 0
