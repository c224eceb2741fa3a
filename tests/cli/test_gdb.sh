#!/usr/bin/env bash
# End-to-end tests of the GDB stub: real GDB in batch mode, and a raw RSP
# client for hostile input, against `kvmscope run --gdb` running the
# gdbtest guest (guests/gdbtest: Multiboot ELF32 that enters long mode).
# Every process runs under a timeout; the VMM must survive every client.
# san: yes
set -u
KS=${1:?usage: test_gdb.sh path/to/kvmscope}
BDIR=$(dirname "$KS")
HERE=$(cd "$(dirname "$0")" && pwd)
ELF=$BDIR/guests/gdbtest.elf
ELF64=$BDIR/guests/gdbtest64.elf
. "$HERE/lib.sh"
make_tmp TMP
status=0

skip_all() {
    echo "SKIP gdb: $1"
    exit 0
}
have_kvm || skip_all "no usable /dev/kvm"
have gdb || skip_all "gdb not installed"
have python3 || skip_all "python3 not installed"
[ -f "$ELF" ] && [ -f "$ELF64" ] || skip_all "$ELF not built (make guests)"
"$KS" run --help 2>&1 | grep -q -- '--gdb' || skip_all "kvmscope run has no --gdb"

sym() { nm "$ELF" | awk -v s="$1" '$3 == s { print $1 }'; }

# Start the VMM with the stub on a free port; sets VM_PID and PORT.
start_vm() {
    : >"$TMP/vm.err"
    timeout --kill-after=5 60 "$KS" run --gdb 127.0.0.1:0 "$@" "$ELF" >"$TMP/vm.out" \
        2>"$TMP/vm.err" &
    VM_PID=$!
    PORT=
    for _ in $(seq 100); do
        PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$TMP/vm.err")
        [ -n "$PORT" ] && return 0
        kill -0 "$VM_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "  the VMM did not start listening: $(cat "$TMP/vm.err")"
    return 1
}

# Wait for the VMM (bounded by its own timeout); sets VM_RC.
wait_vm() {
    wait "$VM_PID"
    VM_RC=$?
}

# Real GDB in batch mode; ELF32 symbols with the architecture set first (docs/gdb.md).
run_gdb() {
    timeout --kill-after=5 60 gdb -batch -nx -ex 'set architecture i386:x86-64' \
        -ex "file $ELF" -ex "target remote 127.0.0.1:$PORT" "$@" >"$TMP/gdb.out" 2>&1
}

# expect NAME PATTERN...: every extended regex must match gdb's output.
expect() {
    local name=$1 p missing=
    shift
    for p in "$@"; do
        grep -Eq -- "$p" "$TMP/gdb.out" || missing="$missing [$p]"
    done
    if [ -n "$missing" ]; then
        echo "FAIL $name: missing$missing"
        sed 's/^/  | /' "$TMP/gdb.out" | head -60
        status=1
    else
        echo "PASS $name"
    fi
}

check() { # NAME CONDITION-DESCRIPTION COMMAND...
    local name=$1 what=$2
    shift 2
    if "$@"; then
        echo "PASS $name"
    else
        echo "FAIL $name: $what"
        sed 's/^/  | /' "$TMP/vm.err" | tail -5
        status=1
    fi
}

# The exit status of an undisturbed run, to compare runs under the stub with.
timeout 30 "$KS" run "$ELF" >"$TMP/plain.out" 2>&1
PLAIN_RC=$?
grep -q 'gdbtest: done' "$TMP/plain.out" || skip_all "the guest does not run here (rc $PLAIN_RC)"
TF=$(printf %x $((16#$(sym target_function))))
WV=$(printf %x $((16#$(sym watched_var))))

# 1. -S: stopped at the first instruction; break at a symbol, continue, step, registers, memory.
start_vm -S || exit 1
run_gdb -ex 'info registers rip' -ex 'break target_function' -ex 'continue' \
    -ex 'info registers rip cs' -ex 'stepi' -ex 'info registers rip' -ex 'x/2i $pc' \
    -ex 'p/x $cr3' -ex 'info registers efer cr0' -ex 'x/4xb target_function' \
    -ex 'set var $rax = 0x1234' -ex 'p/x $rax' -ex 'detach'
wait_vm
expect gdb_break_step_regs_mem 'rip +0x100010 +0x100010 <_start>' \
    'Breakpoint 1, target_function' "rip +0x$TF " 'cs +0x8 ' \
    "rip +0x$(printf %x $((16#$TF + 8))) " "add +\\\$0x1,%rax" "%rax,0x$WV" \
    '\$1 = 0x101000' 'efer .*LMA' 'cr0 .*PG' "<target_function>:[[:space:]]+0x48[[:space:]]+0x8b" \
    '\$2 = 0x1234' 'detached'
check gdb_detach_runs_on "guest did not finish after detach (rc $VM_RC, plain $PLAIN_RC)" \
    test "$VM_RC" = "$PLAIN_RC"

# 2. The 32-bit -> long-mode switch under one fixed register layout.
start_vm -S || exit 1
run_gdb -ex 'break to_long_mode' -ex 'continue' -ex 'info registers rip efer' -ex 'p/x $eax' \
    -ex 'stepi' -ex 'info registers rip cs efer' -ex 'p $_siginfo' -ex 'detach'
wait_vm
expect gdb_mode_switch 'Breakpoint 1, to_long_mode' 'efer +0x500 .*LMA' '= 0x80000011' \
    'long_entry \(\) at' 'cs +0x8 '

# 3. A write watchpoint (emulated by stepping: data breakpoints do not fire here).
start_vm -S || exit 1
run_gdb -ex 'watch *(long *)&watched_var' -ex 'continue' -ex 'continue' \
    -ex 'p *(long *)&watched_var' -ex 'delete' -ex 'detach'
wait_vm
expect gdb_watchpoint 'Old value = 0' 'New value = 1' 'Old value = 1' 'New value = 2' \
    '\$1 = 2' 'target_function \(\) at'

# 4. Monitor commands.
start_vm -S || exit 1
run_gdb -ex 'break target_function' -ex 'continue' -ex "monitor walk 0x$WV" -ex 'monitor pt' \
    -ex 'monitor regs' -ex 'monitor cpuid' -ex 'monitor explain' -ex 'monitor nosuch' \
    -ex 'detach'
wait_vm
expect gdb_monitor "walk 0x$WV: 4-level paging, CR3=0x101000" 'PDE .*\(leaf\)' \
    "=> GPA 0x$WV" '0000000000000000-0000000000400000 .* -> gpa 0 -rwx' \
    'cr0=0000000080000011 PG ET PE' 'efer=0000000000000500 LMA LME' 'gdt +base=' \
    'tr +sel=' '^00000000 +0 ' 'walk features: MAXPHYADDR' 'stopped|No cause|cause' \
    "unknown monitor command 'nosuch'"

# 5. A crashed guest stops with SIGSEGV and stays inspectable.
start_vm -S || exit 1
run_gdb -ex 'set var *(long *)&crash_mode = 1' -ex 'continue' -ex 'info registers rip rbx cr2' \
    -ex 'monitor explain' -ex 'monitor walk 0xdead000000' -ex 'kill'
wait_vm
expect gdb_crash_inspect 'SIGSEGV' 'crash \(\) at' 'rbx +0xdead000000' 'cr2 +0xdead000000' \
    'triple fault' 'not present' 'killed'
check gdb_crash_status "crash should not end like a clean run (rc $VM_RC)" \
    test "$VM_RC" != "$PLAIN_RC" -a "$VM_RC" != 124

# 6. A 64-bit symbol copy needs no `set architecture`.
start_vm -S || exit 1
timeout --kill-after=5 60 gdb -batch -nx -ex "file $ELF64" -ex "target remote 127.0.0.1:$PORT" \
    -ex 'break target_function' -ex 'continue' -ex 'info registers rip' -ex 'detach' \
    >"$TMP/gdb.out" 2>&1
wait_vm
expect gdb_elf64_copy 'Breakpoint 1, target_function' "rip +0x$TF "

# 7. Attaching to a running guest stops it where it is; the timeout applies while no GDB is attached.
start_vm --append spin || exit 1
sleep 0.3
run_gdb -ex 'info registers rip' -ex 'set var *(char *)&spin_mode = 0' -ex 'continue'
wait_vm
expect gdb_attach_running 'rip +0x[0-9a-f]+ +0x[0-9a-f]+ <spin_loop(\+[0-9]+)?>' \
    'exited with code 020'
check gdb_attach_running_status "rc $VM_RC, a plain run gives $PLAIN_RC" test "$VM_RC" = "$PLAIN_RC"
# Ctrl-C from real GDB (SIGINT to it) while the guest spins: GDB sends 0x03, the stub stops.
start_vm -S --append spin || exit 1
# No timeout(1) around this gdb: it would deliver SIGINT twice (to gdb and to its group),
# and a second Ctrl-C makes GDB give up on the target. A watchdog bounds it instead.
gdb -batch -nx -ex 'set architecture i386:x86-64' -ex "file $ELF" \
    -ex "target remote 127.0.0.1:$PORT" -ex 'continue' -ex 'info registers rip' \
    -ex 'set var *(char *)&spin_mode = 0' -ex 'continue' >"$TMP/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
# The watchdog ends by itself once gdb is gone.
{ timeout 60 bash -c "while kill -0 $GDB_PID 2>/dev/null; do sleep 0.2; done" ||
    kill -KILL "$GDB_PID"; } 2>/dev/null &
WATCHDOG=$!
# Interrupt only once GDB has resumed the guest: a SIGINT that arrives while GDB is
# still connecting (a loaded machine) is not a Ctrl-C of a running target.
for _ in $(seq 150); do
    grep -q '^Continuing' "$TMP/gdb.out" 2>/dev/null && break
    sleep 0.2
done
sleep 0.5
kill -INT "$GDB_PID"
wait "$GDB_PID"
wait "$WATCHDOG"
wait_vm
expect gdb_ctrl_c 'SIGINT, Interrupt' 'rip +0x[0-9a-f]+ +0x[0-9a-f]+ <spin_loop(\+[0-9]+)?>' \
    'exited with code 020'
start_vm --append spin --timeout 0.5 || exit 1
wait_vm
check gdb_timeout_unattached "rc $VM_RC, want 14 (timeout)" test "$VM_RC" = 14

# 8. Hostile clients: the VMM neither crashes nor hangs, and the guest finishes.
for sc in malformed disconnect-armed interrupt many-breakpoints; do
    start_vm -S || exit 1
    timeout 60 python3 "$HERE/gdb_rsp_client.py" "$PORT" "$sc" target_function="$TF" \
        watched_var="$WV" exit_path="$(sym exit_path)" >"$TMP/client.out" 2>&1
    crc=$?
    wait_vm
    if [ "$crc" -ne 0 ] || grep -q '^FAIL' "$TMP/client.out"; then
        echo "FAIL rsp_$sc: client checks failed (rc $crc)"
        sed 's/^/  | /' "$TMP/client.out"
        status=1
    else
        echo "PASS rsp_$sc"
    fi
    check "rsp_${sc}_vmm_survives" "VMM rc $VM_RC, a plain run gives $PLAIN_RC" \
        test "$VM_RC" = "$PLAIN_RC"
done

# 9. A bad address is a usage error, not a crash.
timeout 10 "$KS" run --gdb 127.0.0.1:99999 "$ELF" >/dev/null 2>"$TMP/bad.err"
rc=$?
check gdb_bad_port "rc $rc: $(cat "$TMP/bad.err")" test "$rc" = 2
# Port forms strtoul would take (leading space, sign) or that are no port: status 2, one line.
bad_ports=(space " 1234" plus "+1234" minus "-1" trailing "12x" empty "" too_big "0x10000")
for ((i = 0; i < ${#bad_ports[@]}; i += 2)); do
    timeout 10 "$KS" run --gdb "127.0.0.1:${bad_ports[i + 1]}" "$ELF" >/dev/null 2>"$TMP/bad.err"
    rc=$?
    check "gdb_bad_port_${bad_ports[i]}" "rc $rc: $(cat "$TMP/bad.err")" \
        test "$rc" = 2 -a "$(wc -l <"$TMP/bad.err")" = 1
done
exit $status
