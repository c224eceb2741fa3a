#!/usr/bin/env bash
# Boots every test kernel of guests/ with `kvmscope run` and checks its serial
# output, exit status (debug-exit value v gives (v << 1) | 1) and outcome; then
# feeds malformed kernels and checks each is refused with one error line and
# status 4. Usage: test_boot.sh path/to/kvmscope
# san: yes
set -u
KS=$(realpath "$1")
G=$(dirname "$KS")/guests
. "$(dirname "$0")/lib.sh"

names=(trivial mb1-elf32 mb1-aout mb2-elf32 mb2-elf64 pvh-elf64 flat seed-2m seed
       reject-truncated reject-overlap reject-entry reject-checksum reject-huge reject-phnum
       reject-hole reject-unknown bad-good)
skip_all() {
    for n in "${names[@]}"; do skip "boot/$n" "$1"; done
    exit 0
}
has_run "$KS" || skip_all "this kvmscope has no 'run' command (vmm not merged yet)"
have_kvm || skip_all "no usable /dev/kvm"
have jq || skip_all "jq is not installed"
[ -f "$G/trivial.elf" ] || skip_all "guests not built ($G)"

make_tmp tmp
printf 'hello m1\nsecond line\n' >"$tmp/m1"
printf 'M2DATA' >"$tmp/m2"

# boot NAME WANT_STATUS WANT_OUTCOME WANT_SERIAL -- run-args...
boot() {
    local name=$1 want_st=$2 want_out=$3 want_serial=$4
    shift 5
    (cd "$tmp" && timeout 30 "$KS" run --timeout 10 --json --serial "$tmp/serial" "$@" \
        >"$tmp/json" 2>"$tmp/err")
    local st=$? outcome
    outcome=$(jq -r .outcome "$tmp/json" 2>/dev/null)
    if [ "$st" -ne "$want_st" ]; then
        fail "boot/$name" "exit status $st, want $want_st ($(head -c 300 "$tmp/err"))"
    elif [ "$outcome" != "$want_out" ]; then
        fail "boot/$name" "outcome '$outcome', want '$want_out'"
    elif [ "$(cat "$tmp/serial")" != "$want_serial" ]; then
        fail "boot/$name" "serial output differs:$(diff <(echo "$want_serial") "$tmp/serial")"
    else
        pass "boot/$name"
        return 0
    fi
    return 1
}

A='a=1 b'
boot trivial 1 debug_exit "trivial: hello" -- "$G/trivial.elf"
# Multiboot1 gets QEMU's "<kernel> <append>" command line (hw/i386/multiboot.c).
boot mb1-elf32 1 debug_exit "mb1-elf32: cmdline='$G/mb1-elf32.elf $A'
mods=0x2
mod[0x0] size=0x15 cmdline='m1 x y' data='hello m1'
mod[0x1] size=0x6 cmdline='m2' data='M2DATA'
mb1-elf32: done" -- --append "$A" --initrd 'm1 x y,m2' "$G/mb1-elf32.elf"
boot mb1-aout 1 debug_exit "mb1-aout: hello from the a.out kludge" -- "$G/mb1-aout.bin"
boot mb2-elf32 1 debug_exit "mb2-elf32: cmdline='$A' mods=0x2" -- \
    --append "$A" --initrd 'm1 x y,m2' "$G/mb2-elf32.elf"
boot mb2-elf64 1 debug_exit "mb2-elf64: long mode, cmdline='$A'" -- --append "$A" "$G/mb2-elf64.elf"
boot pvh-elf64 1 debug_exit "pvh-elf64: start_info ok, cmdline='$A' modules=0x1" -- \
    --append "$A" --initrd m2 "$G/pvh-elf64.elf"
boot flat 5 debug_exit "flat: hello from 0x200000" -- --entry 0x200000 "$G/flat.bin"
boot seed-2m 1 debug_exit "seed-2m: entering long mode, first 1 GiB mapped with 2 MiB pages
seed-2m: in long mode, VGA store done" -- "$G/seed-2m.elf"
# The seed: without 1 GiB pages the first fetch after CR0.PG faults (P|RSVD) and,
# with no IDT, the vCPU shuts down. CR2 is the faulting fetch address, i.e. RIP.
if boot seed 6 triple_fault "seed: entering long mode, first 32 GiB mapped with 1 GiB pages" -- \
    "$G/seed.elf"; then
    rip=$(jq -r .registers.rip "$tmp/json") cr2=$(jq -r .registers.cr2 "$tmp/json")
    cr0=$(jq -r .registers.cr0 "$tmp/json")
    if [ "$cr2" != "$rip" ] || [ "$cr0" != "0x80000011" ]; then
        echo "  seed: rip $rip cr2 $cr2 cr0 $cr0: want the fault at the first paged fetch"
        fails=$((fails + 1))
    fi
fi

# reject NAME FILE MESSAGE: status 4, nothing on stdout, exactly one line on stderr
reject() {
    local name=$1 file=$2 msg=$3
    timeout 30 "$KS" run "$file" >"$tmp/out" 2>"$tmp/err"
    local st=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ "$st" -ne 4 ]; then
        fail "boot/$name" "exit status $st, want 4"
    elif [ -s "$tmp/out" ]; then
        fail "boot/$name" "unexpected stdout: $(head -c 200 "$tmp/out")"
    elif [ "$lines" -ne 1 ]; then
        fail "boot/$name" "want one error line, got $lines: $(head -c 300 "$tmp/err")"
    elif ! grep -qF -- "$msg" "$tmp/err"; then
        fail "boot/$name" "error '$(cat "$tmp/err")' lacks '$msg'"
    else
        pass "boot/$name"
    fi
}

head -c 40 "$G/trivial.elf" >"$tmp/truncated.elf"
printf 'not a kernel at all\n' >"$tmp/unknown.bin"
reject reject-truncated "$tmp/truncated.elf" "truncated ELF32 header (40 bytes, need 52)"
reject reject-overlap "$G/bad-overlap.elf" "phdr[1] (0x100040-0x1000c9) overlaps phdr[0]"
reject reject-entry "$G/bad-entry.elf" "ELF entry 0x500000 is outside every loadable segment"
reject reject-checksum "$G/bad-checksum.elf" "Multiboot1 header at 0x54: bad checksum"
reject reject-huge "$G/bad-huge.elf" "phdr[0]: memsz 0x7fff0000 exceeds guest RAM"
reject reject-phnum "$G/bad-phnum.elf" "e_phnum 65520 is absurd (limit 128)"
reject reject-hole "$G/bad-hole.elf" "overlaps the VGA/BIOS hole 0xa0000-0x100000"
reject reject-unknown "$tmp/unknown.bin" \
    "not a Multiboot1/Multiboot2/PVH kernel; for a flat binary pass --entry"
# The unbroken version of the same hand-made file boots: the rejections above are the defects'.
boot bad-good 1 debug_exit "" -- "$G/bad-good.elf"

finish
