#!/usr/bin/env bash
# Install the Debian packages of tests/packages.txt that are missing. Idempotent; one at a time.
# Prints one line: what it did or skipped. Exit 0 all present, 3 cannot install here (not root,
# no apt-get, apt-get failed).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
LIST=tests/packages.txt
LOG=${TCPTUNE_APT_LOG:-/tmp/tcptune-apt.log}

packages=$(sed -e 's/#.*//' "$LIST" | awk 'NF { print $1 }')
missing() {
    local pkg out=""
    for pkg in $packages; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || out="$out $pkg"
    done
    echo "$out"
}

need=$(missing)
if [ -z "$need" ]; then
    echo "packages: skipped: all of $LIST installed"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "packages: NOT USABLE: missing$need and not root"; exit 3; }
command -v apt-get >/dev/null || { echo "packages: NOT USABLE: missing$need and no apt-get"; exit 3; }

# testbed.sh and vm/build.sh run at the same time in `make test`: one apt-get at a time.
exec 8>/tmp/tcptune-apt.lock
flock 8
need=$(missing)
if [ -z "$need" ]; then
    echo "packages: skipped: installed meanwhile by another run"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # $need is a list of package names
if apt-get update -qq >"$LOG" 2>&1 &&
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $need >>"$LOG" 2>&1; then
    echo "packages: did: installed$need"
else
    echo "packages: NOT USABLE: apt-get install$need failed (see $LOG: $(tail -n 1 "$LOG"))"
    exit 3
fi
