#!/usr/bin/env bash
# Run every benchmark once in its smoke mode (tiny sizes, one run, no timing asserts). CI calls this.
# A benchmark that is not written yet is skipped with a line saying so; one whose smoke run breaks
# makes this script exit 1. Each smoke run is bounded by SMOKE_TIMEOUT seconds (default 300), or by
# the bound after its name below (a benchmark that boots a guest and runs tune-tcp.yml in it).
# tcp_mem_pressure, bdp and seed004 boot a qemu guest of the VM test bed (tests/vm/build.sh 12 first);
# memory_model's smoke measures the host line only (no guest).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
TIMEOUT=${SMOKE_TIMEOUT:-300}
HOST_BENCHES=(storm churn apply_cost facts_cost memory_model million report_scale fleet_run)
GUEST_BENCHES=(tcp_mem_pressure bdp seed004:420)
# --host or --guests: only that group (tests/run-all.sh runs the guests' group in its VM lane).
case ${1:-} in
    --host) BENCHES=("${HOST_BENCHES[@]}") ;;
    --guests) BENCHES=("${GUEST_BENCHES[@]}") ;;
    "") BENCHES=("${HOST_BENCHES[@]}" "${GUEST_BENCHES[@]}") ;;
    *) echo "usage: bench/smoke.sh [--host|--guests]" >&2; exit 2 ;;
esac

failed=()
for entry in "${BENCHES[@]}"; do
    name=${entry%%:*}
    bound=$TIMEOUT
    [ "$entry" = "$name" ] || [ -n "${SMOKE_TIMEOUT:-}" ] || bound=${entry#*:}
    script=bench/$name/run.py
    if [ ! -f "$script" ]; then
        echo "== $name: SKIP (bench/$name/run.py does not exist yet)"
        continue
    fi
    echo "== $name: python3 $script --smoke (at most $bound s)"
    start=$SECONDS
    timeout --kill-after=10 "$bound" python3 "$script" --smoke
    rc=$?
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    [ $rc -eq 0 ] || failed+=("$name (exit $rc)")
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke FAILED: ${failed[*]}"
    exit 1
fi
echo "smoke passed"
