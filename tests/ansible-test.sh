#!/usr/bin/env bash
# Run ansible-test on a copy of this checkout.
#   usage: tests/ansible-test.sh sanity|units [extra ansible-test args]
# ansible-test needs the real path to end in ansible_collections/tcptune/linux (a symlink is not
# enough), so the git-tracked and untracked-not-ignored files are copied (tar) into
# $TMPDIR/tcptune-ansible-test.<hash>/ansible_collections/tcptune/linux first (kept between runs).
# Offline except PyPI: ansible-test downloads a get-pip script from ci-files.testing.ansible.com for
# every venv it creates; we pre-seed its cache with tests/get_pip_standin.py (ensurepip + pip install).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
# Outside the checkout: inside it, ansible-test would find our .git and list files through it.
COPY=${TMPDIR:-/tmp}/tcptune-ansible-test.$(echo "$ROOT" | sha1sum | cut -c1-8)/ansible_collections/tcptune/linux

command=${1:?usage: $0 sanity|units [ansible-test args]}
shift

# Interpreters ansible-test looks up by name (python3.X). pyenv shims fail for non-global
# versions, so link the real interpreters; the venv's own python3.13 comes first.
PYDIR=$ROOT/.cache/pythons
mkdir -p "$PYDIR"
if command -v pyenv >/dev/null 2>&1 && pyroot=$(pyenv root 2>/dev/null); then
    for p in "$pyroot"/versions/3.*/bin/python3; do
        [ -x "$p" ] || continue
        ver=$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
        ln -sfn "$p" "$PYDIR/python$ver"
    done
fi
export PATH=$VENV/bin:$PYDIR:$PATH
PYVER=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# Pre-seed the get-pip script under the name of the pip version this ansible-test pins.
pip_version=$("$VENV/bin/python" - <<'EOF'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
EOF
)
seed=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if ! cmp -s tests/get_pip_standin.py "$seed"; then
    mkdir -p "$(dirname "$seed")"
    cp tests/get_pip_standin.py "$seed"
    echo "ansible-test.sh: seeded $seed"
fi

mkdir -p "$COPY"
files=$(mktemp)
# tracked (minus deleted) + untracked-not-ignored files
git ls-files -co --exclude-standard | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done | sort -u >"$files"
# tar is on every machine (rsync is not on a fresh one); it copies the listed files with their modes.
tar -cf - -T "$files" | tar -xf - -C "$COPY"
# copying never deletes: prune what is no longer part of the checkout (keep ansible-test output).
( cd "$COPY" && find . -type f ! -path './tests/output/*' -printf '%P\n' | sort ) | comm -23 - "$files" |
    while IFS= read -r f; do rm -f "$COPY/$f"; done
rm -f "$files"

cd "$COPY"
case $command in
    sanity) exec ansible-test sanity --venv --color no "$@" ;;
    units) exec ansible-test units --venv --python "$PYVER" --color no "$@" ;;
    *) exec ansible-test "$command" --venv --color no "$@" ;;
esac
