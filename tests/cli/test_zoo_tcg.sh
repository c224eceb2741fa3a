#!/usr/bin/env bash
# Cross-check of the bug zoo's expected exception chains against QEMU TCG's
# `-d int` log, an independent implementation of exception delivery.
# Only deliveries that start are logged ("v=.. e=...."): an exception that
# turns into #DF, or the one that ends in a triple fault, has no line.
# Known TCG differences applied to the expected codes (spec/host.md and
# QEMU 7.2 target/i386/tcg/seg_helper.c):
#   - reserved-bit #PF codes come without P (e=0008 where KVM gives 9);
#   - IDT-related error codes are vector*16+2 and never carry EXT
#     (the SDM and KVM give vector*8 | IDT | EXT);
#   - selector error codes carry no EXT bit;
#   - reserved PS bits in a PDPTE are ignored, a non-canonical stack gives
#     #GP instead of #SS: those kernels say "tcg no".
set -u
cd "$(dirname "$0")/../.."
K=${1:-build/kvmscope}
. tests/cli/zoo_lib.sh

if ! have qemu-system-x86_64; then
    echo "SKIP zoo-tcg: qemu-system-x86_64 is not installed"
    exit 0
fi
make_tmp tmp

# Expected chain -> the "v:e" list TCG logs.
tcg_expect() {
    local chain=($1) triple=$2 n i v e out=()
    n=${#chain[@]}
    for ((i = 0; i < n; i++)); do
        # Converted into #DF, or the fault that shut the CPU down: no log line.
        if [ $((i + 1)) -lt "$n" ] && [ "${chain[$((i + 1))]%%:*}" = 8 ] &&
            [ "${chain[$i]%%:*}" != 8 ] && [ "$i" -gt 0 ]; then
            continue
        fi
        [ "$triple" = yes ] && [ $((i + 1)) -eq "$n" ] && continue
        v=${chain[$i]%%:*}
        e=${chain[$i]#*:}
        if [ "$e" = - ]; then
            e=0
        elif [ "$v" = 14 ] && [ $((e & 8)) -ne 0 ]; then
            e=$((e & ~1))
        elif [ "$v" -ge 10 ] && [ "$v" -le 13 ] && [ $((e & 2)) -ne 0 ]; then
            e=$((((e >> 3) << 4) | 2))
        elif [ "$v" -ge 10 ] && [ "$v" -le 13 ]; then
            e=$((e & ~1))
        fi
        out+=("$v:$e")
    done
    echo "${out[*]}"
}

for exp in guests/zoo/*.exp; do
    name=$(basename "$exp" .exp)
    elf=$BUILD/guests/zoo/$name.elf
    tcg=$(zoo_get "$exp" tcg)
    texit=$(zoo_get "$exp" tcg-exit)
    if [ "$tcg" = no ]; then
        echo "SKIP zoo-tcg-$name: TCG differs here by design (see $exp)"
        continue
    fi
    if [ ! -f "$elf" ]; then
        fail "zoo-tcg-$name" "$elf was not built"
        continue
    fi
    log=$tmp/$name.log
    timeout 20 qemu-system-x86_64 -machine accel=tcg -kernel "$elf" -d int,cpu_reset -D "$log" \
        -no-reboot -display none -serial none -monitor none -nodefaults \
        -device isa-debug-exit,iobase=0xf4,iosize=4 >/dev/null 2>&1
    rc=$?
    got=$(grep -oE ' v=[0-9a-f]+ e=[0-9a-f]+' "$log" |
        while read -r v e; do echo "$((16#${v#v=})):$((16#${e#e=}))"; done | tr '\n' ' ')
    got=${got% }
    if [ -n "$texit" ]; then
        if [ "$rc" = "$texit" ]; then
            pass "zoo-tcg-$name"
        else
            fail "zoo-tcg-$name" "QEMU exit status $rc, want $texit (log: $got)"
        fi
        continue
    fi
    want=$(zoo_get "$exp" tcg-chain)
    if [ -n "$want" ]; then
        want=$(zoo_norm_chain "$want" | sed 's/:-/:0/g')
    else
        want=$(tcg_expect "$(zoo_norm_chain "$(zoo_get "$exp" chain)")" "$(zoo_get "$exp" triple)")
    fi
    triple=$(grep -c 'Triple fault' "$log")
    if [ "$got" = "$want" ] && { [ "$(zoo_get "$exp" triple)" != yes ] || [ "$triple" -gt 0 ] ||
        [ -n "$(zoo_get "$exp" tcg-chain)" ]; }; then
        pass "zoo-tcg-$name"
    else
        fail "zoo-tcg-$name" "TCG logged '$got', expected '$want' (triple fault lines: $triple)"
    fi
done
finish
