#!/usr/bin/env bash
# THE test command (`make test`, `.ci/run`): bootstrap, then every check this collection has.
# Each stage logs to tests/output/run-all/<stage>.log; a failing stage prints its log's tail.
# After lint, sanity and units, two lanes run at once: the VM lane (qemu guests) in the background and the
# container lane (podman scenarios, host benchmarks); pytest runs when both are done. The output ends with the stage table, the failed
# stages' log tails, a RESULT line and pytest's summary line.
# Exit: 0 all passed; 1 a stage failed; 3 nothing failed but a stage could NOT RUN here
# (e.g. no root/podman for Molecule) - never reported as a pass.
set -uo pipefail
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LOGS=$ROOT/tests/output/run-all
TAIL_LINES=${TCPTUNE_TAIL_LINES:-40}
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log

export PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1 ANSIBLE_NOCOLOR=1
export PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
# The collection from this checkout, importable as ansible_collections.tcptune.linux.
COLLECTIONS=$ROOT/.cache/collections
mkdir -p "$COLLECTIONS/ansible_collections/tcptune"
ln -sfn "$ROOT" "$COLLECTIONS/ansible_collections/tcptune/linux"
export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS

names=() results=() times=()
failed=0 not_run=0

record() { # record NAME RESULT SECONDS
    names+=("$1") results+=("$2") times+=("$3")
    # In the VM lane (a background subshell) the arrays die with it: the lane's records go to a file too.
    [ -z "${LANE_RECORDS:-}" ] || printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$LANE_RECORDS"
    case $2 in FAIL*) failed=1 ;; "NOT RUN"*) not_run=1 ;; esac
}

# stage NAME CMD...: run CMD with output to $LOGS/NAME.log, time it, record PASS/FAIL.
stage() {
    local name=$1 log=$LOGS/${1//[:\/]/-}.log start=$SECONDS rc
    shift
    echo "== $name"
    "$@" >"$log" 2>&1 </dev/null
    rc=$?
    if [ $rc -eq 0 ]; then
        record "$name" PASS $((SECONDS - start))
    else
        record "$name" "FAIL (exit $rc)" $((SECONDS - start))
        echo "-- $name FAILED (exit $rc); last $TAIL_LINES lines of ${log#"$ROOT"/}:"
        tail -n "$TAIL_LINES" "$log" | sed 's/^/   | /'
    fi
    return $rc
}

# shellcheck disable=SC2317 # called through stage "$@"
build_and_install() {
    local out=$ROOT/.build tmp
    rm -rf "$out" && mkdir -p "$out"
    ansible-galaxy collection build --force --output-path "$out" . || return 1
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: $tmp is local
    trap "rm -rf '$tmp'" RETURN
    # Only $tmp on the path: otherwise the checkout's own link counts as "already installed".
    ANSIBLE_COLLECTIONS_PATH=$tmp ansible-galaxy collection install --offline --force -p "$tmp" \
        "$out"/tcptune-linux-*.tar.gz || return 1
    local listed
    listed=$(ANSIBLE_COLLECTIONS_PATH=$tmp ansible-doc -l tcptune.linux) || return 1
    echo "$listed"
    [ -n "$listed" ] || { echo "ansible-doc -l tcptune.linux listed nothing"; return 1; }
    local spec role
    for spec in roles/*/meta/argument_specs.yml; do
        [ -f "$spec" ] || continue
        role=$(basename "$(dirname "$(dirname "$spec")")")
        ANSIBLE_COLLECTIONS_PATH=$tmp ansible-doc -t role "tcptune.linux.$role" | head -n 20 || return 1
    done
}

# promtool (in Debian's prometheus) and prometheus-node-exporter, for tests/integration/test_monitor_promtool.py
# (issue 19; the VM guests get them from tests/vm/build.sh). Installed only when missing, one apt-get at a time
# (tests/install-packages.sh takes the same lock); daemons this run installed are stopped and disabled again.
monitoring_packages() {
    local pkg need=""
    for pkg in prometheus prometheus-node-exporter; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
    done
    if [ -z "$need" ]; then echo "monitoring-packages: skipped: installed"; return 0; fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "NOT USABLE: missing$need, no root or apt-get"
        return 3
    fi
    # shellcheck disable=SC2086 # $need is a list of package names
    (flock 8 && apt-get update -qq && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $need) \
        8>/tmp/tcptune-apt.lock || { echo "NOT USABLE: apt-get install$need failed"; return 3; }
    if [ -d /run/systemd/system ]; then
        systemctl disable --now prometheus.service prometheus-node-exporter.service >/dev/null 2>&1 || true
    fi
    echo "monitoring-packages: did: installed$need"
}

# shellcheck disable=SC2317 # called through stage "$@"
run_molecule() { # run_molecule SCENARIO
    # testbed.env: container ulimits derived from this host's hard limits.
    set -a
    # shellcheck disable=SC1091
    [ ! -f "$ROOT/.cache/testbed.env" ] || . "$ROOT/.cache/testbed.env"
    set +a
    molecule test -s "$1"
}

# -- stages -----------------------------------------------------------------------------------
# The VM guest images (tests/vm/build.sh, cached in /var/cache/tcptune/vm) build in the background
# while the venv, the container test bed, lint, sanity and units run; the vm-images stage waits for it.
vm_start=$SECONDS
# The VMs of this run live here (tests/vm/vm.py), so `stop --all` stops only this run's leftovers.
export TCPTUNE_VM_RUN=${TMPDIR:-/tmp}/tcptune-vm-run-all
bash tests/vm/build.sh >"$LOGS/vm-images.log" 2>&1 </dev/null &
vm_build_pid=$!
# No VM outlives the run, whatever happens to it.
trap 'python3 tests/vm/vm.py stop --all >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

if ! stage venv bash tests/bootstrap-venv.sh; then
    echo "venv could not be built: nothing else can run." >&2
    exit 1
fi

start=$SECONDS
echo "== testbed"
bash tests/testbed.sh >"$LOGS/testbed.log" 2>&1 </dev/null
testbed_rc=$?
case $testbed_rc in
    0) record testbed PASS $((SECONDS - start)) ;;
    3) testbed_why=$(grep -m1 'NOT USABLE' "$LOGS/testbed.log" | sed 's/^testbed: NOT USABLE: //')
       echo "-- testbed NOT USABLE: $testbed_why (Molecule will NOT RUN)"
       record testbed "NOT RUN: $testbed_why" $((SECONDS - start)) ;;
    *) record testbed "FAIL (exit $testbed_rc)" $((SECONDS - start))
       echo "-- testbed FAILED; its report:"; grep '^testbed:' "$LOGS/testbed.log" | sed 's/^/   | /' ;;
esac

start=$SECONDS
echo "== monitoring-packages"
monitoring_packages >"$LOGS/monitoring-packages.log" 2>&1 </dev/null
case $? in
    0) record monitoring-packages PASS $((SECONDS - start)) ;;
    3) record monitoring-packages "NOT RUN: $(grep -m1 'NOT USABLE' "$LOGS/monitoring-packages.log")" $((SECONDS - start)) ;;
    *) record monitoring-packages FAIL $((SECONDS - start)) ;;
esac

stage yamllint yamllint .
stage ansible-lint ansible-lint --offline --profile production
stage build-install-doc build_and_install
stage sanity bash tests/ansible-test.sh sanity
stage units bash tests/ansible-test.sh units

echo "== vm-images (started in the background at the beginning)"
wait "$vm_build_pid"
vm_rc=$?
case $vm_rc in
    0) record vm-images PASS $((SECONDS - vm_start)) ;;
    3) vm_why=$(grep -m1 'NOT USABLE' "$LOGS/vm-images.log" | sed 's/^.*NOT USABLE: //')
       echo "-- vm-images NOT USABLE: $vm_why (the VM scenario will NOT RUN)"
       record vm-images "NOT RUN: $vm_why" $((SECONDS - vm_start)) ;;
    *) record vm-images "FAIL (exit $vm_rc)" $((SECONDS - vm_start))
       echo "-- vm-images FAILED; its report:"; sed 's/^/   | /' "$LOGS/vm-images.log" ;;
esac

# TCPTUNE_MOLECULE_SCENARIOS="smoke default" narrows the run (development only); default: all.
scenarios=()
for conf in molecule/*/molecule.yml; do
    [ -f "$conf" ] && scenarios+=("$(basename "$(dirname "$conf")")")
done
if [ -n "${TCPTUNE_MOLECULE_SCENARIOS:-}" ]; then
    for scenario in "${scenarios[@]}"; do
        case " $TCPTUNE_MOLECULE_SCENARIOS " in
            *" $scenario "*) ;;
            *) record "molecule:$scenario" "NOT RUN: not in TCPTUNE_MOLECULE_SCENARIOS" 0 ;;
        esac
    done
    read -r -a scenarios <<<"$TCPTUNE_MOLECULE_SCENARIOS"
fi
[ ${#scenarios[@]} -gt 0 ] || record molecule "FAIL (no molecule/*/molecule.yml)" 0
vm_scenarios=() container_scenarios=()
for scenario in "${scenarios[@]}"; do
    if [[ $scenario == vm* ]]; then vm_scenarios+=("$scenario"); else container_scenarios+=("$scenario"); fi
done

# Two lanes at once, to keep a full run under 45 minutes on 2 cores: the VM lane (qemu guests, one at a time:
# the VM scenarios, then the benchmarks that boot a guest) in the background, and the container lane (the
# podman scenarios, the host's benchmarks) here. Neither lane writes a global key on this host. pytest runs
# after both: its integration tests load the host (netns, crash kills) and stay out of the guests' way.
# shellcheck disable=SC2317 # called in the background below
vm_lane() {
    local scenario
    for scenario in "${vm_scenarios[@]}"; do
        if [ "$vm_rc" -eq 0 ]; then
            stage "molecule:$scenario" run_molecule "$scenario"
            python3 tests/vm/vm.py stop --all >>"$LOGS/molecule-$scenario.log" 2>&1 # leftovers of a failed run
        else
            echo "== molecule:$scenario NOT RUN: no VM images"
            record "molecule:$scenario" "NOT RUN: no VM images" 0
        fi
    done
    if [ ! -f bench/smoke.sh ]; then
        record bench-smoke-guests "n/a (no bench/smoke.sh)" 0
    elif [ "$vm_rc" -eq 0 ]; then
        stage bench-smoke-guests bash bench/smoke.sh --guests
    else
        record bench-smoke-guests "NOT RUN: no VM images" 0
    fi
}
lane_records=$LOGS/vm-lane.records
: >"$lane_records"
LANE_RECORDS=$lane_records vm_lane </dev/null &
vm_lane_pid=$!
trap 'kill "$vm_lane_pid" 2>/dev/null; python3 tests/vm/vm.py stop --all >/dev/null 2>&1' EXIT

for scenario in "${container_scenarios[@]}"; do
    if [ "$testbed_rc" -eq 3 ]; then
        echo "== molecule:$scenario NOT RUN: test bed not usable ($testbed_why)"
        record "molecule:$scenario" "NOT RUN: no test bed" 0
    else
        stage "molecule:$scenario" run_molecule "$scenario"
    fi
done

if [ -f bench/smoke.sh ]; then
    stage bench-smoke-host bash bench/smoke.sh --host
else
    record bench-smoke-host "n/a (no bench/smoke.sh)" 0
fi

echo "== waiting for the VM lane"
wait "$vm_lane_pid"
while IFS=$'\t' read -r lane_name lane_result lane_seconds; do
    record "$lane_name" "$lane_result" "$lane_seconds"
done <"$lane_records"

# -- the last stage: plain pytest with coverage, then the summary -------------------------------
# CI shows only the last lines of this output, so they are: the stage table, each failed stage's failing
# lines and its log's tail, one RESULT line naming the failed stages, and pytest's own summary line.
pytest_dirs=()
for d in tests/unit tests/integration; do [ -d "$d" ] && pytest_dirs+=("$d"); done

# PYTHONPATH makes ansible_collections.tcptune.linux importable from this checkout.
# Coverage goes to tests/output/coverage-html only. -q keeps pytest's output to its dots and summary.
echo "== pytest"
start=$SECONDS
PYTHONPATH=$COLLECTIONS${PYTHONPATH:+:$PYTHONPATH} python -m pytest -q -p no:cacheprovider \
    --cov="$COLLECTIONS/ansible_collections/tcptune/linux/plugins" --cov-report= \
    --cov-report="html:$ROOT/tests/output/coverage-html" "${pytest_dirs[@]}" </dev/null 2>&1 | tee "$LOGS/pytest.log"
pytest_rc=${PIPESTATUS[0]}
if [ "$pytest_rc" -eq 0 ]; then record pytest PASS $((SECONDS - start))
else record pytest "FAIL (exit $pytest_rc)" $((SECONDS - start)); fi
pytest_summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|no tests ran' "$LOGS/pytest.log" | tail -n 1)

echo
printf '%-22s %-44s %s\n' STAGE RESULT SECONDS
failed_stages=()
for i in "${!names[@]}"; do
    printf '%-22s %-44s %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
    case ${results[$i]} in FAIL*) failed_stages+=("${names[$i]}") ;; esac
done
echo "total: $SECONDS s; logs: ${LOGS#"$ROOT"/}/"
# What failed, not only how the log ends: pytest's FAILED/ERROR lines and assertions, then the last fatal
# lines of the playbooks (some are expected: a scenario's deliberate failures), at most 15 lines.
for name in "${failed_stages[@]}"; do
    log=$LOGS/${name//[:\/]/-}.log
    echo "-- ${name} failed; what failed (pytest's FAILED/ERROR lines, playbooks' fatal lines):"
    { grep -E '^(FAILED |ERROR[: ]|\[ERROR\]:)' "$log" | grep -v 'RETRYING' | head -n 8
      grep -E '^E   +(assert|Assert|[A-Za-z]*Error)' "$log" | head -n 4
      grep -E '^fatal: ' "$log" | tail -n 3; } 2>/dev/null | cut -c1-300 | sed 's/^/   | /'
    echo "-- last 8 lines of its log:"
    tail -n 8 "$log" 2>/dev/null | cut -c1-200 | sed 's/^/   | /'
done
[ $failed -eq 0 ] || echo "RESULT: FAILED: ${failed_stages[*]}"
[ $not_run -eq 0 ] || echo "RESULT: INCOMPLETE: some stages did NOT RUN here (see the table); not a pass"
[ $failed -ne 0 ] || [ $not_run -ne 0 ] || echo "RESULT: PASS (${#names[@]} stages)"
echo "${pytest_summary:-pytest printed no summary line (see ${LOGS#"$ROOT"/}/pytest.log)}"

if [ $failed -ne 0 ]; then exit 1; fi
if [ $not_run -ne 0 ]; then exit 3; fi
exit 0
