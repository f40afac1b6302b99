# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tcp_tune's parameter checks (issue 17 "Bad input", review 2026-12-03 defect 15): every bad input is one
error naming what the user set (the option, or the role's tcp_tuning_* variable), and nothing else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from ansible_collections.tcptune.linux.plugins.module_utils import (
    host_facts, params, sizing, sizing_inputs, workload_options)
from ansible_collections.tcptune.linux.plugins.module_utils.sizing_inputs import SizingInputError

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
ROLE = os.path.join(REPO, "roles", "tcp_tuning")
# tcp_tuning_* words in the repository that are not variables: the YAML anchor of the module arguments and
# the handler's listen name; and the misspelt variable the bad_input scenario sets on purpose.
NOT_VARIABLES = {"tcp_tuning_args", "tcp_tuning_limits_changed"}
DELIBERATE_TYPOS = {"tcp_tuning_profle"}


def _role_options():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        return sorted(yaml.safe_load(handle)["argument_specs"]["main"]["options"])


def _params(**extra):
    """Module parameters as AnsibleModule gives them (defaults of tcp_tune's argument_spec)."""
    values = dict((name, spec.get("default")) for name, spec in workload_options.WORKLOAD_ARGUMENT_SPEC.items())
    values.update(state="present", plan=None, sysctl_overrides={}, nofile_soft=None, nofile_hard=None,
                  txqueuelen="auto", txqueuelen_interfaces=[], sample_seconds=0.0, lock_timeout=30.0, root="/",
                  option_names="module", role_variables=None, role_known_variables=None)
    values.update(extra)
    return values


def _refused(**extra):
    with pytest.raises(SizingInputError) as caught:
        params.check_params(_params(**extra))
    message = str(caught.value)
    assert message.endswith("Nothing was changed."), message
    assert "\n" not in message
    return message


def test_a_misspelt_role_variable_is_refused_with_the_nearest_name():
    """tcp_tuning_profle: proxy was silently ignored (the host got balanced)."""
    known = _role_options()
    errors = params.unknown_role_variables(["tcp_tuning_profle", "tcp_tuning_profile", "tcp_tuning_run",
                                            "tcp_tuning_report_dir", "other_variable"], known)
    assert len(errors) == 1, errors
    assert errors[0].startswith("tcp_tuning_profle:") and "did you mean tcp_tuning_profile?" in errors[0]
    far = params.unknown_role_variables(["tcp_tuning_zzzzzzzzzzzz"], known)
    assert "ansible-doc -t role tcptune.linux.tcp_tuning" in far[0]
    message = _refused(role_variables=["tcp_tuning_profle"], role_known_variables=known)
    assert "did you mean tcp_tuning_profile?" in message
    # A revert checks it too: tcp_tuning_stat: absent would otherwise apply instead of revert.
    assert "tcp_tuning_state" in _refused(state="absent", role_variables=["tcp_tuning_stat"],
                                          role_known_variables=known)


def test_every_tcp_tuning_name_the_collection_uses_is_known():
    """The unknown-variable check must never refuse what the role registers, the playbook sets or a scenario
    passes; and its lists hold no name nobody uses."""
    listed = set(params.ROLE_INTERNAL_VARIABLES + params.PLAYBOOK_VARIABLES + params.PLAYBOOK_INTERNAL_VARIABLES)
    known = set(_role_options()) | listed
    used = set()
    for pattern in ("roles/**/*.yml", "playbooks/**/*.yml", "molecule/**/*.yml", "bench/**/*.py",
                    "plugins/callback/*.py", "tests/integration/*.py", "README.md", "docs/*.md"):
        for path in glob.glob(os.path.join(REPO, pattern), recursive=True):
            with open(path) as handle:
                used.update(re.findall(r"\btcp_tuning_\w+", handle.read()))
    used -= NOT_VARIABLES | DELIBERATE_TYPOS
    assert sorted(used - known) == []
    assert sorted(listed - used) == []
    assert params.unknown_role_variables(sorted(used), _role_options()) == []


def test_errors_name_the_role_variable_the_role_passes_to_each_option():
    """From the role, 'accept_rate: ...' named an option the user never wrote."""
    with open(os.path.join(ROLE, "tasks", "main.yml")) as handle:
        tasks = yaml.safe_load(handle)
    call = [task["tcptune.linux.tcp_tune"] for task in tasks if "tcptune.linux.tcp_tune" in task][0]
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        workload = yaml.safe_load(handle)["__tcp_tuning_workload_options"]
    # the workload options go in one dict, each the value of tcp_tuning_<option>
    assert "'tcp_tuning_'" in call["workload"] and "__tcp_tuning_workload_options" in call["workload"]
    assert set(workload) == set(workload_options.WORKLOAD_ARGUMENT_SPEC)
    assert [params.label(option, "role") for option in workload] == ["tcp_tuning_" + option for option in workload]
    for option, value in call.items():
        name = params.label(option, "role")
        if option == "workload":
            continue
        if option in params.NOT_FROM_ROLE:
            assert name == option
        else:
            assert re.search(r"\b%s\b" % name, str(value)), (option, name, value)
    assert params.label("policy", "role") == "tcp_tuning_sysctl_policy"
    assert params.label("accept_rate", "module") == "accept_rate"
    message = _refused(option_names="role", accept_rate=2000000000)
    assert message.startswith("tcp_tuning_accept_rate: must be at most 1073741824 per second"), message
    assert _refused(accept_rate=2000000000).startswith("accept_rate: ")


@pytest.mark.parametrize("option, value", [
    ("sample_seconds", float("inf")), ("sample_seconds", float("nan")), ("sample_seconds", -1.0),
    ("sample_seconds", 1e12), ("lock_timeout", float("nan")), ("lock_timeout", float("inf")),
    ("lock_timeout", -1.0),
])
def test_seconds_must_be_finite_and_bounded(option, value):
    """sample_seconds inf ended in an OverflowError in time.sleep; lock_timeout nan waited forever on a held
    lock; negative values were taken as 0."""
    assert _refused(**{option: value}).startswith("%s: must be a number of seconds from 0 to 3600" % option)
    assert _refused(option_names="role", **{option: value}).startswith(
        params.label(option, "role") + ": must be a number of seconds")


def _plan():
    fixtures = os.path.join(REPO, "tests", "unit", "fixtures")
    facts = host_facts.gather(proc_path=os.path.join(fixtures, "proc", "linux-6.18-host"),
                              sys_path=os.path.join(fixtures, "sys", "linux-6.18-host"), sockets=False)
    return sizing.compute_plan(sizing_inputs.host_from_facts(facts), {"profile": "proxy", "target_connections": 200000})


@pytest.mark.parametrize("plan, expect", [
    ({"limits": {"login": {"hard": "x"}}}, "limits.login.hard must be a positive integer"),
    ({"sysctl": ["net.core.somaxconn"]}, "sysctl must be a dict"),
    ({"sysctl": {"net.core.somaxconn": None}}, "sysctl must map key names to values as text"),
    ({"txqueuelen": {"eth0": True}}, "txqueuelen.eth0 must be a number of packets"),
    ({"txqueuelen": {"eth0": "x"}}, "txqueuelen.eth0 must be a number of packets"),
    ({"limits": {"services": 5}}, "limits.services must be a dict"),
    ({"limits": {"nr_open": -1}}, "limits.nr_open must be a positive integer"),
    ({"changes": ["net.core.somaxconn"]}, "changes must be a list of {key"),
    ({"feasible": "yes"}, "feasible must be a bool"),
])
def test_a_malformed_plan_is_refused_and_a_real_one_is_not(plan, expect):
    """A malformed plan ended in ValueError tracebacks (int('x'), dict(list))."""
    message = _refused(plan=plan)
    assert message.startswith("plan: ") and expect in message, message
    assert params.plan_errors(_plan()) == []


def test_txqueuelen_setting_and_values_refuse_a_boolean():
    """txqueuelen values {eth0: yes} became 1, and with allow_lower it was written."""
    assert "tcp_tuning_txqueuelen" in _refused(option_names="role", txqueuelen="True")
    assert "from 1 to 2147483647" in _refused(txqueuelen="2147483648")
    for good in ("auto", "off", "OFF", "5000"):
        params.check_params(_params(txqueuelen=good))
    values, errors = params.txqueuelen_values({"eth0": True, "eth1": "5000", "eth2": 0, "eth3": 2.5, "eth4": 4000})
    assert values == {"eth1": 5000, "eth4": 4000}
    assert [error.split(" must")[0] for error in errors] == ["values: eth0", "values: eth2", "values: eth3"]


def test_services_are_service_names():
    """services: [x.socket] wrote a drop-in for x.socket.service, which does nothing."""
    message = _refused(option_names="role", services=["x.socket", "nginx", "../etc"])
    assert "tcp_tuning_services: x.socket is a socket unit, not a service" in message
    assert "tcp_tuning_services: '../etc' is not a systemd service name" in message
    params.check_params(_params(services=["nginx", "nginx.service", "getty@tty1", "foo.bar"]))


def test_nofile_and_sysctl_overrides_are_named():
    assert "tcp_tuning_nofile_soft: 700000 is above tcp_tuning_nofile_hard 600000" in _refused(
        option_names="role", nofile_soft=700000, nofile_hard=600000)
    assert "nofile_hard: must be a whole number from 1" in _refused(nofile_hard=0)
    message = _refused(option_names="role", sysctl_overrides={"net.core.somaxcon": 8192})
    assert "tcp_tuning_sysctl_overrides: net.core.somaxcon is not a key tcptune.linux knows (did you mean " \
           "net.core.somaxconn?)" in message
    assert "must be a value" in _refused(sysctl_overrides={"net.core.somaxconn": None})
    params.check_params(_params(sysctl_overrides={"net.core.somaxconn": 8192, "net.ipv4.tcp_tw_reuse": True}))


def test_a_revert_checks_only_what_a_revert_uses():
    params.check_params(_params(state="absent", txqueuelen="fast", services=["x.socket"], accept_rate=-1))
    assert params.check_host(_params(state="absent", txqueuelen_interfaces=["eth9"]), ["eth0"]) == []
    _refused(state="absent", sample_seconds=float("inf"))


def test_an_interface_the_host_lacks_is_refused_with_the_list():
    """txqueuelen_interfaces: [eth9] ended with rc 0 and no word."""
    host = ["eth0", "lo"]
    with pytest.raises(SizingInputError) as caught:
        params.check_host(_params(option_names="role", txqueuelen_interfaces=["eth9", "eth0"]), host)
    assert str(caught.value) == ("tcp_tuning_txqueuelen_interfaces: eth9 is not an interface of this host (it has "
                                 "eth0, lo). Nothing was changed.")
    with pytest.raises(SizingInputError) as caught:
        params.check_host(_params(txqueuelen="4000", txqueuelen_interfaces=["wl*", "eth*"]), host)
    assert "txqueuelen_interfaces: wl* matches no interface of this host" in str(caught.value)
    assert "eth*" not in str(caught.value)
    assert "with txqueuelen auto the list holds interface names" in _refused(txqueuelen_interfaces=["eth*"])
    with pytest.raises(SizingInputError) as caught:
        params.check_host(_params(plan={"txqueuelen": {"eth9": 5000}}), host)
    assert "plan: txqueuelen.eth9 is not an interface of this host" in str(caught.value)
    assert params.check_host(_params(txqueuelen="off", txqueuelen_interfaces=["eth9"]), host) == []
    assert params.check_host(_params(txqueuelen="4000", txqueuelen_interfaces=["eth*"]), host) == []


def _root(tmp_path, systemd=True, units=()):
    root = tmp_path / "root"
    (root / "lib/systemd/system").mkdir(parents=True)
    if systemd:
        (root / "run/systemd/system").mkdir(parents=True)
    for unit in units:
        (root / unit).parent.mkdir(parents=True, exist_ok=True)
        (root / unit).write_text(u"[Service]\n")
    return str(root)


def test_a_service_without_a_unit_file_is_refused_where_systemd_runs(tmp_path):
    """services: [nosuchsvc] wrote a drop-in and said 'restart nosuchsvc'."""
    root = _root(tmp_path, units=["lib/systemd/system/nginx.service", "etc/systemd/system/getty@.service",
                                  "run/systemd/generator.late/legacy.service"])
    good = _params(option_names="role", root=root, services=["nginx", "getty@tty1", "legacy.service"])
    assert params.check_host(good, []) == []
    with pytest.raises(SizingInputError) as caught:
        params.check_host(dict(good, services=["nginx", "nosuchsvc"]), [])
    message = str(caught.value)
    assert message.startswith("tcp_tuning_services: no unit file for nosuchsvc in /etc/systemd/system.control")
    for directory in ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
                      "/usr/lib/systemd/system", "/lib/systemd/system"):
        assert directory + "," in message or directory + " " in message, directory
    assert "a LimitNOFILE drop-in for it would do nothing" in message


def test_a_service_without_a_unit_file_is_a_warning_without_systemd(tmp_path):
    root = _root(tmp_path, systemd=False)
    warnings = params.check_host(_params(root=root, services=["nosuchsvc"]), [])
    assert len(warnings) == 1 and warnings[0].startswith("services: no unit file for nosuchsvc")
    assert "systemd is not running here (a container?)" in warnings[0]
