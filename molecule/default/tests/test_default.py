# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""After converge: live values in the container's netns, persisted files, limits, txqueuelen, host untouched."""
import json
import os

from testinfra.utils.ansible_runner import AnsibleRunner

EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
GLOBAL_KEYS = ("fs.", "net.core.rmem", "net.core.wmem", "net.core.netdev_max_backlog", "net.ipv4.tcp_mem",
               "net.ipv4.tcp_max_orphans", "net.netfilter.")


testinfra_hosts = ["podman://" + name
                   for name in AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")]


def _name(host):
    return host.backend.name


def _result(host):
    with open(os.path.join(EPHEMERAL, "result-%s.json" % _name(host))) as handle:
        return json.load(handle)


def _words(text):
    return " ".join(str(text).split())


def _want(value):
    return _words(" ".join(str(v) for v in value) if isinstance(value, list) else value)


def _persisted(host):
    lines = host.file("/etc/sysctl.d/60-tcptune.conf").content_string.splitlines()
    pairs = [line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith(("#", ";"))]
    return dict((key.strip(), _words(value)) for key, value in pairs)


def _live(host, key):
    return _words(host.file("/proc/sys/" + key.replace(".", "/")).content_string)


def test_applied_keys_are_live_in_the_container_netns_and_persisted(host):
    result = _result(host)
    applied = dict((k, v) for k, v in result["settings"].items() if k not in result["skipped"])
    assert "net.core.somaxconn" in applied
    persisted = _persisted(host)
    assert sorted(persisted) == sorted(applied)
    for key, value in applied.items():
        assert _live(host, key) == _want(value), key
        assert persisted[key] == _want(value), key
    assert int(_live(host, "net.core.somaxconn")) >= 4096
    assert "8080" in _live(host, "net.ipv4.ip_local_reserved_ports")


def test_global_keys_skipped_with_a_reason_and_never_persisted(host):
    result = _result(host)
    global_skipped = dict((k, r) for k, r in result["skipped"].items() if k.startswith(GLOBAL_KEYS))
    assert global_skipped, "the plan asked for no global key at all: %s" % sorted(result["skipped"])
    for key, reason in global_skipped.items():
        assert "global key" in reason or "read-only" in reason or "not on this kernel" in reason, (key, reason)
    assert not set(global_skipped) & set(_persisted(host))


def test_host_values_unchanged():
    with open(os.path.join(EPHEMERAL, "host-sysctl-before.json")) as handle:
        before = json.load(handle)
    for key, value in before.items():
        with open("/proc/sys/" + key.replace(".", "/")) as live:
            assert _words(live.read()) == value, key


def test_container_netns_differs_from_host(host):
    with open("/proc/sys/net/ipv4/ip_local_reserved_ports") as handle:
        assert "9100-9102" not in handle.read()
    assert "9100-9102" in _live(host, "net.ipv4.ip_local_reserved_ports")


def test_nofile_limits_files(host):
    """Logins keep soft 1024 with the hard limit (root listed); nginx gets soft = hard; systemd's
    default keeps soft 1024 and is only raised, never lowered (group_vars ask for 600000 > 524288)."""
    result = _result(host)
    hard = 600000
    limits = host.file("/etc/security/limits.d/60-tcptune-nofile.conf").content_string
    entries = [line.split() for line in limits.splitlines() if line and not line.startswith("#")]
    assert entries == [["*", "soft", "nofile", "1024"], ["*", "hard", "nofile", str(hard)],
                       ["root", "soft", "nofile", "1024"], ["root", "hard", "nofile", str(hard)]]
    default = host.file("/etc/systemd/system.conf.d/60-tcptune-nofile.conf").content_string
    assert "[Manager]\nDefaultLimitNOFILE=1024:%d\n" % hard in default
    service = host.file("/etc/systemd/system/nginx.service.d/60-tcptune-nofile.conf").content_string
    assert "[Service]\nLimitNOFILE=%d:%d\n" % (hard, hard) in service
    assert result["limits"]["systemd_default"]["hard"] == 524288
    assert result["limits"]["nr_open"] >= hard


def test_txqueuelen_live_and_persisted(host):
    assert host.file("/sys/class/net/tcptune0/tx_queue_len").content_string.strip() == "5000"
    persisted = host.run("cat /etc/udev/rules.d/*tcptune* /etc/systemd/network/*tcptune*.link 2>/dev/null")
    assert "tcptune0" in persisted.stdout and "5000" in persisted.stdout


def test_role_read_back_found_no_mismatch(host):
    result = _result(host)
    assert result["mode"] == "apply"
    assert result["mismatches"] == {}
    assert result["container"] is True


def test_facts_in_the_result_are_the_container_not_the_host(host):
    """The result carries the facts of the planned keys only (not the full facts twice), read in the
    container's own network namespace."""
    facts = _result(host)["facts_after"]
    with open("/proc/sys/net/core/somaxconn") as handle:
        host_somaxconn = int(handle.read())
    container_somaxconn = int(_live(host, "net.core.somaxconn"))
    assert container_somaxconn != host_somaxconn, "pick a profile that sets somaxconn away from the host value"
    assert facts["sysctl"]["net.core.somaxconn"] == container_somaxconn
    assert facts["namespace"]["init_netns"] is False
    assert facts["sysctl_unavailable"], "no global key in the plan"
    for key, reason in facts["sysctl_unavailable"].items():
        assert reason.startswith("global key"), (key, reason)
    assert "counters" not in facts and len(json.dumps(_result(host))) < 30000
