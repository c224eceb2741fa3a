#!/usr/bin/env bash
# Runs every test of the given build directories and prints the totals as
# the last line: "N passed, N failed, N skipped".
#
# Test binaries and scripts print "PASS name", "FAIL name" or "SKIP name"
# lines. A test program that dies or exits non-zero without printing a FAIL
# line counts as one failure, so a crash can never pass.
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0
failed_names=()
log_dir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$log_dir"

run_one() { # build-dir label command...
    local bdir=$1 label=$2; shift 2
    local log="$log_dir/$(echo "$bdir-$label" | tr '/' '_').log"
    local t0=$SECONDS
    BUILD="$bdir" timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1
    local rc=$?
    local p f s
    p=$(grep -c '^PASS ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    s=$(grep -c '^SKIP ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $label: exited with status $rc" >>"$log"
        f=1
    fi
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
    printf '%-48s %3d passed %3d failed %3d skipped (%ds)\n' "$bdir:$label" "$p" "$f" "$s" \
        $((SECONDS - t0))
    if [ "$f" -ne 0 ]; then
        failed_names+=("$bdir:$label")
        grep -E '^(FAIL|  )' "$log" | head -n 40
    fi
}

fuzz_one() { # binary: a short libFuzzer pass over the committed corpus
    local f=$1 n tmp
    n=$(basename "$f")
    tmp=$(mktemp -d)
    mkdir -p "tests/fuzz/corpus/$n"
    if "$f" -max_total_time="${FUZZ_SECONDS:-5}" -timeout=10 -rss_limit_mb=2048 \
        "$tmp" "tests/fuzz/corpus/$n" >"$tmp/log" 2>&1; then
        echo "PASS fuzz $n: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$tmp/log" |
            grep -o '[0-9]*$') executions"
    else
        echo "FAIL fuzz $n"
        grep -E 'ERROR|SUMMARY|Test unit written' "$tmp/log" | head -n 5
    fi
    rm -rf "$tmp"
}

for bdir in "$@"; do
    if [ "$bdir" = build-fuzz ]; then
        for f in build-fuzz/fuzz/fuzz_*; do
            [ -x "$f" ] && run_one "$bdir" "fuzz/$(basename "$f")" bash -c "$(declare -f fuzz_one); fuzz_one $f"
        done
        continue
    fi
    san=0
    [ "$bdir" = build-san ] && san=1
    for t in "$bdir"/tests/unit/test_*; do
        [ -x "$t" ] && run_one "$bdir" "unit/$(basename "$t")" "$t"
    done
    for t in "$bdir"/tests/kvm/test_*; do
        [ -x "$t" ] && run_one "$bdir" "kvm/$(basename "$t")" "$t"
    done
    for t in tests/cli/test_*.sh; do
        [ -f "$t" ] || continue
        # Sanitizer runs of the end-to-end scripts are opt-in per script.
        if [ "$san" = 1 ] && ! grep -q '^# san: yes' "$t"; then
            continue
        fi
        run_one "$bdir" "cli/$(basename "$t")" bash "$t" "$bdir/kvmscope"
    done
done

if [ ${#failed_names[@]} -ne 0 ]; then
    echo "failed: ${failed_names[*]} (logs in $log_dir)"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
