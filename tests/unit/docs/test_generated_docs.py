# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docs' generated tables equal what docs/generate.py makes from the code, and the README's first screen
names commands and files that exist."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.tcptune.linux.plugins.module_utils import sizing_inputs

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
# What the generator reads and writes; a copy of them is a checkout it can run in.
INPUTS = ("docs/generate.py", "files/generated_files.py", "README.md", "docs/findings.md", "docs/profiles.md",
          "docs/role.md", "roles/tcp_tuning/meta/argument_specs.yml", "plugins/module_utils")


def _generate(root, *args):
    return subprocess.run([sys.executable, os.path.join(root, "docs", "generate.py")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)


def _read(*parts):
    with open(os.path.join(*parts)) as handle:
        return handle.read()


def test_every_generated_table_matches_the_code():
    result = _generate(REPO, "--check")
    assert result.returncode == 0, result.stdout


def test_check_fails_on_a_hand_edited_row_and_the_generator_puts_it_back(tmp_path):
    for path in INPUTS:
        source, target = os.path.join(REPO, path), os.path.join(str(tmp_path), path)
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy(source, target)
    readme = os.path.join(str(tmp_path), "README.md")
    original = _read(readme)
    edited = original.replace("| `fd_pressure` | The system file table", "| `fd_pressure` | The file table", 1)
    assert edited != original
    with open(readme, "w") as handle:
        handle.write(edited)

    result = _generate(str(tmp_path), "--check")
    assert result.returncode == 1 and "README.md" in result.stdout, result.stdout
    assert _read(readme) == edited  # --check changes nothing
    assert _generate(str(tmp_path)).returncode == 0
    assert _read(readme) == original
    assert _generate(str(tmp_path), "--check").returncode == 0


def _first_screen():
    return "\n".join(_read(REPO, "README.md").splitlines()[:45])


def test_ci_runs_the_readmes_test_command():
    commands = re.search(r"## Two commands\n+```sh\n(.*?)```", _first_screen(), re.S).group(1)
    test_command = [line.split("#")[0].strip() for line in commands.splitlines() if "test" in line.split("#")[0]]
    assert test_command == ["make test"]
    assert re.search(r"^%s\b" % re.escape(test_command[0]), _read(REPO, ".ci", "run"), re.M)


def test_the_first_screen_names_files_that_exist():
    flow = _first_screen().split("## One run", 1)[1]
    names = set(re.findall(r"`(?:plugins/module_utils/)?([a-z_*]+\.py)`", flow))
    assert {"tune.py", "diagnosis.py", "sizing.py", "sizing_rules.py", "rules_*.py", "apply.py", "report.py"} <= names
    for name in names:
        assert glob.glob(os.path.join(REPO, "plugins", "module_utils", name)), name


def test_argument_specs_states_the_memory_budget_bound_the_code_enforces():
    """The review of cc78c24 found argument_specs allowing 90 while the code refused above 50."""
    spec = yaml.safe_load(_read(REPO, "roles", "tcp_tuning", "meta", "argument_specs.yml"))
    description = spec["argument_specs"]["main"]["options"]["tcp_tuning_memory_budget_percent"]["description"]
    assert "at most 50" in description
    assert sizing_inputs.resolve_workload({"memory_budget_percent": 50})["memory_budget_percent"] == 50
    with pytest.raises(sizing_inputs.SizingInputError, match="at most 50"):
        sizing_inputs.resolve_workload({"memory_budget_percent": 50.5})
