#!/usr/bin/env bash
# Run every benchmark once in its smoke mode (tiny sizes, one run, no timing asserts). CI calls this.
# A benchmark that is not written yet is skipped with a line saying so; one whose smoke run breaks
# makes this script exit 1. Each smoke run is bounded by SMOKE_TIMEOUT seconds (default 300).
# tcp_mem_pressure and bdp boot a qemu guest of the VM test bed (tests/vm/build.sh 12 first).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
TIMEOUT=${SMOKE_TIMEOUT:-300}
BENCHES=(storm churn apply_cost facts_cost memory_model million report_scale fleet_run tcp_mem_pressure bdp)

failed=()
for name in "${BENCHES[@]}"; do
    script=bench/$name/run.py
    if [ ! -f "$script" ]; then
        echo "== $name: SKIP (bench/$name/run.py does not exist yet)"
        continue
    fi
    echo "== $name: python3 $script --smoke"
    start=$SECONDS
    timeout --kill-after=10 "$TIMEOUT" python3 "$script" --smoke
    rc=$?
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    [ $rc -eq 0 ] || failed+=("$name (exit $rc)")
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke FAILED: ${failed[*]}"
    exit 1
fi
echo "smoke passed"
