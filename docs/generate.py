# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the docs' tables from the code's own data.

    python3 docs/generate.py          # rewrite every table between its markers
    python3 docs/generate.py --check  # change nothing; exit 1 and name each table that differs

Each table sits between <!-- BEGIN generated: NAME --> and <!-- END generated: NAME --> in a file of
TABLES; only what is between the markers is rewritten. The data: diagnosis.FINDING_IDS and
FINDING_DOCS (with its thresholds filled in from diagnosis.py's constants), workload_options.PROFILES,
catalogue.CATALOGUE and roles/tcp_tuning/meta/argument_specs.yml. Needs PyYAML (ansible-core's own
dependency) for argument_specs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import string
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "files"))
import generated_files  # noqa: E402 (files/generated_files.py of this checkout)
ARGUMENT_SPECS = os.path.join(REPO, "roles", "tcp_tuning", "meta", "argument_specs.yml")


def code_data():
    """Everything the tables are made from. The one place that knows where each name lives."""
    generated_files.use_checkout(REPO)
    from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, diagnosis, workload_options
    return {
        "finding_ids": diagnosis.FINDING_IDS,
        "finding_docs": diagnosis.FINDING_DOCS,
        "thresholds": vars(diagnosis),
        "profiles": workload_options.PROFILES,
        "default_profile": workload_options.DEFAULT_PROFILE,
        "workload_numbers": workload_options.WORKLOAD_NUMBERS,
        "workload_defaults": workload_options.DEFAULTS,
        "catalogue": catalogue.CATALOGUE,
    }


def role_options():
    import yaml
    with open(ARGUMENT_SPECS) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


# --- Formatting --------------------------------------------------------------------------------------

def number(value, grouped=False):
    """20000 -> '20000' or, grouped, '20 000'; 0.05 -> '0.05'; (4, 12) -> '4.12'."""
    if isinstance(value, tuple):
        return ".".join(str(part) for part in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and grouped:
        return "{:,}".format(value).replace(",", " ")
    return "%g" % value if isinstance(value, float) else str(value)


class _ConstantFormatter(string.Formatter):
    """{NAME} a constant; {NAME:n} grouped thousands; {NAME:%} a fraction as a percentage."""

    def format_field(self, value, format_spec):
        if format_spec == "%":
            return "%g %%" % round(100 * value, 4)
        if format_spec in ("", "n"):
            return number(value, grouped=format_spec == "n")
        raise ValueError("unknown format %r" % format_spec)


def fill(text, constants):
    return _ConstantFormatter().vformat(text, (), constants)


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ").strip()


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(str(value)) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _sentences(*parts):
    return " ".join(part for part in parts if part)


# --- Tables ------------------------------------------------------------------------------------------

def _finding_texts(data):
    docs, ids = data["finding_docs"], data["finding_ids"]
    if list(docs) != list(ids):
        raise ValueError("diagnosis.FINDING_DOCS must list exactly FINDING_IDS, in that order")
    return [(finding_id, dict((field, fill(text, data["thresholds"])) for field, text in docs[finding_id].items()))
            for finding_id in ids]


def findings_summary(data):
    return table(("id", "what it signals", "what to do"),
                 [("`%s`" % fid, text["signals"], text["what_to_do"]) for fid, text in _finding_texts(data)])


def findings_detail(data):
    return table(("id", "what it means", "evidence", "thresholds", "what to do"),
                 [("`%s`" % fid, _sentences(text["signals"], text["more"]), text["evidence"], text["thresholds"],
                   text["what_to_do"]) for fid, text in _finding_texts(data)])


def profiles(data):
    """One column per workload number some preset sets, in WORKLOAD_NUMBERS order; unset: the default or -."""
    presets, defaults = data["profiles"], data["workload_defaults"]
    numbers = [name for name in data["workload_numbers"] if any(name in preset for preset in presets.values())]
    rows = []
    for name, preset in presets.items():
        values = [preset.get(number_name, defaults.get(number_name)) for number_name in numbers]
        rows.append(["`%s`%s" % (name, " (default)" if name == data["default_profile"] else "")]
                    + ["–" if value is None else number(value, grouped=True) for value in values]
                    + [preset["description"]])
    return table(["profile"] + numbers + ["for"], rows)


def _scope(row):
    if row.netns_since is None:
        return "global"
    if row.netns_since == (0,):
        return "per netns"
    return "per netns since " + number(row.netns_since)


def _kernels(row):
    parts = []
    if row.since != (0,):
        parts.append("since " + number(row.since))
    if row.removed:
        parts.append("removed in " + number(row.removed))
    return ", ".join(parts) or "all"


def catalogue_keys(data):
    return table(("key", "rule (`sizing_rules.RULES`)", "scope", "unit", "kernels", "findings", "what it is"),
                 [("`%s`" % row.name, "`%s`" % row.rule if row.rule else "never planned", _scope(row), row.unit,
                   _kernels(row), ", ".join("`%s`" % finding for finding in row.findings) or "–", row.description)
                  for row in data["catalogue"].values()])


def _markup(text):
    """ansible-doc markup to Markdown: C(x) and I(x) become `x`, O(x) too."""
    return re.sub(r"\b[CIO]\(([^()]*)\)", r"`\1`", text)


def role_variables(data):
    rows = []
    for name, spec in role_options().items():
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind += " of " + spec["elements"]
        if spec.get("choices"):
            kind += ": " + ", ".join("`%s`" % choice for choice in spec["choices"])
        default = spec.get("default")
        shown = "–" if default is None and "default" not in spec else "`%s`" % (
            {True: "true", False: "false"}.get(default, default) if not isinstance(default, (dict, list)) else
            ("{}" if isinstance(default, dict) else "[]"))
        description = spec.get("description") or ""
        if isinstance(description, list):
            description = " ".join(description)
        rows.append(("`%s`" % name, kind, shown, _markup(description)))
    return table(("variable", "type", "default", "description"), rows)


# (file, marker name, function of the data)
TABLES = (
    ("README.md", "findings", findings_summary),
    ("README.md", "profiles", profiles),
    ("docs/findings.md", "findings", findings_detail),
    ("docs/profiles.md", "catalogue", catalogue_keys),
    ("docs/role.md", "role-variables", role_variables),
)


def _markers(name):
    return "<!-- BEGIN generated: %s -->" % name, "<!-- END generated: %s -->" % name


def rewrite(text, name, body):
    """text with what is between the markers of name replaced by body."""
    begin, end = _markers(name)
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError("want one %s ... %s" % (begin, end))
    head, rest = text.split(begin)
    return "%s%s\n%s\n%s%s" % (head, begin, body, end, rest.split(end, 1)[1])


def generated(data):
    """{path: the file's text with every table of TABLES filled in}."""
    texts = {}
    for path, name, make in TABLES:
        if path not in texts:
            with open(os.path.join(REPO, path)) as handle:
                texts[path] = handle.read()
        texts[path] = rewrite(texts[path], name, make(data))
    return texts


def main(argv=None):
    args = generated_files.parser(__doc__).parse_args(argv)
    return generated_files.write_or_check(dict((os.path.join(REPO, path), text)
                                               for path, text in generated(code_data()).items()),
                                          args.check, "python3 docs/generate.py", REPO)


if __name__ == "__main__":
    sys.exit(main())
