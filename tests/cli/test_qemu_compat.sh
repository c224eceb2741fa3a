#!/usr/bin/env bash
# Runs the QEMU-bootable test kernels under real QEMU (TCG, -kernel) and under
# `kvmscope run` with the same arguments, and requires identical serial output
# and exit status. The reference kernel is guests/qemu-compat: Multiboot1 ELF32
# with a command line, two modules and fw_cfg reads (CPU count, RAM size).
# Each half skips on its own: QEMU when qemu-system-x86_64 is missing,
# kvmscope while it has no 'run' command or there is no /dev/kvm.
# Usage: test_qemu_compat.sh path/to/kvmscope
set -u
KS=$(realpath "$1")
G=$(cd "$(dirname "$KS")" && pwd)/guests
. "$(dirname "$0")/lib.sh"

# name, kernel file, -append, -initrd ("" = none)
cases=(
    "qemu-compat|qemu-compat.elf|a=1 b|m1 x y,m2"
    "mb1-elf32|mb1-elf32.elf|console=ttyS0|m2"
    "mb1-aout|mb1-aout.bin||"
    "pvh-elf64|pvh-elf64.elf|root=x|m1"
    "trivial|trivial.elf||"
)

have_qemu=1 have_ks=1 why_ks=
have qemu-system-x86_64 || have_qemu=0
if ! has_run "$KS"; then
    have_ks=0 why_ks="this kvmscope has no 'run' command (vmm not merged yet)"
elif ! have_kvm; then
    have_ks=0 why_ks="no usable /dev/kvm"
fi
if [ ! -f "$G/qemu-compat.elf" ]; then
    for c in "${cases[@]}"; do
        skip "qemu/${c%%|*}" "guests not built ($G)"
        skip "kvmscope-vs-qemu/${c%%|*}" "guests not built ($G)"
    done
    exit 0
fi

make_tmp tmp
printf 'hello m1\nsecond line\n' >"$tmp/m1"
printf 'M2DATA' >"$tmp/m2"

for c in "${cases[@]}"; do
    IFS='|' read -r name file append initrd <<<"$c"
    K=$G/$file
    args=(-kernel "$K")
    ks_args=()
    [ -n "$append" ] && args+=(-append "$append") && ks_args+=(--append "$append")
    [ -n "$initrd" ] && args+=(-initrd "$initrd") && ks_args+=(--initrd "$initrd")

    if [ "$have_qemu" = 0 ]; then
        skip "qemu/$name" "qemu-system-x86_64 is not installed"
        skip "kvmscope-vs-qemu/$name" "no QEMU reference output"
        continue
    fi
    (cd "$tmp" && timeout 60 qemu-system-x86_64 -machine accel=tcg -nodefaults -display none \
        -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -m 128 "${args[@]}" \
        >"$tmp/q.out" 2>"$tmp/q.err" </dev/null)
    qst=$?
    # The reference must itself be sane: an isa-debug-exit status and some output.
    if [ $((qst & 1)) -ne 1 ] || [ ! -s "$tmp/q.out" ]; then
        fail "qemu/$name" "QEMU status $qst, output '$(head -c 200 "$tmp/q.out")' $(head -c 200 "$tmp/q.err")"
        continue
    fi
    if [ "$name" = qemu-compat ]; then
        if ! grep -qx "qemu-compat: cmdline='$K a=1 b'" "$tmp/q.out" ||
            ! grep -qx "fw_cfg: signature=QEMU cpus=0x1 ram_mib=0x80" "$tmp/q.out" ||
            [ "$qst" -ne 33 ]; then
            fail "qemu/$name" "unexpected QEMU result $qst: $(cat "$tmp/q.out")"
            continue
        fi
    fi
    pass "qemu/$name"

    if [ "$have_ks" = 0 ]; then
        skip "kvmscope-vs-qemu/$name" "$why_ks"
        continue
    fi
    (cd "$tmp" && timeout 60 "$KS" run --timeout 20 -m 128 "${ks_args[@]}" "$K" \
        >"$tmp/k.out" 2>"$tmp/k.err" </dev/null)
    kst=$?
    if [ "$kst" -ne "$qst" ]; then
        fail "kvmscope-vs-qemu/$name" "status $kst, QEMU $qst ($(head -c 300 "$tmp/k.err"))"
    elif ! cmp -s "$tmp/q.out" "$tmp/k.out"; then
        fail "kvmscope-vs-qemu/$name" "serial output differs (< QEMU, > kvmscope):
$(diff "$tmp/q.out" "$tmp/k.out" | head -20)"
    else
        pass "kvmscope-vs-qemu/$name"
    fi
done
finish
