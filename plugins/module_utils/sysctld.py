# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl.d files: the text we persist, parsing what others wrote, the order systemd-sysctl applies
them in at boot, the files that win over ours (conflicts) and live values that left ours (drift)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, catalogue_values
from ansible_collections.tcptune.linux.plugins.module_utils.fileutil import read_file

try:
    from typing import Any, Dict, List, Optional  # noqa: F401 (type comments)
except ImportError:  # pragma: no cover
    pass

DEFAULT_PATH = "/etc/sysctl.d/60-tcptune.conf"
# systemd-sysctl precedence: directories by priority (a file name in an earlier directory masks
# the same name in later ones), then all names sorted; /etc/sysctl.conf is read last by
# `sysctl --system` (procps) and, on Debian, by systemd-sysctl through /etc/sysctl.d/99-sysctl.conf.
DEFAULT_SYSCTL_SOURCES = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                          "/usr/lib/sysctl.d", "/etc/sysctl.conf"]
HEADER = ("# Managed by tcptune.linux ({owner}). Do not edit: the next run overwrites this file.\n"
          "# Remove it with state=absent, which also restores the values it replaced.\n")


def same_value(key, left, right):
    # type: (Any, Any, Any) -> bool
    """Compare values, not strings: tabs against spaces, lists against tuples, '8080, 9000' too."""
    if left is None or right is None:
        return left is right
    try:
        left = catalogue_values.coerce_value(key, left)
        right = catalogue_values.coerce_value(key, right)
    except ValueError:
        return False
    if key.shape == catalogue.TEXT:
        return left.replace(" ", "") == right.replace(" ", "")
    return left == right


def render_persist(wanted, skipped, owner="tcp_sysctl"):
    """The sysctl.d text: applied keys in apply order; skipped keys as comments with the reason."""
    lines = [HEADER.format(owner=owner)]
    for name in catalogue.ordered(list(wanted) + list(skipped)):
        key = catalogue.get(name)
        if name in wanted:
            lines.append("%s = %s\n" % (name, catalogue_values.format_value(key, wanted[name])))
        else:
            lines.append("# %s not set: %s\n" % (name, skipped[name]))
    return "".join(lines)


def parse_sysctl_file(text):
    # type: (str) -> Dict[str, str]
    """sysctl.d syntax: 'key = value', '#'/';' comments, '-' prefix, '/' separators."""
    result = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.strip().lstrip("-").strip()
        if "/" in name and ("." not in name or name.index("/") < name.index(".")):
            name = name.replace("/", ".")
        result[name] = value.strip()
    return result


def drifted(persisted_text, live):
    # type: (Optional[str], Dict[str, Any]) -> Dict[str, Dict[str, str]]
    """{name: {persisted, live}} for the keys our own sysctl.d file sets whose live value differs
    (changed by hand, or a file applied after ours at boot). Unknown and unreadable keys are left out."""
    result = {}
    for name, value in parse_sysctl_file(persisted_text or "").items():
        if name not in catalogue.CATALOGUE or live.get(name) is None:
            continue
        key = catalogue.get(name)
        if not same_value(key, live[name], value):
            result[name] = {"persisted": value, "live": catalogue_values.format_value(key, live[name])}
    return result


def boot_files(sources, own=None):
    # type: (List[str], Optional[str]) -> List[str]
    """Files in the order systemd-sysctl applies them. Directories are merged by file name
    (first directory wins), then sorted by name; plain-file sources (e.g. /etc/sysctl.conf)
    come last, in order. ``own`` is placed by its name even when it does not exist yet."""
    by_name, extra = {}, []
    for source in sources:
        if os.path.isdir(source):
            for name in os.listdir(source):
                if name.endswith(".conf") and name not in by_name:
                    by_name[name] = os.path.join(source, name)
        elif os.path.isfile(source):
            extra.append(source)
    if own is not None:
        by_name.setdefault(os.path.basename(own), own)
    seen, result = set(), []
    for path in [by_name[name] for name in sorted(by_name)] + extra:
        real = os.path.realpath(path)
        if real not in seen:  # /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf on Debian
            seen.add(real)
            result.append(path)
    return result


def boot_dirs(root="/"):
    # type: (str) -> List[str]
    """The sysctl.d directories systemd-sysctl reads at boot, under ``root``, highest priority first."""
    return [os.path.join(root, source.lstrip("/")) for source in DEFAULT_SYSCTL_SOURCES if source.endswith(".d")]


def boot_path_error(path, root="/", dirs=None, option="sysctl_path"):
    # type: (str, str, Optional[List[str]], str) -> Optional[str]
    """Why the boot would not apply a persist file at ``path`` (one sentence naming ``option`` and the
    rule), or None. Reads nothing but the names of files in the directories.

    systemd-sysctl reads only ``*.conf`` names not starting with "." from its sysctl.d directories
    (``dirs``, default boot_dirs(root), highest priority first); /run is a tmpfs, emptied at every
    boot; a file of the same name in a directory of higher priority masks it. ``path`` is the real
    path, compared relative to ``root`` (a fake root in tests)."""
    dirs = boot_dirs(root) if dirs is None else list(dirs)
    lost = "so its values would be lost at the next reboot"

    def in_run(item):
        return os.path.relpath(os.path.realpath(item), os.path.realpath(root)).split(os.sep, 1)[0] == "run"

    if not os.path.isabs(path):
        return "%s %s: must be an absolute path" % (option, path)
    name = os.path.basename(path)
    if not name.endswith(".conf") or name.startswith("."):
        return ("%s %s: systemd-sysctl reads only files named *.conf (not starting with '.') at boot, %s"
                % (option, path, lost))
    directory = os.path.realpath(os.path.dirname(path))
    if in_run(directory):
        return "%s %s: /run is a tmpfs, emptied at every boot, %s" % (option, path, lost)
    found = [index for index, item in enumerate(dirs) if os.path.realpath(item) == directory]
    if not found:
        return ("%s %s: not in a directory systemd-sysctl reads at boot (one of %s), %s"
                % (option, path, ", ".join(item for item in dirs if not in_run(item)), lost))
    for higher in dirs[:found[0]]:
        other = os.path.join(higher, name)
        if os.path.lexists(other) and os.path.realpath(other) != os.path.realpath(path):
            return ("%s %s: masked by %s, the same name in a directory of higher priority, which systemd-sysctl "
                    "reads instead, %s" % (option, path, other, lost))
    return None


def conflicts(path, wanted, sources):
    """{name: [{file, value}]}: files read after ``path`` at boot (or masking it by having the
    same name in a directory of higher priority) that set a different value."""
    files = boot_files(sources, own=path)
    base = os.path.basename(path)
    position = [os.path.basename(item) for item in files].index(base)
    later = files[position:] if os.path.realpath(files[position]) != os.path.realpath(path) \
        else files[position + 1:]
    result = {}
    for item in later:
        text = read_file(item)
        if text is None:
            continue
        for name, value in parse_sysctl_file(text).items():
            if name in wanted and not same_value(catalogue.get(name), value, wanted[name]):
                result.setdefault(name, []).append({"file": item, "value": value})
    return result


# Keys that exist only while a module is loaded, by module, with the /proc/sys prefix systemd-sysctl
# is asked to apply again when udev sees the module load (sysctl.d(5), "Example 2"): the module is
# often loaded by a firewall or a container runtime after systemd-sysctl ran at boot.
MODULE_RULES_PATH = "/etc/udev/rules.d/60-tcptune-sysctl.rules"
SYSTEMD_SYSCTL = ("usr/lib/systemd/systemd-sysctl", "lib/systemd/systemd-sysctl")


def render_module_rules(names, root="/"):
    # type: (List[str], str) -> Optional[str]
    """The udev rules that apply our file's module keys when their module loads, or None when the file
    has none. systemd-sysctl reads every sysctl.d file again, limited to the module's prefix."""
    modules = sorted(set(module for module in (catalogue.module_of(name) for name in names) if module))
    if not modules:
        return None
    binary = next((path for path in SYSTEMD_SYSCTL if os.path.exists(os.path.join(root, path))), SYSTEMD_SYSCTL[0])
    lines = [HEADER.format(owner="tcp_sysctl")]
    for module in modules:
        prefix = "/" + catalogue.MODULE_KEYS[module].rsplit(".", 1)[0].replace(".", "/")
        lines.append('ACTION=="add", SUBSYSTEM=="module", KERNEL=="%s", RUN+="/%s --prefix=%s"\n'
                     % (module, binary, prefix))
    return "".join(lines)
