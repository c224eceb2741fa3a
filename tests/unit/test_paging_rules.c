/*
 * The walker's rules beyond the §7 vectors: every mode, every reserved-bit
 * family, every permission rule, the F-bit rule, A/D updates, PDPTE
 * validation, unbacked tables, non-canonical addresses and the texts.
 */
#include "test_paging.h"

#include "../../lib/paging/paging_internal.h"

#define GVA 0x133025ULL

static void modes(void)
{
    EXPECT_EQ(pt_mode_of(&ctx), PT_MODE_4LEVEL);
    ctx.cr4 |= X86_CR4_LA57;
    EXPECT_EQ(pt_mode_of(&ctx), PT_MODE_5LEVEL);
    set_pae();
    ctx.cr4 |= X86_CR4_LA57; /* LA57 only counts in long mode */
    EXPECT_EQ(pt_mode_of(&ctx), PT_MODE_PAE);
    set_32bit(true);
    EXPECT_EQ(pt_mode_of(&ctx), PT_MODE_32);
    ctx.efer = X86_EFER_LME; /* LME without LMA: still legacy paging */
    EXPECT_EQ(pt_mode_of(&ctx), PT_MODE_32);
    ctx.cr0 &= ~X86_CR0_PG;
    EXPECT_EQ(pt_mode_of(&ctx), PT_MODE_NONE);
    EXPECT_STR(pt_mode_name(PT_MODE_4LEVEL), "4-level");
    EXPECT_STR(pt_mode_name(PT_MODE_PAE), "PAE");
    EXPECT_STR(pt_mode_name(PT_MODE_NONE), "no paging");
}

static void impossible_states(void)
{
    reset();
    ctx.cr4 = 0; /* LMA without PAE */
    EXPECT_EQ(pt_walk(&mem, &ctx, GVA, 0, &w), -EINVAL);
    reset();
    ctx.cr0 = X86_CR0_PG; /* PG without PE */
    EXPECT_EQ(pt_ctx_check(&ctx), -EINVAL);
    EXPECT_EQ(pt_walk(&mem, &ctx, GVA, 0, &w), -EINVAL);
    reset();
    ctx.cr0 = X86_CR0_PE; /* LMA without PG */
    EXPECT_EQ(pt_walk(&mem, &ctx, GVA, 0, &w), -EINVAL);
    reset();
    ctx.efer = X86_EFER_LME; /* long mode without LMA */
    EXPECT_EQ(pt_ctx_check(&ctx), -EINVAL);
    ctx.efer = X86_EFER_LMA; /* LMA without LME */
    EXPECT_EQ(pt_ctx_check(&ctx), -EINVAL);
    ctx.cr0 = X86_CR0_PE;
    ctx.efer = X86_EFER_LME; /* LME without paging: fine, not yet in long mode */
    EXPECT_EQ(pt_ctx_check(&ctx), 0);
    reset();
    EXPECT_EQ(pt_walk(&mem, &ctx, GVA, PFERR_RSVD, &w), -EINVAL);
    EXPECT_EQ(pt_walk(&mem, &ctx, GVA, PFERR_P, &w), -EINVAL);
    EXPECT_EQ(pt_ctx_check(&ctx), 0);
}

/* The masks of spec §2.1 as numbers: M=36, NXE=0, no 1 GiB pages, Intel. */
static void masks_4level(void)
{
    const uint64_t hi = KS_BITS(36, 51), nx = 1ULL << 63;

    EXPECT_EQ(pt_rsvd_mask(&ctx, 4, false), hi | nx | 0x80);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 4, true), hi | nx | 0x80);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 3, false), hi | nx | 0x80);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 3, true), hi | nx | 0x80 | KS_BITS(13, 29));
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, false), hi | nx);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, true), hi | nx | KS_BITS(13, 20));
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, false), hi | nx);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, true), hi | nx);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 5, false), 0); /* no level 5 in 4-level paging */
    ctx.efer |= X86_EFER_NXE;
    ctx.cpu.gbpages = true;
    ctx.cpu.amd = true;
    EXPECT_EQ(pt_rsvd_mask(&ctx, 4, false), hi | 0x180);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 3, false), hi); /* AMD bit 8 only at levels 4/5 */
    EXPECT_EQ(pt_rsvd_mask(&ctx, 3, true), hi | KS_BITS(13, 29));
    ctx.cr4 |= X86_CR4_LA57;
    EXPECT_EQ(pt_rsvd_mask(&ctx, 5, false), hi | 0x180);
    ctx.cpu.maxphyaddr = 52; /* nothing above 51 in 4/5-level: 52..62 are ignored */
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, false), 0);
    ctx.cpu.maxphyaddr = 48;
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, false), KS_BITS(48, 51));
}

static void masks_pae_32(void)
{
    set_pae();
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, false), KS_BITS(36, 63));
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, true), KS_BITS(36, 63) | KS_BITS(13, 20));
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, true), KS_BITS(36, 63));
    ctx.efer |= X86_EFER_NXE;
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, false), KS_BITS(36, 62));
    /* The PDPTE-register mask keeps bit 63 whatever NXE says (pdptr_rsvd_bits). */
    EXPECT_EQ(pt_rsvd_mask(&ctx, 3, false), KS_BITS(36, 63) | KS_BITS(5, 8) | KS_BITS(1, 2));
    set_32bit(true);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, true), KS_BITS(17, 21));
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, false), 0);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 1, true), 0);
    ctx.cpu.maxphyaddr = 40; /* PSE-36 regardless of MAXPHYADDR: no PSE-40 */
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, true), KS_BITS(17, 21));
    set_32bit(false);
    EXPECT_EQ(pt_rsvd_mask(&ctx, 2, true), 0);
}

/* The walk's precomputed table equals pt_rsvd_mask in every mode and configuration. */
static void mask_table_consistent(void)
{
    static const uint64_t cr4s[] = {X86_CR4_PAE, X86_CR4_PAE | X86_CR4_LA57, 0, X86_CR4_PSE,
                                    X86_CR4_PAE};
    static const uint64_t efers[] = {X86_EFER_LME | X86_EFER_LMA, X86_EFER_LME | X86_EFER_LMA, 0, 0,
                                     0};

    for (int cfg = 0; cfg < 16; cfg++)
        for (size_t m = 0; m < KS_ARRAY_SIZE(cr4s); m++) {
            uint64_t table[2][6];

            reset();
            ctx.cr4 = cr4s[m];
            ctx.efer = efers[m] | ((cfg & 1) ? X86_EFER_NXE : 0);
            ctx.cpu.gbpages = cfg & 2;
            ctx.cpu.amd = cfg & 4;
            ctx.cpu.maxphyaddr = (cfg & 8) ? 52 : 39;
            pt_rsvd_table(&ctx, pt_mode_of(&ctx), table);
            for (int level = 1; level <= 5; level++)
                for (int b7 = 0; b7 < 2; b7++)
                    EXPECT_EQ(table[b7][level], pt_rsvd_mask(&ctx, level, b7));
        }
}

/* Each family fires at the level it belongs to, with its reason bit. */
static void reserved_families(void)
{
    /* MAXPHYADDR at each level of the chain. */
    for (int level = 4; level >= 1; level--) {
        gpa_t at[] = {0, 0x4998, 0x3000, 0x2000, 0x1000};
        reset();
        chain4k(0x27, 0x5027);
        put64(at[level], get64(at[level]) | (1ULL << 40));
        walk(GVA, 0);
        EXPECT(w.fault);
        EXPECT_EQ(w.fault_level, level);
        EXPECT_EQ(w.error_code, 0x9);
        EXPECT_EQ(w.lv[w.nlevels - 1].rsvd_bits, 1ULL << 40);
        EXPECT_EQ(w.lv[w.nlevels - 1].rsvd_why, PT_RSVD_MAXPHYADDR);
    }
    /* NX at a non-leaf level without NXE. */
    reset();
    chain4k(0x27, 0x5027);
    put64(0x2000, get64(0x2000) | PTE_NX);
    walk(GVA, 0);
    EXPECT_EQ(w.fault_level, 3);
    EXPECT_EQ(w.lv[1].rsvd_why, PT_RSVD_NX);
    /* Two families at once: bit 63 without NXE and bit 40 above MAXPHYADDR. */
    reset();
    chain4k(0x27, 0x8000010000005027ULL);
    walk(GVA, 0);
    EXPECT_EQ(w.lv[3].rsvd_why, PT_RSVD_NX | PT_RSVD_MAXPHYADDR);
    EXPECT_EQ(w.lv[3].rsvd_bits, 0x8000010000000000ULL);
    /* PAE PTE bit 52 (ignored in 4-level). */
    reset();
    set_pae();
    ctx.pdptr[0] = 0x3001;
    ctx.pdptr_valid = true;
    put64(0x3000, 0x4027);
    put64(0x4998, 0x0010000000005027ULL);
    walk(GVA, 0);
    expect_fault(0x9, 1);
    EXPECT_EQ(w.lv[2].rsvd_why, PT_RSVD_PAE_HIGH);
    /* PAE 2 MiB page with bit 13. */
    put64(0x3000, 0x2020a7);
    walk(GVA, 0);
    expect_fault(0x9, 2);
    EXPECT_EQ(w.lv[1].rsvd_why, PT_RSVD_LARGE_PAGE);
    /* 5-level: PS and AMD bit 8 in a PML4E below a good PML5E. */
    reset();
    ctx.cr4 |= X86_CR4_LA57;
    ctx.cpu.amd = true;
    put64(0x1000, 0x2027); /* PML5E[0] */
    put64(0x2000, 0x3127); /* PML4E[0], bit 8 */
    walk(GVA, 0);
    expect_fault(0x9, 4);
    EXPECT_EQ(w.lv[1].rsvd_why, PT_RSVD_AMD_BIT8);
    put64(0x1000, 0x2127); /* bit 8 in the PML5E too */
    walk(GVA, 0);
    expect_fault(0x9, 5);
    /* Not-present beats reserved bits (spec §3.4). */
    reset();
    chain4k(0x27, 0xfff0000000000080ULL);
    walk(GVA, PFERR_W);
    expect_fault(0x2, 1);
}

static void permissions(void)
{
    /* R/W=0 at the PDPTE restricts the whole translation. */
    chain4k(0x27, 0x5027);
    put64(0x2000, 0x3025);
    walk(GVA, PFERR_W);
    expect_fault(0x3, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_WRITE);
    EXPECT(!w.writable);
    ctx.cr0 &= ~X86_CR0_WP; /* supervisor writes ignore R/W with WP=0, even to user pages */
    walk(GVA, PFERR_W);
    expect_gpa(0x5025);
    walk(GVA, PFERR_W | PFERR_U);
    expect_fault(0x7, 1);
    ctx.cr4 |= X86_CR4_SMAP; /* SMAP applies to supervisor writes even with WP=0 */
    walk(GVA, PFERR_W);
    expect_fault(0x3, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_SMAP);
}

static void permissions_smep_smap(void)
{
    /* U=0 at the PML4E makes the page supervisor: SMEP and SMAP do not apply. */
    chain4k(0x27, 0x5027);
    put64(0x1000, 0x2023);
    ctx.cr4 |= X86_CR4_SMEP | X86_CR4_SMAP;
    walk(GVA, PFERR_F);
    expect_gpa(0x5025);
    walk(GVA, 0);
    expect_gpa(0x5025);
    walk(GVA, PFERR_U);
    expect_fault(0x5, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_USER);

    /* User page: SMEP on supervisor fetch (independent of WP), user fetch fine. */
    reset();
    chain4k(0x27, 0x5027);
    ctx.cr4 |= X86_CR4_SMEP;
    ctx.cr0 &= ~X86_CR0_WP;
    walk(GVA, PFERR_F);
    expect_fault(0x11, 1); /* F kept: SMEP=1 */
    walk(GVA, PFERR_F | PFERR_U);
    expect_gpa(0x5025);
    walk(GVA, 0); /* no SMAP: supervisor read of a user page is fine */
    expect_gpa(0x5025);
    /* SMAP never applies to fetches or user accesses. */
    ctx.cr4 = X86_CR4_PAE | X86_CR4_SMAP;
    walk(GVA, PFERR_F);
    expect_gpa(0x5025);
    walk(GVA, PFERR_U | PFERR_W);
    expect_gpa(0x5025);
    /* Implicit write with AC=1: still SMAP. */
    ctx.rflags = X86_RFLAGS_AC;
    walk(GVA, PFERR_W | PT_ACCESS_IMPLICIT);
    expect_fault(0x3, 1);
    walk(GVA, PFERR_W);
    expect_gpa(0x5025);
}

static void nx_rules(void)
{
    /* NX in a non-leaf entry removes execute for the whole translation. */
    ctx.efer |= X86_EFER_NXE;
    chain4k(0x27, 0x5027);
    put64(0x3000, get64(0x3000) | PTE_NX);
    walk(GVA, PFERR_F);
    expect_fault(0x11, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_NX);
    walk(GVA, 0);
    expect_gpa(0x5025);
    EXPECT(!w.executable);
    /* 32-bit entries have no XD: fetches never fault for NX. */
    reset();
    set_32bit(true);
    ctx.efer = X86_EFER_NXE;
    put32(0x1004, 0x00400087);
    walk(0x533025, PFERR_F);
    expect_gpa(0x533025);
    EXPECT(w.executable);
}

static void pkeys(void)
{
    ctx.cr4 |= X86_CR4_PKE;
    /* Key 2 AD in a non-leaf PDE is ignored: only the leaf's key counts. */
    ctx.pkru = 0x30;
    chain4k(0x27, 0x0800000000005027ULL);
    put64(0x3000, get64(0x3000) | (2ULL << 59));
    walk(GVA, PFERR_U);
    expect_gpa(0x5025);
    /* AD applies to supervisor reads of user pages too, never to fetches. */
    ctx.pkru = 0x4;
    walk(GVA, 0);
    expect_fault(0x21, 1);
    walk(GVA, PFERR_F);
    expect_gpa(0x5025);
    /* Supervisor pages are never checked. */
    put64(0x4998, 0x0800000000005023ULL);
    walk(GVA, PFERR_W);
    expect_gpa(0x5025);
    /* PK is reported together with an ordinary permission fault. */
    ctx.pkru = 0x8;
    put64(0x4998, 0x0800000000005025ULL); /* user, read-only, key 1 WD */
    walk(GVA, PFERR_W | PFERR_U);
    expect_fault(0x27, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_WRITE | PT_PERM_PKEY);
    /* Without long mode (PAE) protection keys do not exist. */
    reset();
    set_pae();
    ctx.cr4 |= X86_CR4_PKE;
    ctx.pkru = ~0u;
    ctx.pdptr[0] = 0x3001;
    ctx.pdptr_valid = true;
    put64(0x3000, 0x4027);
    put64(0x4998, 0x5027);
    walk(GVA, PFERR_U | PFERR_W);
    expect_gpa(0x5025);
}

/* F appears on every kind of fault iff fetch && (NXE || SMEP) (spec §3.4). */
static void f_bit_rule(void)
{
    walk(GVA, PFERR_F | PFERR_U); /* not present */
    expect_fault(0x4, 4);
    ctx.efer |= X86_EFER_NXE;
    walk(GVA, PFERR_F | PFERR_U);
    expect_fault(0x14, 4);
    ctx.efer &= ~X86_EFER_NXE;
    ctx.cr4 |= X86_CR4_SMEP;
    walk(GVA, PFERR_F);
    expect_fault(0x10, 4);
    /* 32-bit paging with EFER.NXE=1 still gets F (KVM does not require PAE). */
    reset();
    set_32bit(true);
    ctx.efer = X86_EFER_NXE;
    walk(0x533025, PFERR_F);
    expect_fault(0x10, 2);
    ctx.efer = 0;
    walk(0x533025, PFERR_F);
    expect_fault(0x0, 2);
    /* F is not invented for non-fetch accesses. */
    ctx.efer = X86_EFER_NXE;
    walk(0x533025, PFERR_W);
    expect_fault(0x2, 2);
}

static void accessed_dirty(void)
{
    static uint8_t rom[0x1000];
    struct gmem ro;

    /* Nothing to do when every A (and D for writes) is already set. */
    chain4k(0x27, 0x5067);
    walk(GVA, PFERR_W);
    expect_gpa(0x5025);
    EXPECT_EQ(w.n_ad, 0);
    /* Reads set only A; non-leaf D is never set. */
    chain4k(0x07, 0x5007);
    walk(GVA, 0);
    EXPECT_EQ(w.n_ad, 4);
    EXPECT_EQ(w.ad[3].new_entry, 0x5027);
    EXPECT_EQ(w.ad[0].new_entry, 0x2027);
    EXPECT_EQ(w.ad[0].size, 8);
    /* A 2 MiB leaf gets D itself. */
    reset();
    put64(0x1000, 0x2027);
    put64(0x2000, 0x3027);
    put64(0x3000, 0x2000a7);
    walk(GVA, PFERR_W);
    EXPECT_EQ(w.n_ad, 1);
    EXPECT_EQ(w.ad[0].entry_gpa, 0x3000);
    EXPECT_EQ(w.ad[0].new_entry, 0x2000e7);
    /* Faulting walks plan nothing and pt_apply_ad refuses them. */
    put64(0x3000, 0x2000a5);
    walk(GVA, PFERR_W | PFERR_U);
    EXPECT(w.fault);
    EXPECT_EQ(w.n_ad, 0);
    EXPECT_EQ(pt_apply_ad(&mem, &w), -EINVAL);
    EXPECT_EQ(get64(0x3000), 0x2000a5);
    /* The entry changed between walk and update: -EAGAIN, KVM retries the walk. */
    chain4k(0x07, 0x5007);
    walk(GVA, PFERR_W);
    put64(0x3000, 0x4005);
    EXPECT_EQ(pt_apply_ad(&mem, &w), -EAGAIN);
    EXPECT_EQ(get64(0x1000), 0x2027); /* entries before the changed one were written */
    EXPECT_EQ(get64(0x3000), 0x4005);
    EXPECT_EQ(get64(0x4998), 0x5007);
    walk(GVA, PFERR_W); /* the retry sees the new entry */
    EXPECT(w.fault);
    /* Read-only memory (a 32-bit page directory at GPA 0): -EFAULT. */
    gmem_init(&ro);
    gmem_add(&ro, 0, sizeof(rom), rom, false);
    memcpy(rom + 4, &(uint32_t){0x00400083}, 4);
    set_32bit(true);
    ctx.cr3 = 0;
    EXPECT_EQ(pt_walk(&ro, &ctx, 0x533025, 0, &w), 0);
    expect_gpa(0x533025);
    EXPECT_EQ(w.n_ad, 1);
    EXPECT_EQ(w.ad[0].size, 4);
    EXPECT_EQ(pt_apply_ad(&ro, &w), -EFAULT);
    EXPECT_EQ(rom[4], 0x83);
}

static void pdpte_registers(void)
{
    uint64_t p[4];

    set_pae();
    put64(0x1000, 0x2001);
    put64(0x1008, 0x3019); /* PWT, PCD allowed */
    put64(0x1010, 0xe01);  /* bits 9..11 allowed */
    put64(0x1018, 0xfffe); /* not present: anything goes */
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), 0);
    EXPECT_EQ(p[1], 0x3019);
    put64(0x1018, 0x4003); /* bit 1 */
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), -EINVAL);
    put64(0x1018, 0x4021); /* bit 5 */
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), -EINVAL);
    put64(0x1018, 0x4101); /* bit 8 */
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), -EINVAL);
    ctx.efer = X86_EFER_NXE; /* bit 63 stays reserved with NXE */
    put64(0x1018, 0x8000000000004001ULL);
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), -EINVAL);
    put64(0x1018, 0x1000004001ULL); /* bit 36 >= M */
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), -EINVAL);
    ctx.cpu.maxphyaddr = 40;
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), 0);
    /* CR3[31:5]: the PDPT may sit at any 32-byte boundary. */
    ctx.cr3 = 0x1020;
    put64(0x1020, 0x2001);
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), 0);
    EXPECT_EQ(p[0], 0x2001);
    /* The walk loads and validates them when the caller has none. */
    ctx.cr3 = 0x1000;
    ctx.cpu.maxphyaddr = 36;
    EXPECT_EQ(pt_walk(&mem, &ctx, 0xc0000000, 0, &w), -EINVAL);
    /* Registers given by the caller are used as they are (KVM_SET_SREGS2 does not check). */
    ctx.pdptr_valid = true;
    ctx.pdptr[3] = 0x1000004001ULL;
    walk(0xc0133025, 0);
    EXPECT_EQ(w.lv[0].entry, 0x1000004001ULL);
    EXPECT_EQ(w.lv[0].entry_gpa, 0x1018);
    EXPECT_EQ(w.lv[1].entry_gpa, 0x1000004000ULL);
    EXPECT_EQ(w.lv[1].verdict, PT_UNBACKED);
    /* Unbacked PDPT. */
    ctx.pdptr_valid = false;
    ctx.cr3 = RAM_SIZE;
    EXPECT_EQ(pt_load_pdptrs(&mem, &ctx, p), -EFAULT);
}

static void pae_walk(void)
{
    /* PAE: 2 MiB leaf; the PDPTE takes no part in rights or A/D. */
    set_pae();
    ctx.pdptr[0] = 0x3001;
    ctx.pdptr_valid = true;
    put64(0x3000, 0x200083);
    walk(GVA, PFERR_W);
    expect_gpa(0x333025);
    EXPECT_EQ(w.nlevels, 2);
    EXPECT_EQ(w.lv[1].leaf, true);
    EXPECT_EQ(w.n_ad, 1);
    EXPECT_EQ(w.ad[0].entry_gpa, 0x3000);
    EXPECT_EQ(w.ad[0].new_entry, 0x2000e3);
    EXPECT(!w.user);
    /* PDPTE index = GVA[31:30]. */
    ctx.pdptr[2] = 0x4001;
    put64(0x4000 + 8 * 1, 0x600087);
    walk(0x80233025, PFERR_U);
    expect_gpa(0x633025);
    EXPECT_EQ(w.lv[0].index, 2);
}

static void unbacked_tables(void)
{
    /* CR3 outside memory: the first entry is "not present" (code 0 + W/U/F). */
    ctx.cr3 = 0x40000000;
    walk(GVA, PFERR_W);
    expect_fault(0x2, 4);
    EXPECT_EQ(w.nlevels, 1);
    EXPECT_EQ(w.lv[0].verdict, PT_UNBACKED);
    EXPECT_EQ(w.lv[0].entry_gpa, 0x40000000);
    /* A PDE pointing outside memory. */
    ctx.cr3 = 0x1000;
    chain4k(0x27, 0x5027);
    put64(0x3000, 0x7fff0000027ULL);
    ctx.cpu.maxphyaddr = 48;
    walk(GVA, 0);
    expect_fault(0x0, 1);
    EXPECT_EQ(w.lv[3].verdict, PT_UNBACKED);
    EXPECT_EQ(w.lv[3].entry_gpa, 0x7fff0000000ULL + 0x998);
}

static void non_canonical(void)
{
    EXPECT(pt_is_canonical(0x00007fffffffffffULL, PT_MODE_4LEVEL));
    EXPECT(pt_is_canonical(0xffff800000000000ULL, PT_MODE_4LEVEL));
    EXPECT(!pt_is_canonical(0x0000800000000000ULL, PT_MODE_4LEVEL));
    EXPECT(pt_is_canonical(0x0000800000000000ULL, PT_MODE_5LEVEL));
    EXPECT(!pt_is_canonical(0x0100000000000000ULL, PT_MODE_5LEVEL));
    EXPECT(pt_is_canonical(0xdead00000000ULL, PT_MODE_32));
    /* The walker uses only the index bits: 0x0000800000133025 -> PML4 index 256. */
    chain4k(0x27, 0x5027);
    put64(0x1000 + 256 * 8, 0x2027);
    walk(0x0000800000133025ULL, 0);
    expect_gpa(0x5025);
    EXPECT_EQ(w.lv[0].index, 256);
    walk(0x1230000000133025ULL, 0); /* bits 63:48 are ignored altogether */
    expect_gpa(0x5025);
    EXPECT_EQ(w.lv[0].index, 0);
}

static void five_level(void)
{
    ctx.cr4 |= X86_CR4_LA57;
    ctx.cpu.gbpages = true;
    ctx.cpu.maxphyaddr = 52;
    put64(0x1000 + 8 * 0x1ff, 0x2027);            /* PML5E[511] */
    put64(0x2000 + 8 * 0x100, 0x3027);            /* PML4E[256] */
    put64(0x3000 + 8 * 3, 0x000fffffc00000a7ULL); /* 1 GiB page at the top of 52 bits */
    walk(0xffff8000c0133025ULL, PFERR_W);
    expect_gpa(0x000fffffc0133025ULL);
    EXPECT_EQ(w.nlevels, 3);
    EXPECT_EQ(w.n_ad, 1);
    EXPECT_EQ(w.ad[0].new_entry, 0x000fffffc00000e7ULL);
}

static void thirty_two_bit(void)
{
    set_32bit(true);
    /* 4 KiB: CR3[31:12], PDE -> PT, PTE bit 7 is PAT (not a leaf marker). */
    ctx.cr3 = 0x1018; /* PWT/PCD bits are not part of the address */
    put32(0x1004, 0x3027);
    put32(0x3000 + 0x133 * 4, 0x50a5);
    walk(0x533025, PFERR_U);
    expect_gpa(0x5025);
    EXPECT_EQ(w.nlevels, 2);
    EXPECT_EQ(w.lv[1].entry_gpa, 0x34cc);
    EXPECT_EQ(w.n_ad, 0); /* 0xa5 = P|U|A|PAT: A already set, nothing to update */
    /* 4 MiB page with PAT (bit 12) is not reserved and not part of the frame. */
    put32(0x1008, 0x00801083);
    walk(0x833025, 0);
    expect_gpa(0x833025);
    EXPECT_EQ(w.pkey, 0);
}

static void thirty_two_bit_ad(void)
{
    set_32bit(false);
    put32(0x1004, 0x3007);
    put32(0x3000 + 0x133 * 4, 0x5007);
    walk(0x533025, PFERR_W);
    expect_gpa(0x5025);
    EXPECT_EQ(w.n_ad, 2);
    EXPECT_EQ(pt_apply_ad(&mem, &w), 0);
    EXPECT_EQ(get32(0x1004), 0x3027);
    EXPECT_EQ(get32(0x3000 + 0x133 * 4), 0x5067);
}

static void pferr_strings(void)
{
    char s[64];

    EXPECT_EQ(pt_pferr_str(0, s, sizeof(s)), 0);
    EXPECT_STR(s, "");
    pt_pferr_str(0x25, s, sizeof(s));
    EXPECT_STR(s, "P|U|0x20");
    pt_pferr_str(0x27, s, sizeof(s));
    EXPECT_STR(s, "P|W|U|0x20");
    pt_pferr_str(0x1f, s, sizeof(s));
    EXPECT_STR(s, "P|W|U|RSVD|F");
    pt_pferr_str(0x8000, s, sizeof(s));
    EXPECT_STR(s, "0x8000");
    pt_pferr_str(0x69, s, sizeof(s));
    EXPECT_STR(s, "P|RSVD|0x60");
    pt_pferr_str(0x10, s, sizeof(s));
    EXPECT_STR(s, "F");
    /* snprintf semantics: truncated, NUL-terminated, full length returned. */
    EXPECT_EQ(pt_pferr_str(0x1f, s, 4), 12);
    EXPECT_STR(s, "P|W");
    EXPECT_EQ(pt_pferr_str(0x9, NULL, 0), 6);
}

static void reason_texts(void)
{
    char s[512];

    chain4k(0x27, 0x8000010000005027ULL);
    walk(GVA, 0);
    pt_level_reason(&ctx, &w.lv[3], s, sizeof(s));
    EXPECT_STR(s, "bit 40 at or above MAXPHYADDR 36: CPUID.80000008H:EAX[7:0]; "
                  "XD (bit 63) set while EFER.NXE=0: SDM Vol. 3A §4.6");
    pt_level_reason(&ctx, &w.lv[0], s, sizeof(s));
    EXPECT_STR(s, "next table at 0x2000");
    put64(0x4998, 0x5027);
    put64(0x3000, 0x3ec0a7); /* 2 MiB page with bits 14, 15, 17..20 */
    walk(GVA, 0);
    pt_level_reason(&ctx, &w.lv[2], s, sizeof(s));
    EXPECT_STR(s, "bits 14-15, 17-20 must be 0 in a 2 MiB page (bits 20:13 are reserved, bit 12 "
                  "is PAT): SDM Vol. 3A Table 4-18");
    put64(0x3000, 0x4027);
    put64(0x1000, 0x20a7);
    walk(GVA, 0);
    pt_level_reason(&ctx, &w.lv[0], s, sizeof(s));
    EXPECT_STR(s, "PS (bit 7) is reserved at level 4 (PML4E): SDM Vol. 3A Table 4-15");
    put64(0x1000, 0x2026);
    walk(GVA, 0);
    pt_level_reason(&ctx, &w.lv[0], s, sizeof(s));
    EXPECT_STR(s, "not present (P=0)");
    ctx.cr3 = 0x40000000;
    walk(GVA, 0);
    pt_level_reason(&ctx, &w.lv[0], s, sizeof(s));
    EXPECT_CONTAINS(s, "0x40000000 is outside guest memory");
    EXPECT_CONTAINS(s, "not present");
    ctx.cr3 = 0x1000;
    put64(0x1000, 0x2027);
    walk(GVA, 0);
    pt_level_reason(&ctx, &w.lv[3], s, sizeof(s));
    EXPECT_STR(s, "maps a 4 KiB page at 0x5000");
    /* 32-bit PSE-36 reason. */
    set_32bit(true);
    put32(0x1004, 0x00620083);
    walk(0x533025, 0);
    pt_level_reason(&ctx, &w.lv[0], s, sizeof(s));
    EXPECT_CONTAINS(s, "bits 17, 21 must be 0 in a 4 MiB page (KVM assumes PSE-36");
}

static void perm_texts(void)
{
    char s[512];

    chain4k(0x27, 0x5025);
    put64(0x2000, 0x3025);
    walk(GVA, PFERR_W);
    pt_perm_reason(&ctx, &w, s, sizeof(s));
    EXPECT_STR(s, "write to a read-only page (R/W=0 at level 3) with CR0.WP=1: SDM Vol. 3A "
                  "§4.6.1");
    put64(0x1000, 0x2023);
    walk(GVA, PFERR_W | PFERR_U);
    pt_perm_reason(&ctx, &w, s, sizeof(s));
    EXPECT_STR(s, "write to a read-only page (R/W=0 at level 3) from user mode: SDM Vol. 3A "
                  "§4.6.1; user-mode access to a supervisor page (U/S=0 at level 4): SDM Vol. "
                  "3A §4.6.1");
    reset();
    chain4k(0x27, 0x5025);
    ctx.cr4 |= X86_CR4_SMAP;
    ctx.rflags = X86_RFLAGS_AC;
    walk(GVA, PT_ACCESS_IMPLICIT);
    pt_perm_reason(&ctx, &w, s, sizeof(s));
    EXPECT_CONTAINS(s, "CR4.SMAP=1 (implicit access: RFLAGS.AC does not apply)");
    reset();
    ctx.cr4 |= X86_CR4_PKE;
    ctx.pkru = 0xc;
    chain4k(0x27, 0x0800000000005027ULL);
    walk(GVA, PFERR_U);
    pt_perm_reason(&ctx, &w, s, sizeof(s));
    EXPECT_STR(s, "protection key 1 denies it (PKRU.AD1=1, PKRU.WD1=1): SDM Vol. 3A §4.6.2");
}

int main(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
#define C(n) {#n, n}
        C(modes),
        C(impossible_states),
        C(masks_4level),
        C(masks_pae_32),
        C(mask_table_consistent),
        C(reserved_families),
        C(permissions),
        C(permissions_smep_smap),
        C(nx_rules),
        C(pkeys),
        C(f_bit_rule),
        C(accessed_dirty),
        C(pdpte_registers),
        C(pae_walk),
        C(unbacked_tables),
        C(non_canonical),
        C(five_level),
        C(thirty_two_bit),
        C(thirty_two_bit_ad),
        C(pferr_strings),
        C(reason_texts),
        C(perm_texts),
#undef C
    };

    for (size_t i = 0; i < KS_ARRAY_SIZE(cases); i++) {
        reset();
        t_run(cases[i].name, cases[i].fn);
    }
    return t_done();
}
