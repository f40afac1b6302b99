# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""txqueue.py on a temporary /sys tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import txqueue
from ansible_collections.tcptune.linux.plugins.module_utils.apply import ApplyError, write_text


def make_sys(root):
    net = root.join("sys/class/net")
    for name, length, mac, physical in (("eth0", 1000, "52:54:00:12:34:56", True),
                                        ("eth1", 1000, "52:54:00:12:34:57", True),
                                        ("lo", 1000, "00:00:00:00:00:00", False),
                                        ("veth0", 1000, "aa:bb:cc:dd:ee:ff", False)):
        net.join(name, "tx_queue_len").write("%d\n" % length, ensure=True)
        net.join(name, "address").write(mac + "\n")
        if physical:
            net.join(name, "device").ensure(dir=True)
    return str(root.join("sys"))


def systemd_lib(tmpdir, version):
    lib = tmpdir.join("lib-%s/systemd" % version)
    lib.join("libsystemd-shared-%s.so" % version).write("", ensure=True)
    return (str(lib), str(tmpdir.join("absent/systemd")))


@pytest.fixture
def env(tmpdir):
    return {"sys_path": make_sys(tmpdir), "rules_path": str(tmpdir.join("rules.d/90-t.rules")),
            "link_path": str(tmpdir.join("network/60-t.link")), "run_path": str(tmpdir.join("run")),
            "state_dir": str(tmpdir.join("state")), "lib_dirs": systemd_lib(tmpdir, 252)}


def qlen(env, name):
    return open(os.path.join(env["sys_path"], "class/net", name, "tx_queue_len")).read().strip()


def test_select_globs_and_virtual(env):
    selected, skipped, unmatched = txqueue.select(env["sys_path"], ["eth*", "veth0", "wlan*"])
    assert selected == ["eth0", "eth1"]
    assert skipped == {"veth0": "virtual interface (set include_virtual to change it)"}
    assert unmatched == ["wlan*"]
    assert txqueue.select(env["sys_path"], ["*"], include_virtual=True)[0] == ["eth0", "eth1", "lo", "veth0"]


def test_apply_udev_idempotent_and_revert(env):
    result = txqueue.apply_txqueuelen(["eth*", "lo"], 10000, persist="auto", **env)
    assert result["persist"] == "udev"
    assert result["changed_interfaces"] == ["eth0", "eth1"] and result["previous"] == {"eth0": 1000, "eth1": 1000}
    assert qlen(env, "eth0") == "10000" and qlen(env, "lo") == "1000"
    rules = open(env["rules_path"]).read()
    assert 'ACTION=="add", SUBSYSTEM=="net", NAME=="eth1", ATTR{tx_queue_len}="10000"' in rules
    assert 'KERNEL=="eth0"' in rules and "lo" not in rules.split("\n", 1)[1]
    assert stat.S_IMODE(os.stat(env["rules_path"]).st_mode) == 0o644
    assert not os.path.exists(env["link_path"])

    again = txqueue.apply_txqueuelen(["eth*"], 10000, persist="udev", **env)
    assert again["changed"] is False

    txqueue.apply_txqueuelen(["eth0"], 20000, persist="udev", **env)
    paths = ("sys_path", "rules_path", "link_path", "state_dir")  # revert needs no lib_dirs
    reverted = txqueue.revert_txqueuelen(**dict((k, env[k]) for k in paths))
    assert reverted["changed"] is True and reverted["previous"] == {"eth0": 20000, "eth1": 10000}
    assert qlen(env, "eth0") == "1000" and qlen(env, "eth1") == "1000"
    assert not os.path.exists(env["rules_path"])
    assert not os.path.exists(os.path.join(env["state_dir"], "txqueuelen.json"))


def test_auto_chooses_link_under_networkd_and_replaces_udev_file(env, tmpdir):
    txqueue.apply_txqueuelen(["eth0"], 5000, persist="udev", **env)
    tmpdir.join("run/systemd/netif/links").ensure(dir=True)
    result = txqueue.apply_txqueuelen(["eth0"], 5000, persist="auto", **env)
    assert result["persist"] == "link" and result["changed"] is True and result["changed_interfaces"] == []
    link = open(env["link_path"]).read()
    assert "[Match]\nMACAddress=52:54:00:12:34:56\n" in link
    assert "TransmitQueueLength=5000\n" in link and "NamePolicy=" in link
    assert not os.path.exists(env["rules_path"])


def test_check_mode_writes_nothing(env, tmpdir):
    before = sorted(str(p) for p in tmpdir.visit())
    result = txqueue.apply_txqueuelen(["eth0"], 4000, check_mode=True, **env)
    assert result["changed"] is True and result["changed_interfaces"] == ["eth0"]
    assert "eth0 4000" in result["diff"][0]["after"]
    assert sorted(str(p) for p in tmpdir.visit()) == before and qlen(env, "eth0") == "1000"


def test_failure_rolls_back_earlier_interfaces(env):
    def failing(path, text):
        if "eth1" in path and text == "9000":
            raise OSError(22, "Invalid argument")
        write_text(path, text)

    with pytest.raises(ApplyError) as caught:
        txqueue.apply_txqueuelen(["eth*"], 9000, writer=failing, **env)
    assert str(caught.value).startswith("eth1: setting tx_queue_len 9000 failed")
    assert "1 interface(s) set before it were rolled back" in str(caught.value)
    assert qlen(env, "eth0") == "1000"
    assert not os.path.exists(env["rules_path"])


def test_value_range_checked(env):
    with pytest.raises(ApplyError):
        txqueue.apply_txqueuelen(["eth0"], 0, **env)


def test_values_map_two_nics_one_udev_file_idempotent_and_reboot_proof(env):
    """Both NICs land in the one rules file (one call per NIC kept only the last one)."""
    result = txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 4000}, persist="udev", **env)
    assert result["changed_interfaces"] == ["eth0", "eth1"] and result["applied"] == {"eth0": 10000, "eth1": 4000}
    assert qlen(env, "eth0") == "10000" and qlen(env, "eth1") == "4000"
    rules = open(env["rules_path"]).read()
    assert rules == txqueue.OWNER_LINE + "".join(
        'ACTION=="add", SUBSYSTEM=="net", %s=="%s", ATTR{tx_queue_len}="%s"\n' % (match, name, value)
        for name, value in (("eth0", 10000), ("eth1", 4000)) for match in ("KERNEL", "NAME"))
    assert result["persisted_paths"] == [env["rules_path"]]
    again = txqueue.apply_txqueuelen(values={"eth1": 4000, "eth0": 10000}, persist="udev", **env)
    assert again["changed"] is False and open(env["rules_path"]).read() == rules


def test_values_map_link_one_file_per_value(env, tmpdir):
    tmpdir.join("run/systemd/netif/links").ensure(dir=True)
    result = txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 4000}, **env)
    stem = env["link_path"][:-len(".link")]
    assert result["persist"] == "link"
    assert result["persisted_paths"] == [stem + "-10000.link", stem + "-4000.link"]
    assert "MACAddress=52:54:00:12:34:56\n" in open(stem + "-10000.link").read()
    assert "TransmitQueueLength=4000\n" in open(stem + "-4000.link").read()
    assert txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 4000}, **env)["changed"] is False
    # One value again: the single file, and the per-value files go.
    single = txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 10000}, **env)
    assert single["persisted_paths"] == [env["link_path"]]
    assert not os.path.exists(stem + "-10000.link") and not os.path.exists(stem + "-4000.link")
    paths = ("sys_path", "rules_path", "link_path", "state_dir")  # revert needs no lib_dirs
    txqueue.revert_txqueuelen(**dict((k, env[k]) for k in paths))
    assert not os.path.exists(env["link_path"])


def test_never_lowers_an_admin_set_value_unless_allowed(env):
    write_text(os.path.join(env["sys_path"], "class/net/eth0/tx_queue_len"), "20000")
    result = txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 10000}, persist="udev", **env)
    assert qlen(env, "eth0") == "20000" and result["applied"] == {"eth1": 10000}
    assert result["skipped_interfaces"]["eth0"].startswith("live 20000 is above 10000")
    assert "eth0" not in open(env["rules_path"]).read()
    lowered = txqueue.apply_txqueuelen(values={"eth0": 10000}, persist="udev", allow_lower=True, **env)
    assert lowered["previous"] == {"eth0": 20000} and qlen(env, "eth0") == "10000"


def test_values_map_unknown_and_virtual_names(env):
    result = txqueue.apply_txqueuelen(values={"eth0": 5000, "wlan9": 5000, "veth0": 5000}, persist="udev", **env)
    assert result["unmatched"] == ["wlan9"] and "veth0" in result["skipped_interfaces"]
    assert result["applied"] == {"eth0": 5000}
    with pytest.raises(ApplyError) as caught:
        txqueue.apply_txqueuelen(values={"eth0": 0, "eth1": 10}, **env)
    assert "eth0: 0 is outside the accepted range" in str(caught.value)


def test_unwritable_rules_path_names_it(env, tmpdir):
    tmpdir.join("rules.d").write("a file, not a directory")
    with pytest.raises(ApplyError) as caught:
        txqueue.apply_txqueuelen(values={"eth0": 5000}, persist="udev", **env)
    assert str(caught.value).startswith(env["rules_path"] + ": ")


@pytest.mark.parametrize("version, expected", [("247", "udev"), ("248", "link"), ("257.9", "link"), (None, "udev")])
def test_auto_uses_link_only_where_systemd_reads_transmitqueuelength(env, tmpdir, version, expected):
    # systemd 247 (Debian 11) ignores TransmitQueueLength= in a .link file: the value was lost at boot
    tmpdir.join("run/systemd/netif/links").ensure(dir=True)
    env["lib_dirs"] = systemd_lib(tmpdir, version) if version else (str(tmpdir.join("none")),)
    result = txqueue.apply_txqueuelen(values={"eth0": 4000}, **env)
    assert result["persist"] == expected
    assert os.path.exists(env["rules_path"]) is (expected == "udev")


# --- what an earlier run persisted (read back for the plan's keep, tune.txqueuelen_request) ----------

def test_persisted_values_read_back_from_the_udev_file(env):
    txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 4000}, persist="udev", **env)
    found = txqueue.persisted_values(env["sys_path"], env["rules_path"], env["link_path"])
    assert found == {"eth0": 10000, "eth1": 4000}


def test_persisted_values_read_back_from_link_files_by_mac(env, tmpdir):
    tmpdir.join("run/systemd/netif/links").ensure(dir=True)
    txqueue.apply_txqueuelen(values={"eth0": 10000, "eth1": 4000}, persist="auto", **env)
    assert not os.path.exists(env["rules_path"])
    found = txqueue.persisted_values(env["sys_path"], env["rules_path"], env["link_path"])
    assert found == {"eth0": 10000, "eth1": 4000}


def test_a_foreign_file_is_not_read_as_ours(env, tmpdir):
    tmpdir.join("rules.d/90-t.rules").write('ACTION=="add", KERNEL=="eth0", ATTR{tx_queue_len}="9"\n', ensure=True)
    assert txqueue.persisted_values(env["sys_path"], env["rules_path"], env["link_path"]) == {}
