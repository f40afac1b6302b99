# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one sysctl catalogue shared by facts, sizing and apply: the rows, and what a row says by itself
(scope on a kernel, whether the kernel has it, apply order).

Adding a key is one row in ``CATALOGUE``. A row names the function that sizes it (``rule``, a
name in ``sizing_rules.RULES``; None: never planned) and the kernel's own default
(``kernel_default``, a function of the host in kernel_defaults.py; None: not modelled), so
``catalogue.get(key).rule`` answers "where is this sized?" in one step.
Sources for scopes and versions: kernel-tcp-facts.md sections 2-9. A value of a key is parsed and
formatted by catalogue_values.py and checked against its row by catalogue_checks.py.
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
        return "not on this kernel: %s appeared in Linux %s" % (key.name, version_text(key.since))
    if key.removed is not None and kernel >= key.removed:
        return "not on this kernel: %s was removed in Linux %s" % (key.name, version_text(key.removed))
    if not in_init_netns and scope_on(key, kernel) == GLOBAL:
        return "global key: set it on the host (a container cannot set it for itself)"
    return None


def version_text(version):
    """(6, 18) -> '6.18'."""
    return ".".join(str(part) for part in version)


def ordered(names):
    """Key names sorted by apply order, then by name, so runs are deterministic."""
    return sorted(names, key=lambda name: (get(name).order, name))
