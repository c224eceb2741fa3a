#!/usr/bin/env bash
# The bug zoo under KVM: boot each guests/zoo kernel with `kvmscope run --json`
# and check the explanation against its expectations file (cause id, the
# secondary cause, the exception chain, CR2 values, the faulting level).
# SKIPs without /dev/kvm, without jq, or while `kvmscope run` does not exist.
# san: yes
set -u
K=$1
cd "$(dirname "$0")/../.."
. tests/cli/zoo_lib.sh

if ! have_kvm; then
    echo "SKIP zoo: no usable /dev/kvm"
    exit 0
fi
if ! have jq; then
    echo "SKIP zoo: jq is not installed"
    exit 0
fi
if ! has_run "$K"; then
    echo "SKIP zoo: this kvmscope has no 'run' command yet"
    exit 0
fi

for exp in guests/zoo/*.exp; do
    name=$(basename "$exp" .exp)
    elf=$BUILD/guests/zoo/$name.elf
    if [ ! -f "$elf" ]; then
        fail "zoo-$name" "$elf was not built"
        continue
    fi
    out=$(timeout 20 "$K" run --json "$elf" 2>/dev/null)
    ex=$(printf '%s' "$out" | jq -c '.explanation // null' 2>/dev/null)
    if [ -z "$ex" ]; then
        fail "zoo-$name" "run --json printed no JSON"
        continue
    fi
    why=()
    want=$(zoo_get "$exp" cause)
    got=$(printf '%s' "$ex" | jq -r '.cause.id // "-"')
    [ "$got" = "$want" ] || why+=("cause $got, want $want")
    if [ "$want" != - ]; then
        want=$(zoo_get "$exp" secondary)
        got=$(printf '%s' "$ex" | jq -r '.cause.secondary.id // "-"')
        [ "$got" = "$want" ] || why+=("secondary $got, want $want")
        want=$(zoo_norm_chain "$(zoo_get "$exp" chain)")
        got=$(printf '%s' "$ex" | jq -r '[.exceptions[] | "\(.vector):\(.error_code // "-")"] | join(" ")')
        [ "$got" = "$want" ] || why+=("chain '$got', want '$want'")
        want=$(zoo_get "$exp" level)
        got=$(printf '%s' "$ex" | jq -r '.walk.fault.level // 0')
        [ "$got" = "$want" ] || why+=("level $got, want $want")
        want=$(zoo_get "$exp" triple)
        got=$(printf '%s' "$ex" | jq -r 'if .triple_fault then "yes" else "no" end')
        [ "$got" = "$want" ] || why+=("triple fault $got, want $want")
        while read -r i v; do
            got=$(printf '%s' "$ex" | jq -r ".exceptions[$i].cr2 // \"-\"")
            [ "$v" = rip ] && v=$(printf '%s' "$ex" | jq -r ".exceptions[$i].rip")
            [ "$((got))" = "$((v))" ] 2>/dev/null || why+=("cr2[$i] $got, want $v")
        done < <(sed -n 's/^cr2 //p' "$exp")
    fi
    verdict "zoo-$name" "${why[@]}"
done
finish
