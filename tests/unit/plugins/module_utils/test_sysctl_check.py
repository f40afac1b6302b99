# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_check: apply takes the host facts from its caller and validates the settings once (issue 20)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import (
    apply, catalogue_checks, host_detect, host_facts, procfs, sysctl_check)
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import ApplyError

TREES = ("linux-3.10-old", "linux-5.15-busy", "linux-6.18-container", "linux-6.18-host")


@pytest.mark.parametrize("tree", TREES)
def test_the_facts_give_what_a_standalone_run_reads(fixture_tree, tree):
    proc_path, sys_path = fixture_tree(tree)
    facts = host_facts.gather(proc_path=proc_path, sys_path=sys_path, sockets=False)
    assert sysctl_check.host_facts(proc_path, facts) == sysctl_check.host_facts(proc_path)
    assert sysctl_check.host_facts(proc_path, facts, init_netns=False)["init_netns"] is False


def _no_host_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("apply read a host fact its caller gave")

    for module, name in ((procfs, "read_meminfo"), (procfs, "host_memory_bytes"), (procfs, "read_kernel"),
                         (host_detect, "in_init_netns"), (host_facts, "gather")):
        monkeypatch.setattr(module, name, refuse)


def _count_validations(monkeypatch):
    calls = []
    real = catalogue_checks.validation_errors

    def counted(key, *args, **kwargs):
        calls.append(key.name)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(catalogue_checks, "validation_errors", counted)
    return calls


@pytest.mark.parametrize("check_mode", [True, False])
def test_apply_all_uses_the_callers_facts_and_validates_once(fixture_tree, tmp_path, monkeypatch, check_mode):
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    host = sysctl_check.host_facts(proc_path, host_facts.gather(proc_path=proc_path, sys_path=sys_path, sockets=False))
    _no_host_reads(monkeypatch)
    calls = _count_validations(monkeypatch)
    settings = {"net.core.somaxconn": 65535, "net.ipv4.tcp_fin_timeout": 30}
    result = apply.apply_all(settings=settings, path=str(tmp_path / "etc/sysctl.d/60-tcptune.conf"),
                             state_dir=str(tmp_path / "state"), proc_path=proc_path, sys_path=sys_path,
                             root=str(tmp_path), sysctl_sources=[], check_mode=check_mode, host=host)
    assert result["sysctl"]["changed_keys"] == ["net.core.somaxconn", "net.ipv4.tcp_fin_timeout"]
    assert sorted(calls) == sorted(settings)  # before: once for the diff and again for the write


def test_policy_raise_checks_the_raised_values_at_each_pass(fixture_tree, tmp_path, monkeypatch):
    """The raised value comes from the live one read at write time, which validation never saw."""
    proc_path, sys_path = fixture_tree("linux-6.18-host")
    calls = _count_validations(monkeypatch)
    apply.apply_all(settings={"net.core.somaxconn": 65535}, policy="raise",
                    path=str(tmp_path / "etc/sysctl.d/60-tcptune.conf"), state_dir=str(tmp_path / "state"),
                    proc_path=proc_path, sys_path=sys_path, root=str(tmp_path), sysctl_sources=[])
    assert calls == ["net.core.somaxconn"] * 3


def test_invalid_settings_are_refused_before_anything(fixture_tree, tmp_path):
    proc_path, dummy = fixture_tree("linux-6.18-host")
    host = sysctl_check.host_facts(proc_path)
    with pytest.raises(ApplyError) as caught:
        sysctl_check.check_settings({"net.core.somaxconn": 0, "bogus.key": 1}, host)
    assert str(caught.value).startswith("invalid settings, nothing was changed: ")
    assert len(caught.value.result["errors"]) == 2
