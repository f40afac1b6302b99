# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every finding is built from: the evidence (each value and the file it came from), counters read as
rates when the facts were sampled, and the finding dict itself."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils.diagnosis import SEVERITIES, counter_source, sysctl_source


class Evidence:
    """Ordered evidence values and the file each came from."""

    def __init__(self):
        self.values = {}
        self.sources = {}

    def add(self, name, value, source):
        self.values[name] = value
        self.sources[name] = source
        return value


def worst_severity(*severities):
    ranked = [SEVERITIES.index(level) for level in severities if level]
    return SEVERITIES[max(ranked)] if ranked else None


def make_finding(finding_id, severity, summary, evidence, recommendation):
    return {"id": finding_id, "severity": severity, "summary": summary, "evidence": evidence.values,
            "evidence_source": evidence.sources, "recommendation": recommendation}


class Counters:
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


def sysctl_evidence(facts, name, evidence):
    value = (facts.get("sysctl") or {}).get(name)
    if value is not None:
        evidence.add(name, value, sysctl_source(name))
    return value


def fraction_of(part, whole):
    if part is None or not whole or whole <= 0:
        return None
    return float(part) / float(whole)
