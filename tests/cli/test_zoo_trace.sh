#!/usr/bin/env bash
# KVM's own view of the bug zoo: record the kvm/kvmmmu trace of each crashing
# zoo kernel (`kvmscope trace record -- kvmscope run`) and check that the
# replayed chain of `run --json` agrees with what KVM did: the first injected
# exception, and every failing guest page walk (address and #PF error code)
# in order, which are exactly the #PF entries of the chain (the IDT reads and
# frame pushes of delivery fault through the same walker).
# SKIPs without /dev/kvm, jq or a usable tracefs.
set -u
K=$1
cd "$(dirname "$0")/../.."
. tests/cli/zoo_lib.sh
make_tmp tmp

if ! have_kvm || ! have jq || ! has_run "$K"; then
    echo "SKIP zoo-trace: needs /dev/kvm, jq and kvmscope run"
    exit 0
fi
# One probe: tracing needs a writable tracefs (root).
timeout 30 "$K" trace record --out "$tmp/probe.txt" -- "$K" run \
    "$BUILD/guests/zoo/recover-ud.elf" >/dev/null 2>&1
if ! grep -q kvm_inj_exception "$tmp/probe.txt" 2>/dev/null; then
    echo "SKIP zoo-trace: cannot record KVM traces here (tracefs)"
    exit 0
fi

for exp in guests/zoo/*.exp; do
    name=$(basename "$exp" .exp)
    [ "$(zoo_get "$exp" triple)" = yes ] || continue
    elf=$BUILD/guests/zoo/$name.elf
    timeout 60 "$K" trace record --out "$tmp/$name.txt" -- "$K" run --json "$elf" \
        >"$tmp/$name.run" 2>/dev/null
    "$K" trace explain --json "$tmp/$name.txt" >"$tmp/$name.tj" 2>/dev/null
    # The run's JSON is the first line of the recorded command's stdout.
    ex=$(head -n 1 "$tmp/$name.run" | jq -c '.explanation' 2>/dev/null)
    if [ -z "$ex" ] || [ "$ex" = null ]; then
        fail "zoo-trace-$name" "no explanation from run --json"
        continue
    fi
    want=$(printf '%s' "$ex" | jq -r '[.exceptions[] | select(.vector == 14) |
                                       "\(.cr2):\(.error_code)"] | join(" ")')
    got=$(jq -r '.walks.failed[] | "\(.addr) \(.error_code)"' "$tmp/$name.tj" 2>/dev/null |
        while read -r a e; do printf '%s:%d ' "$a" "$((e))"; done)
    got=${got% }
    first_want=$(printf '%s' "$ex" | jq -r '.exceptions[0].vector')
    first_got=$(jq -r '.exceptions[0].vector // "none"' "$tmp/$name.tj" 2>/dev/null)
    end=$(jq -r '.end' "$tmp/$name.tj" 2>/dev/null)
    why=()
    [ "$got" = "$want" ] || why+=("failing walks '$got', replay's #PFs '$want'")
    [ "$first_got" = "$first_want" ] || why+=("first injected $first_got, replay $first_want")
    [ "$end" = KVM_EXIT_SHUTDOWN ] || why+=("trace ends with $end")
    verdict "zoo-trace-$name" "${why[@]}"
done
finish
