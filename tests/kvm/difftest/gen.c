/*
 * The case generator. Like kvm-unit-tests x86/access.c (spec/paging.md
 * §6.1) it varies entry flags, CR0.WP, EFER.NXE and the access, but it draws
 * every level at random instead of enumerating PDE/PTE flags, adds PS at
 * every level, ignored and reserved bits, and unbacked table pointers.
 */
#include "gen.h"

#include "difftest/abi.h"

/* splitmix64: tiny, good enough for test vectors, and stable across platforms. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return next(s) % n;
}

/* True with probability 1/n. */
static bool one_in(uint64_t *s, uint64_t n)
{
    return below(s, n) == 0;
}

uint64_t dt_pattern(gpa_t g)
{
    return 0xb8ULL | (g & 0xffffffffULL) << 8 | 0xc3ULL << 40 | ((g >> 32) & 0xff) << 48 |
           0x5aULL << 56;
}

const char *dt_kind_name(unsigned kind)
{
    static const char *const names[] = {"read", "write", "fetch"};

    return kind < KS_ARRAY_SIZE(names) ? names[kind] : "?";
}

/*
 * One bit that is reserved for this entry under the rules of spec/paging.md
 * §2.1 (SDM Vol. 3A Table 4-20): an address bit at or above MAXPHYADDR (bit
 * 51 favoured, as access.c uses it), or a bit inside the frame of a large
 * leaf. Returns 0 when the entry has no such bit (MAXPHYADDR 52, small leaf).
 */
static uint64_t reserved_bit(uint64_t *s, unsigned maxphyaddr, int level, bool ps)
{
    unsigned lo = 0, hi = 0;

    if (ps && level == 2 && one_in(s, 2))
        lo = 13, hi = 20;
    else if (ps && level == 3 && one_in(s, 2))
        lo = 13, hi = 29;
    else if (maxphyaddr <= 51)
        lo = one_in(s, 3) ? 51 : maxphyaddr, hi = 51;
    if (!hi)
        return 0;
    return KS_BIT(lo + below(s, hi - lo + 1));
}

/*
 * A table pointer: usually (table); sometimes unbacked GPA space, which KVM's
 * walker reads as not present (spec/paging.md §3.4). Half of those set one of
 * the four address bits just below MAXPHYADDR, so that a model using a wrong
 * MAXPHYADDR (calling that bit reserved, or a reserved bit an address) shows.
 */
static gpa_t unbacked_or(uint64_t *s, unsigned maxphyaddr, gpa_t table)
{
    if (!one_in(s, 48))
        return table;
    if (one_in(s, 2) && maxphyaddr >= 36)
        return table | KS_BIT(maxphyaddr - 1 - below(s, 4));
    return DT_UNBACKED + below(s, 0x10000) * 0x1000;
}

static gpa_t data_frame(uint64_t *s, uint64_t size)
{
    return DT_DATA + below(s, (DT_RAM_SIZE - DT_DATA) / size) * size;
}

/*
 * An entry at (level) whose table pointer (if it turns out non-leaf) is
 * (next_table). Probabilities keep roughly half the walks reaching a
 * permission check, so every rule of §3 gets exercised.
 */
static uint64_t gen_entry(uint64_t *s, const struct dt_gen_cfg *cfg, int level, gpa_t next_table)
{
    uint64_t e = 0;
    bool ps;

    if (one_in(s, 32)) /* not present: anything else goes, even "reserved" junk */
        return next(s) & ~PTE_P;
    e |= PTE_P;
    e |= one_in(s, 8) ? 0 : PTE_W;
    e |= one_in(s, 8) ? 0 : PTE_U;
    e |= one_in(s, 2) ? PTE_A : 0;
    e |= one_in(s, 2) ? PTE_D : 0;
    e |= one_in(s, 8) ? PTE_PWT : 0;
    e |= one_in(s, 8) ? PTE_PCD : 0;
    /* bit 8: G, ignored above the leaf, but reserved in an AMD guest's PML4E */
    e |= one_in(s, level == 4 ? 16 : 4) ? PTE_G : 0;
    e |= one_in(s, 4) ? next(s) & KS_BITS(9, 11) : 0;  /* ignored */
    e |= one_in(s, 8) ? next(s) & KS_BITS(52, 62) : 0; /* ignored / PKEY without CR4.PKE */
    e |= one_in(s, 8) ? PTE_NX : 0;

    switch (level) {
    case 4:
        ps = one_in(s, 32); /* always reserved */
        break;
    case 3:
        /* 1 GiB pages are reserved without GBPAGES (the seed case); with them a
         * 1 GiB frame would cover the harness, so they are not generated then. */
        ps = !cfg->cpu.gbpages && one_in(s, 16);
        break;
    case 2:
        ps = one_in(s, 3);
        break;
    default:
        ps = one_in(s, 4); /* PAT */
        break;
    }
    if (ps)
        e |= PTE_PS;

    if (level == 1)
        e |= data_frame(s, 0x1000);
    else if (level == 2 && ps)
        e |= data_frame(s, 0x200000) | (one_in(s, 4) ? KS_BIT(12) : 0);
    else if (level == 3 && ps)
        e |= below(s, 4) << 30 | (one_in(s, 4) ? KS_BIT(12) : 0);
    else
        e |= unbacked_or(s, cfg->cpu.maxphyaddr, next_table);

    /* Large leaves get more: their bits 13..20 / 13..29 are the interesting ones. */
    if (one_in(s, ps && level >= 2 ? 8 : 24))
        e |= reserved_bit(s, cfg->cpu.maxphyaddr, level, ps);
    return e;
}

/* (n) distinct table pages from the shared pool, none a PML4 page. */
static void pick_tables(uint64_t *s, gpa_t *t, unsigned n)
{
    const uint64_t pages = (DT_TABLE_POOL_END - DT_TABLE_POOL) / 0x1000;

    for (unsigned i = 0; i < n; i++) {
        bool dup;
        do {
            t[i] = DT_TABLE_POOL + below(s, pages) * 0x1000;
            dup = false;
            for (unsigned j = 0; j < i; j++)
                dup |= t[j] == t[i];
        } while (dup);
    }
}

static void gen_4level(uint64_t *sp, const struct dt_gen_cfg *cfg, struct dt_case *c)
{
    uint64_t s = *sp;
    unsigned idx[5];
    gpa_t table[5];

    c->mode = PT_MODE_4LEVEL;
    c->esize = 8;
    c->nent = 4;
    c->cr4 = X86_CR4_PAE | (cfg->cr4_extra & next(&s));

    /* PML4 slot 0 is the harness's; the test address lives in any other, canonical. */
    do
        idx[4] = 1 + (unsigned)below(&s, 511);
    while (c->user && idx[4] == 256 && !cfg->user_slot256);
    for (int l = 3; l >= 1; l--)
        idx[l] = (unsigned)below(&s, 512);
    c->gva = (gva_t)idx[4] << 39 | (gva_t)idx[3] << 30 | (gva_t)idx[2] << 21 | (gva_t)idx[1] << 12 |
             (below(&s, 512) * 8);
    if (idx[4] >= 256)
        c->gva |= KS_BITS(48, 63);

    table[4] = DT_PML4_POOL + below(&s, DT_PML4_POOL_PAGES) * 0x1000;
    pick_tables(&s, &table[1], 3);
    /* One case in 16 shares pages between levels (self-maps, aliased tables):
     * a lower level reuses a higher level's page, so one entry may be read at
     * two levels. Slot 0 of a PML4 page stays the harness's. */
    if (one_in(&s, 16)) {
        for (int l = 3; l >= 1; l--) {
            int from = l + 1 + (int)below(&s, 4 - l);
            if (one_in(&s, 2) && !(table[from] == table[4] && idx[l] == 0))
                table[l] = table[from];
        }
    }
    c->cr3 = table[4] | (one_in(&s, 4) ? next(&s) & (PTE_PWT | PTE_PCD) : 0);
    for (int l = 4; l >= 1; l--) {
        struct dt_entry *e = &c->ent[4 - l];
        e->level = l;
        e->gpa = table[l] + idx[l] * 8;
        e->val = gen_entry(&s, cfg, l, l > 1 ? table[l - 1] : 0);
    }
    *sp = s;
}

/* Bits 1-2 and 5-8 are reserved in a PAE PDPTE, and so is 63 (spec/paging.md §2.5). */
static uint64_t pdpte_reserved_bit(uint64_t *s, unsigned maxphyaddr)
{
    static const unsigned low[] = {1, 2, 5, 6, 7, 8, 63};

    if (one_in(s, 2) && maxphyaddr < 63)
        return KS_BIT(maxphyaddr + below(s, 63 - maxphyaddr));
    return KS_BIT(low[below(s, KS_ARRAY_SIZE(low))]);
}

/* A PAE PDPTE register value pointing at (pd): mostly valid, sometimes not present or reserved. */
static uint64_t gen_pdpte(uint64_t *s, const struct dt_gen_cfg *cfg, gpa_t pd, bool harness)
{
    uint64_t e = pd | PTE_P;

    if (!harness && one_in(s, 16))
        return next(s) & KS_BITS(1, 62) & ~PTE_P;
    e |= one_in(s, 8) ? PTE_PWT : 0;
    e |= one_in(s, 8) ? PTE_PCD : 0;
    e |= one_in(s, 4) ? next(s) & KS_BITS(9, 11) : 0;
    if (!harness && one_in(s, 16))
        e |= pdpte_reserved_bit(s, cfg->cpu.maxphyaddr);
    return e;
}

/*
 * A PAE PDE/PTE or 32-bit PDE/PTE: the flags of gen_entry(), with the
 * frame/reserved rules of spec/paging.md §2.2/§2.3 (PAE reserves bits
 * 62:MAXPHYADDR; a 32-bit 4 MiB PDE has PSE-36 bits 16:13, which the
 * generator leaves 0 so that frames stay in RAM, and reserved bits 21:17).
 */
static uint64_t gen_legacy_entry(uint64_t *s, const struct dt_gen_cfg *cfg, bool pae, bool pse,
                                 int level, gpa_t next_table)
{
    uint64_t e = 0;
    bool ps = level == 2 ? one_in(s, 3) : one_in(s, 4);

    if (one_in(s, 32))
        return next(s) & (pae ? ~0ULL : 0xffffffffULL) & ~PTE_P;
    e |= PTE_P;
    e |= one_in(s, 8) ? 0 : PTE_W;
    e |= one_in(s, 8) ? 0 : PTE_U;
    e |= one_in(s, 2) ? PTE_A : 0;
    e |= one_in(s, 2) ? PTE_D : 0;
    e |= one_in(s, 8) ? PTE_PWT : 0;
    e |= one_in(s, 8) ? PTE_PCD : 0;
    e |= one_in(s, 4) ? PTE_G : 0;
    e |= one_in(s, 4) ? next(s) & KS_BITS(9, 11) : 0;
    e |= ps ? PTE_PS : 0;
    if (pae) {
        e |= one_in(s, 8) ? PTE_NX : 0;
        if (one_in(s, 16)) /* reserved in PAE, ignored in 4-level */
            e |= KS_BIT(52 + below(s, 11));
    }
    if (level == 1)
        e |= data_frame(s, 0x1000);
    else if (ps && pae)
        e |= data_frame(s, 0x200000) | (one_in(s, 4) ? KS_BIT(12) : 0);
    else if (ps && pse && level == 2) /* with CR4.PSE=0 the PS bit is ignored */
        e |= data_frame(s, 0x400000) | (one_in(s, 4) ? KS_BIT(12) : 0);
    else if (pae)
        e |= unbacked_or(s, cfg->cpu.maxphyaddr, next_table);
    else if (one_in(s, 64))
        e |= DT_UNBACKED + below(s, 0x10000) * 0x1000;
    else
        e |= next_table;
    if (one_in(s, ps && level == 2 ? 8 : 24)) {
        if (pae)
            e |= reserved_bit(s, cfg->cpu.maxphyaddr, level, ps && level == 2);
        else if (ps && pse && level == 2)
            e |= KS_BIT(17 + below(s, 5));
    }
    return e;
}

static void gen_legacy(uint64_t *sp, const struct dt_gen_cfg *cfg, struct dt_case *c)
{
    uint64_t s = *sp;
    gpa_t t[5];
    bool pse;

    c->mode = one_in(&s, 2) ? PT_MODE_PAE : PT_MODE_32;
    c->cr4 = (c->mode == PT_MODE_PAE ? X86_CR4_PAE : 0) | (one_in(&s, 2) ? X86_CR4_PSE : 0) |
             (cfg->cr4_extra & next(&s));
    pse = c->cr4 & X86_CR4_PSE;
    pick_tables(&s, t, 5);
    if (c->mode == PT_MODE_32) {
        unsigned pdi = 1 + (unsigned)below(&s, 1023), pti = (unsigned)below(&s, 1024);
        gpa_t pd = DT_PD32_POOL + below(&s, DT_LEGACY_POOL_PAGES) * 0x1000;

        c->esize = 4;
        c->nent = 2;
        c->gva = (gva_t)pdi << 22 | (gva_t)pti << 12 | below(&s, 512) * 8;
        c->cr3 = pd | (one_in(&s, 4) ? next(&s) & (PTE_PWT | PTE_PCD) : 0);
        c->ent[0] = (struct dt_entry){2, pd + pdi * 4, 0};
        c->ent[0].val = gen_legacy_entry(&s, cfg, false, pse, 2, t[0]) & 0xffffffffULL;
        c->ent[1] = (struct dt_entry){1, t[0] + pti * 4, 0};
        c->ent[1].val = gen_legacy_entry(&s, cfg, false, pse, 1, 0) & 0xffffffffULL;
    } else {
        unsigned pdpi = (unsigned)below(&s, 4), pti = (unsigned)below(&s, 512);
        unsigned pdi = pdpi ? (unsigned)below(&s, 512) : 1 + (unsigned)below(&s, 511);
        gpa_t pdpt = t[0] + below(&s, 128) * 32;
        gpa_t pd0 = DT_PDPAE_POOL + below(&s, DT_LEGACY_POOL_PAGES) * 0x1000;
        gpa_t pd = pdpi ? t[pdpi] : pd0;

        c->esize = 8;
        c->nent = 6;
        c->gva = (gva_t)pdpi << 30 | (gva_t)pdi << 21 | (gva_t)pti << 12 | below(&s, 512) * 8;
        c->cr3 = pdpt;
        for (unsigned i = 0; i < 4; i++) {
            c->ent[i] = (struct dt_entry){3, pdpt + i * 8, 0};
            c->ent[i].val = gen_pdpte(&s, cfg, i ? t[i] : pd0, i == 0);
        }
        c->ent[4] = (struct dt_entry){2, pd + pdi * 8, 0};
        c->ent[4].val = gen_legacy_entry(&s, cfg, true, true, 2, t[4]);
        c->ent[5] = (struct dt_entry){1, t[4] + pti * 8, 0};
        c->ent[5].val = gen_legacy_entry(&s, cfg, true, true, 1, 0);
    }
    *sp = s;
}

void dt_gen_case(const struct dt_gen_cfg *cfg, uint64_t seed, uint64_t index, struct dt_case *c)
{
    uint64_t s = seed ^ (index * 0xd1b54a32d192ed03ULL);

    next(&s);
    *c = (struct dt_case){.seed = seed, .index = index};
    c->cr0 = cfg->cr0_base | (one_in(&s, 2) ? X86_CR0_WP : 0);
    c->efer = cfg->efer_base | (cfg->nx && one_in(&s, 2) ? X86_EFER_NXE : 0);
    c->kind = (unsigned)below(&s, 3);
    c->user = one_in(&s, 2);
    c->wval = 0xd1ff000000000000ULL | index;
    /* RFLAGS.AC lifts SMAP for CPL0 data accesses (spec/paging.md §3.3 rule 5). */
    c->rflags = 0x2 | (one_in(&s, 2) ? X86_RFLAGS_AC : 0);
    if (cfg->legacy) {
        gen_legacy(&s, cfg, c);
    } else {
        gen_4level(&s, cfg, c);
        /* A read first sets A bits (and, under shadow paging, maps the page
         * read-only), so the real access meets a different state. */
        c->twice = one_in(&s, 4);
    }
}

uint32_t dt_case_access(const struct dt_case *c)
{
    uint32_t a = c->user ? PFERR_U : 0;

    if (c->kind == DT_WRITE)
        a |= PFERR_W;
    else if (c->kind == DT_FETCH)
        a |= PFERR_F;
    return a;
}

void dt_case_ctx(const struct dt_case *c, const struct pt_cpu *cpu, struct pt_ctx *ctx)
{
    *ctx = (struct pt_ctx){
        .cr0 = c->cr0,
        .cr3 = c->cr3,
        .cr4 = c->cr4,
        .efer = c->efer,
        .rflags = c->rflags,
        .cpu = *cpu,
    };
}
