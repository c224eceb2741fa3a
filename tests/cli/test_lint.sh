#!/usr/bin/env bash
# kvmscope lint and run --lint end to end (docs/lint.md): findings (kinds,
# levels, counts, entry GPAs) in text and JSON on raw images built here, the
# CPU-model question (Haswell vs Skylake-Server), page-table cycles, bad
# input, the live lint of the guests/lint kernels under KVM, and a real QEMU
# TCG capture (pmemsave, dump-guest-memory, info registers) of the latent-bug
# kernel. KVM and QEMU parts SKIP when /dev/kvm or qemu-system-x86_64 is missing.
# san: yes
set -u
K=${1:?usage: test_lint.sh path/to/kvmscope}
BUILD=${BUILD:-$(dirname "$K")}
G=$BUILD/guests/lint
KS_PREFIX=lint/
. "$(dirname "$0")/lib.sh"
make_tmp T

# check NAME WANT_STATUS ARGS...: runs kvmscope, keeps stdout/stderr in $T/NAME.{out,err}
check() {
    local name=$1 want=$2 st
    shift 2
    timeout 20 "$K" "$@" >"$T/$name.out" 2>"$T/$name.err"
    st=$?
    if [ "$st" -ne "$want" ]; then
        fail "$name" "status $st, want $want: $(head -c 300 "$T/$name.err")"
        return 1
    fi
    return 0
}
# has NAME FILE REGEX: the file matches (grep -E); replaces lib.sh's has
has() { grep -qE -- "$3" "$2" && pass "$1" || fail "$1" "no /$3/ in $(head -c 400 "$2")"; }
# jqeq NAME FILE FILTER WANT
jqeq() {
    local got
    got=$(jq -c "$3" "$2" 2>&1)
    [ "$got" = "$4" ] && pass "$1" || fail "$1" "$3 = $got, want $4"
}

NX=0x8000000000000000
EFER=0xd00 # LMA | LME | NXE

# 1 GiB pages: PML4 0x1000 -> PDPT 0x2000 with two 1 GiB leaves (writable, no-execute).
mkimg "$T/gb.img" 0x4000 0x1000=0x2003 0x2000=$((NX | 0x83))*2@0x40000000
if check gb_haswell 1 lint --image "$T/gb.img" --cr3 0x1000 --efer $EFER --cpu Haswell; then
    has gb_haswell_kind "$T/gb_haswell.out" '^reserved: 2 entries in 1 run$'
    has gb_haswell_range "$T/gb_haswell.out" '^  0000000000000000-0000000080000000 level 3, 2 x 1G, reserved bits 0x80$'
    has gb_haswell_entry0 "$T/gb_haswell.out" 'level 3 entry at GPA 0x2000 = 0x8000000000000083 \(va 0x0\)'
    has gb_haswell_entry1 "$T/gb_haswell.out" 'level 3 entry at GPA 0x2008 = 0x8000000040000083 \(va 0x40000000\)'
    has gb_haswell_rule "$T/gb_haswell.out" 'rule: .*no 1 GiB pages.*CPUID.80000001H:EDX\[26\]'
    has gb_haswell_model "$T/gb_haswell.out" '^note: cpu Haswell has no pdpe1gb'
    has gb_haswell_total "$T/gb_haswell.out" '^1 finding \(reserved 2, wx 0, unbacked 0 entries\)'
fi
if check gb_skylake 0 lint --image "$T/gb.img" --cr3 0x1000 --efer $EFER --cpu Skylake-Server; then
    has gb_skylake_clean "$T/gb_skylake.out" '^0 findings'
    has gb_skylake_host_caveat "$T/gb_skylake.out" 'has pdpe1gb: 1 GiB leaves are valid in this model.s view.*host is unknown'
fi
check gb_override 1 lint --image "$T/gb.img" --cr3 0x1000 --efer $EFER --cpu Skylake-Server \
    --gbpages off && has gb_override_note "$T/gb_override.out" '^note: --gbpages off'
if check gb_json 1 lint --image "$T/gb.img" --cr3 0x1000 --efer $EFER --cpu Haswell --json; then
    jqeq gb_json_counts "$T/gb_json.out" '.lint.counts.reserved' '{"runs":1,"entries":2}'
    jqeq gb_json_kind "$T/gb_json.out" '[.lint.findings[] | [.kind, .level, .pages, .gbpages_rule]]' \
        '[["reserved",3,2,true]]'
    jqeq gb_json_entries "$T/gb_json.out" '[.lint.findings[0].entries[] | [.level, .entry_gpa, .entry]]' \
        '[[3,"0x2000","0x8000000000000083"],[3,"0x2008","0x8000000040000083"]]'
    jqeq gb_json_cpu "$T/gb_json.out" '[.cpu_model, .lint.cpu.gbpages, .lint.complete]' '["Haswell",false,true]'
fi
# Without NXE the XD bits are reserved too: two rules, still one run per rule set.
check gb_nonxe 1 lint --image "$T/gb.img" --cr3 0x1000 --cpu Skylake-Server --json &&
    jqeq gb_nonxe_bits "$T/gb_nonxe.out" '[.lint.findings[] | [.kind, .reserved_bits, .gbpages_rule]]' \
        '[["reserved","0x8000000000000000",false]]'

# W+X: PD 0x3000 entry 0 is a writable, executable 2 MiB page; entry 1 is W+NX (fine).
mkimg "$T/wx.img" 0x4000 0x1000=0x2003 0x2000=0x3003 0x3000=0x83 0x3008=$((NX | 0x200083))
if check wx_text 1 lint --image "$T/wx.img" --cr3 0x1000 --efer $EFER; then
    has wx_text_kind "$T/wx_text.out" '^wx: 1 entry in 1 run$'
    has wx_text_entry "$T/wx_text.out" 'level 2 entry at GPA 0x3000 = 0x0000000000000083 \(va 0x0\)'
    has wx_text_noreserved "$T/wx_text.out" '^reserved: none$'
fi
check wx_json 1 lint --image "$T/wx.img" --cr3 0x1000 --efer $EFER --json &&
    jqeq wx_json_findings "$T/wx_json.out" \
        '[.lint.findings[] | [.kind, .level, .start, .end, .entries[0].entry_gpa]]' \
        '[["wx",2,"0x0","0x200000","0x3000"]]'

# A user-only W+X page is not a supervisor W+X finding; all-NX is clean.
mkimg "$T/clean.img" 0x4000 0x1000=0x2007 0x2000=0x3007 0x3000=0x87 0x3008=$((NX | 0x200083))
check clean_image 0 lint --image "$T/clean.img" --cr3 0x1000 --efer $EFER &&
    has clean_image_none "$T/clean_image.out" '^0 findings'

# A present entry pointing at a table outside the image.
mkimg "$T/unb.img" 0x2000 0x1000=0x40000003
check unbacked 1 lint --image "$T/unb.img" --cr3 0x1000 --efer $EFER --json &&
    jqeq unbacked_json "$T/unbacked.out" '[.lint.findings[] | [.kind, .level, .entries[0].level, .entries[0].entry_gpa]]' \
        '[["unbacked",3,4,"0x1000"]]'

# Cycles: every PML4 entry points back at the PML4 (512^3 tables unbounded) must stop at the bound.
mkimg "$T/cyc.img" 0x1000 0x0=0x3*512@0
t0=$(date +%s%N)
if check cycle 1 lint --image "$T/cyc.img" --cr3 0 --json; then
    ms=$((($(date +%s%N) - t0) / 1000000))
    jqeq cycle_loop "$T/cycle.out" '[.lint.complete, .lint.counts.loop.runs, .lint.stats.tables]' \
        '[false,1,69]'
    [ "$ms" -lt 5000 ] && pass cycle_fast || fail cycle_fast "${ms} ms"
fi
# One recursive slot (PML4[0] -> PML4) is a legal design: it terminates well inside the bound.
mkimg "$T/self.img" 0x1000 0x0=0x3
check self_ref 1 lint --image "$T/self.img" --cr3 0 --json &&
    jqeq self_ref_json "$T/self_ref.out" '[.lint.complete, .lint.stats.tables, [.lint.findings[].kind]]' \
        '[true,4,["wx"]]'

# Bad input and usage.
check bad_missing 4 lint --image "$T/nonexistent" --cr3 0 && has bad_missing_msg "$T/bad_missing.err" 'cannot open image'
: >"$T/empty.img"
check bad_empty 4 lint --image "$T/empty.img" --cr3 0 && pass bad_empty_status
check bad_nocr3 2 lint --image "$T/gb.img" && has bad_nocr3_msg "$T/bad_nocr3.err" '--cr3 is required'
check bad_nosource 2 lint && pass bad_nosource_status
check bad_flag 2 lint --image "$T/gb.img" --cr3 0 --bogus && pass bad_flag_status
check bad_mix 2 lint --image "$T/gb.img" --cr3 0 --dump "$T/gb.img" && pass bad_mix_status
check bad_cpu 2 lint --image "$T/gb.img" --cr3 0x1000 --cpu NoSuchCPU && pass bad_cpu_status
check bad_cpu_host 2 lint --image "$T/gb.img" --cr3 0x1000 --cpu host && pass bad_cpu_host_status
check bad_cr3_beyond 2 lint --image "$T/gb.img" --cr3 0x100000 && pass bad_cr3_beyond_status
head -c 100 /dev/urandom >"$T/junk.core"
printf '\177ELF\002\001\001\004' >>"$T/junk.core"
check bad_core 4 lint --dump "$T/junk.core" && pass bad_core_status
printf 'hello, no registers here\n' >"$T/noregs.txt"
check bad_regs 4 lint --regs "$T/noregs.txt" --memory "$T/gb.img" && pass bad_regs_status
# PAE with a PDPTE that has reserved bits: the MOV to CR3 would #GP.
mkimg "$T/pae.img" 0x2000 0x1000=$((0x1 | 0x1e0))
check bad_pae 4 lint --image "$T/pae.img" --cr3 0x1000 --cr0 0x80000011 --cr4 0x20 --efer 0 &&
    has bad_pae_msg "$T/bad_pae.err" 'PAE PDPTEs'

# Live: run --lint on the lint kernels.
kvm_ok=1
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    kvm_ok=0
    skip run "no usable /dev/kvm"
elif [ ! -f "$G/latent.elf" ]; then
    kvm_ok=0
    fail run "$G/latent.elf was not built"
fi
if [ $kvm_ok = 1 ]; then
    if check run_latent 1 run --lint "$G/latent.elf"; then
        has run_latent_console "$T/run_latent.out" '^lint-latent: long mode'
        n=$(grep -c '^lint: reserved: 4 entries in 1 run$' "$T/run_latent.err")
        [ "$n" = 2 ] && pass run_latent_twice || fail run_latent_twice "$n reserved reports, want 2"
        has run_latent_points "$T/run_latent.err" '^lint: at first_cr3_load \(exit 1, rip 0x[0-9a-f]+\): 4-level paging, CR3 0x200000$'
        has run_latent_exit "$T/run_latent.err" '^lint: at exit \(debug_exit\)'
        for i in 00 08 10 18; do
            n=$(grep -c "level 3 entry at GPA 0x2030$i = " "$T/run_latent.err")
            [ "$n" = 2 ] && pass "run_latent_entry_$i" || fail "run_latent_entry_$i" "$n times"
        done
        has run_latent_rule "$T/run_latent.err" 'rule: 4 1 GiB page\(s\) in use but this vCPU has no 1 GiB pages'
    fi
    # The question for THIS host: a model with pdpe1gb still gets reserved 1 GiB leaves here
    # when KVM cannot give them (spec/host.md); the note says which it is.
    if check run_latent_skx 1 run --lint --cpu Skylake-Server "$G/latent.elf"; then
        if grep -q 'pdpe1gb' <("$K" cpu Skylake-Server 2>&1) && grep -q "^lint: reserved: none" "$T/run_latent_skx.err"; then
            has run_latent_skx_valid "$T/run_latent_skx.err" 'valid \(the model has pdpe1gb and this host'
        else
            has run_latent_skx_host "$T/run_latent_skx.err" "has pdpe1gb, but THIS host's KVM cannot give 1 GiB pages at all"
        fi
    fi
    if check run_latent_json 1 run --lint --json "$G/latent.elf"; then
        jqeq run_json_points "$T/run_latent_json.out" '[.lint[].at]' '["first_cr3_load","exit"]'
        jqeq run_json_findings "$T/run_latent_json.out" \
            '[.lint[].result.findings[] | [.kind, .level, .pages, .gbpages_rule, [.entries[].entry_gpa]]]' \
            '[["reserved",3,4,true,["0x203000","0x203008","0x203010","0x203018"]],["reserved",3,4,true,["0x203000","0x203008","0x203010","0x203018"]]]'
        jqeq run_json_status "$T/run_latent_json.out" '[.outcome, .exit_status]' '["debug_exit",1]'
    fi
    check run_latent_strict 16 run --lint=strict "$G/latent.elf" && pass run_latent_strict_status
    if check run_wx 1 run --lint --json "$G/wx.elf"; then
        jqeq run_wx_findings "$T/run_wx.out" \
            '[.lint[].result.findings[] | [.kind, .level, .start, .entries[0].entry_gpa, .entries[0].entry]]' \
            '[["wx",2,"0x400000","0x202010","0x400083"],["wx",2,"0x400000","0x202010","0x400083"]]'
    fi
    check run_wx_strict 16 run --lint=strict "$G/wx.elf" && pass run_wx_strict_status
    if check run_clean 1 run --lint=strict --json "$G/clean.elf"; then
        jqeq run_clean_none "$T/run_clean.out" '[.lint[] | .result.findings | length]' '[0,0]'
        n=$(grep -c '^lint: 0 findings' "$T/run_clean.err")
        [ "$n" = 2 ] && pass run_clean_text || fail run_clean_text "$n clean reports, want 2"
    fi
    # Without --lint nothing is linted and nothing is printed.
    check run_nolint 1 run --json "$G/latent.elf" &&
        jqeq run_nolint_json "$T/run_nolint.out" 'has("lint")' 'false'
    check run_badlint 2 run --lint=loud "$G/clean.elf" && pass run_badlint_status
    # Live cycles (guests/hostile/pt-cycle): both lints terminate, the guest's own status stays.
    cyc=$BUILD/guests/hostile/pt-cycle.bin
    if [ -f "$cyc" ] && check run_ptcycle 6 run --lint --entry 0x100000 "$cyc"; then
        has run_ptcycle_exit "$T/run_ptcycle.err" '^lint: at exit \(triple_fault\)'
        has run_ptcycle_done "$T/run_ptcycle.err" '^lint: [0-9]+ findings? .*tables'
    fi
fi

# A real QEMU TCG capture of the latent-bug kernel (TCG ignores reserved PS bits, so it runs).
if ! command -v qemu-system-x86_64 >/dev/null; then
    skip qemu "qemu-system-x86_64 is not installed"
elif [ ! -f "$G/latent.elf" ]; then
    fail qemu "$G/latent.elf was not built"
else
    Q=$T/q
    mkdir -p "$Q"
    (
        for _ in $(seq 50); do grep -q lint-latent "$Q/serial.txt" 2>/dev/null && break; sleep 0.1; done
        echo "info registers"
        echo "pmemsave 0 0x400000 \"$Q/mem.bin\""
        echo "dump-guest-memory $Q/core.elf"
        sleep 0.5
        echo quit
    ) | timeout 30 qemu-system-x86_64 -machine accel=tcg -cpu qemu64 -m 16 -kernel "$G/latent.elf" \
        -display none -serial "file:$Q/serial.txt" -monitor stdio -nodefaults -no-reboot \
        >"$Q/regs.txt" 2>"$Q/qemu.err"
    if [ ! -s "$Q/mem.bin" ] || [ ! -s "$Q/core.elf" ]; then
        fail qemu_capture "no pmemsave/dump-guest-memory output: $(head -c 300 "$Q/qemu.err")"
    else
        pass qemu_capture
        if check q_regs_haswell 1 lint --regs "$Q/regs.txt" --memory "$Q/mem.bin" --cpu Haswell; then
            has q_regs_haswell_kind "$T/q_regs_haswell.out" '^reserved: 4 entries in 1 run$'
            has q_regs_haswell_entry "$T/q_regs_haswell.out" 'level 3 entry at GPA 0x203018 = 0x80000000c0000083'
            has q_regs_haswell_efer "$T/q_regs_haswell.out" 'EFER 0xd00'
        fi
        check q_regs_skylake 0 lint --regs "$Q/regs.txt" --memory "$Q/mem.bin" --cpu Skylake-Server &&
            has q_regs_skylake_clean "$T/q_regs_skylake.out" '^0 findings'
        check q_core_haswell 1 lint --dump "$Q/core.elf" --efer 0xd00 --cpu Haswell --json &&
            jqeq q_core_haswell_json "$T/q_core_haswell.out" \
                '[.lint.findings[] | [.kind, .level, .pages, [.entries[].entry_gpa]]]' \
                '[["reserved",3,4,["0x203000","0x203008","0x203010","0x203018"]]]'
        check q_core_skylake 0 lint --dump "$Q/core.elf" --efer 0xd00 --cpu Skylake-Server && pass q_core_skylake_status
        # A core has no EFER: NXE is inferred 0, so the XD bits read as reserved; the note says so.
        check q_core_noefer 1 lint --dump "$Q/core.elf" --cpu Skylake-Server &&
            has q_core_noefer_note "$T/q_core_noefer.out" 'bit-63 \(XD\) findings are false; give --efer'
        check q_image 1 lint --image "$Q/mem.bin" --cr3 0x200000 --efer 0xd00 --cpu Haswell &&
            has q_image_kind "$T/q_image.out" '^reserved: 4 entries in 1 run$'
        check q_regs_nomem 2 lint --regs "$Q/regs.txt" &&
            has q_regs_nomem_msg "$T/q_regs_nomem.err" 'no guest memory'
        check q_image_regs_mix 2 lint --image "$Q/mem.bin" --regs "$Q/regs.txt" && pass q_image_regs_mix_status
    fi
fi

[ "$fails" -eq 0 ]
