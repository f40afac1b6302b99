# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write what documents and declares the workload options from plugins/module_utils/workload_options.py:
the doc fragment tcptune.linux.workload (the options of tcp_sizing and tcp_tune), and the role's
tcp_tuning_<option> variables in defaults/main.yml and meta/argument_specs.yml (the block between the
BEGIN and END workload options lines) and the names tasks/main.yml passes on, in vars/main.yml.

    python3 files/workload/generate.py            # write them
    python3 files/workload/generate.py --check    # exit 1 when one differs (a test runs this)

Stdlib only; imports the checkout's module_utils as the collection (ansible_collections/tcptune/linux may be
this checkout or a link to it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import generated_files  # noqa: E402 (files/generated_files.py of this checkout)
ROLE = os.path.join(ROOT, "roles", "tcp_tuning")
FRAGMENT = os.path.join(ROOT, "plugins", "doc_fragments", "workload.py")
DEFAULTS = os.path.join(ROLE, "defaults", "main.yml")
ARGUMENT_SPECS = os.path.join(ROLE, "meta", "argument_specs.yml")
VARS = os.path.join(ROLE, "vars", "main.yml")
SOURCE = "plugins/module_utils/workload_options.py"
BEGIN = "# BEGIN workload options: files/workload/generate.py writes them from module_utils/workload_options.py"
END = "# END workload options"
ROLE_PREFIX = "tcp_tuning_"
# The variable of vars/main.yml that lists the options tasks/main.yml passes to tcp_tune's workload.
NAMES_VARIABLE = "__tcp_tuning_workload_options"
WIDTH = 118
PLAIN_START = "-?:,[]{}#&*!|>'\"%@`"


def _workload_options():
    """plugins/module_utils/workload_options.py of this checkout, imported as the collection."""
    generated_files.use_checkout(ROOT)
    from ansible_collections.tcptune.linux.plugins.module_utils import workload_options
    return workload_options


def scalar(value):
    """A YAML scalar on one line: plain where YAML reads it back as the same string, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(scalar(item) for item in value)
    plain = (value and value[0] not in PLAIN_START and value == value.strip() and ": " not in value
             and " #" not in value and not value.endswith(":") and not re.match(r"^(null|true|false|~|[-+.\d])", value))
    return value if plain else json.dumps(value, ensure_ascii=False)


def _fold(first, text, indent):
    """``first`` followed by ``text`` (a scalar), broken at spaces so lines stay within WIDTH; the
    continuation lines are indented by ``indent``. A line never starts with a YAML indicator."""
    words = scalar(text).split(" ")
    lines, line = [], first + words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) > WIDTH and word[:1] not in PLAIN_START and line.strip():
            lines.append(line)
            line = " " * indent + word
        else:
            line += " " + word
    return lines + [line]


def description(indent, text):
    """The description: key at ``indent``: one scalar, or a list of them when ``text`` is a tuple."""
    pad = " " * indent
    if isinstance(text, str):
        return _fold(pad + "description: ", text, indent + 2)
    lines = [pad + "description:"]
    for item in text:
        lines.extend(_fold(pad + "  - ", item, indent + 4))
    return lines


def role_default(option):
    """The role variable's default: the module option's, or [] for a list, else null (not declared)."""
    if "default" in option.spec:
        return option.spec["default"]
    return [] if option.spec["type"] == "list" else None


def role_spec(option, profiles):
    """The role's argument spec of tcp_tuning_<option>: the option's type and elements, its role default,
    and choices only for profile (the role's message lists the presets in their order); other bounds are
    sizing_inputs' to check, so the role and the module refuse a value with the same message."""
    spec = dict((key, option.spec[key]) for key in ("type", "elements") if key in option.spec)
    if role_default(option) is not None:
        spec["default"] = role_default(option)
    if option.name == "profile":
        spec["choices"] = list(profiles)
    return spec


def options(workload_options):
    return (workload_options.PROFILE_OPTION,) + tuple(workload_options.WORKLOAD_TABLE)


def render_fragment(workload_options):
    lines = []
    for option in options(workload_options):
        lines.append("  %s:" % option.name)
        lines.extend(description(4, option.doc))
        for key in ("type", "elements", "choices", "default"):
            if key in option.spec:
                lines.append("    %s: %s" % (key, scalar(option.spec[key])))
    return '''# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# Written by files/workload/generate.py from %s: edit there, then run it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The workload options of tcp_sizing and tcp_tune; their argument spec is
    # workload_options.WORKLOAD_ARGUMENT_SPEC.
    DOCUMENTATION = r"""
options:
%s
"""
''' % (SOURCE, "\n".join(lines))


def render_argument_specs_block(workload_options):
    lines = []
    for option in options(workload_options):
        lines.append("      %s%s:" % (ROLE_PREFIX, option.name))
        for key, value in role_spec(option, workload_options.PROFILES).items():
            lines.append("        %s: %s" % (key, "{}" if value == {} else scalar(value)))
        lines.extend(description(8, option.role_doc))
    return lines


def render_defaults_block(workload_options):
    lines = ["# Workload. null means: take it from the profile preset in tcp_sizing."]
    for option in options(workload_options):
        lines.append("%s%s: %s" % (ROLE_PREFIX, option.name, scalar(role_default(option))))
    return lines


def render_vars(workload_options):
    return "\n".join([
        "---",
        "# Written by files/workload/generate.py from %s: edit there, then run it." % SOURCE,
        "# The workload options tasks/main.yml passes to tcp_tune (its option workload), each the value of",
        "# tcp_tuning_<option>.",
        "%s:" % NAMES_VARIABLE,
    ] + ["  - %s" % option.name for option in options(workload_options)]) + "\n"


def replace_block(text, block, indent, path):
    """``text`` with the lines between its BEGIN and END workload options lines (at ``indent``) replaced."""
    pattern = re.compile(r"^( *)%s\n.*?^ *%s\n" % (re.escape(BEGIN), re.escape(END)), re.M | re.S)
    if not pattern.search(text):
        raise SystemExit("%s: no block between '%s' and '%s'" % (path, BEGIN, END))
    pad = " " * indent
    new = "\n".join([pad + BEGIN] + block + [pad + END]) + "\n"
    return pattern.sub(lambda match: new, text, count=1)


def outputs():
    """{path: text} of the files this script writes."""
    workload_options = _workload_options()
    return {
        FRAGMENT: render_fragment(workload_options),
        DEFAULTS: replace_block(generated_files.read(DEFAULTS), render_defaults_block(workload_options), 0, DEFAULTS),
        ARGUMENT_SPECS: replace_block(generated_files.read(ARGUMENT_SPECS), render_argument_specs_block(workload_options), 6,
                                      ARGUMENT_SPECS),
        VARS: render_vars(workload_options),
    }


def main(argv=None):
    args = generated_files.parser(__doc__).parse_args(argv)
    return generated_files.write_or_check(outputs(), args.check, "python3 files/workload/generate.py", ROOT)


if __name__ == "__main__":
    sys.exit(main())
