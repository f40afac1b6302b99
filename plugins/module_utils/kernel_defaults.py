# -*- coding: utf-8 -*-
# Copyright: (c) 2026, tcptune.linux contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an untuned kernel of a given version on a given amount of RAM uses for each key.

Each function takes a host dict with ``memory_bytes``, ``page_size`` and ``kernel`` (a version
tuple or list) and returns the value in the parsed form of catalogue_values.parse_value. The catalogue
row of each key points at its function (``catalogue.get(key).kernel_default``). nr_free_buffer_pages
and totalram_pages are approximated by MemTotal / page size (about 0.5 % high).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MIB = 1024 * 1024
GIB = 1024 * MIB
NR_OPEN_DEFAULT = 1048576  # fs/file.c: sysctl_nr_open = 1024 * 1024
FD_SETSIZE = 1024  # select() cannot watch a descriptor >= FD_SETSIZE (glibc sys/select.h)
# fs/eventpoll.c EP_ITEM_COST = sizeof(struct epitem) + sizeof(struct eppoll_entry), by kernel line, from the
# live default and MemTotal: 184 B on 6.18 (5 491 645 watches, 24 683 784 kB); 192 B on 6.1 (epoll_ctl ENOSPC
# after 208 608 accepted sockets with 981 724 kB, bench/results/seed004_boundary.json), used for every
# kernel before 6.18 as the nearest measured line.
EP_ITEM_COST = (((6, 18), 184), ((0, 0), 192))


def roundup_pow2(number):
    number = int(number)
    return 1 if number <= 1 else 1 << (number - 1).bit_length()


def _kernel(host):
    return tuple(host["kernel"])


def _pages(host):
    return host["memory_bytes"] // host.get("page_size", 4096)


def ehash_entries(host):
    """alloc_large_system_hash("TCP established", scale 17, high limit 512K): RAM / 128 KiB, power of two."""
    return min(roundup_pow2(max(host["memory_bytes"] // 131072, 1)), 524288)


def tcp_mem(host):
    """tcp_init_mem(): limit = max(nr_free_buffer_pages / 16, 128); {limit/4*3, limit, 2*(limit/4*3)} pages."""
    limit = max(_pages(host) // 16, 128)
    return [limit // 4 * 3, limit, 2 * (limit // 4 * 3)]


def _page_size(host):
    return host.get("page_size") or 4096


def tcp_rmem(host):
    """tcp_init(): [PAGE_SIZE, 131072 (87380 before 4.19), max(131072, min(limit, 6 MiB; 32 MiB since 6.16))],
    limit = nr_free_buffer_pages << (PAGE_SHIFT - 7) bytes. [0] is PAGE_SIZE on every kernel: it was
    SK_MEM_QUANTUM, defined as ((int)PAGE_SIZE), until "net: remove SK_MEM_QUANTUM and SK_MEM_QUANTUM_SHIFT"
    (2022) wrote PAGE_SIZE out. So 65536 on 64 KiB pages."""
    ceiling = 32 * MIB if _kernel(host) >= (6, 16) else 6 * MIB
    middle = 131072 if _kernel(host) >= (4, 19) else 87380
    return [_page_size(host), middle, max(131072, min(ceiling, host["memory_bytes"] // 128))]


def tcp_wmem(host):
    """tcp_init(): [PAGE_SIZE, 16384, max(65536, min(4 MiB, limit))]. On 64 KiB pages min is above default:
    65536 16384 4194304, the kernel's own value (it checks no order)."""
    return [_page_size(host), 16384, max(65536, min(4 * MIB, host["memory_bytes"] // 128))]


def core_mem_max(host):
    """net.core.rmem_max / wmem_max: 4 MiB since 6.18 (a6d4f25888b8), SK_RMEM_MAX 212992 before."""
    return 4 * MIB if _kernel(host) >= (6, 18) else 212992


def somaxconn(host):
    """SOMAXCONN: 4096 since 5.4 (19f92a030ca6), 128 before."""
    return 4096 if _kernel(host) >= (5, 4) else 128


def tcp_max_syn_backlog(host):
    """tcp_sk_init(): max(128, ehash / 128) since 5.4, max(128, ehash / 256) before."""
    divisor = 128 if _kernel(host) >= (5, 4) else 256
    return max(128, ehash_entries(host) // divisor)


def tcp_max_tw_buckets(host):
    """tcp_sk_init(): ehash entries / 2."""
    return max(ehash_entries(host) // 2, 1)


def tcp_syncookies(host):
    return 1


def tcp_timestamps(host):
    return 1


def tcp_tw_reuse(host):
    """2 (loopback only) since 4.18 (79e9fed46038), 0 before."""
    return 2 if _kernel(host) >= (4, 18) else 0


def tcp_tw_reuse_delay(host):
    return 1000


def ip_local_port_range(host):
    """32768 60999 since 4.2 (07f4c90062f8: ends of different parity), 32768 61000 before."""
    return [32768, 60999] if _kernel(host) >= (4, 2) else [32768, 61000]


def ip_local_reserved_ports(host):
    return ""


def nr_open(host):
    return NR_OPEN_DEFAULT


def epoll_max_user_watches(host):
    """eventpoll_init(): ((totalram_pages - totalhigh) / 25) << PAGE_SHIFT) / EP_ITEM_COST, 4 % of RAM in watches."""
    cost = next(size for since, size in EP_ITEM_COST if _kernel(host)[:2] >= since)
    return (_pages(host) // 25) * _page_size(host) // cost


def file_max(host):
    """files_maxfiles_init(): about 10 % of RAM in KiB, at least NR_FILE (8192)."""
    return max(host["memory_bytes"] // 1024 // 10, 8192)


def conntrack_buckets(host):
    """nf_conntrack_init_start() (64-bit): RAM / 16384 / 8 buckets; since 5.15 (d532bcd0b269) > 4 GB 262144,
    > 1 GB 65536, at least 1024; before, > 4 GB 65536, > 1 GB 16384, at least 32. nf_ct_alloc_hashtable()
    then rounds the size up to a multiple of PAGE_SIZE / 8 (512 on 4 KiB pages, 8192 on 64 KiB)."""
    ram = host["memory_bytes"]
    large, medium, smallest = (262144, 65536, 1024) if _kernel(host) >= (5, 15) else (65536, 16384, 32)
    if ram > 4 * GIB:
        size = large
    elif ram > GIB:
        size = medium
    else:
        size = max(smallest, ram // 16384 // 8)
    step = _page_size(host) // 8
    return (size + step - 1) // step * step


def conntrack_max(host):
    """nf_conntrack_max = buckets x max_factor: 1 since 5.15 (d532bcd0b269), 4 before (the same max above 1 GB);
    computed from the rounded bucket count (nf_ct_alloc_hashtable runs first)."""
    return conntrack_buckets(host) * (1 if _kernel(host) >= (5, 15) else 4)


def txqueuelen(host):
    return 1000
