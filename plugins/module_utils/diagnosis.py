# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts (``ansible_facts.tcp``) -> findings with evidence and a recommendation.

Every threshold is a named constant below. Counter findings use per-second rates when the facts
were sampled (sample_seconds > 0) and totals since boot otherwise; the summary says which.
docs/findings.md explains every id for operators.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Thresholds. *_TOTAL_* apply to counters since boot, *_RATE_* to events per second.
LISTEN_OVERFLOW_TOTAL_WARNING = 100
LISTEN_OVERFLOW_TOTAL_CRITICAL = 100000
LISTEN_OVERFLOW_RATE_WARNING = 0.001
LISTEN_OVERFLOW_RATE_CRITICAL = 10.0
SYN_COOKIES_TOTAL_WARNING = 100
SYN_COOKIES_RATE_WARNING = 0.001
SYN_RECV_FRACTION_WARNING = 0.5  # SYN_RECV sockets against tcp_max_syn_backlog
TCP_MEMORY_PRESSURES_TOTAL_WARNING = 1
TCP_MEMORY_PRESSURES_RATE_WARNING = 0.001
TCP_ABORT_ON_MEMORY_TOTAL_CRITICAL = 1
TCP_ABORT_ON_MEMORY_RATE_CRITICAL = 0.001
TCP_MEM_PRESSURE_FRACTION_WARNING = 0.8  # sockstat mem against tcp_mem[1] (pressure starts there)
TCP_MEM_MAX_FRACTION_CRITICAL = 0.9  # sockstat mem against tcp_mem[2] (hard limit)
RST_FAILED_TOTAL_WARNING = 1
RST_FAILED_TOTAL_CRITICAL = 1000
RST_FAILED_RATE_WARNING = 0.001
RST_FAILED_RATE_CRITICAL = 1.0
# tcp_out_of_resources() (tcp_timer.c), run when an orphan's retransmit or probe timer fires, shifts
# the orphan count left once if the peer has been silent for over 2 x TCP_RTO_MAX (240 s) or the
# orphan's retries ran out, and once more after a soft ICMP error, before comparing it with
# tcp_max_orphans: such orphans are reset from half or a quarter of the limit. Memory pressure plays
# no part in that shift. Warning at a quarter: the worst-placed orphans are already being reset.
ORPHAN_FRACTION_WARNING = 0.25
ORPHAN_FRACTION_CRITICAL = 0.8
TIME_WAIT_OVERFLOW_TOTAL_WARNING = 1
TIME_WAIT_OVERFLOW_TOTAL_CRITICAL = 100000
TIME_WAIT_OVERFLOW_RATE_WARNING = 0.001
TIME_WAIT_OVERFLOW_RATE_CRITICAL = 10.0
TIME_WAIT_FRACTION_WARNING = 0.9  # sockstat tw against tcp_max_tw_buckets
EPHEMERAL_PORTS_FRACTION_WARNING = 0.5
EPHEMERAL_PORTS_FRACTION_CRITICAL = 0.8
FILE_NR_FRACTION_WARNING = 0.7
FILE_NR_FRACTION_CRITICAL = 0.9
PROCESS_FD_FRACTION_WARNING = 0.8
PROCESS_FD_FRACTION_CRITICAL = 0.95
PROCESS_NOFILE_LOW_INFO = 65536  # soft nofile of a named service/PID below this: info
CONNTRACK_FRACTION_WARNING = 0.75
CONNTRACK_FRACTION_CRITICAL = 0.9
CONNTRACK_DROPS_TOTAL_WARNING = 1
CONNTRACK_DROPS_TOTAL_CRITICAL = 10000
CONNTRACK_DROPS_RATE_WARNING = 0.001
CONNTRACK_DROPS_RATE_CRITICAL = 1.0
CONNTRACK_INSERT_FAILED_TOTAL_WARNING = 1000
CONNTRACK_INSERT_FAILED_RATE_WARNING = 1.0
BACKLOG_DROPS_TOTAL_WARNING = 1
BACKLOG_DROPS_TOTAL_CRITICAL = 100000
BACKLOG_DROPS_RATE_WARNING = 0.001
BACKLOG_DROPS_RATE_CRITICAL = 100.0
TIME_SQUEEZE_TOTAL_INFO = 1000
TIME_SQUEEZE_RATE_INFO = 1.0
RETRANS_MIN_OUT_SEGS = 10000  # fewer segments than this (total, or in the sample window): no verdict
RETRANS_FRACTION_WARNING = 0.02
RETRANS_FRACTION_CRITICAL = 0.1
LISTENER_QUEUE_FRACTION_WARNING = 0.8  # accept queue against its backlog
BUFFER_CAP_RATIO_INFO = 16  # tcp_rmem[2] / rmem_max (or wmem) at or above this: info
TW_RECYCLE_REMOVED_IN = (4, 12)

FINDING_IDS = (
    "listen_queue_overflow", "syn_queue_pressure", "tcp_memory_pressure", "rst_send_failed",
    "orphan_pressure", "time_wait_overflow", "ephemeral_port_pressure", "fd_pressure",
    "conntrack_pressure", "backlog_drops", "retransmission_rate", "listener_backlog_capped",
    "tw_recycle_enabled", "link_problem", "buffer_cap_low",
)
SEVERITIES = ("info", "warning", "critical")

# For operators, per finding: what it signals (the README's table), more of what it means, the evidence
# and the thresholds (docs/findings.md), and what to do. {NAME} is a constant of this file ({NAME:n}
# groups thousands, {NAME:%} is a percentage); docs/generate.py fills them in and writes both tables.
FINDING_DOCS = {
    "listen_queue_overflow": {
        "signals": "A listener's accept queue was full and the kernel dropped the handshake.",
        "more": "Clients see connect timeouts or retransmitted SYNs (1 s, 3 s, 7 s delays).",
        "evidence": "`TcpExt.ListenOverflows`, `TcpExt.ListenDrops` (`/proc/net/netstat`); `net.core.somaxconn`.",
        "thresholds": "Warning at {LISTEN_OVERFLOW_TOTAL_WARNING} total / {LISTEN_OVERFLOW_RATE_WARNING} per s, "
                      "critical at {LISTEN_OVERFLOW_TOTAL_CRITICAL:n} total / {LISTEN_OVERFLOW_RATE_CRITICAL} per s.",
        "what_to_do": "Raise `net.core.somaxconn` and `net.ipv4.tcp_max_syn_backlog`; raise the application's "
                      "`listen()` backlog (the kernel uses `min(backlog, somaxconn)`) and accept faster.",
    },
    "syn_queue_pressure": {
        "signals": "SYN queues overflowed: the kernel sent syncookies (`TcpExt.SyncookiesSent`) or dropped SYNs with "
                   "a full request queue (`TcpExt.TCPReqQFullDrop`), or half-open (`SYN_RECV`) sockets near "
                   "`tcp_max_syn_backlog`.",
        "more": "",
        "evidence": "`TcpExt.SyncookiesSent`, `TcpExt.TCPReqQFullDrop`; `sockets.states.SYN_RECV`; "
                    "`net.ipv4.tcp_max_syn_backlog`, `net.ipv4.tcp_syncookies`.",
        "thresholds": "Warning at {SYN_COOKIES_TOTAL_WARNING} total / {SYN_COOKIES_RATE_WARNING} per s, or "
                      "`SYN_RECV` at {SYN_RECV_FRACTION_WARNING:%} of `tcp_max_syn_backlog`.",
        "what_to_do": "Raise `net.ipv4.tcp_max_syn_backlog` and `net.core.somaxconn`, keep `net.ipv4.tcp_syncookies=1`, "
                      "lower `net.ipv4.tcp_synack_retries` if half-open sockets pile up; a larger `listen()` backlog; "
                      "filter floods upstream.",
    },
    "tcp_memory_pressure": {
        "signals": "TCP reached its memory budget `tcp_mem` (pages): sockstat's TCP `mem` above the pressure threshold, "
                   "`TcpExt.TCPMemoryPressures` or `TcpExt.TCPAbortOnMemory` (\"out of memory -- consider tuning "
                   "tcp_mem\").",
        "more": "Buffers get pruned, and above `tcp_mem[2]` connections are aborted.",
        "evidence": "`TcpExt.TCPMemoryPressures`, `TcpExt.TCPAbortOnMemory`; `sockstat.tcp.mem_pages` "
                    "(`/proc/net/sockstat`) against `net.ipv4.tcp_mem`.",
        "thresholds": "Warning from {TCP_MEMORY_PRESSURES_TOTAL_WARNING} pressure episode "
                      "({TCP_MEMORY_PRESSURES_RATE_WARNING} per s) or mem at {TCP_MEM_PRESSURE_FRACTION_WARNING:%} of "
                      "`tcp_mem[1]`; critical from {TCP_ABORT_ON_MEMORY_TOTAL_CRITICAL} abort "
                      "({TCP_ABORT_ON_MEMORY_RATE_CRITICAL} per s) or mem at {TCP_MEM_MAX_FRACTION_CRITICAL:%} of "
                      "`tcp_mem[2]`.",
        "what_to_do": "Raise `net.ipv4.tcp_mem` if RAM allows, or lower the maximum of `net.ipv4.tcp_rmem`/"
                      "`net.ipv4.tcp_wmem`; applications read promptly, avoid large fixed `SO_SNDBUF`/`SO_RCVBUF`, "
                      "close idle connections.",
    },
    "rst_send_failed": {
        "signals": "The kernel could not allocate the RST of an abort (`TcpExt.TCPAbortFailed`; netstat -s: \"times "
                   "unable to send RST due to no memory\"): a real allocation failure, the host itself is short of "
                   "memory, not only `tcp_mem`.",
        "more": "Peers keep half-dead connections: random disconnects.",
        "evidence": "`TcpExt.TCPAbortFailed`; `MemAvailable` (`/proc/meminfo`); `net.ipv4.tcp_mem`.",
        "thresholds": "Warning from {RST_FAILED_TOTAL_WARNING} total / {RST_FAILED_RATE_WARNING} per s, critical from "
                      "{RST_FAILED_TOTAL_CRITICAL} total / {RST_FAILED_RATE_CRITICAL} per s.",
        "what_to_do": "Check the host's free memory; bound socket memory with `net.ipv4.tcp_mem`, `net.ipv4.tcp_rmem`, "
                      "`net.ipv4.tcp_wmem`; applications close gracefully (shutdown, read to EOF) instead of "
                      "`SO_LINGER 0` aborts and hold fewer idle connections.",
    },
    "orphan_pressure": {
        "signals": "Many sockets closed by the application but not yet by the peer.",
        "more": "Above `tcp_max_orphans` the kernel resets them (\"too many orphaned sockets\"); when an orphan's "
                "retransmit or probe timer fires, `tcp_out_of_resources()` doubles the count if the peer has been "
                "silent for over 240 s (2 × TCP_RTO_MAX) and doubles it again after a soft ICMP error, so such "
                "orphans are reset from half or a quarter of the limit.",
        "evidence": "`sockstat.tcp.orphan` against `net.ipv4.tcp_max_orphans`; `net.ipv4.tcp_fin_timeout`.",
        "thresholds": "Warning at {ORPHAN_FRACTION_WARNING:%}, critical at {ORPHAN_FRACTION_CRITICAL:%}.",
        "what_to_do": "Raise `net.ipv4.tcp_max_orphans`, lower `net.ipv4.tcp_fin_timeout`; applications close after "
                      "the peer has the data and time out slow clients.",
    },
    "time_wait_overflow": {
        "signals": "The TIME_WAIT table was full, so sockets were destroyed without TIME_WAIT (kernel log \"time wait "
                   "bucket table overflow\"), which risks stray segments hitting new connections.",
        "more": "",
        "evidence": "`TcpExt.TCPTimeWaitOverflow`; `sockstat.tcp.tw` against `net.ipv4.tcp_max_tw_buckets`.",
        "thresholds": "Warning from {TIME_WAIT_OVERFLOW_TOTAL_WARNING} overflow ({TIME_WAIT_OVERFLOW_RATE_WARNING} per "
                      "s) or tw at {TIME_WAIT_FRACTION_WARNING:%} of the limit; critical at "
                      "{TIME_WAIT_OVERFLOW_TOTAL_CRITICAL:n} total / {TIME_WAIT_OVERFLOW_RATE_CRITICAL} per s.",
        "what_to_do": "Raise `net.ipv4.tcp_max_tw_buckets` (about 256 bytes each); `net.ipv4.tcp_tw_reuse=1` for "
                      "outgoing connections; connection reuse (keep-alive, pools), clients close first. TIME_WAIT "
                      "always lasts 60 s.",
    },
    "ephemeral_port_pressure": {
        "signals": "Sockets hold many distinct local ports of `ip_local_port_range`; `connect()` slows down and then "
                   "fails with `EADDRNOTAVAIL` for a destination.",
        "more": "The count is a lower bound (one port can serve several destinations). Only with socket enumeration "
                "on.",
        "evidence": "`sockets.local_ports_in_ephemeral_range`, `sockets.states.TIME_WAIT`; "
                    "`net.ipv4.ip_local_port_range`, `net.ipv4.tcp_tw_reuse`.",
        "thresholds": "Warning at {EPHEMERAL_PORTS_FRACTION_WARNING:%}, critical at "
                      "{EPHEMERAL_PORTS_FRACTION_CRITICAL:%} of the range.",
        "what_to_do": "Widen `net.ipv4.ip_local_port_range` (keep listeners out with `net.ipv4.ip_local_reserved_ports`), "
                      "`net.ipv4.tcp_tw_reuse=1`; applications reuse connections, set `IP_BIND_ADDRESS_NO_PORT`, or "
                      "use more source addresses.",
    },
    "fd_pressure": {
        "signals": "The system file table or a process's `RLIMIT_NOFILE` is nearly used up (`EMFILE`/`ENFILE` next), "
                   "or a named service runs with a soft nofile below {PROCESS_NOFILE_LOW_INFO} (info).",
        "more": "",
        "evidence": "`files.allocated`/`files.max` (`/proc/sys/fs/file-nr`); `open` (`/proc/PID/fd`) against `soft` "
                    "(`/proc/PID/limits`) of `pids`/`services`.",
        "thresholds": "Warning at {FILE_NR_FRACTION_WARNING:%} / {PROCESS_FD_FRACTION_WARNING:%}, critical at "
                      "{FILE_NR_FRACTION_CRITICAL:%} / {PROCESS_FD_FRACTION_CRITICAL:%} (file table / process); info "
                      "below a soft nofile of {PROCESS_NOFILE_LOW_INFO}.",
        "what_to_do": "Raise `fs.file-max` and `fs.nr_open` on the host and the service's limit (systemd "
                      "`LimitNOFILE=`, `tcptune.linux.nofile_limits`); applications close leaked descriptors and "
                      "raise their soft limit.",
    },
    "conntrack_pressure": {
        "signals": "The netfilter connection tracking table is nearly full or dropped packets (kernel log "
                   "\"nf_conntrack: table full, dropping packet\"; `drop`, `early_drop`, `insert_failed` in "
                   "/proc/net/stat/nf_conntrack).",
        "more": "New connections fail.",
        "evidence": "`conntrack.count`/`conntrack.max` (`/proc/sys/net/netfilter/`); `drop`, `early_drop`, "
                    "`insert_failed` (`/proc/net/stat/nf_conntrack`, per-CPU hex rows summed).",
        "thresholds": "Warning at {CONNTRACK_FRACTION_WARNING:%} or {CONNTRACK_DROPS_TOTAL_WARNING} drop "
                      "({CONNTRACK_DROPS_RATE_WARNING} per s) or {CONNTRACK_INSERT_FAILED_TOTAL_WARNING} insert "
                      "failures ({CONNTRACK_INSERT_FAILED_RATE_WARNING} per s), critical at "
                      "{CONNTRACK_FRACTION_CRITICAL:%} or {CONNTRACK_DROPS_TOTAL_CRITICAL:n} drops "
                      "({CONNTRACK_DROPS_RATE_CRITICAL} per s).",
        "what_to_do": "Raise `net.netfilter.nf_conntrack_max` and `net.netfilter.nf_conntrack_buckets` on the host, or "
                      "exempt busy service ports from tracking (raw table `NOTRACK`); applications reuse connections.",
    },
    "backlog_drops": {
        "signals": "The per-CPU input backlog (`netdev_max_backlog`) overflowed and packets were dropped before TCP saw "
                   "them (warning); or the receive softirq often ran out of budget (`time_squeeze`, info).",
        "more": "`softnet_stat` is global: a container sees the host's.",
        "evidence": "`softnet.dropped`, `softnet.time_squeeze` (`/proc/net/softnet_stat`, hex column 2 and 3 summed "
                    "over CPUs); `net.core.netdev_max_backlog`.",
        "thresholds": "Warning from {BACKLOG_DROPS_TOTAL_WARNING} drop ({BACKLOG_DROPS_RATE_WARNING} per s), critical "
                      "at {BACKLOG_DROPS_TOTAL_CRITICAL:n} total / {BACKLOG_DROPS_RATE_CRITICAL} per s; info from "
                      "{TIME_SQUEEZE_TOTAL_INFO} squeezes total / {TIME_SQUEEZE_RATE_INFO} per s.",
        "what_to_do": "Raise `net.core.netdev_max_backlog` (global); spread receive work (RSS/RPS, irqbalance); "
                      "`net.core.netdev_budget` for squeezes.",
    },
    "retransmission_rate": {
        "signals": "A large share of sent segments are retransmissions: loss on the path or an overloaded peer.",
        "more": "Judged from {RETRANS_MIN_OUT_SEGS:n} sent segments on (total, or in the sample window).",
        "evidence": "`Tcp.RetransSegs`, `Tcp.OutSegs` (`/proc/net/snmp`).",
        "thresholds": "Warning at {RETRANS_FRACTION_WARNING:%}, critical at {RETRANS_FRACTION_CRITICAL:%}.",
        "what_to_do": "Check `link_problem` and `backlog_drops`, interface errors, peers; "
                      "`net.ipv4.tcp_congestion_control=bbr` with `net.core.default_qdisc=fq` on lossy long paths, "
                      "`net.ipv4.tcp_mtu_probing=1` against MTU black holes; applications pace bursts.",
    },
    "listener_backlog_capped": {
        "signals": "A listener's backlog equals `somaxconn`, so the application probably asked for more and was capped "
                   "(info), or its accept queue is at {LISTENER_QUEUE_FRACTION_WARNING:%} of the backlog or more "
                   "(warning).",
        "more": "",
        "evidence": "`listener ADDRESS:PORT backlog` and `queue` (netlink sock_diag, like `ss -ltn` Send-Q/Recv-Q); "
                    "`net.core.somaxconn`. With the `/proc/net/tcp` fallback the backlog is unknown.",
        "thresholds": "Info at a backlog equal to `somaxconn`; warning at a queue of "
                      "{LISTENER_QUEUE_FRACTION_WARNING:%} of the backlog.",
        "what_to_do": "Raise `net.core.somaxconn` above the backlog the application asks for; a larger `listen()` "
                      "backlog and faster accepting.",
    },
    "tw_recycle_enabled": {
        "signals": "`tcp_tw_recycle` is on, on a kernel before {TW_RECYCLE_REMOVED_IN}: it drops connections from "
                   "clients behind NAT.",
        "more": "",
        "evidence": "`net.ipv4.tcp_tw_recycle` and the kernel version.",
        "thresholds": "Always critical.",
        "what_to_do": "Set `net.ipv4.tcp_tw_recycle=0`; use `net.ipv4.tcp_tw_reuse=1` for outgoing connections.",
    },
    "link_problem": {
        "signals": "An interface runs half duplex, or is administratively up without carrier: loss, retransmissions, "
                   "resets.",
        "more": "",
        "evidence": "`IF.duplex` (`/sys/class/net/IF/duplex`), `IF.carrier` with the up flag "
                    "(`/sys/class/net/IF/flags`).",
        "thresholds": "Always a warning.",
        "what_to_do": "Fix the link (cable, switch port, autonegotiation). No sysctl helps.",
    },
    "buffer_cap_low": {
        "signals": "`rmem_max`/`wmem_max` are {BUFFER_CAP_RATIO_INFO} times or more below the maximum of "
                   "`tcp_rmem`/`tcp_wmem`: applications that set `SO_RCVBUF`/`SO_SNDBUF` are capped far below what "
                   "autotuning would give.",
        "more": "Autotuning itself is not capped.",
        "evidence": "`net.core.rmem_max`, `net.ipv4.tcp_rmem`, `net.core.wmem_max`, `net.ipv4.tcp_wmem`.",
        "thresholds": "Info only, from a ratio of {BUFFER_CAP_RATIO_INFO}.",
        "what_to_do": "Raise `net.core.rmem_max`/`net.core.wmem_max` towards `tcp_rmem[2]`/`tcp_wmem[2]` if "
                      "applications set buffers; better, applications do not set them at all.",
    },
}

_SNMP_PREFIXES = ("Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite")


def counter_source(name):
    """The file a counter name comes from."""
    prefix = name.split(".", 1)[0]
    if prefix in ("softnet",):
        return "/proc/net/softnet_stat"
    if prefix == "conntrack":
        return "/proc/net/stat/nf_conntrack"
    return "/proc/net/snmp" if prefix in _SNMP_PREFIXES else "/proc/net/netstat"


def sysctl_source(name):
    return "/proc/sys/" + name.replace(".", "/")


class _Evidence:
    """Ordered evidence values and the file each came from."""

    def __init__(self):
        self.values = {}
        self.sources = {}

    def add(self, name, value, source):
        self.values[name] = value
        self.sources[name] = source
        return value


def _worst(*severities):
    ranked = [SEVERITIES.index(level) for level in severities if level]
    return SEVERITIES[max(ranked)] if ranked else None


def _finding(finding_id, severity, summary, evidence, recommendation):
    return {"id": finding_id, "severity": severity, "summary": summary, "evidence": evidence.values,
            "evidence_source": evidence.sources, "recommendation": recommendation}


class _Counters:
    """Counter access that prefers rates when the facts were sampled."""

    def __init__(self, facts):
        self.counters = facts.get("counters") or {}
        self.rates = facts.get("rates") or {}
        self.seconds = facts.get("sample_seconds") or 0
        self.sampled = bool(self.rates)

    def value(self, name, evidence):
        """Rate (if sampled) or total of ``name``; 0 when the kernel lacks it. Recorded as evidence."""
        if self.sampled and name in self.rates:
            return evidence.add(name + "/s", round(self.rates[name], 3), counter_source(name))
        if name in self.counters:
            return evidence.add(name, self.counters[name], counter_source(name))
        return 0

    def level(self, value, totals, rates):
        """Severity for a counter value given (warning, critical) thresholds for totals and for rates."""
        warning, critical = rates if self.sampled else totals
        if critical is not None and value >= critical:
            return "critical"
        if warning is not None and value >= warning:
            return "warning"
        return None

    def basis(self):
        if self.sampled:
            return "per second over the last %g s" % self.seconds
        return "since boot (set sample_seconds for current rates)"

    def amount(self, value):
        return ("%.3f/s" % value) if self.sampled else ("%d" % value)


def _sysctl(facts, name, evidence):
    value = (facts.get("sysctl") or {}).get(name)
    if value is not None:
        evidence.add(name, value, sysctl_source(name))
    return value


def _fraction(part, whole):
    if part is None or not whole or whole <= 0:
        return None
    return float(part) / float(whole)


def _listen_queue_overflow(facts, counters):
    evidence = _Evidence()
    overflows = counters.value("TcpExt.ListenOverflows", evidence)
    drops = counters.value("TcpExt.ListenDrops", evidence)
    worst = max(overflows, drops)
    severity = counters.level(worst, (LISTEN_OVERFLOW_TOTAL_WARNING, LISTEN_OVERFLOW_TOTAL_CRITICAL),
                              (LISTEN_OVERFLOW_RATE_WARNING, LISTEN_OVERFLOW_RATE_CRITICAL))
    if not severity:
        return None
    _sysctl(facts, "net.core.somaxconn", evidence)
    return _finding(
        "listen_queue_overflow", severity,
        "Connections were dropped because a listen (accept) queue was full: %s overflows, %s drops %s."
        % (counters.amount(overflows), counters.amount(drops), counters.basis()),
        evidence,
        "Raise net.core.somaxconn (for example to 65535) and net.ipv4.tcp_max_syn_backlog. On the application "
        "side raise its listen() backlog (the kernel uses min(backlog, somaxconn); many servers default to "
        "128 or 511) and accept faster (more acceptor threads or workers).")


def _syn_queue_pressure(facts, counters):
    evidence = _Evidence()
    cookies = counters.value("TcpExt.SyncookiesSent", evidence)
    full_drop = counters.value("TcpExt.TCPReqQFullDrop", evidence)
    severity = counters.level(max(cookies, full_drop), (SYN_COOKIES_TOTAL_WARNING, None),
                              (SYN_COOKIES_RATE_WARNING, None))
    sockets = facts.get("sockets") or {}
    syn_recv = (sockets.get("states") or {}).get("SYN_RECV")
    syn_backlog = (facts.get("sysctl") or {}).get("net.ipv4.tcp_max_syn_backlog")
    fraction = _fraction(syn_recv, syn_backlog)
    if fraction is not None and fraction >= SYN_RECV_FRACTION_WARNING:
        evidence.add("sockets.states.SYN_RECV", syn_recv, "NETLINK_SOCK_DIAG or /proc/net/tcp")
        severity = _worst(severity, "warning")
    if not severity:
        return None
    _sysctl(facts, "net.ipv4.tcp_max_syn_backlog", evidence)
    _sysctl(facts, "net.ipv4.tcp_syncookies", evidence)
    return _finding(
        "syn_queue_pressure", severity,
        "SYN queues overflowed: %s syncookies sent, %s SYNs dropped with a full request queue %s."
        % (counters.amount(cookies), counters.amount(full_drop), counters.basis()),
        evidence,
        "Raise net.ipv4.tcp_max_syn_backlog and net.core.somaxconn, keep net.ipv4.tcp_syncookies=1, and "
        "lower net.ipv4.tcp_synack_retries if half-open connections pile up. On the application side "
        "use a larger listen() backlog; if the SYNs are a flood, filter them upstream.")


def _tcp_memory_pressure(facts, counters):
    evidence = _Evidence()
    pressures = counters.value("TcpExt.TCPMemoryPressures", evidence)
    aborts = counters.value("TcpExt.TCPAbortOnMemory", evidence)
    severity = _worst(
        counters.level(pressures, (TCP_MEMORY_PRESSURES_TOTAL_WARNING, None), (TCP_MEMORY_PRESSURES_RATE_WARNING, None)),
        counters.level(aborts, (None, TCP_ABORT_ON_MEMORY_TOTAL_CRITICAL), (None, TCP_ABORT_ON_MEMORY_RATE_CRITICAL)))
    mem_pages = ((facts.get("sockstat") or {}).get("tcp") or {}).get("mem_pages")
    tcp_mem = (facts.get("sysctl") or {}).get("net.ipv4.tcp_mem")
    if mem_pages is not None and tcp_mem:
        if mem_pages >= TCP_MEM_MAX_FRACTION_CRITICAL * tcp_mem[2]:
            severity = _worst(severity, "critical")
        elif mem_pages >= TCP_MEM_PRESSURE_FRACTION_WARNING * tcp_mem[1]:
            severity = _worst(severity, "warning")
    if not severity:
        return None
    if mem_pages is not None:
        evidence.add("sockstat.tcp.mem_pages", mem_pages, "/proc/net/sockstat")
    _sysctl(facts, "net.ipv4.tcp_mem", evidence)
    return _finding(
        "tcp_memory_pressure", severity,
        "TCP ran short of its memory budget (tcp_mem, in pages): %s pressure episodes and %s connections "
        "aborted for memory %s." % (counters.amount(pressures), counters.amount(aborts), counters.basis()),
        evidence,
        "Raise net.ipv4.tcp_mem (pressure and max, in pages) if RAM allows, or lower the maximum of "
        "net.ipv4.tcp_rmem / net.ipv4.tcp_wmem so each socket holds less. On the application side read "
        "sockets promptly, avoid large fixed SO_SNDBUF/SO_RCVBUF, and close idle connections.")


def _rst_send_failed(facts, counters):
    evidence = _Evidence()
    failed = counters.value("TcpExt.TCPAbortFailed", evidence)
    severity = counters.level(failed, (RST_FAILED_TOTAL_WARNING, RST_FAILED_TOTAL_CRITICAL),
                              (RST_FAILED_RATE_WARNING, RST_FAILED_RATE_CRITICAL))
    if not severity:
        return None
    available = (facts.get("kernel") or {}).get("mem_available_bytes")
    if available is not None:
        evidence.add("MemAvailable_bytes", available, "/proc/meminfo")
    _sysctl(facts, "net.ipv4.tcp_mem", evidence)
    return _finding(
        "rst_send_failed", severity,
        "The kernel could not allocate a reset packet (netstat -s: \"times unable to send RST due to no "
        "memory\"): %s %s. Peers keep half-dead connections and see random disconnects."
        % (counters.amount(failed), counters.basis()),
        evidence,
        "This is a real allocation failure, not the tcp_mem limit: check the host's free memory "
        "(MemAvailable, vm.min_free_kbytes) and bound socket memory with net.ipv4.tcp_mem, "
        "net.ipv4.tcp_rmem and net.ipv4.tcp_wmem so sockets cannot exhaust RAM. On the application side "
        "close connections gracefully (shutdown, read to EOF) instead of aborting them (SO_LINGER 0), and "
        "hold fewer idle connections.")


def _orphan_pressure(facts, counters):
    evidence = _Evidence()
    orphans = ((facts.get("sockstat") or {}).get("tcp") or {}).get("orphan")
    max_orphans = (facts.get("sysctl") or {}).get("net.ipv4.tcp_max_orphans")
    fraction = _fraction(orphans, max_orphans)
    if fraction is None or fraction < ORPHAN_FRACTION_WARNING:
        return None
    evidence.add("sockstat.tcp.orphan", orphans, "/proc/net/sockstat")
    _sysctl(facts, "net.ipv4.tcp_max_orphans", evidence)
    _sysctl(facts, "net.ipv4.tcp_fin_timeout", evidence)
    severity = "critical" if fraction >= ORPHAN_FRACTION_CRITICAL else "warning"
    return _finding(
        "orphan_pressure", severity,
        "%d orphaned sockets (closed by the application, not yet by the peer) are %.0f%% of "
        "tcp_max_orphans. When an orphan's timer fires the kernel counts orphans twice over if its peer "
        "has been silent for 4 minutes, and four times over if a soft ICMP error came too, so such "
        "orphans are reset (\"too many orphaned sockets\") from half or a quarter of the limit."
        % (orphans, 100 * fraction),
        evidence,
        "Raise net.ipv4.tcp_max_orphans (each orphan may hold up to about 64 KB) and lower "
        "net.ipv4.tcp_fin_timeout (for example 15). On the application side close connections after "
        "the peer has read the data, and time out slow clients instead of leaving unsent data behind.")


def _time_wait_overflow(facts, counters):
    evidence = _Evidence()
    overflows = counters.value("TcpExt.TCPTimeWaitOverflow", evidence)
    severity = counters.level(overflows, (TIME_WAIT_OVERFLOW_TOTAL_WARNING, TIME_WAIT_OVERFLOW_TOTAL_CRITICAL),
                              (TIME_WAIT_OVERFLOW_RATE_WARNING, TIME_WAIT_OVERFLOW_RATE_CRITICAL))
    tw = ((facts.get("sockstat") or {}).get("tcp") or {}).get("tw")
    buckets = (facts.get("sysctl") or {}).get("net.ipv4.tcp_max_tw_buckets")
    fraction = _fraction(tw, buckets)
    if fraction is not None and fraction >= TIME_WAIT_FRACTION_WARNING:
        severity = _worst(severity, "warning")
    if not severity:
        return None
    if tw is not None:
        evidence.add("sockstat.tcp.tw", tw, "/proc/net/sockstat")
    _sysctl(facts, "net.ipv4.tcp_max_tw_buckets", evidence)
    return _finding(
        "time_wait_overflow", severity,
        "The TIME_WAIT table overflowed (kernel log: \"time wait bucket table overflow\"): %s sockets "
        "skipped TIME_WAIT %s." % (counters.amount(overflows), counters.basis()),
        evidence,
        "Raise net.ipv4.tcp_max_tw_buckets (a TIME_WAIT socket costs about 256 bytes) and, for outgoing "
        "connections, set net.ipv4.tcp_tw_reuse=1. TIME_WAIT itself always lasts 60 s. On the "
        "application side reuse connections (keep-alive, pools) and let clients close first.")


def _ephemeral_port_pressure(facts, counters):
    evidence = _Evidence()
    sockets = facts.get("sockets") or {}
    if sockets.get("source") in (None, "disabled", "unavailable"):
        return None
    port_range = (facts.get("sysctl") or {}).get("net.ipv4.ip_local_port_range") or [32768, 60999]
    in_use = sockets.get("local_ports_in_ephemeral_range") or 0
    fraction = _fraction(in_use, port_range[1] - port_range[0] + 1)
    if fraction is None or fraction < EPHEMERAL_PORTS_FRACTION_WARNING:
        return None
    evidence.add("sockets.local_ports_in_ephemeral_range", in_use, "NETLINK_SOCK_DIAG or /proc/net/tcp")
    evidence.add("sockets.states.TIME_WAIT", (sockets.get("states") or {}).get("TIME_WAIT"),
                 "NETLINK_SOCK_DIAG or /proc/net/tcp")
    _sysctl(facts, "net.ipv4.ip_local_port_range", evidence)
    _sysctl(facts, "net.ipv4.tcp_tw_reuse", evidence)
    severity = "critical" if fraction >= EPHEMERAL_PORTS_FRACTION_CRITICAL else "warning"
    return _finding(
        "ephemeral_port_pressure", severity,
        "%d distinct local ports of the ephemeral range (%.0f%%) are held by sockets; connect() slows "
        "down and then fails with EADDRNOTAVAIL for a destination once its ports run out."
        % (in_use, 100 * fraction),
        evidence,
        "Widen net.ipv4.ip_local_port_range (for example 10240 65535, keeping listening ports out with "
        "net.ipv4.ip_local_reserved_ports) and set net.ipv4.tcp_tw_reuse=1. On the application side reuse "
        "connections (keep-alive, pools), set IP_BIND_ADDRESS_NO_PORT before bind(), or spread over more "
        "source addresses.")


def _fd_pressure(facts, counters):
    evidence = _Evidence()
    severity = None
    files = facts.get("files") or {}
    fraction = _fraction(files.get("allocated"), files.get("max"))
    if fraction is not None and fraction >= FILE_NR_FRACTION_WARNING:
        evidence.add("files.allocated", files["allocated"], "/proc/sys/fs/file-nr")
        evidence.add("files.max", files["max"], "/proc/sys/fs/file-nr")
        severity = "critical" if fraction >= FILE_NR_FRACTION_CRITICAL else "warning"
    nofile = facts.get("nofile") or {}
    processes = [("pid %s" % pid, entry, "/proc/%s/limits" % pid) for pid, entry in (nofile.get("pids") or {}).items()]
    processes += [("service %s" % name, entry, "/proc/%s/limits" % entry.get("pid"))
                  for name, entry in (nofile.get("services") or {}).items() if entry]
    for label, entry, source in processes:
        if not entry or entry.get("soft") in (None, -1):
            continue
        used = _fraction(entry.get("open"), entry["soft"])
        if used is not None and used >= PROCESS_FD_FRACTION_WARNING:
            evidence.add(label + " open", entry["open"], source.replace("limits", "fd"))
            evidence.add(label + " nofile soft", entry["soft"], source)
            severity = _worst(severity, "critical" if used >= PROCESS_FD_FRACTION_CRITICAL else "warning")
        elif entry["soft"] < PROCESS_NOFILE_LOW_INFO:
            evidence.add(label + " nofile soft", entry["soft"], source)
            severity = _worst(severity, "info")
    if not severity:
        return None
    return _finding(
        "fd_pressure", severity,
        "File descriptors are short: the system table or a process's RLIMIT_NOFILE is close to full, or a "
        "named service runs with a soft nofile below %d." % PROCESS_NOFILE_LOW_INFO,
        evidence,
        "Raise fs.file-max and fs.nr_open on the host, and the service's nofile limit (systemd "
        "LimitNOFILE=, or limits.d for login sessions; see tcptune.linux.nofile_limits). On the "
        "application side close leaked descriptors and raise its own soft limit up to the hard one.")


def _conntrack_pressure(facts, counters):
    conntrack = facts.get("conntrack") or {}
    if not conntrack.get("available"):
        return None
    evidence = _Evidence()
    severity = None
    fraction = _fraction(conntrack.get("count"), conntrack.get("max"))
    if fraction is not None and fraction >= CONNTRACK_FRACTION_WARNING:
        severity = "critical" if fraction >= CONNTRACK_FRACTION_CRITICAL else "warning"
    drops = 0
    for name in ("drop", "early_drop"):
        if counters.sampled and ("conntrack." + name) in counters.rates:
            drops += counters.value("conntrack." + name, evidence)
        elif conntrack.get(name) is not None:
            drops += evidence.add("conntrack." + name, conntrack[name], "/proc/net/stat/nf_conntrack")
    severity = _worst(severity, counters.level(drops, (CONNTRACK_DROPS_TOTAL_WARNING, CONNTRACK_DROPS_TOTAL_CRITICAL),
                                               (CONNTRACK_DROPS_RATE_WARNING, CONNTRACK_DROPS_RATE_CRITICAL)))
    if counters.sampled and "conntrack.insert_failed" in counters.rates:
        failed = counters.value("conntrack.insert_failed", evidence)
    else:
        failed = conntrack.get("insert_failed") or 0
        evidence.add("conntrack.insert_failed", conntrack.get("insert_failed"), "/proc/net/stat/nf_conntrack")
    severity = _worst(severity, counters.level(failed, (CONNTRACK_INSERT_FAILED_TOTAL_WARNING, None),
                                               (CONNTRACK_INSERT_FAILED_RATE_WARNING, None)))
    if not severity:
        return None
    evidence.add("conntrack.count", conntrack.get("count"), "/proc/sys/net/netfilter/nf_conntrack_count")
    evidence.add("conntrack.max", conntrack.get("max"), "/proc/sys/net/netfilter/nf_conntrack_max")
    return _finding(
        "conntrack_pressure", severity,
        "The connection tracking table is %s full (%s of %s) and dropped %s packets %s; a full table drops "
        "new connections (kernel log: \"nf_conntrack: table full, dropping packet\")."
        % ("%.0f%%" % (100 * fraction) if fraction is not None else "?", conntrack.get("count"),
           conntrack.get("max"), counters.amount(drops), counters.basis()),
        evidence,
        "Raise net.netfilter.nf_conntrack_max and net.netfilter.nf_conntrack_buckets on the host (about "
        "300 bytes per entry), or exempt high-volume service ports from tracking (raw table NOTRACK). On "
        "the application side reuse connections instead of opening one per request.")


def _backlog_drops(facts, counters):
    evidence = _Evidence()
    softnet = facts.get("softnet") or {}
    if counters.sampled and "softnet.dropped" in counters.rates:
        dropped = counters.value("softnet.dropped", evidence)
        squeezed = counters.value("softnet.time_squeeze", evidence)
    else:
        dropped = evidence.add("softnet.dropped", softnet.get("dropped") or 0, "/proc/net/softnet_stat")
        squeezed = evidence.add("softnet.time_squeeze", softnet.get("time_squeeze") or 0, "/proc/net/softnet_stat")
    severity = _worst(
        counters.level(dropped, (BACKLOG_DROPS_TOTAL_WARNING, BACKLOG_DROPS_TOTAL_CRITICAL),
                       (BACKLOG_DROPS_RATE_WARNING, BACKLOG_DROPS_RATE_CRITICAL)),
        "info" if squeezed >= (TIME_SQUEEZE_RATE_INFO if counters.sampled else TIME_SQUEEZE_TOTAL_INFO) else None)
    if not severity:
        return None
    _sysctl(facts, "net.core.netdev_max_backlog", evidence)
    return _finding(
        "backlog_drops", severity,
        "The per-CPU input backlog dropped %s packets and the receive softirq ran out of budget %s times %s."
        % (counters.amount(dropped), counters.amount(squeezed), counters.basis()),
        evidence,
        "Raise net.core.netdev_max_backlog (global, for example 16384) for drops; spread receive work over "
        "more CPUs (RSS/RPS, irqbalance) and raise net.core.netdev_budget for time_squeeze. On the "
        "application side nothing changes this except sending fewer, larger packets.")


def _retransmission_rate(facts, counters):
    evidence = _Evidence()
    retrans = counters.value("Tcp.RetransSegs", evidence)
    out = counters.value("Tcp.OutSegs", evidence)
    window = out * counters.seconds if counters.sampled else out
    if window < RETRANS_MIN_OUT_SEGS:
        return None
    fraction = _fraction(retrans, out)
    if fraction is None or fraction < RETRANS_FRACTION_WARNING:
        return None
    severity = "critical" if fraction >= RETRANS_FRACTION_CRITICAL else "warning"
    return _finding(
        "retransmission_rate", severity,
        "%.1f%% of sent TCP segments were retransmissions %s." % (100 * fraction, counters.basis()),
        evidence,
        "Retransmissions point at loss on the path or an overloaded peer: check link_problem and backlog_drops "
        "findings, interface errors and the peers. For lossy long-distance paths consider "
        "net.ipv4.tcp_congestion_control=bbr with net.core.default_qdisc=fq, and net.ipv4.tcp_mtu_probing=1 "
        "against MTU black holes. On the application side pace bursts and avoid many parallel connections "
        "to the same peer.")


def _listener_backlog_capped(facts, counters):
    sockets = facts.get("sockets") or {}
    somaxconn = (facts.get("sysctl") or {}).get("net.core.somaxconn")
    evidence = _Evidence()
    severity = None
    for listener in sockets.get("listeners") or []:
        backlog = listener.get("backlog")
        queue = listener.get("queue") or 0
        label = "listener %s:%s" % (listener.get("address"), listener.get("port"))
        source = "NETLINK_SOCK_DIAG (ss -ltn Send-Q/Recv-Q)"
        level = None
        if backlog and _fraction(queue, backlog) >= LISTENER_QUEUE_FRACTION_WARNING:
            level = "warning"
        elif backlog and somaxconn and backlog >= somaxconn:
            level = "info"
        if level:
            evidence.add(label + " backlog", backlog, source)
            evidence.add(label + " queue", queue, source)
            severity = _worst(severity, level)
    if not severity:
        return None
    if somaxconn is not None:
        _sysctl(facts, "net.core.somaxconn", evidence)
    return _finding(
        "listener_backlog_capped", severity,
        "A listener's backlog is capped by net.core.somaxconn, or its accept queue is (nearly) full.",
        evidence,
        "Raise net.core.somaxconn above the backlog the application asks for. On the application side pass "
        "a larger listen() backlog and accept faster (more workers).")


def _tw_recycle_enabled(facts, counters):
    version = tuple((facts.get("kernel") or {}).get("version") or (0, 0, 0))
    evidence = _Evidence()
    if version >= TW_RECYCLE_REMOVED_IN or _sysctl(facts, "net.ipv4.tcp_tw_recycle", evidence) != 1:
        return None
    return _finding(
        "tw_recycle_enabled", "critical",
        "net.ipv4.tcp_tw_recycle is on (kernel %s): it drops connections from clients behind NAT and was "
        "removed in Linux 4.12." % ".".join(str(part) for part in version),
        evidence,
        "Set net.ipv4.tcp_tw_recycle=0; use net.ipv4.tcp_tw_reuse=1 for outgoing connections instead. On the "
        "application side reuse connections so fewer sockets reach TIME_WAIT.")


def _link_problem(facts, counters):
    evidence = _Evidence()
    for name, link in sorted((facts.get("interfaces") or {}).items()):
        if link.get("duplex") == "half":
            evidence.add(name + ".duplex", "half", "/sys/class/net/%s/duplex" % name)
        if link.get("admin_up") and link.get("carrier") == 0:
            evidence.add(name + ".carrier", 0, "/sys/class/net/%s/carrier" % name)
    if not evidence.values:
        return None
    return _finding(
        "link_problem", "warning",
        "An interface runs half duplex, or is up without carrier: expect loss, retransmissions and resets.",
        evidence,
        "Fix the link (cable, switch port, autonegotiation); no sysctl helps. net.core.netdev_max_backlog "
        "and txqueuelen only hide the symptom. On the application side nothing to change.")


def _buffer_cap_low(facts, counters):
    evidence = _Evidence()
    sysctl = facts.get("sysctl") or {}
    ratios = []
    for cap, auto in (("net.core.rmem_max", "net.ipv4.tcp_rmem"), ("net.core.wmem_max", "net.ipv4.tcp_wmem")):
        if sysctl.get(cap) and sysctl.get(auto) and sysctl[auto][2] >= BUFFER_CAP_RATIO_INFO * sysctl[cap]:
            _sysctl(facts, cap, evidence)
            _sysctl(facts, auto, evidence)
            ratios.append("%s is %d times %s" % (auto + "[2]", sysctl[auto][2] // sysctl[cap], cap))
    if not ratios:
        return None
    return _finding(
        "buffer_cap_low", "info",
        "Applications that set SO_RCVBUF/SO_SNDBUF are capped far below what autotuning allows: %s."
        % "; ".join(ratios),
        evidence,
        "Raise net.core.rmem_max / net.core.wmem_max towards the maximum of net.ipv4.tcp_rmem / "
        "net.ipv4.tcp_wmem if applications set their buffers. On the application side prefer not to set "
        "SO_RCVBUF/SO_SNDBUF at all: a fixed size turns autotuning off.")


_RULES = (
    _listen_queue_overflow, _syn_queue_pressure, _tcp_memory_pressure, _rst_send_failed, _orphan_pressure,
    _time_wait_overflow, _ephemeral_port_pressure, _fd_pressure, _conntrack_pressure, _backlog_drops,
    _retransmission_rate, _listener_backlog_capped, _tw_recycle_enabled, _link_problem, _buffer_cap_low,
)


def diagnose(facts):
    """Findings for a facts dict, most severe first, then by id."""
    counters = _Counters(facts)
    findings = [finding for finding in (rule(facts, counters) for rule in _RULES) if finding]
    findings.sort(key=lambda finding: (-SEVERITIES.index(finding["severity"]), finding["id"]))
    return findings
