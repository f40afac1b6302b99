#!/usr/bin/env bash
# Create (or reuse) ./.venv: Python >= 3.12 with the pinned toolchain of tests/requirements.txt.
# Idempotent: the venv is reused while the requirements file's hash is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
REQ=tests/requirements.txt
STAMP=$VENV/.requirements.sha256

python_ok() { # python_ok PATH -> true when PATH runs and is >= 3.12
    [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

find_python() {
    local candidates=() root
    if command -v pyenv >/dev/null 2>&1 && root=$(pyenv root 2>/dev/null); then
        # Highest patch first; the pyenv shims fail for non-global versions, so use real paths.
        for p in "$root"/versions/3.13.*/bin/python3 "$root"/versions/3.12.*/bin/python3; do
            [ -x "$p" ] && candidates+=("$p")
        done
    fi
    for name in python3.13 python3.12 python3; do
        p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
    done
    for p in "${candidates[@]}"; do
        if python_ok "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && python_ok "$VENV/bin/python"; then
    echo "venv: reused $VENV ($("$VENV/bin/python" -V), requirements unchanged)"
    exit 0
fi

if ! PY=$(find_python); then
    echo "venv: FAILED: no Python >= 3.12 found (tried pyenv 3.13/3.12, python3.13, python3.12, python3)" >&2
    exit 1
fi

start=$SECONDS
if ! python_ok "$VENV/bin/python"; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
fi
rm -f "$STAMP"
log=$VENV/pip-install.log
if ! { "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip &&
       "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"; } >"$log" 2>&1; then
    echo "venv: FAILED: pip install -r $REQ (last lines of $log):" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
echo "$want" >"$STAMP"
echo "venv: built $VENV with $("$VENV/bin/python" -V) in $((SECONDS - start)) s"
