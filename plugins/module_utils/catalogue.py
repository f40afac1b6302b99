# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one sysctl catalogue shared by facts, sizing and apply.

Adding a key is one row in ``CATALOGUE``. A row names the function that sizes it (``rule``, a
name in ``sizing_rules.RULES``; None: never planned) and the kernel's own default
(``kernel_default``, a function of the host in kernel_defaults.py; None: not modelled), so
``catalogue.get(key).rule`` answers "where is this sized?" in one step.
Sources for scopes and versions: kernel-tcp-facts.md sections 2-9.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults as kd

NETNS = "netns"
GLOBAL = "global"

INT = "int"
PAIR = "pair"
TRIPLE = "triple"
TEXT = "text"

ALWAYS = (0,)
INT_MAX = 2147483647
LONG_MAX = 9223372036854775807
NR_OPEN_MAX = 2147483584  # min(INT_MAX, SIZE_MAX/sizeof(void*)) & -BITS_PER_LONG on 64-bit

SysctlKey = namedtuple(
    "SysctlKey",
    [
        "name",  # dotted name, e.g. net.ipv4.tcp_mem
        "shape",  # INT, PAIR, TRIPLE or TEXT
        "unit",  # pages, bytes, seconds, milliseconds, count, ports, bool, enum, name
        "minimum",  # lowest value we accept for each element (policy, may be above the kernel's)
        "maximum",  # highest value we accept for each element
        "netns_since",  # kernel version from which the key is per network namespace; None: always global
        "since",  # first kernel version that has the key
        "removed",  # first kernel version without the key; None: still present
        "order",  # apply order, lower first
        "findings",  # finding ids (diagnosis.py) this key relates to
        "refuse",  # None, or why no value other than 0 is ever accepted
        "description",
        "rule",  # name of the sizing function in sizing_rules.RULES; None: the plan never sets it
        "kernel_default",  # function(host) -> the kernel's default (kernel_defaults.py); None: not modelled
        "maximum_before",  # None, or ((major, minor), max): a lower maximum on kernels before that version
    ],
)


def _key(name, shape, unit, minimum=0, maximum=INT_MAX, netns_since=ALWAYS, since=ALWAYS,
         removed=None, order=50, findings=(), refuse=None, description="", rule=None, kernel_default=None,
         maximum_before=None):
    return SysctlKey(name, shape, unit, minimum, maximum, netns_since, since, removed, order,
                     tuple(findings), refuse, description, rule, kernel_default, maximum_before)


_ROWS = [
    # File descriptors: global, and nr_open must rise before anything that needs more files.
    _key("fs.nr_open", INT, "count", 1024, NR_OPEN_MAX, netns_since=None, order=0,
         findings=["fd_pressure"], description="Largest RLIMIT_NOFILE a process may get.",
         rule="rule_files", kernel_default=kd.nr_open),
    _key("fs.file-max", INT, "count", 8192, LONG_MAX, netns_since=None, order=1,
         findings=["fd_pressure"], description="System-wide limit of open files.",
         rule="rule_files", kernel_default=kd.file_max),
    # Core socket limits.
    _key("net.core.somaxconn", INT, "count", 128, INT_MAX, order=10,
         findings=["listen_queue_overflow", "listener_backlog_capped"],
         description="Cap on the listen() backlog of every socket.",
         rule="rule_backlogs", kernel_default=kd.somaxconn,
         # sk_max_ack_backlog was an unsigned short before 4.1: larger backlogs were truncated.
         maximum_before=((4, 1), 65535)),
    _key("net.core.netdev_max_backlog", INT, "count", 1000, INT_MAX, netns_since=None, order=10,
         findings=["backlog_drops"], description="Per-CPU input packet backlog."),
    _key("net.core.rmem_max", INT, "bytes", 212992, INT_MAX, netns_since=None, order=11,
         findings=["buffer_cap_low"], description="Largest SO_RCVBUF an application may set.",
         rule="rule_core_mem_max", kernel_default=kd.core_mem_max),
    _key("net.core.wmem_max", INT, "bytes", 212992, INT_MAX, netns_since=None, order=11,
         findings=["buffer_cap_low"], description="Largest SO_SNDBUF an application may set.",
         rule="rule_core_mem_max", kernel_default=kd.core_mem_max),
    _key("net.core.rmem_default", INT, "bytes", 4096, INT_MAX, netns_since=None, order=12,
         description="Default receive buffer of non-TCP sockets."),
    _key("net.core.wmem_default", INT, "bytes", 4096, INT_MAX, netns_since=None, order=12,
         description="Default send buffer of non-TCP sockets."),
    _key("net.core.optmem_max", INT, "bytes", 10240, INT_MAX, netns_since=(6, 8), order=12,
         description="Ancillary buffer per socket."),
    _key("net.core.default_qdisc", TEXT, "name", netns_since=None, order=13,
         description="Queueing discipline for new interfaces."),
    # TCP memory, in pages, global.
    _key("net.ipv4.tcp_mem", TRIPLE, "pages", 1, LONG_MAX, netns_since=None, order=20,
         findings=["tcp_memory_pressure", "rst_send_failed"],
         description="min, pressure and max pages of memory for all TCP sockets.",
         rule="rule_tcp_mem", kernel_default=kd.tcp_mem),
    _key("net.ipv4.tcp_rmem", TRIPLE, "bytes", 4096, INT_MAX, netns_since=(4, 15), order=21,
         findings=["buffer_cap_low", "tcp_memory_pressure"],
         description="min, default and max receive buffer of a TCP socket.",
         rule="rule_socket_buffers", kernel_default=kd.tcp_rmem),
    _key("net.ipv4.tcp_wmem", TRIPLE, "bytes", 4096, INT_MAX, netns_since=(4, 15), order=21,
         findings=["buffer_cap_low", "tcp_memory_pressure"],
         description="min, default and max send buffer of a TCP socket.",
         rule="rule_socket_buffers", kernel_default=kd.tcp_wmem),
    _key("net.ipv4.tcp_max_orphans", INT, "count", 1024, INT_MAX, netns_since=None, order=22,
         findings=["orphan_pressure"], description="Orphaned sockets allowed before they are reset."),
    _key("net.ipv4.tcp_notsent_lowat", INT, "bytes", 16384, 4294967295, netns_since=(4, 15), order=23,
         description="Unsent bytes that keep a socket from polling writable."),
    _key("net.ipv4.tcp_slow_start_after_idle", INT, "bool", 0, 1, netns_since=(4, 15), order=23,
         description="Reset cwnd after an idle period."),
    _key("net.ipv4.tcp_mtu_probing", INT, "enum", 0, 2, order=23,
         description="Packetization-layer path MTU discovery."),
    _key("net.ipv4.tcp_congestion_control", TEXT, "name", netns_since=(4, 15), order=23,
         description="Congestion control for new sockets."),
    # Handshake and queues.
    _key("net.ipv4.tcp_max_syn_backlog", INT, "count", 128, INT_MAX, netns_since=(4, 11), order=30,
         findings=["syn_queue_pressure"],
         description="Pending SYNs kept when syncookies are off.",
         rule="rule_backlogs", kernel_default=kd.tcp_max_syn_backlog),
    _key("net.ipv4.tcp_syncookies", INT, "enum", 0, 2, netns_since=(4, 5), order=30,
         findings=["syn_queue_pressure"], description="Send syncookies when the SYN queue is full.",
         rule="rule_backlogs", kernel_default=kd.tcp_syncookies),
    _key("net.ipv4.tcp_synack_retries", INT, "count", 1, 255, netns_since=(4, 6), order=30,
         findings=["syn_queue_pressure"], description="SYN-ACK retransmits before giving up."),
    # TIME_WAIT and ports.
    _key("net.ipv4.tcp_max_tw_buckets", INT, "count", 1024, INT_MAX, netns_since=(4, 11), order=40,
         findings=["time_wait_overflow"], description="TIME_WAIT sockets kept before they are destroyed.",
         rule="rule_tw_buckets", kernel_default=kd.tcp_max_tw_buckets),
    _key("net.ipv4.tcp_tw_reuse", INT, "enum", 0, 2, netns_since=(4, 11), order=40,
         findings=["ephemeral_port_pressure"],
         description="Let connect() reuse a TIME_WAIT 4-tuple (1: all, 2: loopback only).",
         rule="rule_tw_reuse", kernel_default=kd.tcp_tw_reuse),
    _key("net.ipv4.tcp_tw_reuse_delay", INT, "milliseconds", 1, 2000000, since=(6, 14), order=40,
         findings=["ephemeral_port_pressure"],
         description="How old a TIME_WAIT socket must be before tcp_tw_reuse takes it.",
         kernel_default=kd.tcp_tw_reuse_delay),
    _key("net.ipv4.tcp_tw_recycle", INT, "bool", 0, 0, netns_since=(4, 11), removed=(4, 12), order=40,
         findings=["tw_recycle_enabled"],
         refuse="tcp_tw_recycle drops connections from clients behind NAT and was removed in Linux 4.12",
         description="Removed in 4.12. Only ever 0."),
    _key("net.ipv4.tcp_timestamps", INT, "enum", 0, 2, netns_since=(4, 15), order=40,
         findings=["ephemeral_port_pressure"],
         description="TCP timestamps (RFC 7323); tcp_tw_reuse needs them on both ends.",
         kernel_default=kd.tcp_timestamps),
    _key("net.ipv4.tcp_fin_timeout", INT, "seconds", 5, 600, netns_since=(4, 6), order=40,
         findings=["orphan_pressure"],
         description="Lifetime of an orphaned FIN_WAIT2 socket. Does NOT shorten TIME_WAIT (fixed at 60 s)."),
    _key("net.ipv4.ip_local_port_range", PAIR, "ports", 1024, 65535, order=41,
         findings=["ephemeral_port_pressure"],
         description="Ephemeral port range for connect() and bind(0).",
         rule="rule_port_range", kernel_default=kd.ip_local_port_range),
    _key("net.ipv4.ip_local_reserved_ports", TEXT, "ports", order=41,
         findings=["ephemeral_port_pressure"],
         description="Ports never chosen automatically (comma-separated ports and ranges).",
         rule="rule_reserved_ports", kernel_default=kd.ip_local_reserved_ports),
    # Keepalive.
    _key("net.ipv4.tcp_keepalive_time", INT, "seconds", 1, 32767, netns_since=(4, 5), order=45,
         description="Idle time before the first keepalive probe."),
    _key("net.ipv4.tcp_keepalive_intvl", INT, "seconds", 1, 32767, netns_since=(4, 5), order=45,
         description="Interval between keepalive probes."),
    _key("net.ipv4.tcp_keepalive_probes", INT, "count", 1, 127, netns_since=(4, 5), order=45,
         description="Unanswered probes before the connection is dropped."),
    # Conntrack: global; read-only in a child netns since 5.13.
    _key("net.netfilter.nf_conntrack_max", INT, "count", 1024, INT_MAX, netns_since=None, order=60,
         findings=["conntrack_pressure"], description="Tracked connections before new ones are dropped.",
         rule="rule_conntrack", kernel_default=kd.conntrack_max),
    _key("net.netfilter.nf_conntrack_buckets", INT, "count", 1024, INT_MAX, netns_since=None, order=59,
         findings=["conntrack_pressure"], description="Conntrack hash table size (hashsize).",
         rule="rule_conntrack", kernel_default=kd.conntrack_buckets),
]

CATALOGUE = dict((row.name, row) for row in _ROWS)


def _leading_digits(text):
    end = 0
    while end < len(text) and text[end] in "0123456789":
        end += 1
    return text[:end]


def parse_kernel_release(release):
    """'6.18.44-fc-v657' -> (6, 18, 44). Unparseable input gives (0, 0, 0).

    Plain string scanning, no ``re``: tcp_facts imports this module and its whole process must
    start fast (importing re costs several milliseconds).
    """
    text = release or ""
    major = _leading_digits(text)
    rest = text[len(major):]
    if not major or not rest.startswith("."):
        return (0, 0, 0)
    minor = _leading_digits(rest[1:])
    if not minor:
        return (0, 0, 0)
    rest = rest[1 + len(minor):]
    patch = _leading_digits(rest[1:]) if rest.startswith(".") else ""
    return (int(major), int(minor), int(patch or 0))


def get(name):
    """The catalogue row for ``name``. Raises KeyError naming the key when unknown."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError("%s: not a key tcptune.linux knows (see catalogue.py)" % name)


def proc_relpath(name):
    """net.ipv4.tcp_mem -> net/ipv4/tcp_mem (relative to /proc/sys)."""
    return name.replace(".", "/")


def scope_on(key, kernel):
    """NETNS or GLOBAL for ``key`` on kernel version tuple ``kernel``."""
    if key.netns_since is None:
        return GLOBAL
    return NETNS if tuple(kernel) >= key.netns_since else GLOBAL


def exists_on(key, kernel):
    """Whether kernel version ``kernel`` has the key at all (the VM tests check every such key live)."""
    kernel = tuple(kernel)
    return kernel >= key.since and (key.removed is None or kernel < key.removed)


def absent_reason(key, kernel, in_init_netns):
    """Why the key cannot be set here, or None when it can (before probing /proc/sys).

    Order matters: a kernel that lacks the key is the first reason, a global key
    inside a container the second.
    """
    kernel = tuple(kernel)
    if kernel < key.since:
        return "not on this kernel: %s appeared in Linux %s" % (key.name, _version(key.since))
    if key.removed is not None and kernel >= key.removed:
        return "not on this kernel: %s was removed in Linux %s" % (key.name, _version(key.removed))
    if not in_init_netns and scope_on(key, kernel) == GLOBAL:
        return "global key: set it on the host (a container cannot set it for itself)"
    return None


def _version(version):
    return ".".join(str(part) for part in version)


def ordered(names):
    """Key names sorted by apply order, then by name, so runs are deterministic."""
    return sorted(names, key=lambda name: (get(name).order, name))


def parse_value(key, text):
    """Kernel text -> int, list of ints, or normalised str, following the key's shape."""
    text = str(text).strip()
    if key.shape == INT:
        return int(text)
    if key.shape in (PAIR, TRIPLE):
        return [int(part) for part in text.split()]
    return " ".join(text.split())


def format_value(key, value):
    """A value (int, list, or string) -> the text written to /proc/sys and sysctl.d."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(int(part)) for part in value)
    if key.shape in (PAIR, TRIPLE):
        return " ".join(str(int(part)) for part in str(value).split())
    if key.shape == INT:
        return str(int(str(value).strip()))
    return " ".join(str(value).split())


def coerce_value(key, value):
    """User input -> the parsed form of ``parse_value``. Raises ValueError naming the key and rule.

    ip_local_reserved_ports comes back in the kernel's canonical form (merged, sorted ranges) when it
    parses, so what is written reads back equal.
    """
    if isinstance(value, bool):
        value = int(value)
    try:
        if key.shape == TEXT:
            text = parse_value(key, value)
            if key.name == "net.ipv4.ip_local_reserved_ports" and not _reserved_ports_errors(key, text):
                return format_port_ranges(parse_port_ranges(text))
            return text
        if isinstance(value, (list, tuple)):
            parts = [int(str(part).strip()) for part in value]
        else:
            parts = [int(part) for part in str(value).split()]
    except ValueError:
        raise ValueError("%s: expected %s, got %r" % (key.name, _shape_words(key), value))
    expected = {INT: 1, PAIR: 2, TRIPLE: 3}[key.shape]
    if len(parts) != expected:
        raise ValueError("%s: expected %s, got %d value(s): %r"
                         % (key.name, _shape_words(key), len(parts), value))
    return parts[0] if key.shape == INT else parts


def _shape_words(key):
    return {INT: "one integer", PAIR: "two integers (low high)",
            TRIPLE: "three integers (min default max)", TEXT: "text"}[key.shape]


def validation_errors(key, value, kernel=None):
    """Every rule ``value`` (already coerced) breaks for ``key``; an empty list when it is safe.

    Each message names the key and the rule.
    """
    errors = []
    if kernel is not None and key.removed is not None and tuple(kernel) >= key.removed:
        errors.append("%s: removed in Linux %s, this host runs %s"
                      % (key.name, _version(key.removed), _version(kernel)))
    if key.refuse and value not in (0, "0"):
        errors.append("%s: refused, %s" % (key.name, key.refuse))
        return errors
    if key.shape == TEXT:
        if key.name == "net.ipv4.ip_local_reserved_ports":
            errors.extend(_reserved_ports_errors(key, value))
        return errors
    parts = value if isinstance(value, list) else [value]
    maximum = key.maximum
    if key.maximum_before is not None and kernel is not None and tuple(kernel) < key.maximum_before[0]:
        maximum = key.maximum_before[1]
    for part in parts:
        if part < key.minimum or part > maximum:
            errors.append("%s: %d is outside the accepted range %d..%d%s"
                          % (key.name, part, key.minimum, maximum,
                             " on kernels before %s" % _version(key.maximum_before[0]) if maximum != key.maximum else ""))
    if key.shape == TRIPLE and not parts[0] <= parts[1] <= parts[2]:
        errors.append("%s: the three values must not decrease (min <= default/pressure <= max), got %s"
                      % (key.name, " ".join(str(part) for part in parts)))
    if key.shape == PAIR and not parts[0] < parts[1]:
        errors.append("%s: low must be below high, got %d %d" % (key.name, parts[0], parts[1]))
    return errors


def parse_port_ranges(text):
    """'8080,8081, 9000-9010' -> [(8080, 8081), (9000, 9010)]: merged (adjacent and overlapping) and sorted.

    Raises ValueError for an item that is not a port or a low-high range of ports 1..65535.
    """
    items = []
    for item in [part for part in str(text).replace(" ", "").split(",") if part]:
        bounds = item.split("-")
        if len(bounds) > 2 or not all(bound.isdigit() for bound in bounds):
            raise ValueError("%r is not a port or a low-high range" % item)
        numbers = [int(bound) for bound in bounds]
        if not all(1 <= number <= 65535 for number in numbers) or numbers != sorted(numbers):
            raise ValueError("%r must be ports 1..65535, low before high" % item)
        items.append((numbers[0], numbers[-1]))
    return merge_port_ranges(items)


def merge_port_ranges(items):
    """[(low, high), ...] -> sorted, with adjacent and overlapping ranges merged, as the kernel's bitmap does."""
    merged = []
    for low, high in sorted(items):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def format_port_ranges(ranges):
    """[(8080, 8082), (9000, 9000)] -> '8080-8082,9000', the text proc_do_large_bitmap reads back."""
    return ",".join(str(low) if low == high else "%d-%d" % (low, high) for low, high in ranges)


def _reserved_ports_errors(key, value):
    errors = []
    for item in [part for part in str(value).replace(" ", "").split(",") if part]:
        bounds = item.split("-")
        if len(bounds) > 2 or not all(bound.isdigit() for bound in bounds):
            errors.append("%s: %r is not a port or a low-high range" % (key.name, item))
            continue
        numbers = [int(bound) for bound in bounds]
        if not all(1 <= number <= 65535 for number in numbers) or numbers != sorted(numbers):
            errors.append("%s: %r must be ports 1..65535, low before high" % (key.name, item))
    return errors
