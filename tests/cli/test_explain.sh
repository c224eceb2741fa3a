#!/usr/bin/env bash
# kvmscope explain on the seed's QEMU register dump (tests/data, copied from
# shared/seed/kvm-1gb-pages.txt), alone and with a raw memory image holding
# the two entries the seed's trace shows (PML4E 0xbf9023, PDPTE 0xa3), plus
# the input errors.
# san: yes
set -u
K=$1
cd "$(dirname "$0")/../.."
regs=tests/data/seed_kvm_internal_error.txt
. tests/cli/lib.sh
make_tmp tmp

check() { # name status-want status-got file needle...
    local name=$1 want=$2 got=$3 file=$4
    shift 4
    local why=()
    [ "$got" = "$want" ] || why+=("exit status $got, want $want")
    for n in "$@"; do
        grep -qF -- "$n" "$file" || why+=("no '$n'")
    done
    verdict "explain-$name" "${why[@]}" || sed 's/^/    /' "$file" | head -40
}

# The registers alone: what the text allows.
"$K" explain --regs "$regs" >"$tmp/out" 2>&1
check regs-only 0 $? "$tmp/out" "EFER is not in the dump" "32-bit compatibility mode" \
    "IDTR limit 0x0" "RAX holds CR0" "give --memory or --dump" "beyond the GDT limit 0xf"

# The seed's memory: the two entries of its trace, and the instruction at RIP.
python3 - "$tmp/mem.img" <<'PY'
import struct, sys
img = bytearray(0xc00000)
struct.pack_into('<Q', img, 0xbf8000, 0xbf9023)
struct.pack_into('<Q', img, 0xbf9000, 0xa3)
img[0x133025:0x13302e] = bytes.fromhex('66c70500800b004802')
open(sys.argv[1], 'wb').write(img)
PY
"$K" explain --regs "$regs" --memory "$tmp/mem.img" >"$tmp/out" 2>&1
check seed-text 1 $? "$tmp/out" "Cause: rsvd-gbpages" "and: idt-limit" \
    "level 3 PDPTE[  0] @ GPA 0xbf9000" "error code 0x9 = P|RSVD" "-cpu qemu64,pdpe1gb" \
    "Skylake-Server" "EMULTYPE_SKIP" "#GP error 0x73" "triple fault"

if have jq; then
    "$K" explain --json --regs "$regs" --memory "$tmp/mem.img" >"$tmp/json"
    st=$?
    got=$(jq -r '[.explanation.cause.id, .explanation.cause.secondary.id,
                  (.explanation.walk.fault.level|tostring), (.explanation.walk.fault.error_code|tostring),
                  ([.explanation.exceptions[].vector|tostring]|join(",")),
                  (.explanation.exceptions[0].cr2)] | join(" ")' "$tmp/json" 2>&1)
    echo "$got" >"$tmp/jq"
    check seed-json 1 $st "$tmp/jq" "rsvd-gbpages idt-limit 3 9 14,13,8,13 0x133025"
else
    echo "SKIP explain-seed-json: jq is not installed"
fi

# With a model that has 1 GiB pages the walk succeeds and the instruction (a
# 32-bit absolute store to the VGA buffer in compatibility mode) does not fault.
"$K" explain --regs "$regs" --memory "$tmp/mem.img" --cpu Skylake-Server >"$tmp/out" 2>&1
check gbpages-model 0 $? "$tmp/out" "mov word ptr [0x000b8000], 0x248" "does not fault"

# Input errors: documented statuses, one line, no crash.
"$K" explain --regs "$tmp/missing.txt" >"$tmp/out" 2>&1
check missing-file 4 $? "$tmp/out" "kvmscope: explain:"
printf 'not a dump\n' >"$tmp/junk.txt"
"$K" explain --regs "$tmp/junk.txt" >"$tmp/out" 2>&1
check junk-file 4 $? "$tmp/out" "kvmscope: explain:"
"$K" explain --regs "$regs" --maxphyaddr 99 >"$tmp/out" 2>&1
check bad-maxphyaddr 2 $? "$tmp/out" "--maxphyaddr"
"$K" explain --bogus >"$tmp/out" 2>&1
check bad-option 2 $? "$tmp/out" "unknown option"
"$K" explain >"$tmp/out" 2>&1
check no-input 2 $? "$tmp/out" "give --regs FILE"
"$K" explain --regs "$regs" --cpu nosuchcpu >"$tmp/out" 2>&1
check bad-cpu 2 $? "$tmp/out" "--cpu"
finish
