#!/usr/bin/env bash
# Podman test bed for the Molecule scenarios. Idempotent and safe to re-run.
#   - installs the packages of tests/packages.txt that are missing (tests/install-packages.sh)
#   - sets [engine] runtime = "runc" in /etc/containers/containers.conf (crun fails on cgroup hybrid hosts)
#   - derives container ulimits from the host's hard limits -> .cache/testbed.env
#   - builds + caches localhost/tcptune-debian:{11,12,13} with debootstrap and podman import
#   - proves a privileged container starts from each image
# Exit: 0 usable, 1 something FAILED, 3 cannot work on this host (not root / podman cannot run).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

CACHE=.cache
ENV_FILE=$CACHE/testbed.env
CONF=/etc/containers/containers.conf
MIRROR=${TCPTUNE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PODMAN_NPROC_CAP=32768 # podman lowers its own RLIMIT_NPROC to this; asking for more fails
IMAGES="11:bullseye 12:bookworm 13:trixie"

failed=0
say() { echo "testbed: $*"; }
fail() { say "FAILED: $*"; failed=1; }
unusable() { say "NOT USABLE: $*"; exit 3; }

[ "$(id -u)" -eq 0 ] || unusable "not root (needs root for apt-get, $CONF and privileged containers)"

mkdir -p "$CACHE"
exec 9>"$CACHE/testbed.lock"
flock 9 # one testbed.sh at a time

# 1. packages: every package the test command needs, listed in tests/packages.txt --------------
out=$(bash tests/install-packages.sh)
rc=$?
say "${out#packages: }"
[ $rc -eq 0 ] || unusable "packages of tests/packages.txt missing: ${out#packages: NOT USABLE: }"

# 2. runtime = "runc" under [engine], keeping everything else in the file ------------------
set_runc() {
    local tmp
    tmp=$(mktemp)
    awk '
        function emit() { print "runtime = \"runc\""; done = 1 }
        /^[[:space:]]*\[/ {
            if (in_engine && !done) emit()
            in_engine = ($0 ~ /^[[:space:]]*\[engine\][[:space:]]*$/)
        }
        in_engine && /^[[:space:]]*runtime[[:space:]]*=/ { if (!done) emit(); next }
        { print }
        END {
            if (in_engine && !done) emit()
            else if (!done) { print ""; print "[engine]"; emit() }
        }' "$CONF" >"$tmp" && cat "$tmp" >"$CONF"
    rm -f "$tmp"
}
mkdir -p "$(dirname "$CONF")"
[ -f "$CONF" ] || : >"$CONF"
if awk '/^[[:space:]]*\[/ { e = ($0 ~ /^[[:space:]]*\[engine\]/) }
        e && /^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"/ { found = 1 }
        END { exit !found }' "$CONF"; then
    say "skipped: $CONF already has [engine] runtime = \"runc\""
elif set_runc; then
    say "did: set [engine] runtime = \"runc\" in $CONF"
else
    fail "could not edit $CONF"
fi

podman info >/dev/null 2>"$CACHE/testbed-podman-info.log" ||
    unusable "podman info fails: $(tail -n 1 "$CACHE/testbed-podman-info.log")"

# 3. ulimits from the host's hard limits -----------------------------------------------------
# A container cannot exceed the host's hard limits (no CAP_SYS_RESOURCE here).
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$PODMAN_NPROC_CAP" ]; then nproc=$PODMAN_NPROC_CAP; fi
new_env="TCPTUNE_NOFILE=$nofile
TCPTUNE_NPROC=$nproc"
if [ -f "$ENV_FILE" ] && [ "$(cat "$ENV_FILE")" = "$new_env" ]; then
    say "skipped: $ENV_FILE unchanged (nofile=$nofile nproc=$nproc)"
else
    echo "$new_env" >"$ENV_FILE"
    say "did: wrote $ENV_FILE (nofile=$nofile from ulimit -Hn, nproc=$nproc)"
fi

# 4. images, missing ones built in parallel -------------------------------------------------
build_image() { # build_image TAG SUITE -> 0 on success; log in .cache/testbed-image-TAG.log
    local tag=$1 suite=$2 dir log=$CACHE/testbed-image-$1.log rc=0
    dir=$(mktemp -d /var/tmp/tcptune-rootfs.XXXXXX)
    {
        debootstrap --variant=minbase --include=python3,iproute2,procps,net-tools \
            "$suite" "$dir" "$MIRROR" &&
            tar -C "$dir" -c . | podman import --change 'CMD ["sleep","infinity"]' - "localhost/tcptune-debian:$tag"
    } >"$log" 2>&1 || rc=1
    rm -rf "$dir"
    return $rc
}
pids=""
for pair in $IMAGES; do
    tag=${pair%%:*} suite=${pair#*:}
    if podman image exists "localhost/tcptune-debian:$tag"; then
        say "skipped: image localhost/tcptune-debian:$tag exists"
    else
        say "building: image localhost/tcptune-debian:$tag (debootstrap $suite, ~1-2 min)"
        build_image "$tag" "$suite" &
        pids="$pids $!:$tag"
    fi
done
for entry in $pids; do
    tag=${entry#*:}
    if wait "${entry%%:*}"; then
        say "did: built image localhost/tcptune-debian:$tag"
    else
        fail "image localhost/tcptune-debian:$tag ($(tail -n 1 "$CACHE/testbed-image-$tag.log"))"
    fi
done

# 5. prove a privileged container starts with those ulimits ---------------------------------
ran=0
for pair in $IMAGES; do
    image=localhost/tcptune-debian:${pair%%:*}
    podman image exists "$image" || continue
    if out=$(podman run --rm --privileged --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" \
        "$image" python3 -c 'print(1)' 2>&1) && [ "$out" = 1 ]; then
        say "did: privileged container from $image runs python3"
        ran=1
    else
        fail "privileged container from $image: $(echo "$out" | tail -n 1)"
    fi
done
[ "$ran" -eq 1 ] || unusable "no privileged container could start"

if [ "$failed" -eq 0 ]; then
    say "summary: usable (images 11/12/13, runtime runc, nofile=$nofile nproc=$nproc)"
else
    say "summary: FAILED steps above; the bed is incomplete"
fi
exit "$failed"
