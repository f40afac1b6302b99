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
