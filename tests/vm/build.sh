#!/usr/bin/env bash
# Build the cached Debian guest images for the VM test bed (tests/vm/vm.py boots them).
#   usage: tests/vm/build.sh [11 12 13]      (default: all three, built in parallel)
# Per release, in $TCPTUNE_VM_CACHE (default /var/cache/tcptune/vm, outside the checkout so fresh
# clones and CI on this machine reuse it): debian-REL-HASH/{disk.raw,vmlinuz,initrd.img}, HASH
# being a hash of the recipe below, so a recipe change builds anew. One ssh key pair: id_ed25519.
# Idempotent; one line per action. Exit 0 ready, 1 a build FAILED, 3 cannot work on this host.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

CACHE=${TCPTUNE_VM_CACHE:-/var/cache/tcptune/vm}
MIRROR=${TCPTUNE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DISK_SIZE=4G
# prometheus and prometheus-node-exporter: the VM scenario's monitoring checks (issue 19); the guests have no
# network at test time. configure_rootfs leaves both disabled, so no other run pays for them.
INCLUDE=systemd,systemd-sysv,udev,openssh-server,openssh-sftp-server,python3,iproute2,procps,kmod,linux-image-amd64,libpam-modules,prometheus,prometheus-node-exporter
declare -A SUITES=([11]=bullseye [12]=bookworm [13]=trixie)

say() { echo "vm-build: $*"; }
unusable() { say "NOT USABLE: $*"; exit 3; }

# The guest's configuration, run on the debootstrapped tree. Its text is part of the cache key.
configure_rootfs() { # configure_rootfs DIR PUBKEY_FILE
    local dir=$1 pubkey=$2
    echo "tcptune-vm" >"$dir/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 tcptune-vm\n' >"$dir/etc/hosts"
    echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" >"$dir/etc/fstab"
    : >"$dir/etc/machine-id" # a fresh id on each instance's first boot
    rm -f "$dir/var/lib/dbus/machine-id"
    mkdir -p "$dir/etc/systemd/network" "$dir/root/.ssh" "$dir/etc/ssh/sshd_config.d"
    # Two NICs, both DHCP from qemu's user network; only eth0 carries the default route.
    printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' >"$dir/etc/systemd/network/10-eth0.network"
    printf '[Match]\nName=eth1\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nUseRoutes=false\nUseDNS=false\n' \
        >"$dir/etc/systemd/network/10-eth1.network"
    install -m 0600 "$pubkey" "$dir/root/.ssh/authorized_keys"
    chmod 0700 "$dir/root/.ssh"
    # Root by key only; no reverse DNS (there is no resolver).
    printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n' \
        >"$dir/etc/ssh/sshd_config.d/10-tcptune.conf"
    chroot "$dir" systemctl enable systemd-networkd ssh >/dev/null 2>&1 || return 1
    # wait-online would fail the boot's unit list when a link is slow; nothing here needs it.
    chroot "$dir" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1 || return 1
    # Installed for the monitoring checks, started only by the scenarios that use them.
    chroot "$dir" systemctl disable prometheus.service prometheus-node-exporter.service >/dev/null 2>&1 || return 1
    chroot "$dir" passwd -l root >/dev/null || return 1
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
}

recipe_hash() { # recipe_hash REL
    { echo "$1 ${SUITES[$1]} $MIRROR $DISK_SIZE $INCLUDE"; declare -f configure_rootfs; } | sha256sum | cut -c1-12
}

build_release() { # build_release REL DEST LOG -> 0 on success
    local rel=$1 dest=$2 tmp dir
    tmp=$(mktemp -d "$CACHE/.build-$rel.XXXXXX") || return 1
    dir=$tmp/rootfs
    # shellcheck disable=SC2064 # expand now
    trap "rm -rf '$tmp'" RETURN
    debootstrap --variant=minbase --include="$INCLUDE" "${SUITES[$rel]}" "$dir" "$MIRROR" || return 1
    configure_rootfs "$dir" "$CACHE/id_ed25519.pub" || return 1
    # The kernel and initrd boot the guest directly (qemu -kernel/-initrd): no boot loader.
    local kernel
    kernel=$(printf '%s\n' "$dir"/boot/vmlinuz-* | sort -V | tail -n 1)
    kernel=${kernel##*/vmlinuz-}
    cp "$dir/boot/vmlinuz-$kernel" "$tmp/vmlinuz" && cp "$dir/boot/initrd.img-$kernel" "$tmp/initrd.img" || return 1
    echo "$kernel" >"$tmp/kernel-version"
    truncate -s "$DISK_SIZE" "$tmp/disk.raw" || return 1
    mkfs.ext4 -q -F -L tcptune-root -d "$dir" "$tmp/disk.raw" || return 1
    rm -rf "$dir"
    mv "$tmp" "$dest" # atomic: a cache entry is complete or absent
    trap - RETURN
}

# -- can it work here? --------------------------------------------------------------------------
[ "$(uname -m)" = x86_64 ] || unusable "host is $(uname -m), the guests are amd64"
[ "$(id -u)" -eq 0 ] || unusable "not root (debootstrap, chroot and apt-get need root)"
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(11 12 13)
for rel in "${releases[@]}"; do
    [ -n "${SUITES[$rel]:-}" ] || { say "FAILED: unknown release '$rel' (11, 12 or 13)"; exit 1; }
done

out=$(bash tests/install-packages.sh)
rc=$?
say "${out#packages: }"
[ $rc -eq 0 ] || exit 3
for tool in qemu-system-x86_64 qemu-img debootstrap mkfs.ext4 ssh ssh-keygen; do
    command -v "$tool" >/dev/null || unusable "$tool not found after installing tests/packages.txt"
done

mkdir -p "$CACHE" || unusable "cannot create $CACHE"
exec 9>"$CACHE/.build.lock"
flock 9 # one build.sh at a time per cache

if [ -f "$CACHE/id_ed25519" ] && [ -f "$CACHE/id_ed25519.pub" ]; then
    say "skipped: ssh key $CACHE/id_ed25519 exists"
else
    rm -f "$CACHE/id_ed25519" "$CACHE/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C tcptune-vm -f "$CACHE/id_ed25519" || { say "FAILED: ssh-keygen"; exit 1; }
    say "did: ssh key $CACHE/id_ed25519"
fi

failed=0 pids=()
for rel in "${releases[@]}"; do
    dest=$CACHE/debian-$rel-$(recipe_hash "$rel")
    if [ -f "$dest/disk.raw" ] && [ -f "$dest/vmlinuz" ] && [ -f "$dest/initrd.img" ]; then
        say "skipped: debian-$rel image $dest exists"
        continue
    fi
    say "building: debian-$rel (debootstrap ${SUITES[$rel]}, ~2-4 min) -> $dest"
    build_release "$rel" "$dest" >"$CACHE/build-$rel.log" 2>&1 &
    pids+=("$!:$rel:$dest")
done
for entry in "${pids[@]}"; do
    IFS=: read -r pid rel dest <<<"$entry"
    if wait "$pid"; then
        say "did: built debian-$rel $(du -sh --apparent-size "$dest/disk.raw" | cut -f1) image, kernel $(cat "$dest/kernel-version")"
        # Older entries of this release (other recipes) are dead weight.
        for old in "$CACHE"/debian-"$rel"-*; do
            [ "$old" = "$dest" ] || { rm -rf "$old"; say "did: removed stale $old"; }
        done
    else
        say "FAILED: debian-$rel ($(tail -n 1 "$CACHE/build-$rel.log"); log $CACHE/build-$rel.log)"
        failed=1
    fi
done
[ $failed -eq 0 ] && say "summary: ready (${releases[*]}) in $CACHE"
exit $failed
