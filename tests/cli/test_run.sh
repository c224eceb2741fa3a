#!/usr/bin/env bash
# End-to-end tests of `kvmscope run` on the VMM's own guests (guests/vmm/,
# flat binaries) and the boot module's kernels (guests/): console output,
# exit statuses, outcomes, --json, --trace (text and Perfetto JSON), --stats,
# --timeout, --strict, --vga and bad flags. SKIPs without /dev/kvm.
# san: yes
set -u
K=$1
B=$(dirname "$K")
G=$B/guests/vmm
. "$(dirname "$0")/lib.sh"
make_tmp T

# run NAME EXPECTED_STATUS ARGS... : runs kvmscope run, keeps stdout/stderr in $T/NAME.{out,err}
# (this script's own run and has replace lib.sh's)
run() {
    local name=$1 want=$2
    shift 2
    timeout 30 "$K" run "$@" >"$T/$name.out" 2>"$T/$name.err"
    local st=$?
    if [ "$st" -ne "$want" ]; then
        fail "$name" "exit status $st, want $want; stderr: $(head -c 400 "$T/$name.err")"
        return 1
    fi
    return 0
}
has() { grep -qF -- "$2" "$T/$1" || { fail "${1%.*}" "no '$2' in $1: $(head -c 300 "$T/$1")"; return 1; }; }
jqt() { # NAME FILE JQ-EXPR: the expression must be true
    jq -e "$3" "$2" >/dev/null 2>&1 || { fail "$1" "jq '$3' is not true on $2: $(head -c 300 "$2")"; return 1; }
}

# Usage errors come first: they need no KVM.
"$K" run >/dev/null 2>"$T/e1"; st=$?
[ $st -eq 2 ] && grep -q "no KERNEL" "$T/e1" && pass run_no_kernel || fail run_no_kernel "status $st"
"$K" run --bogus x >/dev/null 2>"$T/e2"; st=$?
[ $st -eq 2 ] && grep -q "unknown option" "$T/e2" && pass run_bad_flag || fail run_bad_flag "status $st"
"$K" run --timeout soon x >/dev/null 2>"$T/e3"; st=$?
[ $st -eq 2 ] && grep -q "timeout" "$T/e3" && pass run_bad_timeout || fail run_bad_timeout "status $st"
"$K" run -m 1K x >/dev/null 2>"$T/e4"; st=$?
[ $st -eq 2 ] && pass run_bad_ram || fail run_bad_ram "status $st"
"$K" run --load 0x100000 x >/dev/null 2>"$T/e5"; st=$?
[ $st -eq 2 ] && grep -q "needs --entry" "$T/e5" && pass run_load_needs_entry || fail run_load_needs_entry "status $st"
"$K" run "$T/missing.elf" >/dev/null 2>"$T/e6"; st=$?
[ $st -eq 4 ] && grep -q "missing.elf" "$T/e6" && pass run_missing_kernel || fail run_missing_kernel "status $st"
head -c 3000 /dev/urandom >"$T/junk.bin"
"$K" run "$T/junk.bin" >/dev/null 2>"$T/e7"; st=$?
if [ ! -e /dev/kvm ]; then
    [ $st -eq 3 ] && pass run_junk_kernel || fail run_junk_kernel "status $st"
else
    [ $st -eq 4 ] && pass run_junk_kernel || fail run_junk_kernel "status $st: $(cat "$T/e7")"
fi

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    "$K" run --entry 0x100000 "$G/halt.bin" >/dev/null 2>"$T/e8"; st=$?
    [ $st -eq 3 ] && grep -q "/dev/kvm" "$T/e8" && pass run_no_kvm_message || fail run_no_kvm_message "status $st"
    for t in halt debug_exit triple internal timeout strict json trace stats vga hostile multiboot; do
        skip "run_$t" "no usable /dev/kvm"
    done
    exit $((fails > 0))
fi
[ -f "$G/halt.bin" ] || { fail run_guests "guests not built ($G)"; exit 1; }

# Host errors say what to do (status 3). As root, hide /dev/kvm in a private mount
# namespace, and drop to nobody for the permission error.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v setpriv >/dev/null; then
    KA=$(realpath "$K")
    cp "$G/halt.bin" "$T/halt.bin" && chmod 755 "$T" && chmod 644 "$T/halt.bin"
    unshare -m sh -c "mount -t tmpfs none /dev && '$KA' run --entry 0x100000 '$T/halt.bin'" \
        >/dev/null 2>"$T/nokvm.err"; st=$?
    [ $st -eq 3 ] && grep -q "no /dev/kvm: is the kvm module loaded? (modprobe kvm_pvm" "$T/nokvm.err" &&
        pass run_host_no_kvm || fail run_host_no_kvm "status $st: $(cat "$T/nokvm.err")"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$KA" run --entry 0x100000 "$T/halt.bin" \
        >/dev/null 2>"$T/perm.err"; st=$?
    [ $st -eq 3 ] && grep -q "permission denied on /dev/kvm: add yourself to the kvm group" "$T/perm.err" &&
        pass run_host_permission || fail run_host_permission "status $st: $(cat "$T/perm.err")"
else
    skip run_host_no_kvm "needs root, unshare and setpriv"
    skip run_host_permission "needs root, unshare and setpriv"
fi

# --cpu errors need the host's CPUID, so they come after the KVM check.
"$K" run --cpu nosuchcpu --entry 0x100000 "$G/halt.bin" >/dev/null 2>"$T/e9"; st=$?
[ $st -eq 2 ] && grep -q "unknown CPU model" "$T/e9" && pass run_bad_cpu || fail run_bad_cpu "status $st"

run halt 0 --entry 0x100000 "$G/halt.bin" && has halt.out "halt: goodbye" && pass run_halt
run halt_if 0 --entry 0x100000 "$G/halt_if.bin" && has halt_if.err "interrupts enabled" && pass run_halt_if

# isa-debug-exit: value 3 -> status 7, like QEMU; string PIO and fw_cfg in the same guest.
run strpio 7 --entry 0x100000 "$G/strpio.bin" && has strpio.out "rep outsb to COM1" &&
    has strpio.out "rep outsb to 0xe9" && pass run_debug_exit_string_pio

run triple 6 --entry 0x100000 "$G/triple.bin" && has triple.err "triple fault" &&
    has triple.err "EIP=00100" && has triple.err "CS =0008 00000000 ffffffff 00c09b00 DPL=0 CS32 [-RA]" &&
    has triple.err "IDT=     00000000 00000000" && has triple.err "SHUTDOWN" && pass run_triple_fault

# Long mode: the 64-bit dump form, and instruction bytes read through the page tables.
run triple64 6 --entry 0x100000 "$G/triple64.bin" && has triple64.err "RAX=1122334455667788 RBX=" &&
    has triple64.err "R15=00000000f00dfeed" && has triple64.err "CS =0008 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]" &&
    has triple64.err "CR3=0000000000200000" && has triple64.err "SHUTDOWN        rip=0x1000bd insn=0f 0b" &&
    pass run_triple_fault_64
run pio64 1 --trace "$T/p64.txt" --entry 0x100000 "$G/pio64.bin" &&
    n=$(grep -c 'port=0x500 out size=1 .*UNHANDLED insn=e2 fd' "$T/p64.txt") &&
    { [ "$n" -eq 60000 ] && pass run_trace_paged_insn || fail run_trace_paged_insn "$n of 60000 exits with bytes"; }

run internal 8 --entry 0x100000 "$G/unbacked.bin" && has internal.err "KVM internal error. Suberror: 1" &&
    has internal.err "emulation failure" && has internal.err "EIP=000d0000" && pass run_internal_error

start=$(date +%s%N)
run timeout 14 --timeout 0.5 --entry 0x100000 "$G/loop.bin"
ok=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $ok -eq 0 ]; then
    if [ $ms -lt 450 ] || [ $ms -gt 5000 ]; then fail run_timeout "took $ms ms for --timeout 0.5"
    else has timeout.err "still running after 0.500 s" && has timeout.out "loop: spinning" && pass run_timeout; fi
fi

run strict_off 33 --entry 0x100000 "$G/strict.bin" && has strict_off.out "got 0xff" && pass run_unhandled_lenient
run strict 12 --strict --entry 0x100000 "$G/strict.bin" && has strict.err "unhandled port read at 0x99" &&
    pass run_strict

# --json: one object on stdout, console on stderr.
run json 6 --json --last 4 --entry 0x100000 "$G/triple.bin" &&
    jqt run_json "$T/json.out" '.outcome == "triple_fault" and .exit_status == 6 and .exit_code == null' &&
    jqt run_json "$T/json.out" '(.last_exits | length) == 4 and .last_exits[-1].reason == "SHUTDOWN"' &&
    jqt run_json "$T/json.out" '.registers.rip == "0x100016" and .registers.cs.selector == "0x0008"' &&
    jqt run_json "$T/json.out" '.cpu.model == "qemu64" and (.cpu.effective.maxphyaddr | type) == "number"' &&
    has json.err "triple: ud2" && pass run_json
# The crash explainer's report rides along on every abnormal outcome.
jqt run_json_explanation "$T/json.out" '.explanation.event == "triple-fault" and (.explanation.exceptions | length) > 0' &&
    has triple.err "=> triple fault" && pass run_json_explanation
run json_exit 7 --json --entry 0x100000 "$G/strpio.bin" &&
    jqt run_json_exit "$T/json_exit.out" '.outcome == "debug_exit" and .exit_code == 3 and .exit_status == 7' &&
    pass run_json_debug_exit
run json_strict 12 --json --strict --entry 0x100000 "$G/strict.bin" &&
    jqt run_json_strict "$T/json_strict.out" '.outcome == "unhandled_io" and .io.addr == "0x99" and .io.dir == "read"' &&
    pass run_json_strict
run json_internal 8 --json --entry 0x100000 "$G/unbacked.bin" &&
    jqt run_json_internal "$T/json_internal.out" '.outcome == "internal_error" and .suberror == 1 and (.data | length) > 0' &&
    pass run_json_internal

# --cpu with a feature this host cannot give is reported with its consequence.
run json_cpu 0 --json --cpu qemu64,+pdpe1gb --entry 0x100000 "$G/halt.bin" &&
    jqt run_cpu_report "$T/json_cpu.out" '.cpu.effective.gbpages == false' &&
    if jq -e '.cpu.unavailable | map(select(startswith("pdpe1gb:"))) | length == 1' "$T/json_cpu.out" >/dev/null; then
        jqt run_cpu_report "$T/json_cpu.out" '.cpu.unavailable[] | select(startswith("pdpe1gb:")) | contains("P|RSVD")' &&
            pass run_cpu_report
    else
        pass run_cpu_report # this host's KVM has 1 GiB pages: nothing to report
    fi

# --trace text, and Perfetto JSON by extension and by flag.
run trace 7 --trace "$T/t.txt" --trace-json "$T/t2.json" --entry 0x100000 "$G/strpio.bin" &&
    has t.txt "IO" && grep -q "port=0x3f8 out size=1" "$T/t.txt" && grep -q "count=" "$T/t.txt" &&
    jqt run_trace "$T/t2.json" '.traceEvents | map(select(.ph == "X" and .cat == "exit")) | length > 0' &&
    jqt run_trace "$T/t2.json" '[.traceEvents[] | select(.cat == "exit")] | all(.ts >= 0 and .dur >= 0 and .pid == 1 and .tid == 1)' &&
    jqt run_trace "$T/t2.json" '.traceEvents | map(select(.ph == "M" and .name == "thread_name")) | length == 1' &&
    jqt run_trace "$T/t2.json" '.traceEvents[-1].name == "debug_exit"' &&
    jqt run_trace "$T/t2.json" '.traceEvents[-1].ts >= ([.traceEvents[] | select(.ph == "X") | .ts] | max)' &&
    jqt run_trace "$T/t2.json" '[.traceEvents[] | select(.ph == "X")] | sort_by(.ts) | . as $e |
        [range(1; length) | select($e[. - 1].ts + $e[. - 1].dur > $e[.].ts + 0.0005)] | length == 0' &&
    pass run_trace
run trace_ext 7 --trace "$T/t3.json" --entry 0x100000 "$G/strpio.bin" &&
    jqt run_trace_json_ext "$T/t3.json" '.displayTimeUnit == "ns" and (.traceEvents | length) > 3' &&
    pass run_trace_json_ext
# Exits in the trace = exits counted by --stats = exits in --json.
run trace_n 133 --json --stats --trace "$T/t4.txt" --serial /dev/null --entry 0x100000 "$G/hostile.bin" &&
    n=$(wc -l <"$T/t4.txt") && jqt run_trace_count "$T/trace_n.out" ".exits_total == $n and .stats.exits == $n" &&
    pass run_trace_count

run stats 7 --stats --entry 0x100000 "$G/strpio.bin" && has stats.err "exits:" && has stats.err "0x03f8" &&
    has stats.err "string I/O elements" && pass run_stats

run vga 1 --vga --entry 0x100000 "$G/vga.bin" && has vga.out "VGA text works" && has vga.out "third row" &&
    pass run_vga

# --irqchip: the in-kernel PIC and PIT deliver timer interrupts (no exits for them),
# and a HLT with interrupts off, which KVM then handles itself, is still detected.
run pit 11 --irqchip --timeout 10 --stats --entry 0x100000 "$G/pit.bin" && has pit.out "pit: 3 ticks" &&
    pass run_irqchip_pit
start=$(date +%s%N)
run irq_halt 0 --irqchip --entry 0x100000 "$G/halt.bin"
ok=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ $ok -eq 0 ] && { [ $ms -lt 3000 ] && pass run_irqchip_halt || fail run_irqchip_halt "took $ms ms"; }
# Without the irqchip nothing ever interrupts the guest: the HLT ends the run.
run pit_noirq 0 --entry 0x100000 "$G/pit.bin" && has pit_noirq.err "interrupts enabled" && pass run_no_irqchip

# Devices as a driver sees them: 16550 registers, fw_cfg items (RAM size follows -m,
# high RAM relocated above 4 GiB shows in the RAM end).
run uart 171 --entry 0x100000 "$G/uart.bin" && has uart.out "uart: registers ok" && pass run_uart_registers
run fwcfg 1 -m 64M --entry 0x100000 "$G/fwcfg.bin" &&
    has fwcfg.out "sig=QEMU id=00000001 ram=0000000004000000 cpus=00000001 max=00000001 ramend=0000000004000000 files=00000000 unknown=00000000" &&
    pass run_fwcfg
run fwcfg4g 1 -m 4G --entry 0x100000 "$G/fwcfg.bin" &&
    has fwcfg4g.out "ram=0000000100000000" && has fwcfg4g.out "ramend=0000000120000000" && pass run_fwcfg_4g

# A hostile guest hammering ports and MMIO cannot crash the VMM.
run hostile 133 --serial "$T/hostile.serial" --entry 0x100000 "$G/hostile.bin" && pass run_hostile

# The run loop issues no ioctl per exit besides KVM_RUN (KVM_CAP_SYNC_REGS), and none per MiB of RAM.
if command -v strace >/dev/null; then
    strace -f -e trace=ioctl -o "$T/strace" "$K" run -m 1G --serial /dev/null --entry 0x100000 "$G/hostile.bin" \
        >/dev/null 2>&1
    nrun=$(grep -c 'KVM_RUN' "$T/strace")
    nother=$(grep 'ioctl(' "$T/strace" | grep -vc 'KVM_RUN')
    if [ "$nrun" -gt 10000 ] && [ "$nother" -le 20 ]; then pass run_no_ioctl_per_exit
    else fail run_no_ioctl_per_exit "$nrun KVM_RUN, $nother other ioctls"; fi
else
    skip run_no_ioctl_per_exit "strace is not installed"
fi

# The seed story: 1 GiB pages on a host whose KVM lacks them -> P|RSVD, explained.
if [ -f "$B/guests/seed.elf" ]; then
    run seed 6 --json --cpu qemu64,+pdpe1gb "$B/guests/seed.elf"
    if jq -e '.cpu.effective.gbpages == false' "$T/seed.out" >/dev/null 2>&1; then
        jqt run_seed_explained "$T/seed.out" '.explanation.cause.id == "rsvd-gbpages" and .explanation.walk.fault.error_code == 9' &&
            jqt run_seed_explained "$T/seed.out" '.last_exits[-1].reason == "SHUTDOWN"' && pass run_seed_explained
    else
        skip run_seed_explained "this host's KVM offers 1 GiB pages"
    fi
else
    skip run_seed_explained "guests/seed.elf not built"
fi

# The boot module's kernels, when built: Multiboot through the real loader.
if [ -f "$B/guests/mb1-elf32.elf" ]; then
    run mb1 1 --append "hello world" "$B/guests/mb1-elf32.elf" && has mb1.out "hello world" &&
        has mb1.out "mb1-elf32: done" && pass run_multiboot
    printf 'module one' >"$T/m1"
    printf 'module two' >"$T/m2"
    run mods 1 --initrd "$T/m1 a=1,,b,$T/m2" --module "$T/m1 third" "$B/guests/mb1-elf32.elf" &&
        has mods.out "mods=0x3" && has mods.out "cmdline='$T/m1 a=1,b' data='module one'" &&
        has mods.out "cmdline='$T/m2' data='module two'" && has mods.out "cmdline='$T/m1 third'" &&
        pass run_modules
    run bad_mods 2 --initrd ",x" "$B/guests/mb1-elf32.elf" && has bad_mods.err "empty module" &&
        pass run_bad_module_list
else
    skip run_multiboot "guests/mb1-elf32.elf not built"
fi

# -v: what the VM is, what was loaded and how it stopped, on stderr; nothing without it.
if [ -f "$B/guests/trivial.elf" ]; then
    timeout 30 "$K" -v run "$B/guests/trivial.elf" >"$T/verbose.out" 2>"$T/verbose.err"
    st=$?
    timeout 30 "$K" run "$B/guests/trivial.elf" >/dev/null 2>"$T/quiet.err"
    if [ $st -eq 1 ] && has verbose.err "kvmscope: info: VM: 128 MiB RAM, cpu qemu64: MAXPHYADDR" &&
        has verbose.err "trivial.elf: Multiboot1 ELF32, entry 0x" &&
        has verbose.err "kvmscope: info: guest stopped: debug_exit after " &&
        has verbose.out "trivial: hello"; then
        if [ -s "$T/quiet.err" ]; then fail run_verbose "stderr without -v: $(head -c 200 "$T/quiet.err")"
        else pass run_verbose; fi
    fi
fi

# Text mode warns, as QEMU does, about each --cpu feature the host's KVM cannot give:
# exactly the features --json lists as unavailable, named in the --cpu argument.
if [ -f "$B/guests/trivial.elf" ] && command -v jq >/dev/null; then
    if run cpuwarn 1 --cpu qemu64,+pdpe1gb,+smep "$B/guests/trivial.elf" &&
        run cpuwarn_json 1 --json --cpu qemu64,+pdpe1gb,+smep "$B/guests/trivial.elf"; then
        ok=1
        for f in pdpe1gb smep; do
            want=$(jq -r --arg f "$f" '[.cpu.unavailable[] | select(startswith($f + ":"))] | length' \
                "$T/cpuwarn_json.out")
            got=$(grep -c "^kvmscope: run: warning: $f: " "$T/cpuwarn.err")
            [ "$want" = "$got" ] || { ok=0; fail run_cpu_warnings "$f: $got warnings, --json lists $want"; }
        done
        has cpuwarn.out "trivial: hello" && [ $ok = 1 ] && pass run_cpu_warnings
        if grep -q "warning" "$T/cpuwarn_json.err"; then
            fail run_cpu_warnings_json "--json also printed warnings"
        else
            pass run_cpu_warnings_json
        fi
    fi
fi

[ $fails -eq 0 ]
