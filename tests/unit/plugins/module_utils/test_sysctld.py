# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctld.boot_path_error: a persist file systemd-sysctl never applies at boot is refused with one sentence
naming the option and the rule (review-2026-12-03 #13: `sysctl_path` was not checked; values were
"persisted" to a file the boot never reads and lost at the next reboot, with no warning)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.tcptune.linux.plugins.module_utils import sysctld

LOST = "lost at the next reboot"


@pytest.fixture
def root(tmp_path):
    """A fake root with every sysctl.d directory systemd-sysctl reads."""
    for directory in ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d", "etc/tcptune"):
        (tmp_path / directory).mkdir(parents=True)
    return str(tmp_path)


def under(root, relpath):
    return os.path.join(root, relpath)


@pytest.mark.parametrize("relpath", [
    "etc/sysctl.d/60-tcptune.conf", "usr/local/lib/sysctl.d/60-tcptune.conf", "usr/lib/sysctl.d/60-tcptune.conf",
    "etc/sysctl.d/60-not-created-yet.conf",
])
def test_a_conf_file_in_a_boot_directory_is_accepted(root, relpath):
    assert sysctld.boot_path_error(under(root, relpath), root) is None


@pytest.mark.parametrize("relpath, rule", [
    ("etc/sysctl.d/60-tcptune", "reads only files named *.conf"),          # the review's first example
    ("etc/sysctl.d/60-tcptune.conf.bak", "reads only files named *.conf"),
    ("etc/sysctl.d/.60-tcptune.conf", "not starting with '.'"),             # systemd skips hidden names
    ("etc/tcptune/sysctl.conf", "not in a directory systemd-sysctl reads at boot"),  # the review's second example
    ("etc/sysctl.conf", "not in a directory systemd-sysctl reads at boot"),  # the user's own file, not ours
    ("run/sysctl.d/60-tcptune.conf", "/run is a tmpfs"),
])
def test_a_file_the_boot_never_reads_is_refused_naming_the_rule(root, relpath, rule):
    path = under(root, relpath)
    error = sysctld.boot_path_error(path, root)
    assert error is not None and error.startswith("sysctl_path %s: " % path), error
    assert rule in error and error.endswith(LOST), error
    assert "\n" not in error and error.count(". ") == 0  # one sentence


def test_the_directories_it_names_are_the_ones_that_survive_a_reboot(root):
    error = sysctld.boot_path_error(under(root, "etc/tcptune/sysctl.conf"), root, option="path")
    assert error.startswith("path ")
    for relpath in ("etc/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d"):
        assert under(root, relpath) in error
    assert under(root, "run/sysctl.d") not in error


@pytest.mark.parametrize("ours, higher", [
    ("usr/lib/sysctl.d/60-tcptune.conf", "etc/sysctl.d/60-tcptune.conf"),
    ("usr/lib/sysctl.d/60-tcptune.conf", "run/sysctl.d/60-tcptune.conf"),
    ("usr/lib/sysctl.d/60-tcptune.conf", "usr/local/lib/sysctl.d/60-tcptune.conf"),
    ("usr/local/lib/sysctl.d/60-tcptune.conf", "etc/sysctl.d/60-tcptune.conf"),
])
def test_a_name_masked_by_a_directory_of_higher_priority_is_refused_naming_the_masking_file(root, ours, higher):
    with open(under(root, higher), "w") as handle:
        handle.write("net.core.somaxconn = 1024\n")
    error = sysctld.boot_path_error(under(root, ours), root)
    assert error is not None and "masked by %s" % under(root, higher) in error, error
    # a lower directory, or another name, masks nothing
    assert ": masked by" not in (sysctld.boot_path_error(under(root, higher), root) or "")
    assert sysctld.boot_path_error(under(root, ours.replace("60-tcptune", "61-other")), root) is None


def test_masking_by_a_symlink_to_dev_null_and_not_by_a_link_to_our_own_file(root):
    ours = under(root, "usr/lib/sysctl.d/60-tcptune.conf")
    os.symlink("/dev/null", under(root, "etc/sysctl.d/60-tcptune.conf"))  # systemd's way to disable a file
    assert "masked by %s" % under(root, "etc/sysctl.d/60-tcptune.conf") in sysctld.boot_path_error(ours, root)
    os.remove(under(root, "etc/sysctl.d/60-tcptune.conf"))
    os.symlink(ours, under(root, "etc/sysctl.d/60-tcptune.conf"))  # the boot reads our file through the link
    assert sysctld.boot_path_error(ours, root) is None


def test_the_path_is_judged_relative_to_root(root, tmp_path):
    path = under(root, "etc/sysctl.d/60-tcptune.conf")
    assert sysctld.boot_path_error(path, root) is None
    # the same file judged against the real root is not in /etc/sysctl.d
    assert "not in a directory systemd-sysctl reads at boot" in sysctld.boot_path_error(path, "/")
    assert sysctld.boot_path_error("/etc/sysctl.d/60-tcptune.conf", "/") is None
    assert "absolute path" in sysctld.boot_path_error("etc/sysctl.d/60-tcptune.conf", root)


def test_given_directories_replace_the_default_ones(root):
    custom = under(root, "etc/tcptune")
    path = under(custom, "60-tcptune.conf")
    assert sysctld.boot_path_error(path, root, dirs=[custom]) is None
    error = sysctld.boot_path_error(under(root, "etc/sysctl.d/60-tcptune.conf"), root, dirs=[custom])
    assert "not in a directory" in error
