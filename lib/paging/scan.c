/*
 * Page-table scan and lint: every present mapping of an address space,
 * coalesced into runs (like QEMU's `info mem`, hmp `mem_info_*` in
 * target/i386/monitor.c), with the same reserved-bit and rights rules as the
 * walker (spec/paging.md §2, §3.2).
 *
 * Speed matters here (a 64 GiB guest has 16M PTEs): each table is fetched
 * once with gmem_ptr(), empty slots cost one test, and a run is extended by
 * comparing one packed attribute key.
 */
#include "paging_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct scan {
    const struct gmem *m;
    const struct pt_ctx *c;
    bool wide, pse;
    unsigned esize, bits, root;
    uint64_t canon; /* bits OR-ed into upper-half root indexes (sign extension) */
    uint64_t rsvd[2][6];
    pt_range_fn fn;
    void *opaque;
    struct pt_scan_stats st;
    uint64_t max_tables; /* visits allowed before the table graph counts as a loop */
    int stop;
    bool have;
    uint64_t key;     /* packed attributes of (cur) */
    uint64_t leafkey; /* (cur) is an OK 4 KiB run of 8-byte PTEs with these masked bits */
    gva_t end;        /* cur.va + cur.size */
    struct pt_range cur;
};

static void flush(struct scan *s)
{
    if (!s->have || s->stop)
        return;
    s->have = false;
    s->st.ranges++;
    s->stop = s->fn(s->opaque, &s->cur);
}

static inline uint64_t pack(enum pt_verdict v, bool u, bool w, bool x, unsigned pkey, int level,
                            uint32_t why)
{
    return (uint64_t)v | (uint64_t)u << 2 | (uint64_t)w << 3 | (uint64_t)x << 4 |
           (uint64_t)pkey << 5 | (uint64_t)level << 9 | (uint64_t)why << 12;
}

/* Extend the current run or start a new one. */
static inline void add(struct scan *s, gva_t va, uint64_t size, gpa_t gpa, uint64_t key,
                       const struct pt_range *proto)
{
    if (s->have && s->key == key && s->end == va) {
        if (s->cur.phys_contig && s->cur.gpa + s->cur.size != gpa)
            s->cur.phys_contig = false;
        s->cur.size += size;
        s->cur.npages++;
        s->end += size;
        return;
    }
    flush(s);
    s->leafkey = ~0ULL;
    s->cur = *proto;
    s->cur.va = va;
    s->cur.size = size;
    s->cur.gpa = gpa;
    s->cur.phys_contig = true;
    s->cur.npages = 1;
    s->key = key;
    s->end = va + size;
    s->have = true;
}

static gpa_t leaf_base(const struct scan *s, int level, uint64_t e, unsigned shift)
{
    if (!s->wide)
        return level == 1 ? (e & PT32_ADDR_MASK)
                          : ((e & 0xffc00000ULL) | ((e >> 13) & 0xfULL) << 32);
    return e & KS_BITS(shift, 51);
}

/*
 * An entry with reserved bits: the run shows the rights it would give
 * (upper levels AND its own bits), its bits and every rule they break.
 */
static void add_reserved(struct scan *s, gva_t va, int level, uint64_t e, gpa_t egpa, bool u,
                         bool w, bool x)
{
    const uint64_t span = 1ULL << (12 + (unsigned)(level - 1) * s->bits);
    struct pt_range r = {.page_size = span,
                         .level = level,
                         .verdict = PT_RESERVED,
                         .user = u && (e & PTE_U),
                         .writable = w && (e & PTE_W),
                         .executable = x && !(s->wide && (e & PTE_NX)),
                         .entry = e,
                         .entry_gpa = egpa};

    r.rsvd_bits = pt_rsvd_check(s->c, pt_mode_of(s->c), level, e, &r.rsvd_why);
    add(s, va, span, 0, pack(PT_RESERVED, r.user, r.writable, r.executable, 0, level, r.rsvd_why),
        &r);
}

/*
 * The hot loop: a table of 8-byte PTEs. A run continues while the entry's
 * rights-relevant bits (U, W, NX, key), masked by what the upper levels
 * allow, stay equal, so most pages cost a load, two tests and an add.
 */
static void scan_ptes(struct scan *s, const uint8_t *t, gva_t base, bool u, bool w, bool x,
                      gpa_t table)
{
    const uint64_t keep = (u ? PTE_U : 0) | (w ? PTE_W : 0) | (x ? PTE_NX : 0) | KS_BITS(59, 62);
    /* The upper levels' rights go into bits 3..5 (never kept) so that equal keys mean equal
     * effective rights: with x=0 the NX bit is masked out but nothing is executable. */
    const uint64_t tag = (uint64_t)u << 3 | (uint64_t)w << 4 | (uint64_t)x << 5;
    const uint64_t rsvd = s->rsvd[0][1];
    /*
     * The key and reserved bits of the reserved run this table last started or
     * extended (~0: none). An entry with the same key and the same reserved bits
     * has the same rights and rule, so add() would merge it: extend the run
     * without re-deriving the rule (tables scanned with EFER.NXE=0 but using NX
     * are all reserved entries, docs/performance.md).
     */
    uint64_t rkey = ~0ULL, rbits = 0;

    for (unsigned i = 0; i < 512; i++) {
        uint64_t e;

        memcpy(&e, t + 8 * i, 8);
        if (!(e & PTE_P))
            continue;
        const gva_t va = base + ((gva_t)i << 12);
        const gpa_t gpa = e & PT64_ADDR_MASK;
        const uint64_t k = (e & keep) | tag;

        s->st.present++;
        if (ks_likely(k == s->leafkey && s->end == va && !(e & rsvd))) {
            s->st.leaves++;
            if (s->cur.phys_contig && s->cur.gpa + s->cur.size != gpa)
                s->cur.phys_contig = false;
            s->cur.size += 4096;
            s->cur.npages++;
            s->end += 4096;
            continue;
        }
        if (e & rsvd) {
            if (k == rkey && (e & rsvd) == rbits && s->have && s->end == va) {
                s->cur.phys_contig = false; /* reserved runs map nothing */
                s->cur.size += 4096;
                s->cur.npages++;
                s->end += 4096;
                continue;
            }
            add_reserved(s, va, 1, e, table + 8 * i, u, w, x);
            rkey = k;
            rbits = e & rsvd;
        } else {
            rkey = ~0ULL;
            const bool nu = k & PTE_U, nw = k & PTE_W, nx = x && !(k & PTE_NX);
            const unsigned pkey = (unsigned)(k >> 59) & 0xf;
            struct pt_range r = {.page_size = 4096,
                                 .level = 1,
                                 .verdict = PT_OK,
                                 .user = nu,
                                 .writable = nw,
                                 .executable = nx,
                                 .pkey = pkey,
                                 .entry = e,
                                 .entry_gpa = table + 8 * i};

            s->st.leaves++;
            add(s, va, 4096, gpa, pack(PT_OK, nu, nw, nx, pkey, 1, 0), &r);
            /* The run now has exactly these bits, whether add() merged or started it. */
            s->leafkey = k;
        }
        if (s->stop)
            return;
    }
}

static void scan_table(struct scan *s, int level, gpa_t table, gva_t base, bool u, bool w, bool x)
{
    const unsigned n = 1u << s->bits, shift = 12 + (unsigned)(level - 1) * s->bits;
    const uint64_t span = 1ULL << shift;
    const uint8_t *t = gmem_ptr(s->m, table, (uint64_t)n * s->esize);
    const uint64_t *rsvd0 = &s->rsvd[0][level], *rsvd1 = &s->rsvd[1][level];

    if (++s->st.tables > s->max_tables) {
        s->stop = -ELOOP;
        return;
    }
    s->st.entries += n;
    if (level == 1 && s->wide && t) {
        scan_ptes(s, t, base, u, w, x, table);
        return;
    }
    for (unsigned i = 0; i < n && !s->stop; i++) {
        gpa_t egpa = table + (gpa_t)i * s->esize;
        gva_t va = base + ((gva_t)i << shift);
        uint64_t e;

        if (level == (int)s->root && i >= n / 2)
            va |= s->canon;
        if (ks_likely(t != NULL)) {
            e = pt_load_entry(t + (size_t)i * s->esize, s->esize);
        } else {
            /* Table (partly) outside memory: KVM sees such entries as not present. */
            const uint8_t *p = gmem_ptr(s->m, egpa, s->esize);
            if (!p) {
                struct pt_range r = {.page_size = span,
                                     .level = level,
                                     .verdict = PT_UNBACKED,
                                     .user = u,
                                     .writable = w,
                                     .executable = x,
                                     .entry_gpa = egpa};
                add(s, va, span, 0, pack(PT_UNBACKED, u, w, x, 0, level, 0), &r);
                continue;
            }
            e = pt_load_entry(p, s->esize);
        }
        if (ks_likely(!(e & PTE_P)))
            continue;
        s->st.present++;

        const bool b7 = e & PTE_PS;
        if (ks_unlikely(e & (b7 ? *rsvd1 : *rsvd0))) {
            add_reserved(s, va, level, e, egpa, u, w, x);
            continue;
        }
        const bool nu = u && (e & PTE_U), nw = w && (e & PTE_W);
        const bool nx = x && !(s->wide && (e & PTE_NX));

        if (level == 1 || (b7 && (s->wide || s->pse))) {
            const unsigned pkey = s->wide ? (unsigned)(e >> 59) & 0xf : 0;
            const gpa_t gpa = leaf_base(s, level, e, shift);

            s->st.leaves++;
            if (ks_likely(s->have && s->end == va &&
                          s->key == pack(PT_OK, nu, nw, nx, pkey, level, 0))) {
                if (s->cur.phys_contig && s->cur.gpa + s->cur.size != gpa)
                    s->cur.phys_contig = false;
                s->cur.size += span;
                s->cur.npages++;
                s->end += span;
                continue;
            }
            struct pt_range r = {.page_size = span,
                                 .level = level,
                                 .verdict = PT_OK,
                                 .user = nu,
                                 .writable = nw,
                                 .executable = nx,
                                 .pkey = pkey,
                                 .entry = e,
                                 .entry_gpa = egpa};
            add(s, va, span, gpa, pack(PT_OK, nu, nw, nx, pkey, level, 0), &r);
            continue;
        }
        scan_table(s, level - 1, e & (s->wide ? PT64_ADDR_MASK : PT32_ADDR_MASK), va, nu, nw, nx);
    }
}

/* Paging off: each memory region is an identity run (nonpaging_gva_to_gpa). */
static void scan_identity(struct scan *s)
{
    gpa_t from = 0;

    for (;;) {
        const struct gmem_region *next = NULL;

        for (unsigned i = 0; i < s->m->nregions; i++) {
            const struct gmem_region *r = &s->m->region[i];
            if (r->gpa >= from && (!next || r->gpa < next->gpa))
                next = r;
        }
        if (!next || s->stop)
            break;
        struct pt_range r = {.page_size = 0,
                             .level = 0,
                             .verdict = PT_OK,
                             .user = true,
                             .writable = true,
                             .executable = true};
        add(s, next->gpa, next->size, next->gpa, pack(PT_OK, 1, 1, 1, 0, 0, 0), &r);
        from = next->gpa + next->size;
        if (!from)
            break;
    }
}

int pt_scan(const struct gmem *m, const struct pt_ctx *c, pt_range_fn fn, void *opaque,
            struct pt_scan_stats *stats)
{
    struct scan s;
    const enum pt_mode mode = pt_mode_of(c);
    int ret = 0;

    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (pt_ctx_check(c))
        return -EINVAL;
    memset(&s, 0, sizeof(s));
    s.m = m;
    s.c = c;
    s.fn = fn;
    s.opaque = opaque;
    s.wide = mode != PT_MODE_32;
    s.pse = c->cr4 & X86_CR4_PSE;
    s.esize = s.wide ? 8 : 4;
    s.bits = s.wide ? 9 : 10;
    pt_rsvd_table(c, mode, s.rsvd);
    /*
     * Distinct tables are distinct pages of memory, and even a recursive
     * self-map only revisits each table about once more; far more visits
     * than pages means tables that point back at themselves, which a hostile
     * guest can use to make the scan run for days.
     */
    for (unsigned i = 0; i < m->nregions; i++)
        s.max_tables += m->region[i].size / 4096;
    s.max_tables = 4 * s.max_tables + 64;

    switch (mode) {
    case PT_MODE_NONE:
        scan_identity(&s);
        break;
    case PT_MODE_32:
        s.root = 2;
        scan_table(&s, 2, c->cr3 & PT32_ADDR_MASK, 0, true, true, true);
        break;
    case PT_MODE_PAE: {
        uint64_t pdptr[4];

        if (c->pdptr_valid)
            memcpy(pdptr, c->pdptr, sizeof(pdptr));
        else if (pt_load_pdptrs(m, c, pdptr))
            return -EINVAL;
        s.root = 3; /* the PDPTE registers; no sign extension in 32-bit addresses */
        s.st.entries += 4;
        for (int i = 0; i < 4 && !s.stop; i++) {
            if (!(pdptr[i] & PTE_P))
                continue;
            s.st.present++;
            scan_table(&s, 2, pdptr[i] & PT64_ADDR_MASK, (gva_t)i << 30, true, true, true);
        }
        break;
    }
    case PT_MODE_4LEVEL:
    case PT_MODE_5LEVEL:
        s.root = mode == PT_MODE_5LEVEL ? 5 : 4;
        /* Upper-half indexes give canonical addresses: copies of bit 47 (or 56). */
        s.canon = mode == PT_MODE_5LEVEL ? KS_BITS(57, 63) : KS_BITS(48, 63);
        scan_table(&s, (int)s.root, c->cr3 & PT64_ADDR_MASK, 0, true, true, true);
        break;
    }
    if (s.stop == -ELOOP) {
        s.stop = 0; /* report the run in progress, then the loop */
        flush(&s);
        ret = s.stop ? s.stop : -ELOOP;
    } else {
        flush(&s);
        ret = s.stop;
    }
    if (stats)
        *stats = s.st;
    return ret;
}

const char *pt_lint_name(enum pt_lint_kind kind)
{
    switch (kind) {
    case PT_LINT_RESERVED:
        return "reserved";
    case PT_LINT_UNBACKED:
        return "unbacked";
    case PT_LINT_WX:
        return "wx";
    case PT_LINT_NONE:
        break;
    }
    return "none";
}

enum pt_lint_kind pt_lint(const struct pt_ctx *c, const struct pt_range *r, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    if (r->verdict == PT_RESERVED) {
        struct pt_level lv = {.level = r->level,
                              .entry = r->entry,
                              .entry_gpa = r->entry_gpa,
                              .verdict = PT_RESERVED,
                              .rsvd_bits = r->rsvd_bits,
                              .rsvd_why = r->rsvd_why};
        char why[512];

        pt_level_reason(c, &lv, why, sizeof(why));
        if (r->rsvd_why & PT_RSVD_GBPAGES)
            snprintf(buf, len,
                     "%llu 1 GiB page(s) in use but this vCPU has no 1 GiB pages (%s); every "
                     "KVM software walk here faults with #PF P|RSVD",
                     (unsigned long long)r->npages, why);
        else
            snprintf(buf, len,
                     "%llu level-%d entr%s with reserved bits 0x%llx (%s); every KVM software "
                     "walk here faults with #PF P|RSVD",
                     (unsigned long long)r->npages, r->level, r->npages == 1 ? "y" : "ies",
                     (unsigned long long)r->rsvd_bits, why);
        return PT_LINT_RESERVED;
    }
    if (r->verdict == PT_UNBACKED) {
        snprintf(buf, len,
                 "a present entry points at a level-%d table outside guest memory (entry GPA "
                 "0x%llx); KVM treats it as not present",
                 r->level, (unsigned long long)r->entry_gpa);
        return PT_LINT_UNBACKED;
    }
    if (!r->user && r->writable && r->executable && r->level > 0) {
        snprintf(buf, len, "supervisor mapping is writable and executable (W+X)%s",
                 (c->efer & X86_EFER_NXE) ? "" : "; EFER.NXE=0, so no page can be made no-execute");
        return PT_LINT_WX;
    }
    return PT_LINT_NONE;
}
