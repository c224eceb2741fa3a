#!/usr/bin/env bash
# kvmscope trace explain on real captures (seed, PVM triple fault, trace-cmd
# renderings, trace.dat), bad input, and trace record on a real QEMU+KVM run
# of a kernel mapped with a 1 GiB page (SKIPs without root, /dev/kvm or QEMU).
# san: yes
set -u
K=${1:?usage: test_trace.sh path/to/kvmscope}
B=$(dirname "$K")
D=tests/data
KS_PREFIX=trace/
. "$(dirname "$0")/lib.sh"
make_tmp T

# has NAME TEXT... : every TEXT must be in $T/out (replaces lib.sh's has).
has() {
    local name=$1
    shift
    for s in "$@"; do
        if ! grep -qF -- "$s" "$T/out"; then
            fail "$name" "output lacks '$s'"
            return 1
        fi
    done
    pass "$name"
}

# one_error NAME: exactly one stderr line, starting with "kvmscope: trace:".
one_error() {
    if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^kvmscope: trace: ' "$T/err"; then
        pass "$1"
    else
        fail "$1" "stderr: $(head -c 300 "$T/err")"
    fi
}

run seed-explain 1 trace explain "$D/seed_1gb_pages.trace.txt" &&
    has seed-explain "level 3 entry 0xa3: PS at level 3 needs 1 GiB pages" \
        "error code 0x9 P|RSVD" "NOT evidence" "KVM_EXIT_INTERNAL_ERROR" "SKIP emulation"

run pvm-explain 1 trace explain "$D/kvm_pvm_1g_pages_triple_fault.trace.txt" &&
    has pvm-explain "triple fault (KVM_EXIT_SHUTDOWN): #PF(0x9 P|RSVD) -> #DF -> shutdown" \
        "level 3 entry 0x83" "reading its IDT entry at 0x80 faulted"

if run pvm-json 1 trace explain --json "$D/kvm_pvm_1g_pages_triple_fault.trace.txt"; then
    if jq -e '.triple_fault == true and (.walks.failed | length) == 3 and
              .walks.failed[0].fail_level == 3 and .walks.failed[0].kind == "reserved bit" and
              .walks.failed[0].reproduced and .exceptions[1].name == "#DF"' "$T/out" >/dev/null
    then
        pass pvm-json
    else
        fail pvm-json "unexpected JSON: $(head -c 300 "$T/out")"
    fi
fi

run perf-script 1 trace explain "$D/kvm_pvm_1g_pages_perf_script.txt" &&
    has perf-script "#PF(0x9 P|RSVD) -> #DF -> shutdown" "level 3 entry 0x83"

run unbacked-explain 1 trace explain "$D/kvm_pvm_unbacked_fetch.trace.txt" &&
    has unbacked-explain "the instruction is at GPA 0x6000000, which is not RAM"

run report-explain 0 trace explain "$D/tracecmd316_report_kvm_synthetic.txt" &&
    has report-explain "IO_INSTRUCTION" "no crash signature"

# --gbpages on contradicts the trace: the report must say it could not reproduce KVM's code.
run assume-gbpages 1 trace explain --gbpages on "$D/seed_1gb_pages.trace.txt" &&
    has assume-gbpages "NOT reproduced"

DAT=../shared/samples/synthetic_kvm_trace.dat
[ -r "$DAT" ] || DAT=/work/shared/samples/synthetic_kvm_trace.dat
if [ ! -r "$DAT" ]; then
    skip trace-dat "shared/samples/synthetic_kvm_trace.dat not present"
elif run trace-dat 0 trace explain "$DAT" 2>/dev/null; then
    has trace-dat "from trace.dat" "IO_INSTRUCTION" "npf"
elif grep -q "without libtracecmd" "$T/err"; then
    skip trace-dat "built without libtracecmd"
fi

# Bad input: one clear line, status 4 (input) or 2 (usage), never a crash.
head -c 3000 "$D/kvm_pvm_1g_pages_triple_fault.trace.txt" >"$T/cut.txt"
run truncated 4 trace explain "$T/cut.txt" && one_error truncated
head -c 4096 /dev/urandom >"$T/noise.bin"
run binary 4 trace explain "$T/noise.bin" && one_error binary
run missing 4 trace explain "$T/does-not-exist.txt" && one_error missing
printf 'hello\nworld\n' >"$T/text.txt"
run not-a-trace 4 trace explain "$T/text.txt" && one_error not-a-trace
: >"$T/empty.txt"
run empty 4 trace explain "$T/empty.txt" && one_error empty
run bad-flag 2 trace explain --maxphyaddr 99 "$D/seed_1gb_pages.trace.txt" && one_error bad-flag
run no-action 2 trace frobnicate && one_error no-action
run record-no-cmd 2 trace record --out "$T/x" && one_error record-no-cmd

# trace record: QEMU+KVM on the 1 GiB-page kernel. qboot instead of SeaBIOS keeps the
# CPL0 code that PVM emulates (spec/host.md) down to the kernel itself.
KERNEL=$B/guests/formats/mb1_gb1.bin
QBOOT=/usr/share/qemu/qboot.rom
if [ "$(id -u)" -ne 0 ]; then
    skip record "needs root for tracefs"
elif [ ! -c /dev/kvm ] || ! have qemu-system-x86_64; then
    skip record "no /dev/kvm or no qemu-system-x86_64"
elif [ ! -r "$KERNEL" ] || [ ! -r "$QBOOT" ]; then
    skip record "missing $KERNEL or $QBOOT"
else
    "$K" trace record --out "$T/rec.txt" --timeout 60 -- qemu-system-x86_64 -machine accel=kvm \
        -cpu qemu64 -bios "$QBOOT" -m 16 -display none -nodefaults -no-reboot \
        -kernel "$KERNEL" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 3 ] && grep -q "tracefs" "$T/err"; then
        skip record "tracefs unusable here: $(head -c 200 "$T/err")"
    elif [ "$rc" -ne 1 ]; then
        fail record "status $rc, want 1; stderr: $(head -c 300 "$T/err")"
    else
        has record "triple fault (KVM_EXIT_SHUTDOWN)" "level 3 entry 0x83: PS at level 3" \
            "error code 0x9 P|RSVD" "-> #DF -> shutdown"
        # Other kvmscope runs may trace concurrently: check the instance this run named.
        inst=$(sed -n 's/.*(instance \(.*\))$/\1/p' "$T/err" | tail -1)
        if [ -z "$inst" ]; then
            fail record-cleanup "no instance name on stderr"
        elif [ -e "$inst" ]; then
            fail record-cleanup "$inst was left behind"
        else
            pass record-cleanup
        fi
        run record-reexplain 1 trace explain "$T/rec.txt" &&
            has record-reexplain "P|RSVD"
    fi
    # --stream drains trace_pipe while QEMU runs. After the internal error QEMU pauses instead
    # of exiting, so --timeout ends it.
    "$K" trace record --stream --out "$T/rec2.txt" --timeout 2 -- qemu-system-x86_64 \
        -machine accel=kvm -cpu qemu64 -bios "$QBOOT" -m 16 -display none -nodefaults \
        -no-reboot -kernel "$B/guests/formats/mb1_unbacked.bin" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne 1 ]; then
        fail record-stream "status $rc, want 1; stderr: $(tail -c 300 "$T/err")"
    else
        has record-stream "GPA 0x6000000, which is not RAM" "KVM_EXIT_INTERNAL_ERROR"
    fi
    # --json: stdout is one JSON object even though the traced command prints to stdout.
    if [ -f "$B/guests/seed.elf" ] && have jq; then
        "$K" trace record --json --out "$T/rec3.txt" -- "$K" run "$B/guests/seed.elf" \
            >"$T/rec3.json" 2>"$T/err"
        rc=$?
        if [ "$rc" -eq 1 ] && jq -e '.summary | test("triple fault")' "$T/rec3.json" >/dev/null &&
            grep -q "seed: entering long mode" "$T/err"; then
            pass record-json-stdout
        else
            fail record-json-stdout "status $rc; stdout: $(head -c 200 "$T/rec3.json")"
        fi
    fi
fi

finish
