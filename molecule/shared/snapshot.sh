#!/bin/sh
# Prints the state tcptune.linux could change in this container: /proc/sys values of the keys it knows,
# txqueuelen of every interface, and the checksum of every file in the places it writes to.
for f in /proc/sys/net/core/somaxconn /proc/sys/net/ipv4/tcp_* /proc/sys/net/ipv4/ip_local_port_range \
    /proc/sys/net/ipv4/ip_local_reserved_ports /proc/sys/fs/file-max /proc/sys/fs/nr_open \
    /sys/class/net/*/tx_queue_len; do
    [ -r "$f" ] && printf '%s=%s\n' "$f" "$(tr -s ' \t' '  ' < "$f" 2>/dev/null)"
done
find /etc/sysctl.d /etc/security/limits.d /etc/systemd /etc/udev /var/lib/tcptune -type f 2>/dev/null \
    | sort | xargs -r sha256sum
