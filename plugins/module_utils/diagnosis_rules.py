# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts (``ansible_facts.tcp``) -> findings with evidence and a recommendation.

The ids, severities and thresholds are diagnosis.py's; the rule of each finding is in diagnosis_<family>.py
(queues, memory, ports, files, conntrack). Counter findings use per-second rates when the facts were
sampled (sample_seconds > 0) and totals since boot otherwise; the summary says which.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import (
    diagnosis_conntrack, diagnosis_files, diagnosis_memory, diagnosis_ports, diagnosis_queues)
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import SEVERITIES
from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis_evidence import Counters

# One rule per finding id, in diagnosis.FINDING_IDS order (a test checks it).
RULES = (
    diagnosis_queues.listen_queue_overflow, diagnosis_queues.syn_queue_pressure, diagnosis_memory.tcp_memory_pressure,
    diagnosis_memory.rst_send_failed, diagnosis_memory.orphan_pressure, diagnosis_ports.time_wait_overflow,
    diagnosis_ports.ephemeral_port_pressure, diagnosis_files.fd_pressure, diagnosis_conntrack.conntrack_pressure,
    diagnosis_queues.backlog_drops, diagnosis_queues.retransmission_rate, diagnosis_queues.listener_backlog_capped,
    diagnosis_ports.tw_recycle_enabled, diagnosis_queues.link_problem, diagnosis_memory.buffer_cap_low,
)


def diagnose(facts):
    """Findings for a facts dict, most severe first, then by id."""
    counters = Counters(facts)
    found = [finding for finding in (rule(facts, counters) for rule in RULES) if finding]
    found.sort(key=lambda finding: (-SEVERITIES.index(finding["severity"]), finding["id"]))
    return found
