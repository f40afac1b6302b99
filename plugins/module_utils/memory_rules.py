# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Memory safety of TCP settings, one set of rules for the plan (sizing) and for overrides (apply).

``memory_errors`` refuses, naming the key, the value in bytes and the rule:
- tcp_mem max (pages!) above TCP_MEM_MAX_SHARE of RAM: TCP's host-wide memory guard switched off;
- tcp_rmem/tcp_wmem max above tcp_mem max / SOCKET_BUFFER_SHARE: a handful of sockets could take all
  of tcp_mem and push every other socket into memory pressure;
- tcp_max_tw_buckets above TW_PER_EHASH_BUCKET x the established hash entries (long hash chains:
  the table is sized at boot), or its TIME_WAIT sockets above TW_MEMORY_SHARE of memory.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.tcptune.linux.plugins.module_utils import kernel_defaults

# tcp_mem max never above half of RAM: the kernel default is 9.4 %, and TCP buffers are unswappable.
TCP_MEM_MAX_SHARE = 0.50
# One socket's buffer maximum may be at most this fraction of tcp_mem max.
SOCKET_BUFFER_SHARE = 8
# At most two TIME_WAIT sockets per established-hash bucket on average (the kernel default is 1/2).
TW_PER_EHASH_BUCKET = 2
# TIME_WAIT sockets may take at most 5 % of memory (tw_sock_TCP is 256 B: facts §6).
TW_MEMORY_SHARE = 0.05
TW_SOCK_BYTES = 256


def _gib(number):
    return "%.2f GiB" % (number / float(1024 ** 3))


def tcp_mem_cap_pages(memory_bytes, page_size):
    """Largest tcp_mem max (pages) the rules allow."""
    return int(memory_bytes * TCP_MEM_MAX_SHARE) // page_size


def buffer_cap_bytes(tcp_mem_max_pages, page_size):
    """Largest tcp_rmem/tcp_wmem max (bytes) a tcp_mem max of that many pages can hold."""
    return tcp_mem_max_pages * page_size // SOCKET_BUFFER_SHARE


def tw_buckets_cap(memory_bytes, ehash_entries):
    """Largest tcp_max_tw_buckets the established hash and memory support."""
    return min(TW_PER_EHASH_BUCKET * ehash_entries, int(memory_bytes * TW_MEMORY_SHARE) // TW_SOCK_BYTES)


def memory_errors(values, memory_bytes, page_size=4096, tcp_mem_in_force=None, ehash_entries=None):
    """Every memory rule ``values`` ({key: parsed value}) break on a host with ``memory_bytes``.

    ``memory_bytes``: min(RAM, cgroup memory limit) for the per-socket rules; tcp_mem is host-wide and
    is checked against it too (a container cannot set it). ``tcp_mem_in_force``: the live tcp_mem when
    ``values`` has none. ``ehash_entries``: the established hash size, estimated from RAM when None.
    """
    errors = []
    tcp_mem = values.get("net.ipv4.tcp_mem") or tcp_mem_in_force
    mem_values = values.get("net.ipv4.tcp_mem")
    if mem_values:
        cap = tcp_mem_cap_pages(memory_bytes, page_size)
        if mem_values[2] > cap:
            errors.append(
                "net.ipv4.tcp_mem: max %d pages x %d bytes per page = %d bytes (%s) is above %d %% of memory "
                "(%d of %d bytes); the unit of tcp_mem is pages, not bytes. Rule: tcp_mem max <= %d pages "
                "(the kernel default here is %d)"
                % (mem_values[2], page_size, mem_values[2] * page_size, _gib(mem_values[2] * page_size),
                   TCP_MEM_MAX_SHARE * 100, cap * page_size, memory_bytes, cap,
                   kernel_defaults.tcp_mem({"memory_bytes": memory_bytes, "page_size": page_size})[2]))
    if tcp_mem:
        cap_bytes = buffer_cap_bytes(tcp_mem[2], page_size)
        for key in ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"):
            triple = values.get(key)
            if triple and triple[2] > cap_bytes:
                errors.append(
                    "%s: max %d bytes is above tcp_mem max / %d = %d pages x %d / %d = %d bytes; a few busy "
                    "sockets could take all TCP memory. Rule: a socket's buffer max <= 1/%d of tcp_mem max"
                    % (key, triple[2], SOCKET_BUFFER_SHARE, tcp_mem[2], page_size, SOCKET_BUFFER_SHARE,
                       cap_bytes, SOCKET_BUFFER_SHARE))
    buckets = values.get("net.ipv4.tcp_max_tw_buckets")
    if buckets is not None:
        ehash = ehash_entries or kernel_defaults.ehash_entries({"memory_bytes": memory_bytes})
        cap = tw_buckets_cap(memory_bytes, ehash)
        if buckets > cap:
            errors.append(
                "net.ipv4.tcp_max_tw_buckets: %d TIME_WAIT sockets x %d bytes = %d bytes; above the limit of "
                "%d = min(%d x %d established hash entries, %d %% of %d bytes / %d bytes). Rule: at most %d "
                "TIME_WAIT sockets per hash bucket and %d %% of memory"
                % (buckets, TW_SOCK_BYTES, buckets * TW_SOCK_BYTES, cap, TW_PER_EHASH_BUCKET, ehash,
                   TW_MEMORY_SHARE * 100, memory_bytes, TW_SOCK_BYTES, TW_PER_EHASH_BUCKET, TW_MEMORY_SHARE * 100))
    return errors
