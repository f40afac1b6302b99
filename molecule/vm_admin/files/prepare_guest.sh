#!/bin/sh
# Make this Debian guest a host an admin has already configured (issue #17, "Prepare the guest").
# One script (ansible.builtin.script) rather than a task per file: under software emulation every
# remote module run costs seconds. Idempotent. The guest reboots afterwards (prepare.yml).
set -eu

# A login user other than root, with root's key.
id tcptune >/dev/null 2>&1 || useradd -m -s /bin/bash tcptune
install -d -m 0700 -o tcptune -g tcptune /home/tcptune/.ssh
install -m 0600 -o tcptune -g tcptune /root/.ssh/authorized_keys /home/tcptune/.ssh/authorized_keys

# The admin's nofile limits. limits.conf(5): "group and wildcard limits are not applied to the root
# user", so root has its own lines: root's sessions are held to the same "never below" as users'.
if ! grep -q "admin's nofile limits" /etc/security/limits.conf; then
    cat >>/etc/security/limits.conf <<'EOF'
# the admin's nofile limits (molecule vm_admin)
*       soft    nofile  1048576
*       hard    nofile  1048576
root    soft    nofile  1048576
root    hard    nofile  1048576
EOF
fi

# A service with LimitNOFILE=infinity, as containerd and dockerd ship (the role declares it).
cat >/etc/systemd/system/tcptune-infinity.service <<'EOF'
[Unit]
Description=tcptune test: a service with LimitNOFILE=infinity
[Service]
LimitNOFILE=infinity
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
EOF

# nf_conntrack, not in modules-load.d: loaded once the system is up, after systemd-sysctl has run,
# as a firewall or a container runtime loads it. Its keys exist only from then on.
cat >/etc/systemd/system/tcptune-late-conntrack.service <<'EOF'
[Unit]
Description=tcptune test: load nf_conntrack after boot, as a firewall would
After=multi-user.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/modprobe nf_conntrack
[Install]
WantedBy=multi-user.target
EOF

# The admin's name for the second NIC, by MAC (applied by udev at the next boot), and its network
# configuration under that name in place of the image's for eth1.
mac=$(cat /sys/class/net/eth1/address 2>/dev/null || cat /sys/class/net/wan0/address)
printf '[Match]\nMACAddress=%s\n\n[Link]\nName=wan0\n' "$mac" >/etc/systemd/network/70-tcptune-wan.link
printf '[Match]\nName=wan0\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nUseRoutes=false\nUseDNS=false\n' \
    >/etc/systemd/network/10-wan0.network
rm -f /etc/systemd/network/10-eth1.network

systemctl daemon-reload
systemctl enable --now tcptune-infinity.service tcptune-late-conntrack.service
# Timers that would run apt, e2scrub, fstrim or man-db in the middle of a step or a boot: masked to
# save CPU under emulation. Nothing under test depends on them.
systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer man-db.timer
echo "prepared: second NIC $mac -> wan0 at the next boot"
