# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The findings' data: every id (``FINDING_IDS``), the severities, every threshold as a named constant, and
the file each counter and sysctl of the evidence comes from.

The rules that use them are diagnosis_<family>.py, run by diagnosis_rules.diagnose; the alert pack
(alert_rules.py) and the collector (metrics.py) read the same data. docs/findings.md explains every id
for operators.
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
