#!/usr/bin/env bash
# kvmscope pt end to end: listing, coalescing, lint findings, JSON, exit statuses
# and bad input, on raw images built here.
# san: yes
set -u
K=${1:?usage: test_pt.sh path/to/kvmscope}
KS_PREFIX=pt/
. "$(dirname "$0")/lib.sh"
make_tmp T

# The seed's direct map (32 x 1 GiB at PDPT 0xbf9000) plus a kernel in the upper half:
# 16 pages R-X, 16 pages RW- (NX), 2 pages RWX.
mkimg "$T/seed.img" 0xbfa000 0x1000=0xbf9023 "0xbf9000=0x83*32@0x40000000" \
    0x1ff8=0x2003 0x2ff0=0x3003 0x3000=0x4003 "0x4000=0x100021*16@0x1000" \
    "0x4080=0x8000000000110063*16@0x1000" "0x4100=0x120063*2@0x1000"
NX=(--image "$T/seed.img" --cr3 0x1000 --efer 0xd00)

if run seed_lint 1 pt "${NX[@]}" --lint &&
    has seed_lint "0000000000000000-0000000800000000 0000000800000000 -rwx 1G   RESERVED at level 3: bits 0x80 (32 entries" &&
    has seed_lint "ffffffff80000000-ffffffff80010000 0000000000010000 -r-x 4K   gpa 0x100000" &&
    has seed_lint "ffffffff80010000-ffffffff80020000 0000000000010000 -rw- 4K   gpa 0x110000" &&
    has seed_lint "lint: 0000000000000000-0000000800000000 reserved: 32 1 GiB page(s) in use but this vCPU has no 1 GiB pages" &&
    has seed_lint "lint: ffffffff80020000-ffffffff80022000 wx: supervisor mapping is writable and executable" &&
    has seed_lint "lint: 2 findings"; then
    pass seed_lint
fi

if run seed_json 1 pt "${NX[@]}" --lint --json; then
    if [ "$(jq -s length "$T/out")" = 1 ] && jq -e '
        .mode == "4-level" and (.ranges | length) == 4 and
        .ranges[0].verdict == "reserved" and .ranges[0].reserved_bits == "0x80" and
        .ranges[0].pages == 32 and .ranges[0].page_size == 1073741824 and
        .ranges[1].start == "0xffffffff80000000" and .ranges[1].executable == true and
        .ranges[1].writable == false and .ranges[2].executable == false and
        .ranges[2].gpa == "0x110000" and .ranges[2].phys_contig == true and
        ([.lint[].kind] == ["reserved", "wx"]) and .stats.pages == 34' "$T/out" >/dev/null; then
        pass seed_json
    else
        fail seed_json "$(cat "$T/out")"
    fi
fi

# Without --lint the listing alone succeeds; with a model that has 1 GiB pages the map is fine.
if run seed_nolint 0 pt "${NX[@]}" && has seed_nolint "RESERVED at level 3"; then
    pass seed_nolint
fi
if run seed_epyc 1 pt "${NX[@]}" --cpu EPYC --lint --json &&
    jq -e '.ranges[0].verdict == "ok" and .ranges[0].gpa == "0x0" and
        ([.lint[].kind] == ["wx", "wx"])' "$T/out" >/dev/null; then
    pass seed_epyc
else
    fail seed_epyc "$(cat "$T/out")"
fi

# A clean kernel map: lint finds nothing, exit 0.
mkimg "$T/clean.img" 0x5000 0x1ff8=0x2003 0x2ff0=0x3003 0x3000=0x4003 \
    "0x4000=0x100021*16@0x1000" "0x4080=0x8000000000110063*16@0x1000"
if run clean 0 pt --image "$T/clean.img" --cr3 0x1000 --efer 0xd00 --lint &&
    has clean "lint: 0 findings" && has clean "2 runs, 32 pages"; then
    pass clean
fi

# 32-bit paging with PSE: a 4 MiB page, a page table, and a PDE with PSE-36 reserved bits.
mkimg "$T/pse.img" 0x4000 0x1004=0x00402083:4 0x1008=0x3007:4 0x3000=0x5007:4 \
    0x3004=0x6005:4 0x100c=0x00420083:4
if run pse 1 pt --image "$T/pse.img" --cr3 0x1000 --efer 0 --cr4 0x10 --lint &&
    has pse "00400000-00800000 00400000 -rwx 4M   gpa 0x100400000" &&
    has pse "00800000-00801000 00001000 urwx 4K   gpa 0x5000" &&
    has pse "00801000-00802000 00001000 ur-x 4K   gpa 0x6000" &&
    has pse "00c00000-01000000 00400000 -rwx 4M   RESERVED at level 2: bits 0x20000" &&
    has pse "KVM assumes PSE-36"; then
    pass pse
fi
# PAE: PDPTE 3 -> a 2 MiB page at the top of 4 GiB.
mkimg "$T/pae.img" 0x4000 0x1018=0x3001 0x3ff8=0x2000e3
if run pae 0 pt --image "$T/pae.img" --cr3 0x1000 --efer 0 --json &&
    jq -e '.mode == "PAE" and (.ranges | length) == 1 and .ranges[0].start == "0xffe00000" and
        .ranges[0].page_size == 2097152' "$T/out" >/dev/null; then
    pass pae
else
    fail pae "$(cat "$T/out")"
fi
mkimg "$T/pae_bad.img" 0x4000 0x1008=0x3007
if run pae_gp 1 pt --image "$T/pae_bad.img" --cr3 0x1000 --efer 0 &&
    has pae_gp "fault: #GP(0) when loading PAE PDPTE 1"; then
    pass pae_gp
fi
# Paging off: memory is identity-mapped.
if run nopaging 0 pt --image "$T/pae.img" --cr3 0 --cr0 0x11 --efer 0 --json &&
    jq -e '.ranges == [{"start":"0x0","end":"0x4000","size":"0x4000","page_size":0,"level":0,
        "user":true,"writable":true,"executable":true,"pkey":0,"pages":1,"verdict":"ok",
        "gpa":"0x0","phys_contig":true}]' "$T/out" >/dev/null; then
    pass nopaging
else
    fail nopaging "$(cat "$T/out")"
fi
# A present entry pointing outside the image: an unbacked run and a lint finding.
mkimg "$T/hole.img" 0x2000 0x1000=0x40000027
if run unbacked 1 pt --image "$T/hole.img" --cr3 0x1000 --lint &&
    has unbacked "UNBACKED level-3 table: entry GPA 0x40000000 is outside memory" &&
    has unbacked "unbacked: a present entry points at a level-3 table outside guest memory"; then
    pass unbacked
fi

mkimg "$T/trunc.img" 0x2800 0x1000=0x2027
mkimg "$T/loop.img" 0x2000 "0x1000=0x1027*512@0"
bad self_loop 4 "page tables refer back to themselves" pt --image "$T/loop.img" --cr3 0x1000
bad truncated 4 "image is truncated: a page table at 0x2000" pt --image "$T/trunc.img" --cr3 0x1000
bad missing_image 4 "cannot open image" pt --image "$T/nope.img" --cr3 0x1000
bad cr3_beyond 2 "points beyond the image" pt --image "$T/hole.img" --cr3 0x100000
bad extra_arg 2 "unexpected argument '0x1000'" pt --image "$T/hole.img" --cr3 0x1000 0x1000
bad unknown_model 2 "unknown CPU model 'Skylake'" pt --image "$T/hole.img" --cr3 0x1000 --cpu Skylake
bad lma_no_pae 2 "needs CR4.PAE=1" pt --image "$T/hole.img" --cr3 0x1000 --cr4 0
bad no_cr3 2 "--cr3 is required" pt --image "$T/hole.img"
bad bad_option 2 "unknown option" pt --image "$T/hole.img" --cr3 0x1000 --access w

if run help 0 pt --help && has help "usage: kvmscope pt"; then
    pass help
fi

[ "$fails" -eq 0 ]
