/*
 * What a KVM trace says about a crash: exit histogram, failing guest page
 * walks decoded level by level, emulation failures (with the stale-byte
 * trap of spec/paging.md §5.4), and the injected exception chain up to a
 * triple fault.
 *
 * A failing walk is explained by replaying it: the entries the trace
 * printed are placed in a scratch guest memory at the table addresses they
 * name, and lib/paging's model of KVM's walker (pt_walk) walks the same
 * address with the same access. The unknown vCPU state (MAXPHYADDR,
 * KVM's effective GBPAGES, EFER.NXE) is varied until the replay gives the
 * error code KVM traced; the report says which values that took.
 */
#include "ks/ktrace.h"
#include "ks/paging.h"
#include "ks/x86.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KVM_EXIT_* values the analysis tests (include/uapi/linux/kvm.h; lib/ never includes it). */
#define KT_KVM_EXIT_SHUTDOWN       8
#define KT_KVM_EXIT_INTERNAL_ERROR 17

/* ---------------------------------------------------------------------------------------------
 * Walk replay
 */

#define PAGE 4096u

struct scratch {
    struct gmem mem;
    gpa_t base[6];
    uint8_t page[6][PAGE];
    bool used_slot[6][PAGE / 4];
    unsigned npages;
};

static enum pt_mode mode_of_walk(const struct kt_walk *w)
{
    if (!w->nlevels)
        return PT_MODE_NONE;
    switch (w->level[0]) {
    case 5:
        return PT_MODE_5LEVEL;
    case 4:
        return PT_MODE_4LEVEL;
    case 3:
        return PT_MODE_PAE; /* the PDPTE register is traced as level 3 (paging.md §5.1) */
    case 2:
        return PT_MODE_32;
    default:
        return PT_MODE_NONE;
    }
}

static const char *mode_text(enum pt_mode m)
{
    switch (m) {
    case PT_MODE_5LEVEL:
        return "5-level";
    case PT_MODE_4LEVEL:
        return "4-level";
    case PT_MODE_PAE:
        return "PAE";
    case PT_MODE_32:
        return "32-bit";
    default:
        return "unknown";
    }
}

static unsigned level_index(enum pt_mode m, gva_t va, unsigned level)
{
    if (m == PT_MODE_32)
        return (unsigned)(va >> (12 + 10 * (level - 1))) & 1023;
    if (m == PT_MODE_PAE && level == 3)
        return (unsigned)(va >> 30) & 3;
    return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

static gpa_t next_table(enum pt_mode m, uint64_t entry)
{
    /* SDM Vol. 3A §4.3 (32-bit: bits 31:12) and §4.4/4.5 (bits 51:12). */
    return m == PT_MODE_32 ? entry & 0xfffff000ULL : entry & 0x000ffffffffff000ULL;
}

/* Put (entry) at slot (idx) of the table at (base). Returns -EEXIST on a contradiction. */
static int place(struct scratch *s, gpa_t base, unsigned idx, uint64_t entry, unsigned esz)
{
    unsigned p;

    for (p = 0; p < s->npages; p++)
        if (s->base[p] == base)
            break;
    if (p == s->npages) {
        if (p == KS_ARRAY_SIZE(s->base))
            return -ENOSPC;
        s->base[p] = base;
        memset(s->page[p], 0, PAGE);
        memset(s->used_slot[p], 0, sizeof(s->used_slot[p]));
        s->npages++;
    }
    if (s->used_slot[p][idx * esz / 4]) {
        uint64_t old = 0;
        memcpy(&old, s->page[p] + idx * esz, esz);
        if (old != entry)
            return -EEXIST;
    }
    memcpy(s->page[p] + idx * esz, &entry, esz);
    s->used_slot[p][idx * esz / 4] = true;
    return 0;
}

struct guess {
    unsigned maxphyaddr;
    int gbpages, nxe, smep;
};

static void make_ctx(enum pt_mode m, const struct guess *g, bool amd, struct pt_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
    c->cpu.maxphyaddr = g->maxphyaddr;
    c->cpu.gbpages = g->gbpages;
    c->cpu.amd = amd;
    if (g->nxe)
        c->efer |= X86_EFER_NXE;
    if (g->smep)
        c->cr4 |= X86_CR4_SMEP;
    switch (m) {
    case PT_MODE_5LEVEL:
        c->cr4 |= X86_CR4_LA57;
        /* fall through */
    case PT_MODE_4LEVEL:
        c->cr4 |= X86_CR4_PAE;
        c->efer |= X86_EFER_LMA | X86_EFER_LME;
        break;
    case PT_MODE_PAE:
        c->cr4 |= X86_CR4_PAE;
        c->pdptr_valid = true;
        break;
    case PT_MODE_32:
        c->cr4 |= X86_CR4_PSE; /* assumed: a 4 MiB PDE only makes sense with it */
        break;
    default:
        break;
    }
}

/* Build the scratch memory and walk. Returns 0, or -EEXIST/-ENOSPC when the entries conflict. */
static int replay(const struct kt_walk *w, enum pt_mode m, const struct guess *g, bool amd,
                  struct scratch *s, struct pt_ctx *c, struct pt_walk *out)
{
    unsigned esz = m == PT_MODE_32 ? 4 : 8, first = 0;
    gpa_t cr3 = PAGE, base;
    int rc;

    make_ctx(m, g, amd, c);
    s->npages = 0;
    gmem_init(&s->mem);
    if (m == PT_MODE_PAE) {
        c->pdptr[level_index(m, w->addr, 3)] = w->pte[0];
        first = 1;
    }
    /* A root-table address that no entry names, so the root page cannot alias another. */
    for (bool clash = true; clash;) {
        clash = false;
        for (unsigned i = 0; i < w->nlevels; i++)
            if (next_table(m, w->pte[i]) == cr3)
                clash = true;
        if (clash)
            cr3 += PAGE;
    }
    c->cr3 = cr3;
    base = m == PT_MODE_PAE ? next_table(m, w->pte[0]) : cr3;
    for (unsigned i = first; i < w->nlevels; i++) {
        rc = place(s, base, level_index(m, w->addr, w->level[i]), w->pte[i], esz);
        if (rc)
            return rc;
        base = next_table(m, w->pte[i]);
    }
    for (unsigned p = 0; p < s->npages; p++)
        if ((rc = gmem_add(&s->mem, s->base[p], PAGE, s->page[p], false)))
            return rc;
    return pt_walk(&s->mem, c, w->addr, w->access & (PFERR_W | PFERR_U | PFERR_F), out);
}

static bool reproduces(const struct kt_walk *w, const struct pt_walk *r)
{
    return r->fault && r->error_code == w->error_code && r->nlevels == w->nlevels;
}

static const char *verdict_kind(const struct pt_walk *r)
{
    const struct pt_level *lv = r->nlevels ? &r->lv[r->nlevels - 1] : NULL;

    if (!lv)
        return "unknown";
    switch (lv->verdict) {
    case PT_RESERVED:
        return "reserved bit";
    case PT_NOT_PRESENT:
        return "not present";
    case PT_UNBACKED:
        return "unbacked table";
    case PT_OK:
        return r->perm_why ? "permission" : "unknown";
    }
    return "unknown";
}

/* What the replayed walk (r) under (c) found, level by level, and its one-line reason. */
static void describe_replay(const struct pt_ctx *c, const struct pt_walk *r,
                            struct kt_walk_explained *x)
{
    x->kind = verdict_kind(r);
    x->nlevels = r->nlevels < 5 ? r->nlevels : 5;
    x->fail_level = r->fault_level;
    for (unsigned i = 0; i < x->nlevels; i++) {
        const struct pt_level *lv = &r->lv[i];
        char why[180];
        pt_level_reason(c, lv, why, sizeof(why));
        snprintf(x->level_text[i], sizeof(x->level_text[i]), "level %d entry %#llx: %s", lv->level,
                 (unsigned long long)lv->entry, why);
        if (lv->verdict == PT_RESERVED)
            x->rsvd_bits = lv->rsvd_bits;
    }
    if (r->nlevels && r->lv[r->nlevels - 1].verdict != PT_OK) {
        char why[200];
        pt_level_reason(c, &r->lv[r->nlevels - 1], why, sizeof(why));
        snprintf(x->reason, sizeof(x->reason), "level %d: %s", r->lv[r->nlevels - 1].level, why);
    } else if (r->fault && r->perm_why) {
        char why[200];
        pt_perm_reason(c, r, why, sizeof(why));
        snprintf(x->reason, sizeof(x->reason), "permission: %s", why);
    } else {
        snprintf(x->reason, sizeof(x->reason), "the replay did not fault");
    }
}

/* The assumptions the replay ran under, and whether any of them reproduced the error code. */
static void describe_assumptions(const struct kt_walk *w, enum pt_mode m, const struct guess *g,
                                 const struct kt_assume *as, int nxe_known, bool nxe_given,
                                 struct kt_walk_explained *x)
{
    char gb[160] = "";

    /* 1 GiB pages exist only with 64-bit paging (PDPTE.PS in 4- and 5-level). */
    if (m == PT_MODE_4LEVEL || m == PT_MODE_5LEVEL)
        snprintf(gb, sizeof(gb), "; 1 GiB pages %s%s", g->gbpages ? "on" : "off",
                 as->gbpages >= 0 ? ""
                 : g->gbpages     ? " (assumed)"
                                  : " in KVM (inferred: only then does the walk fault this "
                                    "way; see docs/trace.md, 'Why GBPAGES')");
    snprintf(x->assumed, sizeof(x->assumed),
             "%s paging (from the levels traced); MAXPHYADDR %u%s%s; EFER.NXE=%d%s%s", mode_text(m),
             g->maxphyaddr, as->maxphyaddr ? "" : " (assumed)", gb, g->nxe,
             nxe_given        ? ""
             : nxe_known >= 0 ? " (inferred: F absent from the error code)"
                              : " (assumed)",
             g->smep ? "; CR4.SMEP=1 (F in the error code without NXE)" : "");
    if (!x->reproduced) {
        size_t n = strlen(x->assumed);
        snprintf(x->assumed + n, sizeof(x->assumed) - n,
                 "; NOT reproduced: no assumption gives error code %#x", w->error_code);
    }
}

static void explain_walk(const struct kt_walk *w, size_t widx, const struct kt_assume *as,
                         int nxe_known, bool nxe_given, struct kt_walk_explained *x)
{
    static const unsigned m_default[] = {36, 40, 48, 52};
    const unsigned *ms = as->maxphyaddr ? &as->maxphyaddr : m_default;
    unsigned nm = as->maxphyaddr ? 1 : KS_ARRAY_SIZE(m_default);
    int gbs[2] = {1, 0}, nxes[2] = {0, 1};
    unsigned ngb = 2, nnx = 2;
    enum pt_mode m = mode_of_walk(w);
    struct scratch *s = malloc(sizeof(*s));
    struct pt_walk r, first_r;
    struct pt_ctx c, first_c;
    struct guess g = {0}, first_g = {0};
    bool have_first = false;
    int conflict = 0;

    memset(x, 0, sizeof(*x));
    x->walk = widx;
    x->mode = mode_text(m);
    x->kind = "unknown";
    if (as->gbpages >= 0) {
        gbs[0] = as->gbpages;
        ngb = 1;
    }
    if (nxe_known >= 0) {
        nxes[0] = nxe_known;
        nnx = 1;
    }
    if (!s || m == PT_MODE_NONE) {
        snprintf(x->reason, sizeof(x->reason), "%s",
                 s ? "no paging-element lines: the walk cannot be decoded"
                   : "out of memory while decoding");
        free(s);
        return;
    }
    for (unsigned mi = 0; mi < nm && !x->reproduced; mi++)
        for (unsigned gi = 0; gi < ngb && !x->reproduced; gi++)
            for (unsigned ni = 0; ni < nnx && !x->reproduced; ni++) {
                g = (struct guess){ms[mi], gbs[gi], nxes[ni], 0};
                /* F in the code needs NXE or SMEP (paging.md §3.4): with NXE known 0, it was SMEP.
                 */
                if ((w->error_code & PFERR_F) && !g.nxe)
                    g.smep = 1;
                conflict = replay(w, m, &g, as->amd, s, &c, &r);
                if (conflict)
                    continue;
                if (!have_first) {
                    first_r = r;
                    first_c = c;
                    first_g = g;
                    have_first = true;
                }
                if (reproduces(w, &r))
                    x->reproduced = true;
            }
    if (!x->reproduced && have_first) {
        r = first_r;
        c = first_c;
        g = first_g;
    }
    if (!have_first) {
        snprintf(x->reason, sizeof(x->reason),
                 "the traced entries contradict each other (one table slot with two values): "
                 "cannot replay the walk");
        free(s);
        return;
    }
    describe_replay(&c, &r, x);
    describe_assumptions(w, m, &g, as, nxe_known, nxe_given, x);
    free(s);
}

/*
 * The GPA a successful traced walk translated to, by replaying it with the
 * most permissive assumptions (the walk did not fault, so none can matter
 * for the frame address). Returns false when the entries do not replay.
 */
static bool walk_gpa(const struct kt_walk *w, bool amd, uint64_t *gpa)
{
    struct guess g = {52, 1, 1, 0};
    struct scratch *s = malloc(sizeof(*s));
    struct pt_ctx c;
    struct pt_walk r;
    bool ok;

    if (!s)
        return false;
    ok = mode_of_walk(w) != PT_MODE_NONE && !replay(w, mode_of_walk(w), &g, amd, s, &c, &r) &&
         !r.fault;
    if (ok)
        *gpa = r.gpa;
    free(s);
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Analysis
 */

static void count_exit(struct kt_analysis *a, const char *reason)
{
    unsigned i;

    a->total_exits++;
    for (i = 0; i < a->nexit_kinds; i++)
        if (!strcmp(a->exits[i].reason, reason)) {
            a->exits[i].count++;
            return;
        }
    if (a->nexit_kinds == KT_MAX_EXIT_KINDS) {
        i = KT_MAX_EXIT_KINDS - 1;
        snprintf(a->exits[i].reason, sizeof(a->exits[i].reason), "(other)");
        a->exits[i].count++;
        return;
    }
    snprintf(a->exits[i].reason, sizeof(a->exits[i].reason), "%s", reason);
    a->exits[i].count = 1;
    a->nexit_kinds++;
}

static int cmp_exit(const void *x, const void *y)
{
    const struct kt_exit_count *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->reason, b->reason);
}

static int push_walk(struct kt_analysis *a, size_t *cap, const struct kt_walk *w)
{
    if (a->nwalks == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct kt_walk *nw = realloc(a->walks, nc * sizeof(*nw));
        if (!nw)
            return -ENOMEM;
        a->walks = nw;
        *cap = nc;
    }
    a->walks[a->nwalks++] = *w;
    if (w->failed)
        a->nwalks_failed++;
    return 0;
}

/* The IDT entry size: 16 bytes in long mode, 8 otherwise (SDM Vol. 3A §6.10, §6.14.1). */
static unsigned idt_entry_size(const struct kt_walk *w)
{
    enum pt_mode m = mode_of_walk(w);
    return m == PT_MODE_4LEVEL || m == PT_MODE_5LEVEL ? 16 : 8;
}

/*
 * A failing implicit read (no W/U/F) right after an injection is KVM reading
 * the IDT to deliver it. If the next one reads the #DF gate, KVM escalated
 * to #DF (SDM Vol. 3A §6.15, "Interrupt 8—Double Fault Exception").
 */
static void chain_note_walk(struct kt_analysis *a, const struct kt_walk *w, size_t ev,
                            uint64_t *idt_base, bool *have_base)
{
    struct kt_exc *last;
    unsigned esz = idt_entry_size(w);

    if (!a->nchain || !w->failed || (w->access & (PFERR_W | PFERR_U | PFERR_F)))
        return;
    last = &a->chain[a->nchain - 1];
    if (!last->delivery_failed && w->addr >= (uint64_t)last->vector * esz) {
        last->delivery_failed = true;
        last->idt_addr = w->addr;
        *idt_base = w->addr - (uint64_t)last->vector * esz;
        *have_base = true;
        return;
    }
    if (last->delivery_failed && *have_base && w->addr == *idt_base + X86_DF * esz &&
        last->vector != X86_DF && a->nchain < KT_MAX_CHAIN) {
        struct kt_exc *df = &a->chain[a->nchain++];
        memset(df, 0, sizeof(*df));
        df->event = ev;
        df->vector = X86_DF;
        df->has_error_code = true; /* #DF pushes 0 */
        df->inferred = true;
        df->delivery_failed = true;
        df->idt_addr = w->addr;
    }
}

/*
 * A kvm_emulate_insn event: whether its bytes can be trusted, emulation
 * failures, and whether the instruction sits in a GPA that is not RAM.
 */
static void note_emulate(struct kt_analysis *a, struct kt_event *ev, size_t idx,
                         bool fetch_failed_recent, size_t last_failed_fetch, bool amd,
                         bool *progress)
{
    /* Same linear RIP as a fetch walk that just failed: the decoder got no bytes. */
    if (fetch_failed_recent && a->nwalks) {
        const struct kt_walk *fw = &a->walks[last_failed_fetch];
        if (fw->addr == ev->u.emul.csbase + ev->u.emul.rip || fw->addr == ev->u.emul.rip)
            ev->u.emul.bytes_unreliable = true;
    }
    if (ev->u.emul.bytes_unreliable && ev->u.emul.len)
        a->emul_unreliable++;
    if (ev->u.emul.failed) {
        if (!a->emul_failures)
            a->first_emul_failure = idx;
        a->emul_failures++;
        /*
         * The kernel format prints exactly the bytes decoded. None after a fetch
         * walk that translated: reading the GPA failed, so it is not RAM (no
         * memslot, or MMIO), and KVM cannot emulate from there.
         */
        if (!ev->u.emul.len && !ev->u.emul.plugin_form && a->nwalks) {
            const struct kt_walk *lw = &a->walks[a->nwalks - 1];
            uint64_t gpa;
            if (!lw->failed && (lw->access & PFERR_F) &&
                lw->addr == ev->u.emul.csbase + ev->u.emul.rip && walk_gpa(lw, amd, &gpa)) {
                a->emul_fetch_not_ram = true;
                a->emul_fetch_gpa = gpa;
            }
        }
    } else if (!ev->u.emul.bytes_unreliable) {
        *progress = true;
    }
}

/* A kvm_inj_exception event: the next link of the chain (a #PF takes the failed walk's address). */
static void note_injection(struct kt_analysis *a, const struct kt_event *ev, size_t idx)
{
    struct kt_exc *x = &a->chain[a->nchain++];

    memset(x, 0, sizeof(*x));
    x->event = idx;
    x->vector = ev->u.inj.vector;
    x->has_error_code = ev->u.inj.has_error_code;
    x->error_code = ev->u.inj.error_code;
    x->reinjected = ev->u.inj.reinjected;
    if (x->vector == X86_PF && a->nwalks && a->walks[a->nwalks - 1].failed)
        x->fault_addr = a->walks[a->nwalks - 1].addr;
}

/* The one-line summary: how the trace ends, and the injected chain that led there. */
static void summarize(struct kt_analysis *a)
{
    char chain[160] = "";
    size_t n = 0;
    for (unsigned k = 0; k < a->nchain && n < sizeof(chain) - 32; k++) {
        const struct kt_exc *x = &a->chain[k];
        char code[48] = "";
        if (x->has_error_code && !x->inferred) {
            char fl[32];
            if (x->vector == X86_PF) {
                pt_pferr_str(x->error_code, fl, sizeof(fl));
                snprintf(code, sizeof(code), "(%#x %s)", x->error_code, fl);
            } else {
                snprintf(code, sizeof(code), "(%#x)", x->error_code);
            }
        }
        n += (size_t)snprintf(chain + n, sizeof(chain) - n, "%s%s%s", k ? " -> " : "",
                              x86_vector_name(x->vector), code);
    }
    if (a->shutdown)
        snprintf(a->summary, sizeof(a->summary), "triple fault (KVM_EXIT_SHUTDOWN)%s%s%s",
                 a->nchain ? ": " : "", chain, a->nchain ? " -> shutdown" : "");
    else if (a->internal_error && a->emul_fetch_not_ram)
        snprintf(a->summary, sizeof(a->summary),
                 "KVM_EXIT_INTERNAL_ERROR after an emulation failure: the instruction is at "
                 "GPA %#llx, which is not RAM",
                 (unsigned long long)a->emul_fetch_gpa);
    else if (a->internal_error)
        snprintf(a->summary, sizeof(a->summary), "KVM_EXIT_INTERNAL_ERROR%s%s",
                 a->emul_failures ? " after an emulation "
                                    "failure"
                                  : "",
                 a->nwalks_failed ? " (a guest page walk failed first)" : "");
    else if (a->nchain)
        snprintf(a->summary, sizeof(a->summary), "exceptions injected: %s", chain);
    else if (a->nwalks_failed)
        snprintf(a->summary, sizeof(a->summary), "%zu failing guest page walk(s)",
                 a->nwalks_failed);
    else
        snprintf(a->summary, sizeof(a->summary), "no crash signature (%u events, %u exits)",
                 a->total_events, a->total_exits);
}

int kt_analyze(struct kt_trace *t, const struct kt_assume *as_in, struct kt_analysis *a)
{
    struct kt_assume as = as_in ? *as_in : (struct kt_assume){0, -1, -1, false};
    struct kt_walk cur;
    bool open = false, progress = false, have_base = false, fetch_failed_recent = false;
    size_t wcap = 0, last_failed_fetch = 0;
    uint64_t idt_base = 0;
    int nxe = as.nxe;

    memset(a, 0, sizeof(*a));
    a->nxe_inferred = -1;
    a->total_events = (unsigned)(t->n > 0xffffffffu ? 0xffffffffu : t->n);
    for (size_t i = 0; i <= t->n; i++) {
        struct kt_event *e = i < t->n ? &t->ev[i] : NULL;
        enum kt_type ty = e ? e->type : KT_OTHER;

        if (open && (!e || (ty != KT_WALK_ELEMENT && ty != KT_WALK_ERROR))) {
            if (push_walk(a, &wcap, &cur))
                return -ENOMEM;
            open = false;
        }
        if (!e)
            break;
        switch (ty) {
        case KT_EXIT:
            count_exit(a, e->u.exit.reason);
            break;
        case KT_ENTRY:
            progress = true;
            fetch_failed_recent = false;
            break;
        case KT_WALK:
            memset(&cur, 0, sizeof(cur));
            cur.event = i;
            cur.addr = e->u.walk.addr;
            cur.access = e->u.walk.access;
            open = true;
            break;
        case KT_WALK_ELEMENT:
            if (!open)
                break; /* the trace began inside a walk */
            /* A lower level number follows a higher one; a jump back up is KVM's retry (§4). */
            if (cur.nlevels && e->u.element.level >= cur.level[cur.nlevels - 1])
                cur.nlevels = 0;
            if (cur.nlevels < 5) {
                cur.pte[cur.nlevels] = e->u.element.pte;
                cur.level[cur.nlevels++] = e->u.element.level;
            }
            break;
        case KT_WALK_ERROR:
            if (!open)
                break;
            cur.failed = true;
            cur.error_code = e->u.walk_error.error_code;
            /* F in the access but not in the code: EFER.NXE=0 and CR4.SMEP=0 (paging.md §3.4). */
            if ((cur.access & PFERR_F) && nxe < 0)
                nxe = (cur.error_code & PFERR_F) ? -1 : 0;
            if (cur.access & PFERR_F) {
                fetch_failed_recent = true;
                last_failed_fetch = a->nwalks;
            }
            if (push_walk(a, &wcap, &cur))
                return -ENOMEM;
            open = false;
            chain_note_walk(a, &a->walks[a->nwalks - 1], i, &idt_base, &have_base);
            break;
        case KT_SET_ACCESSED:
        case KT_SET_DIRTY:
            if (a->nwalks)
                a->walks[a->nwalks - 1].n_ad++;
            break;
        case KT_EMULATE:
            note_emulate(a, e, i, fetch_failed_recent, last_failed_fetch, as.amd, &progress);
            break;
        case KT_INJ_EXCEPTION:
            /* Guest progress since the last injection starts a new chain. */
            if (progress || a->nchain == KT_MAX_CHAIN) {
                a->nchain = 0;
                have_base = false;
            }
            progress = false;
            note_injection(a, e, i);
            break;
        case KT_USERSPACE_EXIT:
            snprintf(a->last_exit, sizeof(a->last_exit), "%s", e->u.uexit.reason);
            if (e->u.uexit.code == KT_KVM_EXIT_SHUTDOWN)
                a->shutdown = true;
            if (e->u.uexit.code == KT_KVM_EXIT_INTERNAL_ERROR)
                a->internal_error = true;
            break;
        default:
            break;
        }
    }
    qsort(a->exits, a->nexit_kinds, sizeof(a->exits[0]), cmp_exit);
    a->nxe_inferred = as.nxe < 0 ? nxe : -1;
    as.nxe = nxe;
    a->assumed = as;
    if (a->nwalks_failed) {
        a->failed = calloc(a->nwalks_failed, sizeof(*a->failed));
        if (!a->failed)
            return -ENOMEM;
        for (size_t w = 0; w < a->nwalks; w++)
            if (a->walks[w].failed)
                explain_walk(&a->walks[w], w, &as, nxe, as_in && as_in->nxe >= 0,
                             &a->failed[a->nfailed++]);
    }
    summarize(a);
    return 0;
}

void kt_analysis_free(struct kt_analysis *a)
{
    free(a->walks);
    free(a->failed);
    memset(a, 0, sizeof(*a));
}
