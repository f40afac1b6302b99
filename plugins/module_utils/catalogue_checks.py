# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a value is safe for a catalogue key: its row's bounds and shape, the order within a triple, and the
rules of single keys (conntrack buckets, congestion control, reserved ports). Each message names the key and
the rule, and says when the rule is a policy of tcptune.linux rather than a kernel limit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tcptune.linux.plugins.module_utils import catalogue, port_ranges

TCP_CA_NAME_MAX = 16  # include/net/tcp.h; proc_dostring keeps at most 15 characters of a longer name


def validation_context(init_netns=None, available_congestion_control=None, allowed_congestion_control=None):
    """What validation_errors needs to know about the host beyond the kernel version; every part optional.

    ``init_netns``: True in the initial network namespace, False in a child (container), None unknown.
    ``available_congestion_control`` / ``allowed_congestion_control``: the text (or a list of names) of
    /proc/sys/net/ipv4/tcp_available_congestion_control and tcp_allowed_congestion_control; None unknown.
    Callers that can read them (sysctl_check.plan_settings, which knows proc_path and init_netns) should pass
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
        return text + " on kernels before %s" % catalogue.version_text(key.maximum_before[0])
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
    if key.shape == catalogue.TRIPLE and not parts[0] <= parts[1] <= parts[2]:
        return ["%s: the three values must not decrease (min <= default/pressure <= max), got %s: a policy rule "
                "of tcptune.linux; the kernel accepts any order (%s)" % (key.name, text, _kernel_accepts(key))]
    if key.shape == catalogue.PAIR and not parts[0] < parts[1]:
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
                      % (key.name, catalogue.version_text(key.removed), catalogue.version_text(kernel)))
    if key.refuse and value not in (0, "0"):
        errors.append("%s: refused, %s" % (key.name, key.refuse))
        return errors
    if key.shape == catalogue.TEXT:
        if key.name == "net.ipv4.ip_local_reserved_ports":
            errors.extend(reserved_ports_errors(key, value))
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


def reserved_ports_errors(key, value):
    """What is wrong with each item of a net.ipv4.ip_local_reserved_ports value; an empty list when nothing."""
    errors = []
    for item in [part for part in str(value).replace(" ", "").split(",") if part]:
        try:
            low, high = port_ranges.parse_port_item(item)
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
