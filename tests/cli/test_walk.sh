#!/usr/bin/env bash
# kvmscope walk end to end: raw images built here, text and JSON output, exit
# statuses, and one clear error line for every kind of bad input.
# san: yes
set -u
K=${1:?usage: test_walk.sh path/to/kvmscope}
KS_PREFIX=walk/
. "$(dirname "$0")/lib.sh"
make_tmp T

REGS=(--cr3 0x1000 --cr0 0x80000011 --cr4 0x20 --efer 0x500)

# The seed: PML4E 0xbf9023 -> PDPT 0xbf9000 whose entry 0 is a 1 GiB page (0xa3).
mkimg "$T/seed.img" 0xbfa000 0x1000=0xbf9023 0xbf9000=0xa3

if run seed_text 1 walk --image "$T/seed.img" "${REGS[@]}" --access x 0x133025 &&
    has seed_text "pte bf9023 level 4" && has seed_text "pte a3 level 3" &&
    has seed_text "fault: #PF error code 0x9 (P|RSVD) at level 3: reserved bits 0x80" &&
    has seed_text "PS at level 3 needs 1 GiB pages: CPUID.80000001H:EDX[26]" &&
    has seed_text "addr 133025 pferr 10 F"; then
    if [ "$(grep -c '^pte ' "$T/out")" -eq 2 ] && [ ! -s "$T/err" ]; then
        pass seed_text
    else
        fail seed_text "want exactly two level lines and no stderr"
    fi
fi

if run seed_json 1 walk --image "$T/seed.img" "${REGS[@]}" --access x --json 0x133025; then
    if [ "$(jq -s 'length' "$T/out")" = 1 ] && jq -e '
        .address == "0x133025" and .access == "x" and (.levels | length) == 2 and
        .levels[0] == {"level":4,"index":0,"entry_gpa":"0x1000","entry":"0xbf9023","verdict":"ok"} and
        .levels[1].level == 3 and .levels[1].entry == "0xa3" and .levels[1].verdict == "reserved" and
        .levels[1].entry_gpa == "0xbf9000" and
        .fault.error_code == 9 and .fault.flags == "P|RSVD" and .fault.level == 3 and
        .fault.reserved_bits == "0x80" and (.fault.reason | test("1 GiB pages")) and
        (has("gpa") | not)' "$T/out" >/dev/null; then
        pass seed_json
    else
        fail seed_json "unexpected JSON: $(cat "$T/out")"
    fi
fi

# Same tables with a model that has pdpe1gb, or with --gbpages on: translated.
if run seed_skylake 0 walk --image "$T/seed.img" "${REGS[@]}" --cpu Skylake-Server --access x \
    0x133025 && has seed_skylake "gpa 0x133025 (1 GiB page at level 3"; then
    pass seed_skylake
fi
if run seed_gbpages_json 0 walk --image "$T/seed.img" "${REGS[@]}" --gbpages on --json 0x133025 &&
    jq -e '.gpa == "0x133025" and .page_size == 1073741824 and (has("fault") | not) and
        .levels[1].verdict == "ok"' "$T/out" >/dev/null; then
    pass seed_gbpages_json
else
    fail seed_gbpages_json "$(cat "$T/out")"
fi
# ... and pdpe1gb turned off again: fault.
if run seed_minus 1 walk --image "$T/seed.img" "${REGS[@]}" --cpu Skylake-Server,-pdpe1gb \
    0x133025 && has seed_minus "error code 0x9 (P|RSVD)"; then
    pass seed_minus
fi
# F kept with EFER.NXE.
if run seed_nxe 1 walk --image "$T/seed.img" "${REGS[@]}" --efer 0xd00 --access x 0x133025 &&
    has seed_nxe "error code 0x19 (P|RSVD|F)"; then
    pass seed_nxe
fi

# A 4 KiB chain with clear A/D bits: a user write sets A everywhere and D in the PTE.
mkimg "$T/chain.img" 0x6000 0x1000=0x2007 0x2000=0x3007 0x3000=0x4007 0x4998=0x5007
if run chain_json 0 walk --image "$T/chain.img" --cr3 0x1000 --access w --user --json 0x133025 &&
    jq -e '.gpa == "0x5025" and .page_size == 4096 and .user == true and
        (.ad_updates | map(.entry_gpa)) == ["0x1000","0x2000","0x3000","0x4998"] and
        .ad_updates[3].set == "AD"' "$T/out" >/dev/null; then
    pass chain_json
else
    fail chain_json "$(cat "$T/out")"
fi
if run chain_text 0 walk --image "$T/chain.img" --cr3 0x1000 --access w --user 0x133025 &&
    has chain_text "gpa 0x5025 (4 KiB page at level 1; user writable executable)" &&
    has chain_text "A+D at 0x4998"; then
    pass chain_text
fi
# A permission fault: user write to a read-only page.
mkimg "$T/ro.img" 0x6000 0x1000=0x2027 0x2000=0x3027 0x3000=0x4027 0x4998=0x5025
if run perm_fault 1 walk --image "$T/ro.img" --cr3 0x1000 --access w --user 0x133025 &&
    has perm_fault "fault: #PF error code 0x7 (P|W|U) at level 1: permission: write to a read-only"; then
    pass perm_fault
fi

# SMAP with RFLAGS.AC and implicit accesses; protection keys with --pkru.
mkimg "$T/user.img" 0x6000 0x1000=0x2027 0x2000=0x3027 0x3000=0x4027 0x4998=0x0800000000005027
SMAP=(--image "$T/user.img" --cr3 0x1000 --cr4 0x200020)
if run smap 1 walk "${SMAP[@]}" 0x133025 &&
    has smap "fault: #PF error code 0x1 (P) at level 1: permission: supervisor data access to a user page with CR4.SMAP=1 and RFLAGS.AC=0"; then
    pass smap
fi
if run smap_ac 0 walk "${SMAP[@]}" --rflags 0x40002 0x133025 && has smap_ac "gpa 0x5025"; then
    pass smap_ac
fi
if run smap_implicit 1 walk "${SMAP[@]}" --rflags 0x40002 --implicit 0x133025 &&
    has smap_implicit "(implicit access: RFLAGS.AC does not apply)"; then
    pass smap_implicit
fi
if run pkey 1 walk --image "$T/user.img" --cr3 0x1000 --cr4 0x400020 --pkru 0x4 --user --json \
    0x133025 && jq -e '.fault.error_code == 37 and .fault.flags == "P|U|0x20" and
        .fault.permission == true' "$T/out" >/dev/null; then
    pass pkey
else
    fail pkey "$(cat "$T/out")"
fi

# A non-canonical address is walked by its index bits (PML4 index 256 here), with a note.
mkimg "$T/noncanon.img" 0x6000 0x1800=0x2027 0x2000=0x3027 0x3000=0x4027 0x4998=0x5027
if run noncanonical 0 walk --image "$T/noncanon.img" --cr3 0x1000 0x800000133025 &&
    has noncanonical "note: 0x800000133025 is not canonical" &&
    has noncanonical "index 0x100" && has noncanonical "gpa 0x5025"; then
    pass noncanonical
fi

# Register bits the CPU model does not offer get a note (KVM would refuse them).
if run model_note 0 walk --image "$T/user.img" --cr3 0x1000 --cr4 0x300020 --cpu Haswell \
    --rflags 0x40000 0x133025 &&
    has model_note "note: CR4.SMAP is set but cpu Haswell lacks smap (CPUID.7H:EBX[20])" &&
    ! grep -q "CR4.SMEP" "$T/out"; then
    pass model_note
fi

# PAE: PDPTE register 0 -> PD 0x3000 -> 2 MiB page.
mkimg "$T/pae.img" 0x4000 0x1000=0x3001 0x3000=0x2000e7
if run pae 0 walk --image "$T/pae.img" --cr3 0x1000 --efer 0 --json 0x133025 &&
    jq -e '.mode == "PAE" and .gpa == "0x333025" and .levels[0].level == 3 and
        (.levels | length) == 2' "$T/out" >/dev/null; then
    pass pae
else
    fail pae "$(cat "$T/out")"
fi
# PAE with an invalid PDPTE: the CR3 load would #GP.
mkimg "$T/pae_bad.img" 0x4000 0x1000=0x3001 0x1008=0x8000000000003001
if run pae_gp 1 walk --image "$T/pae_bad.img" --cr3 0x1000 --efer 0 0x133025 &&
    has pae_gp "fault: #GP(0) when loading PAE PDPTE 1"; then
    pass pae_gp
fi
if run pae_gp_json 1 walk --image "$T/pae_bad.img" --cr3 0x1000 --efer 0 --json 0x133025 &&
    jq -e '.fault.vector == 13 and .fault.index == 1 and .fault.reserved_bits == "0x8000000000000000"
        and (.fault.reason | test("MOV to CR #GP"))' "$T/out" >/dev/null; then
    pass pae_gp_json
else
    fail pae_gp_json "$(cat "$T/out")"
fi
# 32-bit paging with PSE: a 4 MiB page whose PDE[16:13] gives GPA bits 35:32 (PSE-36).
mkimg "$T/pse.img" 0x2000 0x1004=0x00402083:4
if run pse36 0 walk --image "$T/pse.img" --cr3 0x1000 --efer 0 --cr4 0x10 0x533025 &&
    has pse36 "gpa 0x100533025 (4 MiB page at level 2" &&
    has pse36 "note: GPA 0x100533025 is beyond the image"; then
    pass pse36
fi
# Paging off: identity.
if run nopaging 0 walk --image "$T/pse.img" --cr3 0 --cr0 0x11 --efer 0 0x1234 &&
    has nopaging "gpa 0x1234"; then
    pass nopaging
fi

# A table outside the image is a walk result: KVM treats it as not present.
mkimg "$T/hole.img" 0x2000 0x1000=0x40000027
if run unbacked_text 1 walk --image "$T/hole.img" --cr3 0x1000 --access w 0x133025 &&
    has unbacked_text "(unbacked) level 3" &&
    has unbacked_text "fault: #PF error code 0x2 (W) at level 3" &&
    has unbacked_text "KVM treats an unbacked table as not present"; then
    pass unbacked_text
fi
if run unbacked_json 1 walk --image "$T/hole.img" --cr3 0x1000 --json 0x133025 &&
    jq -e '.levels[1].verdict == "not_present" and .levels[1].unbacked == true and
        .fault.error_code == 0 and .fault.level == 3' "$T/out" >/dev/null; then
    pass unbacked_json
else
    fail unbacked_json "$(cat "$T/out")"
fi

# Bad input: one error line, documented status.
printf '' >"$T/empty.img"
mkimg "$T/trunc.img" 0x2800 0x1000=0x2027
bad missing_image 4 "cannot open image" walk --image "$T/nope.img" --cr3 0x1000 0x0
bad no_image_flag 2 "--image FILE is required" walk --cr3 0x1000 0x0
bad empty_image 4 "is empty" walk --image "$T/empty.img" --cr3 0x1000 0x0
bad dir_image 4 "not a regular file" walk --image "$T" --cr3 0x1000 0x0
bad truncated 4 "image is truncated" walk --image "$T/trunc.img" --cr3 0x1000 0x4000000000
bad no_cr3 2 "--cr3 is required" walk --image "$T/seed.img" 0x0
bad cr3_beyond 2 "CR3 0x40000000 points beyond the image" \
    walk --image "$T/seed.img" --cr3 0x40000000 0x0
bad lma_no_pae 2 "needs CR4.PAE=1" walk --image "$T/seed.img" --cr3 0x1000 --cr4 0 0x0
bad lme_no_lma 2 "EFER.LMA must be 1" walk --image "$T/seed.img" --cr3 0x1000 --efer 0x100 0x0
bad pg_no_pe 2 "CR0.PG=1 needs CR0.PE=1" walk --image "$T/seed.img" --cr3 0x1000 \
    --cr0 0x80000000 0x0
bad cr0_high 2 "bits 63:32 of CR0" walk --image "$T/seed.img" --cr3 0x1000 \
    --cr0 0x180000011 0x0
bad efer_rsvd 2 "reserved EFER bits 0x2" walk --image "$T/seed.img" --cr3 0x1000 --efer 0x502 0x0
bad bad_access 2 "--access takes r, w or x, not 'q'" walk --image "$T/seed.img" --cr3 0x1000 \
    --access q 0x0
bad bad_number 2 "--cr3: 'zz' is not a number" walk --image "$T/seed.img" --cr3 zz 0x0
bad bad_address 2 "ADDRESS '0x13g' is not a number" walk --image "$T/seed.img" --cr3 0x1000 0x13g
bad no_address 2 "missing ADDRESS" walk --image "$T/seed.img" --cr3 0x1000
bad two_addresses 2 "one ADDRESS expected" walk --image "$T/seed.img" --cr3 0x1000 0x1 0x2
bad unknown_model 2 "unknown CPU model 'Haswel'" walk --image "$T/seed.img" --cr3 0x1000 \
    --cpu Haswel 0x0
bad unknown_feature 2 "unknown CPU feature 'bogus'" walk --image "$T/seed.img" --cr3 0x1000 \
    --cpu Haswell,+bogus 0x0
bad host_model 2 "live KVM" walk --image "$T/seed.img" --cr3 0x1000 --cpu host 0x0
bad maxphyaddr 2 "not between 32 and 52" walk --image "$T/seed.img" --cr3 0x1000 \
    --maxphyaddr 99 0x0
bad gbpages_word 2 "--gbpages takes on or off" walk --image "$T/seed.img" --cr3 0x1000 \
    --gbpages maybe 0x0
bad pkru_wide 2 "does not fit in 32 bits" walk --image "$T/seed.img" --cr3 0x1000 \
    --pkru 0x100000000 0x0
bad unknown_option 2 "unknown option" walk --image "$T/seed.img" --cr3 0x1000 --frobnicate 0x0
bad missing_value 2 "needs a value" walk --image "$T/seed.img" --cr3
bad implicit_user 2 "--implicit" walk --image "$T/seed.img" --cr3 0x1000 --implicit --user 0x0

if run help 0 walk --help && has help "usage: kvmscope walk"; then
    pass help
fi

[ "$fails" -eq 0 ]
