#!/usr/bin/env bash
# Checks the benchmark tooling of bench/ (docs/performance.md) on real KVM:
# the raw KVM peer boots the bench guest and exits like kvmscope run; the
# LD_PRELOAD probe counts exactly the KVM_RUNs the guest causes in both; the
# spawn timer reports each run's status; the page-table image generator
# writes the tables `kvmscope pt` then lists and lints as expected. No
# timings are asserted. Usage: test_bench.sh path/to/kvmscope
set -u
KS=$(realpath "$1")
BD=$(dirname "$KS")
B=$BD/bench
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
skip() { echo "SKIP $1: $2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- bad numeric options: one error line and status 2, before any work (no KVM needed)
bad_num() { # NAME TOOL ARGS...
    local name=$1 tool=$2 rc
    shift 2
    if [ ! -x "$B/$tool" ]; then
        skip "$name" "not built ($B)"
        return
    fi
    "$B/$tool" "$@" >/dev/null 2>"$tmp/bad.err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/bad.err")" -eq 1 ]; then
        pass "$name"
    else
        fail "$name" "status $rc, stderr: $(head -c 200 "$tmp/bad.err")"
    fi
}
bad_num bench/mkptimg-bad-gib mkptimg -g 2x "$tmp/bad.img"
bad_num bench/mkptimg-bad-base mkptimg -b " 0x1000" "$tmp/bad.img"
bad_num bench/rawkvm-bad-ram rawkvm -m 64M /dev/null
bad_num bench/rawkvm-bad-mask rawkvm -s -1 /dev/null
bad_num bench/runtime-bad-count runtime -n +3 -- true

# --- page-table image generator (no KVM needed)
if [ ! -x "$B/mkptimg" ]; then
    skip bench/mkptimg "not built ($B)"
else
    out=$("$B/mkptimg" -g 2 "$tmp/pt.img")
    # 16 MiB hole, then PML4 + PDPT + 2 PDs + 1024 PTs.
    want_size=$(( (16 << 20) + (4 + 1024) * 4096 ))
    size=$(stat -c %s "$tmp/pt.img")
    if [ "$size" -eq "$want_size" ] && [[ $out == *"cr3=0x1000000 tables=1028 ptes=524288"* ]]; then
        pass bench/mkptimg-layout
    else
        fail bench/mkptimg-layout "size $size (want $want_size), output '$out'"
    fi
    "$B/mkptimg" -t -g 2 "$tmp/pt-tables.img" >/dev/null
    if cmp -s <(tail -c +$(( (16 << 20) + 1 )) "$tmp/pt.img") "$tmp/pt-tables.img"; then
        pass bench/mkptimg-tables-only
    else
        fail bench/mkptimg-tables-only "-t output differs from the image past the base"
    fi
    if "$KS" pt --help >/dev/null 2>&1; then
        "$KS" pt --image "$tmp/pt.img" --cr3 0x1000000 --efer 0xd00 --lint >"$tmp/pt.out" 2>&1
        st=$?
        # GiB 0: supervisor (U/S clear in the PTEs), GiB 1: user; both RW, executable, 4 KiB.
        if [ "$st" -eq 1 ] &&
            grep -q '^0000000000000000-0000000040000000 0000000040000000 -rwx 4K' "$tmp/pt.out" &&
            grep -q '^0000000040000000-0000000080000000 0000000040000000 urwx 4K' "$tmp/pt.out" &&
            grep -q 'W+X' "$tmp/pt.out" && ! grep -qi 'reserved' "$tmp/pt.out"; then
            pass bench/mkptimg-pt-listing
        else
            fail bench/mkptimg-pt-listing "status $st: $(head -c 400 "$tmp/pt.out")"
        fi
    else
        skip bench/mkptimg-pt-listing "this kvmscope has no 'pt' command"
    fi
fi

# --- KVM peers
kvm_tests=(rawkvm-boot runtime-status probe-runs-rawkvm probe-runs-kvmscope probe-runs-rawkvm-64
           probe-runs-kvmscope-64)
if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    for t in "${kvm_tests[@]}"; do skip "bench/$t" "no usable /dev/kvm"; done
    exit $((fails > 0))
fi
if [ ! -x "$B/rawkvm" ] || [ ! -f "$B/guests/pioloop-100.elf" ]; then
    for t in "${kvm_tests[@]}"; do skip "bench/$t" "bench tools not built ($B)"; done
    exit $((fails > 0))
fi

timeout 30 "$B/rawkvm" "$B/guests/pioloop-100.elf" >"$tmp/raw.out" 2>&1
st=$?
if [ "$st" -eq 1 ] && [ "$(cat "$tmp/raw.out")" = "pioloop: hello" ]; then
    pass bench/rawkvm-boot
else
    fail bench/rawkvm-boot "status $st, output '$(head -c 200 "$tmp/raw.out")'"
fi

"$B/runtime" -n 3 -- "$B/rawkvm" -q "$B/guests/pioloop-0.elf" >"$tmp/rt.out"
if [ "$(wc -l <"$tmp/rt.out")" -eq 3 ] && [ "$(awk '$2 != 1' "$tmp/rt.out" | wc -l)" -eq 0 ] &&
    [ "$(awk '$1 > 0 && $3 > 0' "$tmp/rt.out" | wc -l)" -eq 3 ]; then
    pass bench/runtime-status
else
    fail bench/runtime-status "$(cat "$tmp/rt.out")"
fi

# 15 characters x (LSR poll + THR write) + 100 LSR reads + the 0xf4 write = 131 KVM_RUNs.
probe_runs() { # name command...
    local name=$1
    shift
    rm -f "$tmp/probe.txt"
    KSPROBE_OUT="$tmp/probe.txt" LD_PRELOAD="$B/ksprobe.so" timeout 30 "$@" >/dev/null 2>&1
    local st=$?
    if [ "$st" -eq 1 ] && grep -q ' runs=131 last_reason=2 ' "$tmp/probe.txt" 2>/dev/null &&
        grep -Eq 'guest_kb=[1-9]' "$tmp/probe.txt"; then
        pass "bench/$name"
    else
        fail "bench/$name" "status $st, probe '$(cat "$tmp/probe.txt" 2>/dev/null)'"
    fi
}
probe_runs probe-runs-rawkvm "$B/rawkvm" -q "$B/guests/pioloop-100.elf"
probe_runs probe-runs-rawkvm-64 "$B/rawkvm" -q "$B/guests/pioloop64-100.elf"
if "$KS" run --help >/dev/null 2>&1; then
    probe_runs probe-runs-kvmscope "$KS" run "$B/guests/pioloop-100.elf"
    probe_runs probe-runs-kvmscope-64 "$KS" run "$B/guests/pioloop64-100.elf"
else
    skip bench/probe-runs-kvmscope "this kvmscope has no 'run' command"
    skip bench/probe-runs-kvmscope-64 "this kvmscope has no 'run' command"
fi
exit $((fails > 0))
