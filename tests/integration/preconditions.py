# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why an integration test cannot run on this machine, as one skip marker per kind of test bed.

make test installs and builds everything they need (tests/packages.txt, tests/testbed.sh), so a skip
there means the test bed is broken, and the skip reason says how.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

import pytest

TEST_IMAGE = "localhost/tcptune-debian:12"


def unshare_problem(commands=("unshare",)):
    """Network namespaces with `unshare --net`, and the commands a test runs in them."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (unshare --net)"
    for command in commands:
        if shutil.which(command) is None:
            return "the %s command is not installed" % command
    probe = subprocess.run(["unshare", "--net", "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if probe.returncode != 0:
        return "unshare --net does not work here: %s" % probe.stderr.decode("utf-8", "replace").strip()
    return None


def podman_problem(image=TEST_IMAGE):
    """A privileged Podman container from the test bed's image."""
    if os.geteuid() != 0:
        return "needs root for a privileged podman container"
    if shutil.which("podman") is None:
        return "podman is not installed"
    if subprocess.run(["podman", "image", "exists", image], check=False).returncode != 0:
        return "image %s is missing (build it with tests/testbed.sh)" % image
    return None


def needs_unshare(commands=("unshare",)):
    problem = unshare_problem(tuple(commands))
    return pytest.mark.skipif(problem is not None, reason=str(problem))


def needs_podman(image=TEST_IMAGE):
    problem = podman_problem(image)
    return pytest.mark.skipif(problem is not None, reason=str(problem))
