#!/usr/bin/env bash
# The same crash, three sources: zoo kernels run under real QEMU+KVM (qboot, so
# that no BIOS runs emulated) until they triple-fault; the monitor then saves
# `info registers`, a dump-guest-memory core and a pmemsave image. `kvmscope
# explain` on the core alone and on registers + raw memory must give the same
# cause, secondary cause and exception chain as `kvmscope run` on the same
# kernel, and as the kernel's expectations file.
set -u
K=$(realpath "$1")
cd "$(dirname "$0")/../.."
. tests/cli/zoo_lib.sh
make_tmp tmp
QBOOT=/usr/share/qemu/qboot.rom

if ! have qemu-system-x86_64 jq python3 || [ ! -r "$QBOOT" ]; then
    skip explain-qemu-kvm "needs qemu-system-x86_64 (with qboot.rom), jq and python3"
    finish
fi
if ! have_kvm; then
    skip explain-qemu-kvm "no usable /dev/kvm"
    finish
fi

summary='[.explanation.cause.id // "-", .explanation.cause.secondary.id // "-",
          ([.explanation.exceptions[] | "\(.vector):\(.error_code // "-")"] | join(" "))] | join(" | ")'

for name in rsvd-gbpages not-present rsvd-nx idt-limit stack-fault; do
    elf=$BUILD/guests/zoo/$name.elf
    out=$tmp/$name
    mkdir -p "$out"
    timeout 40 qemu-system-x86_64 -machine accel=kvm -cpu qemu64 -bios "$QBOOT" -m 32 \
        -kernel "$elf" -no-reboot -no-shutdown -display none -nodefaults \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -monitor "unix:$out/mon.sock,server,nowait" >"$out/qemu.out" 2>&1 &
    qpid=$!
    if ! python3 tests/cli/qemu_monitor.py "$out/mon.sock" "$out" --timeout 30 2>"$out/mon.err"; then
        kill "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
        fail "explain-qemu-kvm-$name" "QEMU did not reach the crash: $(head -c 200 "$out/mon.err")"
        continue
    fi
    wait "$qpid" 2>/dev/null
    "$K" run --json "$elf" >"$out/run.json" 2>/dev/null
    "$K" explain --json --dump "$out/core.elf" --symbols "$elf" >"$out/core.json" 2>"$out/core.err"
    st_core=$?
    "$K" explain --json --regs "$out/regs.txt" --memory "$out/mem.bin" --symbols "$elf" \
        >"$out/regs.json" 2>"$out/regs.err"
    st_regs=$?
    want_cause=$(zoo_get "guests/zoo/$name.exp" cause)
    run=$(jq -r "$summary" "$out/run.json")
    core=$(jq -r "$summary" "$out/core.json")
    regs=$(jq -r "$summary" "$out/regs.json")
    why=()
    [ "${run%% *}" = "$want_cause" ] || why+=("run gives '$run', expectations say $want_cause")
    [ "$core" = "$run" ] || why+=("core gives '$core', run gives '$run'")
    [ "$regs" = "$run" ] || why+=("regs+memory give '$regs', run gives '$run'")
    [ "$st_core" = 1 ] && [ "$st_regs" = 1 ] || why+=("explain statuses $st_core/$st_regs, want 1")
    verdict "explain-qemu-kvm-$name" "${why[@]}"
done
finish
