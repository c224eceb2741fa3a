/*
 * Reserved-bit masks of guest paging entries, as KVM computes them in
 * __reset_rsvds_bits_mask() (arch/x86/kvm/mmu/mmu.c) from MAXPHYADDR,
 * EFER.NXE, effective GBPAGES, CR4.PSE and the AMD-compatible vendor.
 * spec/paging.md §2; SDM Vol. 3A §4.3 (32-bit), §4.4.2 (PAE), §4.5.4 (4/5-level),
 * AMD APM Vol. 2 §5.3.3 (bit 8 of PML4E/PML5E on AMD).
 */
#include "paging_internal.h"

#include <string.h>

/* Derived terms of spec §2 for one context. */
struct rsvd_terms {
    uint64_t hi64;  /* R(M,51): address bits above MAXPHYADDR in 4/5-level entries */
    uint64_t hipae; /* R(M,62): PAE PDE/PTE also reserve 52..62 */
    uint64_t nxr;   /* bit 63 without EFER.NXE */
    uint64_t gb;    /* bit 7 of a PDPTE without 1 GiB pages */
    uint64_t b8;    /* bit 8 of PML4E/PML5E on AMD-compatible guests */
};

static unsigned clamp_m(unsigned m)
{
    return m > 64 ? 64 : m;
}

static void terms(const struct pt_ctx *c, struct rsvd_terms *t)
{
    unsigned m = clamp_m(c->cpu.maxphyaddr);

    t->hi64 = KS_BITS(m, 51);
    t->hipae = KS_BITS(m, 62);
    t->nxr = (c->efer & X86_EFER_NXE) ? 0 : PTE_NX;
    t->gb = c->cpu.gbpages ? 0 : PTE_PS;
    t->b8 = c->cpu.amd ? PTE_G : 0;
}

uint64_t pt_pdpte_rsvd_mask(const struct pt_ctx *c)
{
    /* KVM pdptr_rsvd_bits() (regs.c): R(M,63) | bits 5..8 | bits 1..2; bit 63 regardless of NXE. */
    return KS_BITS(clamp_m(c->cpu.maxphyaddr), 63) | KS_BITS(5, 8) | KS_BITS(1, 2);
}

/* The mask and, in (why), which rule each part comes from. */
static uint64_t mask_and_why(const struct pt_ctx *c, enum pt_mode mode, int level, bool bit7,
                             uint64_t entry, uint32_t *why)
{
    struct rsvd_terms t;
    uint64_t mask = 0;
    uint32_t w = 0;

#define ADD(bits, reason)                                                                          \
    do {                                                                                           \
        mask |= (bits);                                                                            \
        if (entry & (bits))                                                                        \
            w |= (reason);                                                                         \
    } while (0)

    terms(c, &t);
    switch (mode) {
    case PT_MODE_4LEVEL:
    case PT_MODE_5LEVEL:
        if (level < 1 || level > (mode == PT_MODE_5LEVEL ? 5 : 4))
            break;
        ADD(t.hi64, PT_RSVD_MAXPHYADDR);
        ADD(t.nxr, PT_RSVD_NX);
        if (level >= 4) {
            /* §2.1: PS is always reserved in PML4E/PML5E; AMD also reserves bit 8. */
            ADD(PTE_PS, PT_RSVD_PS_TOP);
            ADD(t.b8, PT_RSVD_AMD_BIT8);
        } else if (level == 3) {
            ADD(t.gb, PT_RSVD_GBPAGES);
            if (bit7)
                ADD(KS_BITS(13, 29), PT_RSVD_LARGE_PAGE); /* bit 12 = PAT */
        } else if (level == 2 && bit7) {
            ADD(KS_BITS(13, 20), PT_RSVD_LARGE_PAGE);
        }
        break;
    case PT_MODE_PAE:
        if (level == 3) {
            /* Applied when the PDPTE registers are loaded, never during the walk (§2.5). */
            ADD(pt_pdpte_rsvd_mask(c), PT_RSVD_PDPTE);
            break;
        }
        if (level < 1 || level > 2)
            break;
        ADD(t.hipae, PT_RSVD_PAE_HIGH);
        ADD(t.nxr, PT_RSVD_NX);
        if (level == 2 && bit7)
            ADD(KS_BITS(13, 20), PT_RSVD_LARGE_PAGE);
        break;
    case PT_MODE_32:
        /* §2.3: only a 4 MiB PDE has reserved bits; KVM always assumes PSE-36. */
        if (level == 2 && bit7 && (c->cr4 & X86_CR4_PSE))
            ADD(KS_BITS(17, 21), PT_RSVD_PSE36);
        break;
    case PT_MODE_NONE:
        break;
    }
#undef ADD
    if (why)
        *why = w;
    return mask;
}

uint64_t pt_rsvd_mask(const struct pt_ctx *c, int level, bool bit7)
{
    return mask_and_why(c, pt_mode_of(c), level, bit7, 0, NULL);
}

uint64_t pt_rsvd_check(const struct pt_ctx *c, enum pt_mode mode, int level, uint64_t entry,
                       uint32_t *why)
{
    uint64_t mask = mask_and_why(c, mode, level, entry & PTE_PS, entry, why);

    return entry & mask;
}

void pt_rsvd_table(const struct pt_ctx *c, enum pt_mode mode, uint64_t table[2][6])
{
    /* The same masks as mask_and_why(), built at once for the walk's hot path. */
    struct rsvd_terms t;

    terms(c, &t);
    memset(table, 0, 2 * 6 * sizeof(uint64_t));
    switch (mode) {
    case PT_MODE_5LEVEL:
        table[0][5] = table[1][5] = t.hi64 | t.nxr | PTE_PS | t.b8;
        /* fall through */
    case PT_MODE_4LEVEL:
        table[0][4] = table[1][4] = t.hi64 | t.nxr | PTE_PS | t.b8;
        table[0][3] = t.hi64 | t.nxr | t.gb;
        table[1][3] = t.hi64 | t.nxr | t.gb | KS_BITS(13, 29);
        table[0][2] = table[0][1] = table[1][1] = t.hi64 | t.nxr;
        table[1][2] = t.hi64 | t.nxr | KS_BITS(13, 20);
        break;
    case PT_MODE_PAE:
        table[0][3] = table[1][3] = pt_pdpte_rsvd_mask(c);
        table[0][2] = table[0][1] = table[1][1] = t.hipae | t.nxr;
        table[1][2] = t.hipae | t.nxr | KS_BITS(13, 20);
        break;
    case PT_MODE_32:
        if (c->cr4 & X86_CR4_PSE)
            table[1][2] = KS_BITS(17, 21);
        break;
    case PT_MODE_NONE:
        break;
    }
}
