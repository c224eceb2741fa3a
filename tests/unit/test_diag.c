/*
 * The explainer on canned snapshots: one test per cause id, the seed's
 * state, two-reason crashes, and snapshots that must not raise an alarm.
 * Expected chains follow SDM Vol. 3A §6.13-6.15; error codes follow
 * spec/paging.md §3 (e.g. F only with EFER.NXE or CR4.SMEP).
 */
#include "test_diag.h"

/* The seed (V1) under a 64-bit kernel: every walk goes through the 1 GiB PDPTE. */
static void test_gbpages_triple_fault(void)
{
    fixture();
    put64(0x2000, 0x83);
    explain();
    EXPECT_CAUSE("rsvd-gbpages");
    EXPECT(diag_secondary_id(rep) == NULL);
    EXPECT_EQ(diag_fault_level(rep), 3);
    EXPECT_EQ(diag_exception_count(rep), 4);
    EXPECT(exc_is(0, X86_PF, 0x9));
    EXPECT_EQ(exc_cr2(0), 0x10000);
    EXPECT(exc_is(1, X86_PF, 0x9)); /* reading IDT gate 14 */
    EXPECT_EQ(exc_cr2(1), 0x9000 + 14 * 16);
    EXPECT(exc_is(2, X86_DF, 0));
    EXPECT(exc_is(3, X86_PF, 0x9)); /* reading IDT gate 8 */
    EXPECT_EQ(exc_cr2(3), 0x9000 + 8 * 16);
    EXPECT(diag_triple_fault(rep));
    EXPECT_CONTAINS(sb_str(&text), "PS at level 3");
    EXPECT_CONTAINS(sb_str(&text), "F is not reported because EFER.NXE=0 and CR4.SMEP=0");
    EXPECT_CONTAINS(sb_str(&json), "\"cause\":{\"id\":\"rsvd-gbpages\"");
    EXPECT_CONTAINS(
        sb_str(&json),
        "\"levels\":[{\"level\":4,\"index\":0,\"entry_gpa\":\"0x1000\",\"entry\":\"0x2003\","
        "\"verdict\":\"ok\"}");
    EXPECT_CONTAINS(sb_str(&json), "\"fault\":{\"vector\":14,\"error_code\":9,\"flags\":\"P|RSVD\","
                                   "\"level\":3,\"reserved_bits\":\"0x80\"");
    EXPECT_CONTAINS(sb_str(&json),
                    "\"exceptions\":[{\"vector\":14,\"name\":\"#PF\",\"error_code\":9,"
                    "\"cr2\":\"0x10000\"");
}

/* The seed's own registers (shared/seed/kvm-1gb-pages.txt) with its two walked entries. */
static void seed_state(void)
{
    struct x86_state *s = &snap.s;

    fixture();
    snap.event = SNAP_EV_INTERNAL_ERROR;
    snap.internal_suberror = 1;
    snap.have |= SNAP_EFER_INFERRED;
    s->cr3 = 0xbf8000;
    s->cr4 = 0x20;
    s->cr0 = 0x80000011;
    s->rip = 0x133025;
    s->gpr[X86_RAX] = 0x80000011;
    s->gpr[X86_RCX] = 0xc0000080;
    s->gpr[X86_RSP] = 0x1bfa000;
    s->rflags = 0x10086;
    s->seg[X86_SEG_CS] = (struct x86_seg){
        .selector = 0x10, .type = 0xb, .s = 1, .present = 1, .db = 1, .limit = 0xffffffff, .g = 1};
    for (unsigned i = 0; i < X86_NR_SREGS; i++)
        if (i != X86_SEG_CS && i != X86_SEG_LDTR && i != X86_SEG_TR)
            s->seg[i] = (struct x86_seg){.selector = 0x18,
                                         .type = 0x3,
                                         .s = 1,
                                         .present = 1,
                                         .db = 1,
                                         .limit = 0xffffffff,
                                         .g = 1};
    s->seg[X86_SEG_TR] =
        (struct x86_seg){.selector = 0, .type = 0xb, .present = 1, .limit = 0xffff};
    s->gdt = (struct x86_dtable){.base = 0x100018, .limit = 0xf};
    s->idt = (struct x86_dtable){.base = 0, .limit = 0};
    put64(0xbf8000, 0xbf9023);
    put64(0xbf9000, 0xa3);
    static const uint8_t insn[] = {0x66, 0xc7, 0x05, 0x00, 0x80, 0x0b, 0x00, 0x48, 0x02};
    put_code(0x133025, insn, sizeof(insn));
}

static void test_seed(void)
{
    seed_state();
    snprintf(snap.cpu_model, sizeof(snap.cpu_model), "qemu64");
    explain();
    EXPECT_CAUSE("rsvd-gbpages");
    EXPECT_STR(diag_secondary_id(rep), "idt-limit");
    EXPECT_EQ(diag_fault_level(rep), 3);
    EXPECT(exc_is(0, X86_PF, 0x9));
    EXPECT_EQ(exc_cr2(0), 0x133025);
    EXPECT(exc_is(1, X86_GP, 14 * 8 + 2 + 1)); /* IDT, EXT */
    EXPECT(exc_is(2, X86_DF, 0));
    EXPECT(exc_is(3, X86_GP, 8 * 8 + 2 + 1));
    EXPECT(diag_triple_fault(rep));
    EXPECT_CONTAINS(sb_str(&text), "32-bit compatibility mode");
    EXPECT_CONTAINS(sb_str(&text), "CS=0x10, SS=0x18, DS=0x18");
    EXPECT_CONTAINS(sb_str(&text), "beyond the GDT limit 0xf");
    EXPECT_CONTAINS(sb_str(&text), "EMULTYPE_SKIP");
    EXPECT_CONTAINS(sb_str(&text), "-cpu qemu64,pdpe1gb");
    EXPECT_CONTAINS(sb_str(&text), "Skylake-Server");
    EXPECT_CONTAINS(sb_str(&text), "PDPTE @ GPA 0xbf9000: 0xa3");
    /* What the hardware would have run: the VGA store of the seed's objdump, absolute here. */
    EXPECT_CONTAINS(sb_str(&text), "RIP maps to GPA 0x133025: `mov word ptr [0x000b8000], 0x248`");
}

/* The vCPU asked for pdpe1gb, but this host's KVM dropped it (PVM: no 1 GiB pages). */
static void test_gbpages_host_cannot(void)
{
    const struct cpu_feature *f = cpu_feature_find("pdpe1gb");

    seed_state();
    snap.have |= SNAP_HAVE_CPUID;
    snprintf(snap.cpu_model, sizeof(snap.cpu_model), "qemu64,pdpe1gb");
    snap.cpuid.n = 1;
    snap.cpuid.e[0] = (struct cpuid_entry){.function = 0x80000001};
    explain();
    EXPECT_CAUSE("rsvd-gbpages");
    EXPECT_CONTAINS(sb_str(&text), "this host's KVM does not offer 1 GiB pages");
    EXPECT_CONTAINS(sb_str(&text), "requested pdpe1gb was dropped");

    /* In the CPUID, but KVM's effective GBPAGES is off (kernel >= 6.14 caps). */
    cpuid_set(&snap.cpuid, f, true);
    snap.pt_cpu.gbpages = false;
    explain();
    EXPECT_CONTAINS(sb_str(&text), "KVM ignores the bit in the vCPU's CPUID");
}

static void test_rsvd_nx(void)
{
    fixture();
    put64(0x4000 + 0x10 * 8, 0x10003 | PTE_NX);
    explain();
    EXPECT_CAUSE("rsvd-nx");
    EXPECT_EQ(diag_fault_level(rep), 1);
    EXPECT(exc_is(0, X86_PF, 0x9));
    EXPECT_EQ(diag_exception_count(rep), 1); /* the IDT, handler and stack are fine */
    EXPECT(!diag_triple_fault(rep));
    EXPECT_CONTAINS(sb_str(&text), "set EFER.NXE");
    EXPECT_CONTAINS(sb_str(&text), "0x8000000000010003 -> 0x10003");
}

static void test_rsvd_maxphyaddr(void)
{
    fixture();
    put64(0x3000, 0x4003 | KS_BIT(40));
    explain();
    EXPECT_CAUSE("rsvd-maxphyaddr");
    EXPECT_EQ(diag_fault_level(rep), 2);
    EXPECT(diag_triple_fault(rep));
    EXPECT_CONTAINS(sb_str(&text), "MAXPHYADDR is 36");
}

static void test_rsvd_large_page(void)
{
    fixture();
    CODE(0x48, 0x8b, 0x03); /* mov rax, [rbx] */
    snap.s.gpr[X86_RBX] = 0x200000;
    put64(0x3008, 0x2000a3 | KS_BIT(13));
    explain();
    EXPECT_CAUSE("rsvd-large-page");
    EXPECT_EQ(diag_fault_level(rep), 2);
    EXPECT(exc_is(0, X86_PF, 0x9));
    EXPECT_EQ(exc_cr2(0), 0x200000);
    EXPECT_CONTAINS(sb_str(&text), "0x2020a3 -> 0x2000a3");
}

static void test_rsvd_ps_top_level(void)
{
    fixture();
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x8000000000ull;
    put64(0x1008, 0x20a3);
    explain();
    EXPECT_CAUSE("rsvd-ps-top-level");
    EXPECT_EQ(diag_fault_level(rep), 4);
    EXPECT(exc_is(0, X86_PF, 0x9));
}

static void test_rsvd_amd_bit8(void)
{
    fixture();
    snap.pt_cpu.amd = true;
    put64(0x1000, 0x2103);
    explain();
    EXPECT_CAUSE("rsvd-amd-bit8");
    EXPECT_EQ(diag_fault_level(rep), 4);
    EXPECT(diag_triple_fault(rep));
}

/* Two reasons: the data page is missing, and gate 14 is not present. */
static void test_not_present_and_idt_gate(void)
{
    fixture();
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x300000; /* PD[1] is 0 */
    set_gate(14, 0x11000, 0x08, 0, false);
    explain();
    EXPECT_CAUSE("not-present");
    EXPECT_STR(diag_secondary_id(rep), "idt-gate");
    EXPECT_EQ(diag_fault_level(rep), 2);
    EXPECT(exc_is(0, X86_PF, 0x0));
    EXPECT_EQ(exc_cr2(0), 0x300000);
    EXPECT(exc_is(1, X86_NP, 14 * 8 + 3));
    EXPECT(exc_is(2, X86_DF, 0));
    EXPECT_EQ(diag_exception_count(rep), 3);
    EXPECT(!diag_triple_fault(rep)); /* gate 8 works: the #DF handler runs */
}

static void test_write_protect(void)
{
    fixture();
    CODE(0x89, 0x03); /* mov [rbx], eax */
    snap.s.gpr[X86_RBX] = 0x50000;
    put64(0x4000 + 0x50 * 8, 0x50001);
    explain();
    EXPECT_CAUSE("write-protect");
    EXPECT_EQ(diag_fault_level(rep), 1);
    EXPECT(exc_is(0, X86_PF, 0x3));
    EXPECT_CONTAINS(sb_str(&text), "0x50001 -> 0x50003");
}

static void test_user_supervisor(void)
{
    fixture();
    all_user();
    snap.cpl = 3;
    snap.s.seg[X86_SEG_CS].selector = 0x2b;
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x50000;
    put64(0x4000 + 0x50 * 8, 0x50003);
    explain();
    EXPECT_CAUSE("user-supervisor");
    EXPECT(exc_is(0, X86_PF, 0x5));
    EXPECT_EQ(diag_exception_count(rep), 1); /* delivered on the RSP0 stack */
    EXPECT_CONTAINS(sb_str(&text), "stack 0x2ffd0");
}

static void test_nx_fetch(void)
{
    fixture();
    snap.s.efer |= X86_EFER_NXE;
    put64(0x4000 + 0x10 * 8, 0x10003 | PTE_NX);
    explain();
    EXPECT_CAUSE("nx-fetch");
    EXPECT(exc_is(0, X86_PF, 0x11));
    EXPECT_EQ(diag_fault_level(rep), 1);
}

/* SMEP set although the vCPU's CPUID lacks it: smep, and cr-unsupported second. */
static void test_smep_and_cr_unsupported(void)
{
    fixture();
    all_user();
    snap.have |= SNAP_HAVE_CPUID;
    snap.s.cr4 |= X86_CR4_SMEP;
    explain();
    EXPECT_CAUSE("smep");
    EXPECT_STR(diag_secondary_id(rep), "cr-unsupported");
    EXPECT(exc_is(0, X86_PF, 0x11));
    EXPECT_CONTAINS(sb_str(&text), "accepts CR4.SMEP anyway");
}

/* SMAP also blocks the implicit IDT read of a user page: #PF, #DF, triple fault. */
static void test_smap(void)
{
    fixture();
    all_user();
    snap.s.cr4 |= X86_CR4_SMAP;
    snap.s.rflags |= X86_RFLAGS_AC;    /* AC does not help implicit accesses */
    put64(0x4000 + 0x10 * 8, 0x10003); /* code is supervisor */
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x50000;
    snap.s.rflags &= ~X86_RFLAGS_AC;
    explain();
    EXPECT_CAUSE("smap");
    EXPECT(exc_is(0, X86_PF, 0x1));
    EXPECT(exc_is(1, X86_PF, 0x1));
    EXPECT_EQ(exc_cr2(1), 0x90e0);
    EXPECT(diag_triple_fault(rep));
}

static void test_pkey(void)
{
    fixture();
    all_user();
    put64(0x4000 + 0x10 * 8, 0x10003);
    snap.s.cr4 |= X86_CR4_PKE;
    snap.s.pkru = 0x4; /* key 1: access disable */
    put64(0x4000 + 0x50 * 8, 0x50007 | (1ull << 59));
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x50000;
    explain();
    EXPECT_CAUSE("pkey");
    EXPECT(exc_is(0, X86_PF, 0x21));
    EXPECT_CONTAINS(sb_str(&text), "PKRU 0x4 denies key 1");
}

/* INT3 with no IDT: the root is the IDT, not the breakpoint. */
static void test_idt_limit(void)
{
    fixture();
    CODE(0xcc);
    snap.s.idt.limit = 0;
    explain();
    EXPECT_CAUSE("idt-limit");
    EXPECT(diag_secondary_id(rep) == NULL);
    EXPECT(exc_is(0, X86_BP, -1));
    EXPECT(exc_is(1, X86_GP, 3 * 8 + 2)); /* software INT: EXT=0 */
    EXPECT(exc_is(2, X86_GP, 13 * 8 + 3));
    EXPECT(exc_is(3, X86_DF, 0));
    EXPECT(exc_is(4, X86_GP, 8 * 8 + 3));
    EXPECT(diag_triple_fault(rep));
    EXPECT_EQ(diag_fault_level(rep), 0);
    EXPECT_CONTAINS(sb_str(&text), "load an IDT");
}

static void test_idt_gate_dpl(void)
{
    fixture();
    all_user();
    snap.cpl = 3;
    snap.s.seg[X86_SEG_CS].selector = 0x2b;
    CODE(0xcc);
    explain();
    EXPECT_CAUSE("idt-gate");
    EXPECT(exc_is(1, X86_GP, 3 * 8 + 2));
    EXPECT_EQ(diag_exception_count(rep), 2); /* the #GP is delivered */
}

static void test_stack_fault(void)
{
    fixture();
    CODE(0x50); /* push rax */
    snap.s.gpr[X86_RSP] = 0x60000;
    put64(0x4000 + 0x5f * 8, 0);
    explain();
    EXPECT_CAUSE("stack-fault");
    EXPECT(exc_is(0, X86_PF, 0x2));
    EXPECT_EQ(exc_cr2(0), 0x5fff8);
    EXPECT(exc_is(1, X86_PF, 0x2)); /* the exception frame goes to the same stack */
    EXPECT(exc_is(2, X86_DF, 0));
    EXPECT(diag_triple_fault(rep));
    EXPECT_EQ(diag_fault_level(rep), 1);
}

/* Two reasons: a missing data page, and no stack to deliver the #PF on. */
static void test_not_present_and_stack(void)
{
    fixture();
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x300000;
    snap.s.gpr[X86_RSP] = 0x60000;
    put64(0x4000 + 0x5f * 8, 0);
    explain();
    EXPECT_CAUSE("not-present");
    EXPECT_STR(diag_secondary_id(rep), "stack-fault");
    EXPECT(diag_triple_fault(rep));
}

static void test_non_canonical(void)
{
    fixture();
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x0000800000000000ull;
    explain();
    EXPECT_CAUSE("non-canonical");
    EXPECT(exc_is(0, X86_GP, 0));
    EXPECT_EQ(diag_exception_count(rep), 1);
    /* mov rax, [rbp]: RBP-based operands use SS, so the fault is #SS(0), not #GP(0). */
    fixture();
    CODE(0x48, 0x8b, 0x45, 0x00);
    snap.s.gpr[X86_RBP] = 0x0000800000000000ull;
    explain();
    EXPECT_CAUSE("non-canonical");
    EXPECT(exc_is(0, X86_SS, 0));
}

static void test_bad_selector(void)
{
    fixture();
    CODE(0x8e, 0xd8); /* mov ds, ax */
    snap.s.gpr[X86_RAX] = 0x30;
    explain();
    EXPECT_CAUSE("bad-selector");
    EXPECT(exc_is(0, X86_GP, 0x30));
    /* TI=1 with no LDT loaded, then beyond a small LDT: #GP(selector), TI in the code. */
    snap.s.gpr[X86_RAX] = 0x34;
    explain();
    EXPECT_CAUSE("bad-selector");
    EXPECT(exc_is(0, X86_GP, 0x34));
    snap.s.seg[X86_SEG_LDTR] =
        (struct x86_seg){.present = 1, .type = 2, .base = 0x8800, .limit = 0xf};
    explain();
    EXPECT_CAUSE("bad-selector");
    EXPECT(exc_is(0, X86_GP, 0x34));
}

/* Two reasons: a missing page, and gate 14 points at a 32-bit code segment. */
static void test_gdt_descriptor(void)
{
    fixture();
    CODE(0x48, 0x8b, 0x03);
    snap.s.gpr[X86_RBX] = 0x300000;
    set_gate(14, 0x11000, 0x18, 0, true);
    explain();
    EXPECT_CAUSE("not-present");
    EXPECT_STR(diag_secondary_id(rep), "gdt-descriptor");
    EXPECT(exc_is(1, X86_GP, 0x18 | 1));
    EXPECT(exc_is(2, X86_DF, 0));
    EXPECT_CONTAINS(sb_str(&text), "must be 64-bit (L=1, D=0)");
    /* A gate selecting the LDT while none is loaded (a stale limit must not matter). */
    set_gate(14, 0x11000, 0x0c, 0, true);
    snap.s.seg[X86_SEG_LDTR] = (struct x86_seg){.unusable = 1, .limit = 0xffff};
    explain();
    EXPECT_STR(diag_secondary_id(rep), "bad-selector");
    EXPECT(exc_is(1, X86_GP, 0x0c | 1));
}

static void test_cr_invalid(void)
{
    fixture();
    snap.s.cr0 &= ~X86_CR0_PE;
    explain();
    EXPECT_CAUSE("cr-invalid");
}

static void test_unbacked_fetch(void)
{
    fixture();
    put64(0x4000 + 0x10 * 8, 0xf00000003ull);
    explain();
    EXPECT_CAUSE("fetch-mmio");
}

/* The second page of an instruction is missing: CR2 is the page boundary. */
static void test_fetch_second_page(void)
{
    fixture();
    snap.s.rip = 0x10ffe;
    ram[0x10ffe] = 0x48;
    ram[0x10fff] = 0xb8; /* movabs rax, imm64: 8 more bytes */
    put64(0x4000 + 0x11 * 8, 0);
    set_gate(14, 0x12000, 0x08, 0, true);
    explain();
    EXPECT_CAUSE("not-present");
    EXPECT(exc_is(0, X86_PF, 0x0));
    EXPECT_EQ(exc_cr2(0), 0x11000);
}

/* 32-bit protected mode with PAE paging: bits 62:MAXPHYADDR of a PDE are reserved. */
static void test_rsvd_pae(void)
{
    fixture();
    snap.s.efer = 0;
    snap.s.seg[X86_SEG_CS].l = 0;
    snap.s.seg[X86_SEG_CS].db = 1;
    snap.s.cr3 = 0x5000;
    put64(0x5000, 0x3001);              /* PDPTE 0 -> PD 0x3000 */
    put64(0x3000, 0x4003 | KS_BIT(62)); /* ignored in 4-level, reserved in PAE */
    snap.s.idt.limit = 0x7ff;
    explain();
    EXPECT_CAUSE("rsvd-pae");
    EXPECT_EQ(diag_fault_level(rep), 2);
    EXPECT(exc_is(0, X86_PF, 0x9));
    EXPECT(diag_triple_fault(rep));
    EXPECT_CONTAINS(sb_str(&text), "32-bit protected mode");
}

/* 32-bit paging with CR4.PSE: KVM always assumes PSE-36, so bits 21:17 are reserved. */
static void test_rsvd_pse36(void)
{
    fixture();
    snap.s.efer = 0;
    snap.s.cr4 = X86_CR4_PSE;
    snap.s.seg[X86_SEG_CS].l = 0;
    snap.s.seg[X86_SEG_CS].db = 1;
    snap.s.cr3 = 0x6000;
    put64(0x6000, 0x00020083); /* 4 MiB page with bit 17 */
    snap.s.idt.limit = 0x7ff;
    explain();
    EXPECT_CAUSE("rsvd-pse36");
    EXPECT_EQ(diag_fault_level(rep), 2);
    EXPECT(exc_is(0, X86_PF, 0x9));
}

static void test_invalid_opcode(void)
{
    fixture();
    CODE(0x06); /* push es: not in 64-bit mode */
    snap.s.idt.limit = 0;
    explain();
    EXPECT_CAUSE("invalid-opcode");
    EXPECT_STR(diag_secondary_id(rep), "idt-limit");
    EXPECT(exc_is(0, X86_UD, -1));
    EXPECT(exc_is(1, X86_GP, 6 * 8 + 3));
}

static void test_privileged_insn(void)
{
    fixture();
    all_user();
    snap.cpl = 3;
    snap.s.seg[X86_SEG_CS].selector = 0x2b;
    CODE(0x0f, 0x01, 0x10); /* lgdt [rax] */
    explain();
    EXPECT_CAUSE("privileged-insn");
    EXPECT(exc_is(0, X86_GP, 0));
    EXPECT_EQ(diag_exception_count(rep), 1); /* delivered on the RSP0 stack */
}

/* iretq with a corrupt frame: the CS it would load is checked. */
static void test_iret_frame(void)
{
    fixture();
    CODE(0x48, 0xcf);        /* iretq */
    put64(0x1ffd8, 0x10000); /* RIP */
    put64(0x1ffe0, 0x30);    /* CS: beyond the GDT limit 0x27 */
    put64(0x1ffe8, 0x2);
    put64(0x1fff0, 0x20000);
    put64(0x1fff8, 0x10);
    snap.s.gpr[X86_RSP] = 0x1ffd8;
    explain();
    EXPECT_CAUSE("bad-selector");
    EXPECT(exc_is(0, X86_GP, 0x30));
    EXPECT_CONTAINS(sb_str(&text), "CS=0x30, RIP=0x10000");

    put64(0x1ffe0, 0x10); /* the data segment */
    explain();
    EXPECT_CAUSE("gdt-descriptor");
    EXPECT(exc_is(0, X86_GP, 0x10));

    put64(0x1ffe0, 0x08);
    put64(0x1ffd8, 0x0000800000000000ull);
    explain();
    EXPECT_CAUSE("non-canonical");

    put64(0x1ffd8, 0x10000); /* a good frame: nothing to report */
    explain();
    EXPECT(!diag_has_cause(rep));
}

/* Guests that stopped normally, or handled their own fault, get no cause. */
static void test_no_false_alarm(void)
{
    fixture();
    snap.event = SNAP_EV_HALT;
    put64(0x2000, 0x83); /* even with a broken table */
    explain();
    EXPECT(!diag_has_cause(rep));
    EXPECT_EQ(diag_exception_count(rep), 0);
    EXPECT_CONTAINS(sb_str(&json), "\"cause\":null");

    fixture();
    snap.event = SNAP_EV_DEBUG_EXIT;
    explain();
    EXPECT(!diag_has_cause(rep));
    EXPECT_CONTAINS(sb_str(&text), "Nothing to explain");

    /* A shutdown with nothing wrong at RIP: no invented cause. */
    fixture();
    explain();
    EXPECT(!diag_has_cause(rep));
    EXPECT_CONTAINS(sb_str(&text), "does not fault");
}

/* A #PF reported by QEMU TCG (RSVD without P) is re-walked for the explanation. */
static void test_known_exception(void)
{
    fixture();
    put64(0x2000, 0x83);
    snap.event = SNAP_EV_EXCEPTION;
    snap.n_exc = 1;
    snap.exc[0] = (struct snap_exception){.vector = 14,
                                          .has_error_code = true,
                                          .error_code = 0x8,
                                          .has_cr2 = true,
                                          .cr2 = 0x10000,
                                          .rip = 0x10000};
    snprintf(snap.source, sizeof(snap.source), "QEMU -d int log");
    explain();
    EXPECT_CAUSE("rsvd-gbpages");
    EXPECT(exc_is(0, X86_PF, 0x8));
    EXPECT_CONTAINS(sb_str(&text), "TCG reports RSVD faults without P");
}

/* Without memory: what the registers alone say. */
static void test_registers_only(void)
{
    seed_state();
    snap.have &= ~SNAP_HAVE_MEM;
    snap.mem = NULL;
    explain();
    EXPECT(!diag_has_cause(rep));
    EXPECT_CONTAINS(sb_str(&text), "no guest memory given");
    EXPECT_CONTAINS(sb_str(&text), "IDTR limit 0x0");
    EXPECT_CONTAINS(sb_str(&text), "emulation failure at RIP");
    EXPECT_CONTAINS(sb_str(&text), "beyond the GDT limit");
}

int main(void)
{
    RUN(test_gbpages_triple_fault);
    RUN(test_seed);
    RUN(test_gbpages_host_cannot);
    RUN(test_rsvd_nx);
    RUN(test_rsvd_maxphyaddr);
    RUN(test_rsvd_large_page);
    RUN(test_rsvd_ps_top_level);
    RUN(test_rsvd_amd_bit8);
    RUN(test_not_present_and_idt_gate);
    RUN(test_write_protect);
    RUN(test_user_supervisor);
    RUN(test_nx_fetch);
    RUN(test_smep_and_cr_unsupported);
    RUN(test_smap);
    RUN(test_pkey);
    RUN(test_idt_limit);
    RUN(test_idt_gate_dpl);
    RUN(test_stack_fault);
    RUN(test_not_present_and_stack);
    RUN(test_non_canonical);
    RUN(test_bad_selector);
    RUN(test_gdt_descriptor);
    RUN(test_cr_invalid);
    RUN(test_unbacked_fetch);
    RUN(test_fetch_second_page);
    RUN(test_rsvd_pae);
    RUN(test_rsvd_pse36);
    RUN(test_invalid_opcode);
    RUN(test_privileged_insn);
    RUN(test_iret_frame);
    RUN(test_no_false_alarm);
    RUN(test_known_exception);
    RUN(test_registers_only);
    diag_free(rep);
    sb_free(&text);
    sb_free(&json);
    return t_done();
}
