#!/usr/bin/env bash
# KVM emulation failures: an instruction that is architecturally fine but that
# KVM's emulator refuses must be explained as `emulation-failure`, not left as
# "no cause found". On hosts that run CPL0 code natively the guest simply
# exits cleanly, and the test accepts that too (then there is nothing to explain).
# san: yes
set -u
K=$(realpath "$1")
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$(dirname "$K")}
. tests/cli/lib.sh
make_tmp T

if ! have_kvm || ! have jq; then
    echo "SKIP emulation-failure: needs a usable /dev/kvm and jq"
    exit 0
fi
timeout 30 "$K" run --json --entry 0x100000 "$BUILD/guests/emulation/iret32.bin" >"$T/out.json" 2>"$T/err"
st=$?
outcome=$(jq -r .outcome "$T/out.json")
if [ "$outcome" = debug_exit ] && [ "$st" -eq 1 ]; then
    echo "SKIP emulation-failure: this host's KVM emulates a CPL0 IRETD (or runs it natively)"
    exit 0
fi
id=$(jq -r '.explanation.cause.id' "$T/out.json")
if [ "$outcome" = internal_error ] && [ "$st" -eq 8 ] && [ "$id" = emulation-failure ] &&
    grep -q 'could not emulate `iretd`' "$T/err" && grep -q "IRET at CPL0" "$T/err"; then
    echo "PASS emulation-failure-iret32"
else
    echo "FAIL emulation-failure-iret32: status $st outcome $outcome cause $id"
    tail -n 8 "$T/err"
    exit 1
fi
