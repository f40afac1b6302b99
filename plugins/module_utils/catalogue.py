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
INT_MIN = -2147483648
UINT_MAX = 4294967295
ULONG_MAX = 18446744073709551615
U8 = (0, 255)  # proc_dou8vec_minmax with no extra bounds
# nf_ct_alloc_hashtable(): sizes above INT_MAX / sizeof(struct hlist_nulls_head) fail with ENOMEM
CONNTRACK_BUCKETS_MAX = INT_MAX // 8
# net/ipv4/sysctl_net_ipv4.c tcp_tw_reuse_delay_max = TCP_PAWS_MSL * MSEC_PER_SEC
TW_REUSE_DELAY_MAX = 60 * 1000
TCP_CA_NAME_MAX = 16  # include/net/tcp.h; proc_dostring keeps at most 15 characters of a longer name
JIFFIES_SECONDS = "-INT_MAX/HZ..INT_MAX/HZ seconds (proc_dointvec_jiffies; 8589934 at HZ=250)"

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
        "kernel_range",  # (low, high) the kernel's handler accepts per element; None: the same as minimum..maximum
        "kernel_text",  # what the kernel accepts, in words, when not a plain low..high; None: from kernel_range
        "policy",  # None, or why our bounds are narrower than the kernel's (a policy of tcptune.linux, not a limit)
    ],
)


def _key(name, shape, unit, minimum=0, maximum=INT_MAX, netns_since=ALWAYS, since=ALWAYS,
         removed=None, order=50, findings=(), refuse=None, description="", rule=None, kernel_default=None,
         maximum_before=None, kernel_range=None, kernel_text=None, policy=None):
    return SysctlKey(name, shape, unit, minimum, maximum, netns_since, since, removed, order,
                     tuple(findings), refuse, description, rule, kernel_default, maximum_before,
                     kernel_range, kernel_text, policy)


_ROWS = [
    # File descriptors: global, and nr_open must rise before anything that needs more files.
    _key("fs.nr_open", INT, "count", 1024, NR_OPEN_MAX, netns_since=None, order=0,
         findings=["fd_pressure"], description="Largest RLIMIT_NOFILE a process may get.",
         rule="rule_files", kernel_default=kd.nr_open,
         kernel_range=(64, NR_OPEN_MAX),  # fs/file.c sysctl_nr_open_min = BITS_PER_LONG
         policy="below 1024, the soft limit every process starts with (INR_OPEN_CUR), ordinary setrlimit "
                "calls and pam_limits fail"),
    _key("fs.file-max", INT, "count", 8192, LONG_MAX, netns_since=None, order=1,
         findings=["fd_pressure"], description="System-wide limit of open files.",
         rule="rule_files", kernel_default=kd.file_max,
         kernel_range=(0, LONG_MAX),  # proc_doulongvec_minmax, zero_ul..long_max
         policy="8192 is NR_FILE, the smallest value the kernel itself ever computes"),
    # Every socket a server accepts, or a client or proxy opens, is one epoll watch of the user running it.
    _key("fs.epoll.max_user_watches", INT, "count", 8192, LONG_MAX, netns_since=None, order=2,
         description="Epoll watches one user may hold in all its epoll instances (epoll_ctl fails with ENOSPC "
                     "above it).",
         rule="rule_epoll_watches", kernel_default=kd.epoll_max_user_watches,
         kernel_range=(0, LONG_MAX),  # fs/eventpoll.c: proc_doulongvec_minmax, long_zero..long_max
         policy="below 8192, an ordinary event loop (systemd, a web server's workers) can fail epoll_ctl with "
                "ENOSPC"),
    # Core socket limits.
    _key("net.core.somaxconn", INT, "count", 128, INT_MAX, order=10,
         findings=["listen_queue_overflow", "listener_backlog_capped"],
         description="Cap on the listen() backlog of every socket.",
         rule="rule_backlogs", kernel_default=kd.somaxconn,
         # sk_max_ack_backlog was an unsigned short before 4.1: larger backlogs were truncated.
         maximum_before=((4, 1), 65535),
         kernel_range=(0, INT_MAX),  # proc_dointvec_minmax, extra1 SYSCTL_ZERO
         policy="128 was the default before 5.4; a shorter accept queue overflows on any burst"),
    _key("net.core.netdev_max_backlog", INT, "count", 1000, INT_MAX, netns_since=None, order=10,
         findings=["backlog_drops"], description="Per-CPU input packet backlog.",
         kernel_range=(INT_MIN, INT_MAX),  # proc_dointvec
         policy="1000 is the kernel default; a shorter backlog drops input packets in every softirq burst"),
    _key("net.core.rmem_max", INT, "bytes", 212992, INT_MAX, netns_since=None, order=11,
         findings=["buffer_cap_low"], description="Largest SO_RCVBUF an application may set.",
         rule="rule_core_mem_max", kernel_default=kd.core_mem_max,
         kernel_text="SOCK_MIN_RCVBUF (2304 on x86_64) .. 2147483647",
         policy="212992 (SK_RMEM_MAX) was the default before 6.18; less shrinks what applications already use"),
    _key("net.core.wmem_max", INT, "bytes", 212992, INT_MAX, netns_since=None, order=11,
         findings=["buffer_cap_low"], description="Largest SO_SNDBUF an application may set.",
         rule="rule_core_mem_max", kernel_default=kd.core_mem_max,
         kernel_text="SOCK_MIN_SNDBUF (4608 on x86_64) .. 2147483647",
         policy="212992 (SK_WMEM_MAX) was the default before 6.18; less shrinks what applications already use"),
    _key("net.core.rmem_default", INT, "bytes", 4096, INT_MAX, netns_since=None, order=12,
         description="Default receive buffer of non-TCP sockets.",
         kernel_text="SOCK_MIN_RCVBUF (2304 on x86_64) .. 2147483647",
         policy="at least one 4 KiB page, above SOCK_MIN_RCVBUF on every architecture"),
    # The floor is above SOCK_MIN_SNDBUF = 2 x (2048 + sizeof(struct sk_buff)) (4608 on x86_64), which the
    # kernel refuses to go below: 4096 used to pass here and fail with EINVAL.
    _key("net.core.wmem_default", INT, "bytes", 8192, INT_MAX, netns_since=None, order=12,
         description="Default send buffer of non-TCP sockets.",
         kernel_text="SOCK_MIN_SNDBUF (4608 on x86_64) .. 2147483647",
         policy="8192 is above SOCK_MIN_SNDBUF whatever the size of struct sk_buff, so no write fails with EINVAL"),
    _key("net.core.optmem_max", INT, "bytes", 10240, INT_MAX, netns_since=(6, 8), order=12,
         description="Ancillary buffer per socket.",
         kernel_range=(0, INT_MAX),  # proc_dointvec_minmax, extra1 SYSCTL_ZERO (proc_dointvec before 6.8)
         policy="10240 was the default before 6.8; less makes multicast filters and control messages fail "
                "with ENOBUFS"),
    _key("net.core.default_qdisc", TEXT, "name", netns_since=None, order=13,
         description="Queueing discipline for new interfaces."),
    # TCP memory, in pages, global.
    _key("net.ipv4.tcp_mem", TRIPLE, "pages", 1, LONG_MAX, netns_since=None, order=20,
         findings=["tcp_memory_pressure", "rst_send_failed"],
         description="min, pressure and max pages of memory for all TCP sockets.",
         rule="rule_tcp_mem", kernel_default=kd.tcp_mem,
         kernel_range=(0, ULONG_MAX),  # proc_doulongvec_minmax, no bounds, any order
         policy="at least 1 page and at most LONG_MAX (the kernel reads the values as signed longs); "
                "min <= pressure <= max, the shape tcp_init_mem() gives on every page size"),
    # tcp_rmem/tcp_wmem: proc_dointvec_minmax with extra1 SYSCTL_ONE and no order check. min may be above
    # default: tcp_init() sets [0] = PAGE_SIZE and wmem[1] = 16384, so a 64 KiB-page kernel boots with
    # tcp_wmem = 65536 16384 4194304.
    _key("net.ipv4.tcp_rmem", TRIPLE, "bytes", 4096, INT_MAX, netns_since=(4, 15), order=21,
         findings=["buffer_cap_low", "tcp_memory_pressure"],
         description="min, default and max receive buffer of a TCP socket (min may exceed default: the kernel "
                     "sets min to PAGE_SIZE).",
         rule="rule_socket_buffers", kernel_default=kd.tcp_rmem,
         kernel_range=(1, INT_MAX),
         policy="min of at least 4096 bytes (below it a socket under memory pressure keeps less than a 4 KiB "
                "page); default <= max (else new sockets start above the autotuning maximum); all three values"),
    _key("net.ipv4.tcp_wmem", TRIPLE, "bytes", 4096, INT_MAX, netns_since=(4, 15), order=21,
         findings=["buffer_cap_low", "tcp_memory_pressure"],
         description="min, default and max send buffer of a TCP socket (min may exceed default: the kernel sets "
                     "min to PAGE_SIZE, 65536 16384 on 64 KiB pages).",
         rule="rule_socket_buffers", kernel_default=kd.tcp_wmem,
         kernel_range=(1, INT_MAX),
         policy="min of at least 4096 bytes (below it a socket under memory pressure keeps less than a 4 KiB "
                "page); default <= max (else new sockets start above the autotuning maximum); all three values"),
    _key("net.ipv4.tcp_max_orphans", INT, "count", 1024, INT_MAX, netns_since=None, order=22,
         findings=["orphan_pressure"], description="Orphaned sockets allowed before they are reset.",
         kernel_range=(INT_MIN, INT_MAX),  # proc_dointvec
         policy="below 1024, connections that are closing normally are reset (too many orphaned sockets)"),
    _key("net.ipv4.tcp_notsent_lowat", INT, "bytes", 16384, UINT_MAX, netns_since=(4, 15), order=23,
         description="Unsent bytes that keep a socket from polling writable.",
         kernel_range=(0, UINT_MAX),  # proc_douintvec
         policy="below 16 KiB writers are woken for every segment or two, costing CPU and throughput"),
    _key("net.ipv4.tcp_slow_start_after_idle", INT, "bool", 0, 1, netns_since=(4, 15), order=23,
         description="Reset cwnd after an idle period.",
         kernel_range=U8, policy="a boolean: 0 or 1"),
    _key("net.ipv4.tcp_mtu_probing", INT, "enum", 0, 2, order=23,
         description="Packetization-layer path MTU discovery.",
         kernel_range=U8, policy="0, 1 and 2 are the documented modes (ip-sysctl.rst)"),
    _key("net.ipv4.tcp_congestion_control", TEXT, "name", netns_since=(4, 15), order=23,
         description="Congestion control for new sockets. Only names in tcp_available_congestion_control when "
                     "the caller knows it; in a child netns only names in tcp_allowed_congestion_control "
                     "(tcp_cong.c: EPERM for a restricted algorithm outside init_net)."),
    # Handshake and queues.
    _key("net.ipv4.tcp_max_syn_backlog", INT, "count", 128, INT_MAX, netns_since=(4, 11), order=30,
         findings=["syn_queue_pressure"],
         description="Pending SYNs kept when syncookies are off.",
         rule="rule_backlogs", kernel_default=kd.tcp_max_syn_backlog,
         kernel_range=(INT_MIN, INT_MAX),  # proc_dointvec
         policy="128 is the smallest value the kernel itself computes (tcp_sk_init)"),
    _key("net.ipv4.tcp_syncookies", INT, "enum", 0, 2, netns_since=(4, 5), order=30,
         findings=["syn_queue_pressure"], description="Send syncookies when the SYN queue is full.",
         rule="rule_backlogs", kernel_default=kd.tcp_syncookies,
         kernel_range=U8, policy="0, 1 and 2 are the documented modes (ip-sysctl.rst)"),
    _key("net.ipv4.tcp_synack_retries", INT, "count", 1, 255, netns_since=(4, 6), order=30,
         findings=["syn_queue_pressure"], description="SYN-ACK retransmits before giving up.",
         kernel_range=U8, policy="0 never retransmits a lost SYN-ACK, so one lost packet fails the handshake"),
    # TIME_WAIT and ports.
    _key("net.ipv4.tcp_max_tw_buckets", INT, "count", 1024, INT_MAX, netns_since=(4, 11), order=40,
         findings=["time_wait_overflow"], description="TIME_WAIT sockets kept before they are destroyed.",
         rule="rule_tw_buckets", kernel_default=kd.tcp_max_tw_buckets,
         kernel_range=(INT_MIN, INT_MAX),  # proc_dointvec
         policy="below 1024 almost every closing connection skips TIME_WAIT (TCPTimeWaitOverflow)"),
    _key("net.ipv4.tcp_tw_reuse", INT, "enum", 0, 2, netns_since=(4, 11), order=40,
         findings=["ephemeral_port_pressure"],
         description="Let connect() reuse a TIME_WAIT 4-tuple (1: all, 2: loopback only).",
         rule="rule_tw_reuse", kernel_default=kd.tcp_tw_reuse),
    # proc_douintvec_minmax, SYSCTL_ONE..tcp_tw_reuse_delay_max: 60001 and above give EINVAL.
    _key("net.ipv4.tcp_tw_reuse_delay", INT, "milliseconds", 1, TW_REUSE_DELAY_MAX, since=(6, 14), order=40,
         findings=["ephemeral_port_pressure"],
         description="How old a TIME_WAIT socket must be before tcp_tw_reuse takes it (at most TCP_PAWS_MSL "
                     "= 60 s).",
         kernel_default=kd.tcp_tw_reuse_delay),
    _key("net.ipv4.tcp_tw_recycle", INT, "bool", 0, 0, netns_since=(4, 11), removed=(4, 12), order=40,
         findings=["tw_recycle_enabled"],
         refuse="tcp_tw_recycle drops connections from clients behind NAT and was removed in Linux 4.12",
         description="Removed in 4.12. Only ever 0."),
    _key("net.ipv4.tcp_timestamps", INT, "enum", 0, 2, netns_since=(4, 15), order=40,
         findings=["ephemeral_port_pressure"],
         description="TCP timestamps (RFC 7323); tcp_tw_reuse needs them on both ends.",
         kernel_default=kd.tcp_timestamps,
         kernel_range=U8, policy="0, 1 and 2 are the documented modes (ip-sysctl.rst)"),
    _key("net.ipv4.tcp_fin_timeout", INT, "seconds", 5, 600, netns_since=(4, 6), order=40,
         findings=["orphan_pressure"],
         description="Lifetime of an orphaned FIN_WAIT2 socket. Does NOT shorten TIME_WAIT (fixed at 60 s).",
         kernel_text=JIFFIES_SECONDS,
         policy="5..600 s: shorter drops orphaned FIN_WAIT2 sockets while the peer may still answer, "
                "longer only holds memory"),
    _key("net.ipv4.ip_local_port_range", PAIR, "ports", 1024, 65535, order=41,
         findings=["ephemeral_port_pressure"],
         description="Ephemeral port range for connect() and bind(0).",
         rule="rule_port_range", kernel_default=kd.ip_local_port_range,
         kernel_text="1..65535 each, low >= net.ipv4.ip_unprivileged_port_start (1024 by default), high >= low",
         policy="ephemeral ports stay at or above 1024, and low < high (a range of one port serves one "
                "connection per destination)"),
    _key("net.ipv4.ip_local_reserved_ports", TEXT, "ports", order=41,
         findings=["ephemeral_port_pressure"],
         description="Ports never chosen automatically (comma-separated ports and ranges).",
         rule="rule_reserved_ports", kernel_default=kd.ip_local_reserved_ports,
         kernel_text="ports 0..65535 (proc_do_large_bitmap)",
         policy="ports 1..65535: port 0 is never chosen automatically, so reserving it means nothing"),
    # Keepalive.
    _key("net.ipv4.tcp_keepalive_time", INT, "seconds", 1, 32767, netns_since=(4, 5), order=45,
         description="Idle time before the first keepalive probe.",
         kernel_text=JIFFIES_SECONDS,
         policy="1..32767 s: 32767 is MAX_TCP_KEEPIDLE, the most setsockopt(TCP_KEEPIDLE) allows"),
    _key("net.ipv4.tcp_keepalive_intvl", INT, "seconds", 1, 32767, netns_since=(4, 5), order=45,
         description="Interval between keepalive probes.",
         kernel_text=JIFFIES_SECONDS,
         policy="1..32767 s: 32767 is MAX_TCP_KEEPINTVL, the most setsockopt(TCP_KEEPINTVL) allows"),
    _key("net.ipv4.tcp_keepalive_probes", INT, "count", 1, 127, netns_since=(4, 5), order=45,
         description="Unanswered probes before the connection is dropped.",
         kernel_range=U8,
         policy="1..127: 127 is MAX_TCP_KEEPCNT (setsockopt(TCP_KEEPCNT)); 0 drops an idle connection "
                "without probing it"),
    # Conntrack: global; read-only in a child netns since 5.13.
    _key("net.netfilter.nf_conntrack_max", INT, "count", 1024, INT_MAX, netns_since=None, order=60,
         findings=["conntrack_pressure"], description="Tracked connections before new ones are dropped.",
         rule="rule_conntrack", kernel_default=kd.conntrack_max,
         kernel_range=(0, INT_MAX),  # proc_dointvec_minmax in recent kernels (proc_dointvec before)
         policy="below 1024 any busy host drops new flows (table full); 0 would mean no limit at all"),
    # nf_conntrack_hash_sysctl -> nf_conntrack_hash_resize -> nf_ct_alloc_hashtable(): 0 is EINVAL, more than
    # INT_MAX / 8 is ENOMEM, and the size is rounded up to a multiple of PAGE_SIZE / 8 (512 on 4 KiB pages,
    # 8192 on 64 KiB); validation_errors refuses what would not read back as written.
    _key("net.netfilter.nf_conntrack_buckets", INT, "count", 1024, CONNTRACK_BUCKETS_MAX, netns_since=None,
         order=59, findings=["conntrack_pressure"],
         description="Conntrack hash table size (hashsize); a multiple of PAGE_SIZE / 8.",
         rule="rule_conntrack", kernel_default=kd.conntrack_buckets,
         kernel_range=(1, CONNTRACK_BUCKETS_MAX),
         kernel_text="1..268435455 (INT_MAX / 8), rounded up to a multiple of PAGE_SIZE / 8",
         policy="1024 is the smallest value the kernel itself computes; sizes it would round up are refused, "
                "since they would not read back as written"),
]

CATALOGUE = dict((row.name, row) for row in _ROWS)
# Keys that exist only while a kernel module is loaded, by module.
MODULE_KEYS = {"nf_conntrack": "net.netfilter.nf_conntrack_"}


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


def module_of(name):
    """The module whose loading creates ``name``, or None for a key the kernel always has."""
    for module, prefix in MODULE_KEYS.items():
        if name.startswith(prefix):
            return module
    return None


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
        partial = ("; the kernel would take fewer values and keep the rest, but tcptune.linux sets all of them "
                   "(policy)" if 0 < len(parts) < expected else "")
        raise ValueError("%s: expected %s, got %d value(s): %r%s"
                         % (key.name, _shape_words(key), len(parts), value, partial))
    return parts[0] if key.shape == INT else parts


def _shape_words(key):
    return {INT: "one integer", PAIR: "two integers (low high)",
            TRIPLE: "three integers (min default max)", TEXT: "text"}[key.shape]


def validation_context(init_netns=None, available_congestion_control=None, allowed_congestion_control=None):
    """What validation_errors needs to know about the host beyond the kernel version; every part optional.

    ``init_netns``: True in the initial network namespace, False in a child (container), None unknown.
    ``available_congestion_control`` / ``allowed_congestion_control``: the text (or a list of names) of
    /proc/sys/net/ipv4/tcp_available_congestion_control and tcp_allowed_congestion_control; None unknown.
    Callers that can read them (apply.plan_settings, which knows proc_path and init_netns) should pass
    them; with none known tcp_congestion_control is checked as before (any single name).
    """
    def names(value):
        if value is None:
            return None
        return tuple(str(value).split()) if not isinstance(value, (list, tuple)) else tuple(value)

    return {"init_netns": init_netns, "available_congestion_control": names(available_congestion_control),
            "allowed_congestion_control": names(allowed_congestion_control)}


def _kernel_accepts(key):
    """What the kernel's handler accepts for ``key``, in words, for messages."""
    if key.kernel_text:
        return key.kernel_text
    low, high = key.kernel_range or (key.minimum, key.maximum)
    return "%d..%d" % (low, high)


def _range_error(key, part, maximum):
    """The message for a value outside minimum..maximum: a policy bound, or one the kernel has too."""
    text = "%s: %d is outside the accepted range %d..%d" % (key.name, part, key.minimum, maximum)
    if maximum != key.maximum:
        # sk_max_ack_backlog truncation on old kernels (maximum_before)
        return text + " on kernels before %s" % _version(key.maximum_before[0])
    if key.kernel_range is not None:
        low, high = key.kernel_range
        if not low <= part <= high:
            return text + "; the kernel refuses it too (it accepts %s)" % _kernel_accepts(key)
        if key.policy:
            return text + ": a policy bound of tcptune.linux, not a kernel limit (the kernel accepts %s; %s)" % (
                _kernel_accepts(key), key.policy)
    elif key.policy:  # the kernel's bound is not a plain number here (HZ, struct sizes, another sysctl)
        return text + ": a policy bound of tcptune.linux (the kernel accepts %s; %s)" % (
            _kernel_accepts(key), key.policy)
    return text


def _order_errors(key, parts):
    """tcp_mem must not decrease; tcp_rmem/tcp_wmem need default <= max only (min may exceed default, as
    the kernel's own tcp_wmem does on 64 KiB pages); ip_local_port_range needs low < high. All are policy:
    the kernel checks no order in triples, and accepts low == high."""
    text = " ".join(str(part) for part in parts)
    if key.name in ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"):
        if parts[1] > parts[2]:
            return ["%s: the three values must not decrease from default to max (default %d <= max %d; min may be "
                    "above default), got %s: a policy rule of tcptune.linux (new sockets would start above the "
                    "autotuning maximum); the kernel accepts the three values in any order, each >= 1"
                    % (key.name, parts[1], parts[2], text)]
        return []
    if key.shape == TRIPLE and not parts[0] <= parts[1] <= parts[2]:
        return ["%s: the three values must not decrease (min <= default/pressure <= max), got %s: a policy rule "
                "of tcptune.linux; the kernel accepts any order (%s)" % (key.name, text, _kernel_accepts(key))]
    if key.shape == PAIR and not parts[0] < parts[1]:
        return ["%s: low must be below high, got %d %d: a policy rule of tcptune.linux; the kernel accepts %s"
                % (key.name, parts[0], parts[1], _kernel_accepts(key))]
    return []


def _conntrack_buckets_errors(key, value, page_size):
    """nf_ct_alloc_hashtable() rounds the size up to a multiple of PAGE_SIZE / sizeof(struct hlist_nulls_head)
    (8 bytes): a size it would round reads back different, and the write is rolled back."""
    step = max(int(page_size) // 8, 1)
    if value % step == 0:
        return []
    rounded = (value + step - 1) // step * step
    choices = [size for size in (rounded - step, rounded) if key.minimum <= size <= key.maximum]
    return ["%s: %d is not a multiple of %d (PAGE_SIZE %d / 8-byte bucket heads): the kernel would round it up "
            "to %d, which does not read back as written; use %s"
            % (key.name, value, step, page_size, rounded, " or ".join(str(size) for size in choices) or "another size")]


def _congestion_control_errors(key, value, context):
    """The name must be one word the kernel can hold (TCP_CA_NAME_MAX); with the lists known, the name
    must be available, and in a child netns allowed (tcp_set_default_congestion_control: ENOENT for an
    unknown name, EPERM for a restricted one outside init_net, 8d432592f30f)."""
    name = str(value)
    if not name or len(name.split()) != 1:
        return ["%s: expected one algorithm name, got %r" % (key.name, value)]
    if len(name) >= TCP_CA_NAME_MAX:
        return ["%s: %r is longer than %d characters; the kernel would cut it to %r (TCP_CA_NAME_MAX)"
                % (key.name, name, TCP_CA_NAME_MAX - 1, name[:TCP_CA_NAME_MAX - 1])]
    context = context or {}
    available = context.get("available_congestion_control")
    allowed = context.get("allowed_congestion_control")
    if available is not None and name not in available:
        return ["%s: %r is not in net.ipv4.tcp_available_congestion_control (%s); the kernel refuses an unknown "
                "name (ENOENT), loading module tcp_%s first only in the initial network namespace: load it "
                "before (modprobe tcp_%s) if it exists" % (key.name, name, " ".join(available) or "empty", name, name)]
    if context.get("init_netns") is False and allowed is not None and name not in allowed:
        return ["%s: %r is not in net.ipv4.tcp_allowed_congestion_control (%s); outside the initial network "
                "namespace the kernel refuses a restricted algorithm (EPERM). Add it to the host's "
                "tcp_allowed_congestion_control, or set it on the host"
                % (key.name, name, " ".join(allowed) or "empty")]
    return []


def validation_errors(key, value, kernel=None, page_size=4096, context=None):
    """Every rule ``value`` (already coerced) breaks for ``key``; an empty list when it is safe.

    Each message names the key and the rule, and says when the rule is a policy of tcptune.linux
    rather than a kernel limit (``policy`` in the catalogue row). ``page_size``: the host's page size
    (nf_conntrack_buckets must be a multiple of page_size / 8). ``context``: validation_context(), for
    tcp_congestion_control; None checks only the shape of the name.
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
        elif key.name == "net.ipv4.tcp_congestion_control":
            errors.extend(_congestion_control_errors(key, value, context))
        return errors
    parts = value if isinstance(value, list) else [value]
    maximum = key.maximum
    if key.maximum_before is not None and kernel is not None and tuple(kernel) < key.maximum_before[0]:
        maximum = key.maximum_before[1]
    for part in parts:
        if part < key.minimum or part > maximum:
            errors.append(_range_error(key, part, maximum))
    errors.extend(_order_errors(key, parts))
    if key.name == "net.netfilter.nf_conntrack_buckets" and not errors:
        errors.extend(_conntrack_buckets_errors(key, parts[0], page_size))
    return errors


def parse_port_item(item):
    """One item of a port list, a port (8080 or '8080') or a 'low-high' range, -> (low, high) as written;
    the one parser of port lists (reserved ports as a sysctl value and as a workload number). ValueError
    when it is neither; 1..65535 and low <= high are the callers' checks."""
    if isinstance(item, bool) or not isinstance(item, (int, str)):
        raise ValueError("%r is not a port or a low-high range" % (item,))
    if isinstance(item, int):
        return item, item
    bounds = item.split("-")
    if len(bounds) > 2 or not all(bound.strip().isdigit() for bound in bounds):
        raise ValueError("%r is not a port or a low-high range" % item)
    return int(bounds[0]), int(bounds[-1])


def parse_port_ranges(text):
    """'8080,8081, 9000-9010' -> [(8080, 8081), (9000, 9010)]: merged (adjacent and overlapping) and sorted.

    Raises ValueError for an item that is not a port or a low-high range of ports 1..65535.
    """
    items = []
    for item in [part for part in str(text).replace(" ", "").split(",") if part]:
        low, high = parse_port_item(item)
        if not (1 <= low <= high <= 65535):
            raise ValueError("%r must be ports 1..65535, low before high" % item)
        items.append((low, high))
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
        try:
            low, high = parse_port_item(item)
        except ValueError:
            errors.append("%s: %r is not a port or a low-high range" % (key.name, item))
            continue
        if low == 0 and low <= high <= 65535:
            errors.append("%s: %r must be ports 1..65535, low before high: port 0 is a policy bound of "
                          "tcptune.linux (the kernel accepts %s; %s)"
                          % (key.name, item, _kernel_accepts(key), key.policy))
        elif not (1 <= low <= high <= 65535):
            errors.append("%s: %r must be ports 1..65535, low before high" % (key.name, item))
    return errors


def raised(key, current, wanted):
    """Never lower (policy raise; an outdated value below the kernel default): element-wise max (tuned's
    '>'), then keep the elements ordered."""
    if current is None or key.shape == TEXT:
        return wanted
    if key.shape == INT:
        return max(current, wanted)
    result = [max(old, new) for old, new in zip(current, wanted)]
    for index in range(1, len(result)):
        result[index] = max(result[index], result[index - 1])
    return result
