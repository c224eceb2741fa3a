#!/usr/bin/env bash
# Hostile guests (guests/hostile/) against `kvmscope run`: the VMM must never
# crash or hang past --timeout, and must report each case with its outcome.
# Also runs the CLI under valgrind on the seed, the zoo and the hostile
# guests: no memory errors, no leaks.
# san: yes
set -u
K=$(realpath "$1")
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$(dirname "$K")}
G=$BUILD/guests/hostile
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    echo "SKIP hostile: no usable /dev/kvm"
    exit 0
fi

pass() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; fail=1; }

# run NAME WANT_STATUS WANT_OUTCOME ARGS... : one --json run with a hard time limit.
run() {
    local name=$1 want=$2 outcome=$3; shift 3
    timeout 30 "$K" run --json "$@" >"$T/$name.json" 2>"$T/$name.err"
    local st=$?
    if [ "$st" -ne "$want" ]; then
        bad "$name" "status $st, want $want ($(tail -n 1 "$T/$name.err"))"
        return 1
    fi
    local got
    got=$(jq -r .outcome "$T/$name.json" 2>/dev/null)
    if [ "$got" != "$outcome" ]; then
        bad "$name" "outcome '$got', want '$outcome'"
        return 1
    fi
    return 0
}

# Random values to every port and random loads/stores across 4 GiB, then a
# clean debug exit with 0x21: status (0x21<<1)|1 = 67.
run ports 67 debug_exit --serial "$T/ports.serial" --entry 0x100000 "$G/ports.bin" && pass hostile-ports

# An endless stream of exits: --timeout must end it, on time.
start=$(date +%s%N)
if run storm 14 timeout --timeout 1 --entry 0x100000 "$G/exit-storm.bin"; then
    ms=$((($(date +%s%N) - start) / 1000000))
    if [ "$ms" -lt 5000 ]; then pass hostile-exit-storm; else bad hostile-exit-storm "took ${ms} ms for --timeout 1"; fi
fi

# Page tables with cycles: the explainer must terminate and name the empty entry.
if run ptcycle 6 triple_fault --entry 0x100000 "$G/pt-cycle.bin"; then
    id=$(jq -r '.explanation.cause.id' "$T/ptcycle.json")
    cr2=$(jq -r '.explanation.exceptions[0].cr2' "$T/ptcycle.json")
    if [ "$id" = not-present ] && [ "$cr2" = 0x40000000 ]; then pass hostile-pt-cycle
    else bad hostile-pt-cycle "cause '$id' cr2 '$cr2'"; fi
fi

# Descriptor tables whose entries lie beyond the end of RAM.
if run dtend 6 triple_fault --entry 0x100000 "$G/dt-end.bin"; then
    if grep -q "not in guest RAM" "$T/dtend.err"; then pass hostile-dt-end
    else bad hostile-dt-end "the report does not say the IDT gate is outside RAM"; fi
fi

# Multiboot headers that lie: each rejected with one line and status 4.
for lie in header load-end backwards bss entry; do
    timeout 10 "$K" run "$G/mb-lie-$lie.bin" >"$T/lie.out" 2>"$T/lie.err"
    st=$?
    lines=$(wc -l <"$T/lie.err")
    if [ "$st" -eq 4 ] && [ "$lines" -eq 1 ] && grep -q "a.out kludge\|entry point" "$T/lie.err"; then
        pass "hostile-mb-lie-$lie"
    else
        bad "hostile-mb-lie-$lie" "status $st, $lines stderr lines: $(head -c 200 "$T/lie.err")"
    fi
done
timeout 10 "$K" run "$G/mb-truth.bin" >/dev/null 2>&1
st=$?
[ "$st" -eq 1 ] && pass hostile-mb-truth || bad hostile-mb-truth "status $st, want 1 (debug exit 0)"

# valgrind: no invalid accesses and no leaks in the CLI, on crashes and hostile input.
if [ "$(basename "$BUILD")" = build-san ]; then
    echo "SKIP valgrind: not with the sanitizer build"
elif command -v valgrind >/dev/null; then
    for k in "$BUILD/guests/seed.elf" "$BUILD"/guests/zoo/*.elf; do
        name=$(basename "$k" .elf)
        timeout 60 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            "$K" run --json "$k" >/dev/null 2>"$T/vg.err"
        st=$?
        if [ "$st" -eq 99 ] || grep -q '^==' "$T/vg.err"; then
            bad "valgrind-$name" "$(grep '^==' "$T/vg.err" | head -n 5 | tr '\n' ' ')"
        else
            pass "valgrind-$name"
        fi
    done
    timeout 60 valgrind -q --error-exitcode=99 --leak-check=full "$K" run --entry 0x100000 \
        --serial /dev/null "$G/pt-cycle.bin" >/dev/null 2>"$T/vg.err"
    if grep -q '^==' "$T/vg.err"; then bad valgrind-pt-cycle "$(grep '^==' "$T/vg.err" | head -n 3)"
    else pass valgrind-pt-cycle; fi
else
    echo "SKIP valgrind: not installed"
fi
exit $fail
