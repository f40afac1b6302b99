# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After converge: the container's netns has its own somaxconn; the host's is untouched."""
import os

from testinfra.utils.ansible_runner import AnsibleRunner

# The podman backend (podman exec) is much faster than the ansible backend; the driver names each
# container after its inventory host.
testinfra_hosts = ["podman://" + name
                   for name in AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")]


def _recorded_host_value():
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "smoke-host-somaxconn")
    with open(path) as handle:
        return int(handle.read())


def _host_value():
    with open("/proc/sys/net/core/somaxconn") as handle:
        return int(handle.read())


def test_container_has_its_own_value(host):
    live = int(host.file("/proc/sys/net/core/somaxconn").content_string)
    assert live == _recorded_host_value() + 1


def test_value_is_in_the_container_netns_only(host):
    assert _host_value() == _recorded_host_value()
    assert int(host.run_test("sysctl -n net.core.somaxconn").stdout) != _host_value()


def test_container_runs_python3_with_host_derived_nofile(host):
    soft = int(host.run("sh -c 'ulimit -n'").stdout)
    assert soft == int(os.environ.get("TCPTUNE_NOFILE", "20000"))
    assert host.run("python3 -c 'print(1)'").stdout.strip() == "1"
