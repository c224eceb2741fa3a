#!/usr/bin/env bash
# kvmscope explain on real QEMU artifacts: zoo kernels that crash the same
# way under QEMU TCG are run with `-d int,cpu_reset -no-shutdown`; the monitor
# saves RAM (pmemsave) and the registers (info registers) after the triple
# fault; explain must find the expectation file's cause from the log, the
# registers and the memory, and name the kernel symbol at RIP.
set -u
K=$1
cd "$(dirname "$0")/../.."
. tests/cli/zoo_lib.sh
make_tmp tmp

if ! have qemu-system-x86_64 jq; then
    echo "SKIP explain-qemu: needs qemu-system-x86_64 and jq"
    exit 0
fi

for name in not-present rsvd-nx stack-fault idt-limit two-not-present-no-idt; do
    exp=guests/zoo/$name.exp
    elf=$BUILD/guests/zoo/$name.elf
    (sleep 1; echo "pmemsave 0 0x1000000 \"$tmp/$name.mem\""; echo "info registers"; sleep 0.5
     echo quit) |
        timeout 20 qemu-system-x86_64 -machine accel=tcg -kernel "$elf" -d int,cpu_reset \
            -D "$tmp/$name.log" -no-reboot -no-shutdown -display none -nodefaults \
            -monitor stdio -device isa-debug-exit,iobase=0xf4,iosize=4 >"$tmp/$name.mon" 2>&1
    cat "$tmp/$name.log" "$tmp/$name.mon" >"$tmp/$name.txt"
    "$K" explain --json --regs "$tmp/$name.txt" --memory "$tmp/$name.mem" --symbols "$elf" \
        >"$tmp/$name.json" 2>"$tmp/$name.err"
    st=$?
    got=$(jq -r '[.explanation.cause.id // "-", .explanation.cause.secondary.id // "-",
                  .explanation.triple_fault, .source] | join(" ")' "$tmp/$name.json" 2>/dev/null)
    want="$(zoo_get "$exp" cause) $(zoo_get "$exp" secondary) true QEMU -d int log"
    sym=$("$K" explain --regs "$tmp/$name.txt" --memory "$tmp/$name.mem" --symbols "$elf" |
        grep -c '^kvmscope: triple fault (shutdown) at 0x[0-9a-f]* <long_mode+0x')
    if [ "$st" = 1 ] && [ "$got" = "$want" ] && [ "$sym" = 1 ]; then
        pass "explain-qemu-$name"
    else
        fail "explain-qemu-$name" "status $st, got '$got', want '$want', symbol lines $sym"
        head -5 "$tmp/$name.err"
    fi
done
finish
