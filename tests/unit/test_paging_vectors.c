/*
 * The test vectors of spec/paging.md §7, one case each (V1...V36, with the
 * a/b/c variants as separate cases). Defaults per §7: 4-level paging
 * (CR0.PG=WP=1, CR4.PAE=1, EFER.LMA=1), EFER.NXE=0, no SMEP/SMAP/PKE, Intel,
 * MAXPHYADDR 36, no 1 GiB pages, CPL0, RFLAGS.AC=0, CR3=0x1000.
 * "4K chain" = PML4E@0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000,
 * GVA 0x133025, PTE at 0x4998.
 */
#include "test_paging.h"

#define GVA 0x133025ULL
#define R   0u
#define W   PFERR_W
#define U   PFERR_U
#define X   PFERR_F

static void V1(void)
{
    char why[256];

    put64(0x1000, 0xbf9023);
    put64(0xbf9000, 0xa3);
    walk(GVA, X);
    expect_fault(0x9, 3);
    EXPECT_EQ(w.nlevels, 2);
    EXPECT_EQ(w.lv[0].entry, 0xbf9023);
    EXPECT_EQ(w.lv[0].level, 4);
    EXPECT_EQ(w.lv[1].entry, 0xa3);
    EXPECT_EQ(w.lv[1].verdict, PT_RESERVED);
    EXPECT_EQ(w.lv[1].rsvd_bits, 0x80);
    EXPECT_EQ(w.lv[1].rsvd_why, PT_RSVD_GBPAGES);
    EXPECT_EQ(w.lv[1].entry_gpa, 0xbf9000);
    pt_level_reason(&ctx, &w.lv[1], why, sizeof(why));
    EXPECT_STR(why, "PS at level 3 needs 1 GiB pages: CPUID.80000001H:EDX[26]");
    pt_pferr_str(w.error_code, why, sizeof(why));
    EXPECT_STR(why, "P|RSVD");
}

static void V2(void)
{
    ctx.efer |= X86_EFER_NXE;
    put64(0x1000, 0xbf9023);
    put64(0xbf9000, 0xa3);
    walk(GVA, X);
    expect_fault(0x19, 3);
}

static void V3(void)
{
    ctx.cr4 |= X86_CR4_SMEP;
    put64(0x1000, 0xbf9023);
    put64(0xbf9000, 0xa3);
    walk(GVA, X);
    expect_fault(0x19, 3);
}

static void V4(void)
{
    ctx.cpu.gbpages = true;
    put64(0x1000, 0xbf9023);
    put64(0xbf9000, 0xa3);
    walk(GVA, X);
    expect_gpa(0x133025);
    EXPECT_EQ(w.leaf_level, 3);
    EXPECT_EQ(w.page_size, 1ULL << 30);
    EXPECT_EQ(w.n_ad, 0);
}

static void V5(void)
{
    ctx.cpu.gbpages = true;
    put64(0x1000, 0x2023);
    put64(0x2000, 0x400000a3);
    walk(GVA, R);
    expect_gpa(0x40133025);
}

static void V6(void)
{
    ctx.cpu.gbpages = true;
    put64(0x1000, 0x2023);
    put64(0x2000, 0x20a3);
    walk(GVA, R);
    expect_fault(0x9, 3);
    EXPECT_EQ(w.lv[1].rsvd_bits, 0x2000);
    EXPECT_EQ(w.lv[1].rsvd_why, PT_RSVD_LARGE_PAGE);
}

static void V7(void)
{
    ctx.cpu.gbpages = true;
    put64(0x1000, 0x2023);
    put64(0x2000, 0x10a3);
    walk(GVA, R);
    expect_gpa(0x133025);
}

static void V8(void)
{
    put64(0x1000, 0x2023);
    put64(0x2000, 0x3023);
    put64(0x3000, 0x2000a3);
    walk(GVA, R);
    expect_gpa(0x333025);
    EXPECT_EQ(w.leaf_level, 2);
    EXPECT_EQ(w.page_size, 2ULL << 20);
}

static void V9(void)
{
    put64(0x1000, 0x2023);
    put64(0x2000, 0x3023);
    put64(0x3000, 0x2020a3);
    walk(GVA, W);
    expect_fault(0xb, 2);
}

static void V10(void)
{
    chain4k(0x27, 0);
    walk(GVA, W | U);
    expect_fault(0x6, 1);
    EXPECT_EQ(w.lv[3].verdict, PT_NOT_PRESENT);
}

static void V11a(void)
{
    chain4k(0x27, 0x1000005023);
    walk(GVA, R);
    expect_fault(0x9, 1);
    EXPECT_EQ(w.lv[3].rsvd_why, PT_RSVD_MAXPHYADDR);
}

static void V11b(void)
{
    ctx.cpu.maxphyaddr = 40;
    chain4k(0x27, 0x1000005023);
    walk(GVA, R);
    expect_gpa(0x1000005025);
}

static void V12(void)
{
    chain4k(0x27, 0x8000000000005023);
    walk(GVA, R);
    expect_fault(0x9, 1);
    EXPECT_EQ(w.lv[3].rsvd_why, PT_RSVD_NX);
}

static void V13a(void)
{
    ctx.efer |= X86_EFER_NXE;
    chain4k(0x27, 0x8000000000005023);
    walk(GVA, R);
    expect_gpa(0x5025);
}

static void V13b(void)
{
    ctx.efer |= X86_EFER_NXE;
    chain4k(0x27, 0x8000000000005023);
    walk(GVA, X);
    expect_fault(0x11, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_NX);
}

static void V14(void)
{
    chain4k(0x27, 0x5023);
    walk(GVA, U);
    expect_fault(0x5, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_USER);
}

static void V15(void)
{
    ctx.cr0 &= ~X86_CR0_WP;
    chain4k(0x27, 0x5025);
    walk(GVA, W | U);
    expect_fault(0x7, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_WRITE);
}

static void V16a(void)
{
    ctx.cr0 &= ~X86_CR0_WP;
    chain4k(0x27, 0x5021);
    walk(GVA, W);
    expect_gpa(0x5025);
    EXPECT_EQ(w.n_ad, 1);
    EXPECT_EQ(w.ad[0].entry_gpa, 0x4998);
    EXPECT_EQ(w.ad[0].new_entry, 0x5061);
}

static void V16b(void)
{
    chain4k(0x27, 0x5021);
    walk(GVA, W);
    expect_fault(0x3, 1);
}

static void V17(void)
{
    ctx.cr4 |= X86_CR4_SMEP;
    ctx.efer |= X86_EFER_NXE;
    chain4k(0x27, 0x5025);
    walk(GVA, X);
    expect_fault(0x11, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_SMEP);
}

static void V18a(void)
{
    ctx.cr4 |= X86_CR4_SMAP;
    chain4k(0x27, 0x5025);
    walk(GVA, R);
    expect_fault(0x1, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_SMAP);
}

static void V18b(void)
{
    ctx.cr4 |= X86_CR4_SMAP;
    ctx.rflags |= X86_RFLAGS_AC;
    chain4k(0x27, 0x5025);
    walk(GVA, R);
    expect_gpa(0x5025);
}

static void V18c(void)
{
    ctx.cr4 |= X86_CR4_SMAP;
    ctx.rflags |= X86_RFLAGS_AC;
    chain4k(0x27, 0x5025);
    walk(GVA, PT_ACCESS_IMPLICIT);
    expect_fault(0x1, 1);
}

static void V19(void)
{
    char s[32];

    ctx.cr4 |= X86_CR4_PKE;
    ctx.pkru = 0x4;
    chain4k(0x27, 0x0800000000005027);
    walk(GVA, U);
    expect_fault(0x25, 1);
    EXPECT_EQ(w.perm_why, PT_PERM_PKEY);
    pt_pferr_str(w.error_code, s, sizeof(s));
    EXPECT_STR(s, "P|U|0x20");
}

static void V20a(void)
{
    char s[32];

    ctx.cr4 |= X86_CR4_PKE;
    ctx.pkru = 0x8;
    chain4k(0x27, 0x0800000000005067);
    walk(GVA, W);
    expect_fault(0x23, 1);
    pt_pferr_str(w.error_code, s, sizeof(s));
    EXPECT_STR(s, "P|W|0x20");
}

static void V20b(void)
{
    ctx.cr4 |= X86_CR4_PKE;
    ctx.pkru = 0x8;
    ctx.cr0 &= ~X86_CR0_WP;
    chain4k(0x27, 0x0800000000005067);
    walk(GVA, W);
    expect_gpa(0x5025);
}

static void V21(void)
{
    ctx.pkru = ~0u;
    chain4k(0x27, 0x0800000000005027);
    walk(GVA, U);
    expect_gpa(0x5025);
    EXPECT_EQ(w.pkey, 1);
}

static void V22a(void)
{
    ctx.cpu.amd = true;
    chain4k(0x27, 0x5023);
    put64(0x1000, 0x2127);
    walk(GVA, R);
    expect_fault(0x9, 4);
    EXPECT_EQ(w.nlevels, 1);
    EXPECT_EQ(w.lv[0].rsvd_why, PT_RSVD_AMD_BIT8);
}

static void V22b(void)
{
    chain4k(0x27, 0x5023);
    put64(0x1000, 0x2127);
    walk(GVA, R);
    expect_gpa(0x5025);
}

static void V23(void)
{
    chain4k(0x27, 0x5023);
    put64(0x1000, 0x20a7);
    walk(GVA, R);
    expect_fault(0x9, 4);
    EXPECT_EQ(w.lv[0].rsvd_why, PT_RSVD_PS_TOP);
}

static void V24(void)
{
    set_pae();
    ctx.pdptr_valid = true; /* PDPTR0 = 0 */
    walk(GVA, W);
    expect_fault(0x2, 3);
    EXPECT_EQ(w.nlevels, 1);
    EXPECT_EQ(w.lv[0].level, 3);
    EXPECT_EQ(w.lv[0].entry, 0);
    EXPECT_EQ(w.lv[0].verdict, PT_NOT_PRESENT);
}

static void V25a(void)
{
    set_pae();
    ctx.pdptr[0] = 0x3001;
    ctx.pdptr_valid = true;
    put64(0x3000, 0x4000000000004027);
    put64(0x4998, 0x5023);
    walk(GVA, R);
    expect_fault(0x9, 2);
    EXPECT_EQ(w.lv[1].rsvd_bits, 1ULL << 62);
    EXPECT_EQ(w.lv[1].rsvd_why, PT_RSVD_PAE_HIGH);
}

static void V25b(void)
{
    put64(0x1000, 0x2027);
    put64(0x2000, 0x3027);
    put64(0x3000, 0x4000000000004027);
    put64(0x4998, 0x5023);
    walk(GVA, R);
    expect_gpa(0x5025);
}

static void V26(void)
{
    set_pae();
    ctx.efer |= X86_EFER_NXE;
    put64(0x1000, 0x3001); /* PDPTE 0, loaded from CR3 */
    put64(0x3000, 0x4027);
    put64(0x4998, 0x8000000000005023);
    walk(GVA, X);
    expect_fault(0x11, 1);
}

static void V27(void)
{
    set_32bit(true);
    put32(0x1004, 0x00400083);
    walk(0x533025, R);
    expect_gpa(0x533025);
    EXPECT_EQ(w.page_size, 4u << 20);
    EXPECT_EQ(w.n_ad, 1);
    EXPECT_EQ(w.ad[0].entry_gpa, 0x1004);
    EXPECT_EQ(w.ad[0].size, 4);
    EXPECT_EQ(w.ad[0].new_entry, 0x004000a3);
}

static void V28(void)
{
    set_32bit(true);
    put32(0x1004, 0x00402083);
    walk(0x533025, R);
    expect_gpa(0x100533025);
}

static void V29(void)
{
    set_32bit(true);
    put32(0x1004, 0x00420083);
    walk(0x533025, R);
    expect_fault(0x9, 2);
    EXPECT_EQ(w.lv[0].rsvd_why, PT_RSVD_PSE36);
}

static void V30(void)
{
    set_32bit(false);
    put32(0x1004, 0x3083);
    put32(0x3000 + 0x133 * 4, 0x5023);
    walk(0x533025, R);
    expect_gpa(0x5025);
    EXPECT_EQ(w.nlevels, 2);
}

static void V31(void)
{
    ctx.cr4 |= X86_CR4_LA57;
    put64(0x1008, 0x20a7);
    walk(0x0001000000133025ULL, R);
    expect_fault(0x9, 5);
    EXPECT_EQ(w.lv[0].level, 5);
    EXPECT_EQ(w.lv[0].index, 1);
}

static void V32(void)
{
    put64(0x1000, 0x2007);
    put64(0x2000, 0x3007);
    put64(0x3000, 0x4007);
    put64(0x4998, 0x5007);
    walk(GVA, W | U);
    expect_gpa(0x5025);
    EXPECT_EQ(w.n_ad, 4);
    EXPECT_EQ(w.ad[0].entry_gpa, 0x1000);
    EXPECT_EQ(w.ad[1].entry_gpa, 0x2000);
    EXPECT_EQ(w.ad[2].entry_gpa, 0x3000);
    EXPECT_EQ(w.ad[3].entry_gpa, 0x4998);
    EXPECT_EQ(pt_apply_ad(&mem, &w), 0);
    EXPECT_EQ(get64(0x1000), 0x2027);
    EXPECT_EQ(get64(0x2000), 0x3027);
    EXPECT_EQ(get64(0x3000), 0x4027);
    EXPECT_EQ(get64(0x4998), 0x5067);
}

static void V33(void)
{
    char s[8];

    put64(0x1000, 0x80002000);
    walk(GVA, R);
    expect_fault(0x0, 4);
    EXPECT_EQ(w.lv[0].verdict, PT_NOT_PRESENT);
    pt_pferr_str(w.error_code, s, sizeof(s));
    EXPECT_STR(s, "");
}

static void V34(void)
{
    chain4k(0x27, 0x10000005027);
    put64(0x1000, 0x2023);
    walk(GVA, U);
    expect_fault(0xd, 1);
}

static void V35(void)
{
    chain4k(0x27, 0x5023);
    walk(GVA, U | X);
    expect_fault(0x5, 1);
}

static void V36(void)
{
    ctx.cr0 &= ~X86_CR0_PG;
    ctx.efer = 0;
    walk(GVA, W);
    expect_gpa(GVA);
    EXPECT_EQ(w.nlevels, 0);
    EXPECT_EQ(w.mode, PT_MODE_NONE);
}

int main(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
#define C(n) {#n, n}
        C(V1),   C(V2),   C(V3),   C(V4),   C(V5),   C(V6),   C(V7),   C(V8),   C(V9),
        C(V10),  C(V11a), C(V11b), C(V12),  C(V13a), C(V13b), C(V14),  C(V15),  C(V16a),
        C(V16b), C(V17),  C(V18a), C(V18b), C(V18c), C(V19),  C(V20a), C(V20b), C(V21),
        C(V22a), C(V22b), C(V23),  C(V24),  C(V25a), C(V25b), C(V26),  C(V27),  C(V28),
        C(V29),  C(V30),  C(V31),  C(V32),  C(V33),  C(V34),  C(V35),  C(V36),
#undef C
    };

    for (size_t i = 0; i < KS_ARRAY_SIZE(cases); i++) {
        reset();
        t_run(cases[i].name, cases[i].fn);
    }
    return t_done();
}
