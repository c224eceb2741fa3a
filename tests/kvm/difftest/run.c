/*
 * The difftest driver (see run.h). All work happens in the mailbox port
 * handler: each OUT from the guest means "the last case's result is in
 * DT_RES"; the handler checks it against the model and writes the next
 * case, so a case costs one exit.
 */
#include "run.h"

#include "difftest/abi.h"
#include "ks/vmm.h"
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dt_result {
    uint64_t phase, vector, err, cr2, value, rip;
};

enum pending { PEND_NONE, PEND_PROBE, PEND_CASE };

/* What the model says the first walk of a case reads and writes (cfg->trace). */
struct dt_trecord {
    uint64_t index;
    gva_t gva;
    uint32_t access;
    bool cpl0, fault, retry; /* retry: an entry updated twice (self-map), KVM re-walks */
    uint32_t err;
    unsigned n;
    uint64_t entry[5];
    int level[5];
    unsigned n_ad;
    gpa_t ad_gpa[10];
    bool ad_dirty[10];
};

struct dt_state {
    const struct dt_run_cfg *cfg;
    struct dt_stats *st;
    const struct gmem *m;
    struct dt_gen_cfg gen;
    /* CR4 bits still to probe, and the one in flight (0: paging itself, legacy guest) */
    uint64_t probe_todo, probe_bit;
    bool probe_paging, paging_refused;
    uint64_t next_index, end_index;
    struct dt_case *directed; /* cfg->directed's cases, [0, end_index) */
    struct dt_trace *tr;
    struct dt_trecord *rec; /* one per case when tracing */
    uint64_t nrec, rec_cap;
    bool directed_built;
    enum pending pending;
    struct dt_case c;
    struct pt_walk w;
    int walk_rc;
    bool pdpte_gp;             /* PAE: the model says the CR0 load must #GP (reserved PDPTE bits) */
    uint64_t pre[DT_MAX_ENT];  /* the entries in memory before the access (shared pages!) */
    uint64_t base[DT_MAX_ENT]; /* (pre) after a "twice" case's first read */
    unsigned dumps;
    char err[KS_ERR_LEN];
};

static uint64_t rd64(const struct gmem *m, gpa_t gpa)
{
    uint64_t v = 0;

    if (gmem_read(m, gpa, &v, 8))
        return ~0ULL;
    return v;
}

static void wr64(const struct gmem *m, gpa_t gpa, uint64_t v)
{
    gmem_write(m, gpa, &v, 8);
}

/* Writes dt_pattern() over the data area; -EFAULT if it is not one RAM region. */
static int fill_data(const struct gmem *m)
{
    uint64_t *p = gmem_ptr(m, DT_DATA, DT_RAM_SIZE - DT_DATA);

    if (!p)
        return -EFAULT;
    for (gpa_t g = DT_DATA; g < DT_RAM_SIZE; g += 8)
        p[(g - DT_DATA) / 8] = dt_pattern(g);
    return 0;
}

/*
 * The harness mapping, PML4 slot 0: GVA = GPA over all of RAM. The first
 * 2 MiB use 4 KiB pages so that the user stubs and stack can be U=1 while
 * everything else is supervisor-only (SMEP/SMAP-safe); the rest use 2 MiB
 * pages (this host has no 1 GiB pages). A and D are preset so KVM never
 * writes these entries, and no NX bit is set so EFER.NXE cannot hurt.
 */
static void build_home(const struct gmem *m)
{
    const uint64_t dir = PTE_P | PTE_W | PTE_U | PTE_A;
    const uint64_t kpage = PTE_P | PTE_W | PTE_A | PTE_D;

    for (gpa_t t = DT_HOME_CR3; t < DT_HOME_PT + 0x1000; t += 8)
        wr64(m, t, 0);
    wr64(m, DT_HOME_CR3, DT_HOME_PDPT | dir);
    wr64(m, DT_HOME_PDPT, DT_HOME_PD | dir);
    wr64(m, DT_HOME_PD, DT_HOME_PT | dir);
    for (uint64_t i = 1; i < 512; i++) {
        gpa_t pa = i * 0x1000;
        bool user = pa == DT_USER_CODE || pa == DT_USER_STACK_PAGE;
        wr64(m, DT_HOME_PT + i * 8, pa | kpage | (user ? PTE_U : 0));
    }
    for (uint64_t i = 1; i < DT_RAM_SIZE / 0x200000; i++)
        wr64(m, DT_HOME_PD + i * 8, i * 0x200000 | kpage | PTE_PS);
    for (unsigned i = 0; i < DT_PML4_POOL_PAGES; i++)
        wr64(m, DT_PML4_POOL + i * 0x1000ULL, DT_HOME_PDPT | dir);
}

static void wr32(const struct gmem *m, gpa_t gpa, uint32_t v)
{
    gmem_write(m, gpa, &v, 4);
}

/*
 * The legacy guest's harness mapping: identity, 4 KiB pages, the first
 * 4 MiB with 32-bit paging (PDE 0 of every 32-bit directory in its pool)
 * and the first 2 MiB with PAE (PDE 0 of every PAE directory that PDPTE 0
 * may point at). User pages as in build_home().
 */
static void build_home_legacy(const struct gmem *m)
{
    const uint64_t dir = PTE_P | PTE_W | PTE_U | PTE_A;
    const uint64_t kpage = PTE_P | PTE_W | PTE_A | PTE_D;

    for (uint64_t i = 0; i < 1024; i++) {
        gpa_t pa = i * 0x1000;
        bool user = pa == DT_USER_CODE || pa == DT_USER_STACK_PAGE;
        uint64_t e = i ? pa | kpage | (user ? PTE_U : 0) : 0;
        wr32(m, DT_HOME_PT32 + i * 4, (uint32_t)e);
        if (i < 512)
            wr64(m, DT_HOME_PTPAE + i * 8, e);
    }
    for (unsigned i = 0; i < DT_LEGACY_POOL_PAGES; i++) {
        wr32(m, DT_PD32_POOL + i * 0x1000ULL, (uint32_t)(DT_HOME_PT32 | dir));
        wr64(m, DT_PDPAE_POOL + i * 0x1000ULL, DT_HOME_PTPAE | dir);
    }
}

static int load_guest(const struct gmem *m, const char *path, char err[KS_ERR_LEN])
{
    uint8_t *dst = gmem_ptr(m, DT_LOAD, DT_IMAGE_END - DT_LOAD);
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f) {
        snprintf(err, KS_ERR_LEN, "guest image %s: %s", path, strerror(errno));
        return -ENOENT;
    }
    n = dst ? fread(dst, 1, DT_IMAGE_END - DT_LOAD, f) : 0;
    fclose(f);
    if (n != DT_IMAGE_END - DT_LOAD) {
        snprintf(err, KS_ERR_LEN, "guest image %s: expected %llu bytes", path,
                 DT_IMAGE_END - DT_LOAD);
        return -EINVAL;
    }
    return 0;
}

static struct x86_seg flat_seg(uint16_t sel, uint8_t type, uint8_t dpl, bool code64)
{
    return (struct x86_seg){.base = 0,
                            .limit = 0xffffffff,
                            .selector = sel,
                            .type = type,
                            .s = 1,
                            .dpl = dpl,
                            .present = 1,
                            .l = code64,
                            .db = !code64,
                            .g = 1};
}

/*
 * 64-bit mode, CPL0, at DT_LOAD on the home tables; or, for the legacy
 * guest, 32-bit protected mode with paging off. The guest builds its IDT.
 */
static int set_initial_state(struct vmm *vm, const struct dt_gen_cfg *g)
{
    struct x86_state s;
    int rc = vmm_get_state(vm, &s);

    if (rc)
        return rc;
    memset(s.gpr, 0, sizeof(s.gpr));
    s.gpr[X86_RSP] = DT_KSTACK_TOP;
    s.rip = DT_LOAD;
    s.rflags = 0x2;
    s.seg[X86_SEG_CS] = flat_seg(DT_SEL_KCODE, 0xb, 0, !g->legacy);
    s.seg[X86_SEG_SS] = flat_seg(DT_SEL_KDATA, 0x3, 0, false);
    s.seg[X86_SEG_DS] = s.seg[X86_SEG_ES] = s.seg[X86_SEG_SS];
    s.seg[X86_SEG_FS] = s.seg[X86_SEG_GS] = s.seg[X86_SEG_SS];
    s.seg[X86_SEG_LDTR] = (struct x86_seg){.type = 2, .present = 1, .unusable = 1};
    s.seg[X86_SEG_TR] = (struct x86_seg){
        .base = DT_TSS, .limit = 0x67, .selector = DT_SEL_TSS, .type = 0xb, .present = 1};
    s.gdt = (struct x86_dtable){DT_GDT, 0x2f};
    s.idt = (struct x86_dtable){DT_IDT, 0xfff};
    s.cr0 = g->cr0_base | X86_CR0_WP;
    s.cr3 = DT_HOME_CR3;
    s.cr4 = X86_CR4_PAE;
    s.efer = g->efer_base;
    if (g->legacy) {
        s.cr0 &= ~X86_CR0_PG;
        s.cr3 = 0;
        s.cr4 = 0;
        s.idt.limit = 32 * 8 - 1;
    }
    return vmm_set_state(vm, &s);
}

static void read_result(const struct gmem *m, struct dt_result *r)
{
    r->phase = rd64(m, DT_RES + DT_RES_PHASE);
    r->vector = rd64(m, DT_RES + DT_RES_VECTOR);
    r->err = rd64(m, DT_RES + DT_RES_ERR);
    r->cr2 = rd64(m, DT_RES + DT_RES_CR2);
    r->value = rd64(m, DT_RES + DT_RES_VALUE);
    r->rip = rd64(m, DT_RES + DT_RES_RIP);
    /* The UD2 that ends a user stub is how CPL3 code comes back. */
    if (r->vector == X86_UD && r->rip >= DT_USER_CODE && r->rip < DT_USER_CODE + 6 * 16 &&
        (r->rip - DT_USER_CODE) % 16 == DT_USER_UD2)
        r->vector = DT_NO_VECTOR;
}

static void clear_result(const struct gmem *m)
{
    for (unsigned off = 0; off < 0x30; off += 8)
        wr64(m, DT_RES + off, 0);
    wr64(m, DT_RES + DT_RES_VECTOR, ~0ULL);
}

static void write_entry(const struct gmem *m, const struct dt_case *c, gpa_t gpa, uint64_t v)
{
    if (c->esize == 4)
        wr32(m, gpa, (uint32_t)v);
    else
        wr64(m, gpa, v);
}

static uint64_t read_entry(const struct gmem *m, const struct dt_case *c, gpa_t gpa)
{
    return c->esize == 4 ? rd64(m, gpa) & 0xffffffffULL : rd64(m, gpa);
}

/* Keeps the model's first walk of the case for the trace comparison. */
static void record_walk(struct dt_state *s, const struct pt_walk *w, uint32_t access)
{
    struct dt_trecord *r;

    if (!s->rec || s->nrec == s->rec_cap)
        return;
    r = &s->rec[s->nrec++];
    *r = (struct dt_trecord){.index = s->c.index,
                             .gva = s->c.gva,
                             .access = access,
                             .cpl0 = !s->c.user,
                             .fault = w->fault,
                             .err = w->error_code};
    for (unsigned i = 0; i < w->nlevels && i < 5; i++) {
        if (w->lv[i].verdict == PT_UNBACKED) /* KVM reads nothing there (spec §3.4) */
            break;
        r->entry[r->n] = w->lv[i].entry;
        r->level[r->n++] = w->lv[i].level;
    }
    for (unsigned j = 0; !w->fault && j < w->n_ad && r->n_ad + 2 <= 10; j++) {
        const struct pt_ad_update *u = &w->ad[j];
        for (unsigned k = 0; k < j; k++)
            r->retry |= w->ad[k].entry_gpa == u->entry_gpa;
        /* KVM traces A, then D, per entry (update_accessed_dirty_bits). */
        if ((u->new_entry & PTE_A) && !(u->old_entry & PTE_A)) {
            r->ad_gpa[r->n_ad] = u->entry_gpa;
            r->ad_dirty[r->n_ad++] = false;
        }
        if ((u->new_entry & PTE_D) && !(u->old_entry & PTE_D)) {
            r->ad_gpa[r->n_ad] = u->entry_gpa;
            r->ad_dirty[r->n_ad++] = true;
        }
    }
}

/* The command block for (c); (c->ent) also go to memory directly for the model. */
static void post_case(struct dt_state *s)
{
    const struct dt_case *c = &s->c;
    struct pt_ctx ctx;
    uint64_t pdptr[4];

    wr64(s->m, DT_CMD + DT_CMD_CR0, c->cr0);
    wr64(s->m, DT_CMD + DT_CMD_CR3, c->cr3);
    wr64(s->m, DT_CMD + DT_CMD_CR4, c->cr4);
    wr64(s->m, DT_CMD + DT_CMD_EFER, c->efer);
    wr64(s->m, DT_CMD + DT_CMD_GVA, c->gva);
    wr64(s->m, DT_CMD + DT_CMD_KIND,
         c->kind | (c->user ? DT_KIND_USER : 0) | (c->twice ? DT_KIND_TWICE : 0));
    wr64(s->m, DT_CMD + DT_CMD_WVAL, c->wval);
    wr64(s->m, DT_CMD + DT_CMD_NWRITE, c->nent);
    wr64(s->m, DT_CMD + DT_CMD_WSIZE, c->esize);
    for (unsigned i = 0; i < c->nent; i++) {
        wr64(s->m, DT_CMD + DT_CMD_WRITES + i * 16, c->ent[i].gpa);
        wr64(s->m, DT_CMD + DT_CMD_WRITES + i * 16 + 8, c->ent[i].val);
        /* Same value the guest is about to store: the model reads it now. The
         * guest's own store is what makes KVM's shadow MMU notice the change. */
        write_entry(s->m, c, c->ent[i].gpa, c->ent[i].val);
    }
    /* When levels share a page, a later store may overwrite an earlier one. */
    for (unsigned i = 0; i < c->nent; i++)
        s->pre[i] = read_entry(s->m, c, c->ent[i].gpa);
    wr64(s->m, DT_CMD + DT_CMD_RFLAGS, c->rflags);
    clear_result(s->m);
    dt_case_ctx(c, &s->gen.cpu, &ctx);
    s->pdpte_gp = c->mode == PT_MODE_PAE && pt_load_pdptrs(s->m, &ctx, pdptr) == -EINVAL;
    memcpy(s->base, s->pre, sizeof(s->base));
    if (c->twice) {
        /* The first read; if it faults, that is the case's outcome. Else its
         * A/D updates are applied for the second walk and then undone: the
         * guest starts from (pre), it stores the entries itself. */
        for (unsigned tries = 0;; tries++) {
            s->walk_rc = pt_walk(s->m, &ctx, c->gva, c->user ? PFERR_U : 0, &s->w);
            if (!tries && !s->walk_rc)
                record_walk(s, &s->w, c->user ? PFERR_U : 0);
            if (s->walk_rc || s->w.fault)
                return;
            /* -EAGAIN: one entry is read at two levels (a self-map) and its
             * first update changed it; KVM retries the walk too (spec §4). */
            s->walk_rc = pt_apply_ad(s->m, &s->w);
            if (s->walk_rc != -EAGAIN || tries == 4)
                break;
        }
        if (s->walk_rc)
            return;
        for (unsigned i = 0; i < c->nent; i++)
            s->base[i] = read_entry(s->m, c, c->ent[i].gpa);
    }
    s->walk_rc = pt_walk(s->m, &ctx, c->gva, dt_case_access(c), &s->w);
    if (!c->twice && !s->walk_rc && !s->pdpte_gp)
        record_walk(s, &s->w, dt_case_access(c));
    for (unsigned i = 0; c->twice && i < c->nent; i++)
        write_entry(s->m, c, c->ent[i].gpa, s->pre[i]);
}

/* A harmless CPL0 read through the home tables with one extra CR4 bit. */
static void post_probe(struct dt_state *s, uint64_t bit)
{
    wr64(s->m, DT_CMD + DT_CMD_CR0, s->gen.cr0_base | X86_CR0_WP);
    wr64(s->m, DT_CMD + DT_CMD_CR3, s->gen.legacy ? DT_PD32_POOL : DT_HOME_CR3);
    wr64(s->m, DT_CMD + DT_CMD_CR4, (s->gen.legacy ? 0 : X86_CR4_PAE) | bit);
    wr64(s->m, DT_CMD + DT_CMD_EFER, s->gen.efer_base);
    wr64(s->m, DT_CMD + DT_CMD_GVA, DT_CMD);
    wr64(s->m, DT_CMD + DT_CMD_KIND, DT_READ);
    wr64(s->m, DT_CMD + DT_CMD_NWRITE, 0);
    wr64(s->m, DT_CMD + DT_CMD_RFLAGS, 0x2);
    clear_result(s->m);
    s->probe_bit = bit;
}

static enum dt_outcome outcome_of(const struct pt_walk *w)
{
    if (!w->fault)
        return DT_OUT_OK;
    if (w->error_code & PFERR_RSVD)
        return DT_OUT_RSVD;
    if (w->error_code & PFERR_P)
        return DT_OUT_PERM;
    for (unsigned i = 0; i < w->nlevels; i++)
        if (w->lv[i].verdict == PT_UNBACKED)
            return DT_OUT_UNBACKED;
    return DT_OUT_NP;
}

/* (pre) with the model's A/D updates applied in order (one entry may be updated twice). */
static void expected_entries(const struct dt_state *s, uint64_t exp[DT_MAX_ENT])
{
    const struct dt_case *c = &s->c;
    const struct pt_walk *w = &s->w;

    for (unsigned i = 0; i < c->nent; i++) {
        exp[i] = s->base[i];
        for (unsigned j = 0; !w->fault && j < w->n_ad; j++)
            if (w->ad[j].entry_gpa == c->ent[i].gpa)
                exp[i] = w->ad[j].new_entry;
    }
}

/* Compares KVM's result with the model's; fills (why) on disagreement. */
static bool agree(const struct dt_state *s, const struct dt_result *r,
                  const uint64_t post[DT_MAX_ENT], char *why, size_t len)
{
    const struct dt_case *c = &s->c;
    const struct pt_walk *w = &s->w;
    bool kvm_fault = r->vector != DT_NO_VECTOR;
    uint64_t exp[DT_MAX_ENT];

    if (s->pdpte_gp) {
        /* spec/paging.md §2.5: the CR0 load that enables PAE paging #GPs. */
        if (r->phase != DT_PHASE_SETUP || r->vector != X86_GP || r->err != 0) {
            snprintf(why, len,
                     "model: reserved PDPTE, CR0 load must #GP(0); KVM: phase %" PRIu64
                     " vector 0x%" PRIx64 " error 0x%" PRIx64,
                     r->phase, r->vector, r->err);
            return false;
        }
        for (unsigned i = 0; i < c->nent; i++) {
            if (post[i] != s->pre[i]) {
                snprintf(why, len, "entry @0x%" PRIx64 " changed although the CR0 load failed",
                         c->ent[i].gpa);
                return false;
            }
        }
        return true;
    }
    if (s->walk_rc) {
        snprintf(why, len, "model: pt_walk returned %d", s->walk_rc);
        return false;
    }
    if (r->phase != DT_PHASE_ACCESS) {
        snprintf(why, len, "guest stopped in phase %" PRIu64 " (vector %" PRIu64 ")", r->phase,
                 r->vector);
        return false;
    }
    if (kvm_fault != w->fault) {
        snprintf(why, len, "KVM %s, model %s", kvm_fault ? "faulted" : "did not fault",
                 w->fault ? "faults" : "does not");
        return false;
    }
    if (kvm_fault) {
        if (r->vector != X86_PF || r->err != w->error_code || r->cr2 != c->gva) {
            snprintf(why, len,
                     "KVM vector %" PRIu64 " error 0x%" PRIx64 " cr2 0x%" PRIx64
                     ", model #PF error 0x%x cr2 0x%" PRIx64,
                     r->vector, r->err, r->cr2, w->error_code, c->gva);
            return false;
        }
    } else {
        uint64_t want, got;
        if (c->kind == DT_READ)
            want = dt_pattern(w->gpa), got = r->value;
        else if (c->kind == DT_FETCH)
            want = w->gpa & 0xffffffffULL, got = r->value;
        else if (c->esize == 8)
            want = c->wval, got = rd64(s->m, w->gpa);
        else /* the 32-bit guest stores 4 bytes */
            want = (dt_pattern(w->gpa) & ~0xffffffffULL) | (c->wval & 0xffffffffULL),
            got = rd64(s->m, w->gpa);
        if (want != got) {
            snprintf(why, len, "%s at model GPA 0x%" PRIx64 ": got 0x%" PRIx64 ", want 0x%" PRIx64,
                     dt_kind_name(c->kind), w->gpa, got, want);
            return false;
        }
    }
    expected_entries(s, exp);
    for (unsigned i = 0; i < c->nent; i++) {
        if (post[i] != exp[i]) {
            snprintf(why, len,
                     "level %d entry @0x%" PRIx64 " is 0x%" PRIx64 " after the access, model "
                     "says 0x%" PRIx64,
                     c->ent[i].level, c->ent[i].gpa, post[i], exp[i]);
            return false;
        }
    }
    return true;
}

static void dump_case(FILE *f, const struct dt_state *s, const struct dt_result *r,
                      const uint64_t post[DT_MAX_ENT], const char *why)
{
    const struct dt_case *c = &s->c;
    const struct pt_walk *w = &s->w;
    char buf[160];

    fprintf(f, "DISAGREE seed=0x%" PRIx64 " case=%" PRIu64 ": %s\n", c->seed, c->index, why);
    fprintf(f, "  cpu: maxphyaddr %u gbpages %d amd %d\n", s->gen.cpu.maxphyaddr,
            s->gen.cpu.gbpages, s->gen.cpu.amd);
    fprintf(f,
            "  cr0 0x%" PRIx64 " cr3 0x%" PRIx64 " cr4 0x%" PRIx64 " efer 0x%" PRIx64
            " rflags 0x%" PRIx64 "  %s paging, access %s%s at CPL%d, gva 0x%016" PRIx64 "\n",
            c->cr0, c->cr3, c->cr4, c->efer, c->rflags, pt_mode_name(c->mode),
            c->twice ? "read, then " : "", dt_kind_name(c->kind), c->user ? 3 : 0, c->gva);
    if (s->pdpte_gp)
        fprintf(f, "  model: a PDPTE has reserved bits, the CR0 load must #GP(0)\n");
    for (unsigned i = 0; i < c->nent; i++)
        fprintf(f, "  L%d @0x%08" PRIx64 " before 0x%016" PRIx64 " after 0x%016" PRIx64 "\n",
                c->ent[i].level, c->ent[i].gpa, s->pre[i], post[i]);
    fprintf(f,
            "  KVM:   phase %" PRIu64 " vector 0x%" PRIx64 " error 0x%" PRIx64 " cr2 0x%" PRIx64
            " value 0x%" PRIx64 " rip 0x%" PRIx64 "\n",
            r->phase, r->vector, r->err, r->cr2, r->value, r->rip);
    if (w->fault) {
        pt_pferr_str(w->error_code, buf, sizeof(buf));
        fprintf(f, "  model: #PF error 0x%x (%s) at level %d\n", w->error_code, buf,
                w->fault_level);
    } else {
        fprintf(f, "  model: GPA 0x%" PRIx64 " (level %d leaf, %u A/D updates)\n", w->gpa,
                w->leaf_level, w->n_ad);
    }
    for (unsigned i = 0; i < w->nlevels && i < 5; i++) {
        pt_level_reason(
            &(struct pt_ctx){.cr0 = c->cr0, .cr4 = c->cr4, .efer = c->efer, .cpu = s->gen.cpu},
            &w->lv[i], buf, sizeof(buf));
        fprintf(f, "    model L%d 0x%016" PRIx64 ": %s\n", w->lv[i].level, w->lv[i].entry, buf);
    }
}

static void count(struct dt_stats *st, const struct dt_case *c, const struct pt_walk *w,
                  bool pdpte_gp)
{
    enum dt_outcome o = outcome_of(w);

    st->by_mode[c->mode == PT_MODE_4LEVEL ? 0 : c->mode == PT_MODE_PAE ? 1 : 2]++;
    if (pdpte_gp) {
        st->pdpte_gp++;
        return;
    }
    st->by_outcome[o][c->kind + (c->user ? 3 : 0)]++;
    st->by_level[o][w->fault ? (w->fault_level >= 1 && w->fault_level <= 4 ? w->fault_level : 0)
                             : 0]++;
    for (unsigned i = 0; i < w->nlevels && i < 5; i++)
        for (unsigned b = 0; b < 16; b++)
            if (w->lv[i].verdict == PT_RESERVED && (w->lv[i].rsvd_why & (1u << b)))
                st->rsvd_why[b]++;
    for (unsigned b = 0; b < 8; b++)
        if (w->fault && (w->perm_why & (1u << b)))
            st->perm_why[b]++;
    if (!w->fault) {
        if (w->page_size == 0x1000)
            st->leaf_4k++;
        else if (w->page_size == 0x200000)
            st->leaf_2m++;
        else
            st->leaf_4m++;
        st->ad_set += w->n_ad != 0;
    }
    st->wp[!!(c->cr0 & X86_CR0_WP)]++;
    st->nxe[!!(c->efer & X86_EFER_NXE)]++;
    st->smep += !!(c->cr4 & X86_CR4_SMEP);
    st->smap += !!(c->cr4 & X86_CR4_SMAP);
    st->pge += !!(c->cr4 & X86_CR4_PGE);
    st->pse += !!(c->cr4 & X86_CR4_PSE);
    st->twice += c->twice;
}

static void finish_case(struct dt_state *s)
{
    struct dt_result r;
    uint64_t post[DT_MAX_ENT];
    char why[256];

    read_result(s->m, &r);
    for (unsigned i = 0; i < s->c.nent; i++)
        post[i] = read_entry(s->m, &s->c, s->c.ent[i].gpa);
    if (s->directed && s->cfg->kvm) {
        struct dt_kvm_outcome *o = &s->cfg->kvm[s->c.index];
        *o = (struct dt_kvm_outcome){r.phase, r.vector, r.err, r.cr2, r.value, {0}};
        memcpy(o->post, post, sizeof(o->post));
    }
    s->st->cases++;
    if (agree(s, &r, post, why, sizeof(why))) {
        s->st->agree++;
        count(s->st, &s->c, &s->w, s->pdpte_gp);
        if (!s->pdpte_gp && !s->w.fault && s->c.kind == DT_WRITE)
            wr64(s->m, s->w.gpa, dt_pattern(s->w.gpa));
        return;
    }
    s->st->disagree++;
    if (s->dumps++ < s->cfg->max_dumps)
        dump_case(s->cfg->out, s, &r, post, why);
    fill_data(s->m); /* a stray write may have landed anywhere (checked at start) */
}

static void finish_probe(struct dt_state *s)
{
    struct dt_result r;
    bool ok;

    read_result(s->m, &r);
    ok = r.vector == DT_NO_VECTOR &&
         (r.value & 0xffffffffULL) == (rd64(s->m, DT_CMD) & 0xffffffffULL);
    if (!s->probe_bit)
        s->paging_refused = !ok;
    else if (ok)
        s->gen.cr4_extra |= s->probe_bit;
    else
        s->st->cr4_rejected |= s->probe_bit;
}

static int on_port(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                   uint64_t *stop_code)
{
    struct dt_state *s = opaque;

    (void)addr, (void)data, (void)size;
    if (!write)
        return VMM_IO_UNHANDLED;
    if (s->pending == PEND_PROBE)
        finish_probe(s);
    else if (s->pending == PEND_CASE)
        finish_case(s);
    s->pending = PEND_NONE;

    if (s->paging_refused) {
        *stop_code = 1;
        return VMM_IO_STOP;
    }
    if (s->probe_paging) {
        s->probe_paging = false;
        post_probe(s, 0);
        s->pending = PEND_PROBE;
        return VMM_IO_OK;
    }
    if (s->probe_todo) {
        uint64_t bit = s->probe_todo & -s->probe_todo;
        s->probe_todo &= ~bit;
        post_probe(s, bit);
        s->pending = PEND_PROBE;
        return VMM_IO_OK;
    }
    if (s->directed && !s->directed_built) {
        s->directed_built = true;
        s->end_index = s->cfg->directed(s->cfg->directed_opaque, &s->gen.cpu, s->gen.cr4_extra,
                                        s->directed, DT_MAX_DIRECTED);
        for (uint64_t i = 0; i < s->end_index; i++)
            s->directed[i].index = i;
    }
    if (s->next_index == s->end_index) {
        *stop_code = 0;
        return VMM_IO_STOP;
    }
    if (s->directed)
        s->c = s->directed[s->next_index++];
    else
        dt_gen_case(&s->gen, s->cfg->seed, s->next_index++, &s->c);
    post_case(s);
    s->pending = PEND_CASE;
    return VMM_IO_OK;
}

static bool trace_agrees(const struct dt_trecord *r, const struct dt_twalk *t, char *why,
                         size_t len)
{
    unsigned n = r->retry ? r->n : t->n; /* a retry repeats the elements */

    if (t->n < r->n || n != r->n) {
        snprintf(why, len, "KVM read %u entries, the model %u", t->n, r->n);
        return false;
    }
    for (unsigned i = 0; i < r->n; i++) {
        if (t->pte[i] != r->entry[i] || (int)t->level[i] != r->level[i]) {
            snprintf(why, len,
                     "entry %u: KVM read 0x%" PRIx64 " at level %u, the model 0x%" PRIx64
                     " at level %d",
                     i, t->pte[i], t->level[i], r->entry[i], r->level[i]);
            return false;
        }
    }
    if (r->cpl0 && t->access != r->access) {
        snprintf(why, len, "walk access 0x%x, the model's 0x%x", t->access, r->access);
        return false;
    }
    if (t->failed != r->fault || (r->fault && t->error != r->err)) {
        snprintf(why, len, "walker_error %s 0x%x, the model %s 0x%x", t->failed ? "yes" : "no",
                 t->error, r->fault ? "faults" : "does not fault", r->err);
        return false;
    }
    if (t->n_ad < r->n_ad || (!r->retry && t->n_ad != r->n_ad)) {
        snprintf(why, len, "%u A/D trace lines, the model %u", t->n_ad, r->n_ad);
        return false;
    }
    for (unsigned i = 0; i < r->n_ad; i++) {
        if (t->ad_gpa[i] != r->ad_gpa[i] || t->ad_dirty[i] != r->ad_dirty[i]) {
            snprintf(why, len, "A/D line %u: KVM %s gpa 0x%" PRIx64 ", the model %s 0x%" PRIx64, i,
                     t->ad_dirty[i] ? "dirty" : "accessed", t->ad_gpa[i],
                     r->ad_dirty[i] ? "dirty" : "accessed", r->ad_gpa[i]);
            return false;
        }
    }
    return true;
}

static void compare_traces(struct dt_state *s)
{
    char why[256];

    for (uint64_t i = 0; i < s->nrec; i++) {
        const struct dt_trecord *r = &s->rec[i];
        const struct dt_twalk *t = dt_trace_find(s->tr, r->gva);

        if (!t) {
            s->st->trace_missing++;
            continue;
        }
        s->st->trace_compared++;
        if (trace_agrees(r, t, why, sizeof(why)))
            continue;
        if (s->st->trace_mismatch++ < s->cfg->max_dumps) {
            fprintf(s->cfg->out, "TRACE DISAGREE seed=0x%" PRIx64 " case=%" PRIu64 ": %s\n",
                    s->cfg->seed, r->index, why);
            for (unsigned k = 0; k < t->n; k++)
                fprintf(s->cfg->out, "  kvm_mmu_paging_element: pte %" PRIx64 " level %u\n",
                        t->pte[k], t->level[k]);
        }
    }
    s->st->trace_unparsed = dt_trace_unparsed(s->tr);
}

static bool cpuid_bit(const struct cpuid_table *t, uint32_t fn, enum cpuid_reg reg, unsigned bit)
{
    const struct cpuid_entry *e = cpuid_find_const(t, fn, 0);

    return e && (e->reg[reg] >> bit & 1);
}

int dt_run(const struct dt_run_cfg *cfg, struct dt_stats *st, char err[KS_ERR_LEN])
{
    struct vmm_config vc = {.ram_size = DT_RAM_SIZE, .cpu = cfg->cpu};
    struct dt_state *s;
    struct vmm *vm = NULL;
    struct vmm_exit ex;
    struct timespec t0, t1;
    int rc;

    memset(st, 0, sizeof(*st));
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = cfg;
    s->st = st;
    rc = vmm_create(&vc, &vm, err);
    if (rc)
        goto out;
    s->m = vmm_gmem(vm);
    vmm_pt_cpu(vm, &s->gen.cpu);
    s->gen.legacy = cfg->legacy;
    s->gen.cr0_base = X86_CR0_PE | KS_BIT(1) | KS_BIT(4) | KS_BIT(5) | X86_CR0_PG;
    s->gen.efer_base = cfg->legacy ? 0 : X86_EFER_LME | X86_EFER_LMA;
    s->gen.user_slot256 = cfg->user_slot256;
    s->gen.nx = cpuid_bit(vmm_cpuid(vm), 0x80000001, CPUID_EDX, 20);
    /* Accepted CR4 bits are probed, not read from CPUID: this KVM takes SMEP
     * although CPUID lacks it (spec/host.md), and the walker honours CR4.
     * PSE must make no difference outside 32-bit paging (spec §1). */
    s->probe_todo = X86_CR4_PSE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP;
    /* The legacy guest first checks that paging outside long mode works at
     * all: the PVM host refuses it (docs/difftest.md). */
    s->probe_paging = cfg->legacy;
    s->next_index = cfg->first;
    s->end_index = cfg->first + cfg->count;
    if (cfg->directed) {
        s->directed = calloc(DT_MAX_DIRECTED, sizeof(*s->directed));
        if (!s->directed) {
            rc = -ENOMEM;
            goto out;
        }
        s->next_index = s->end_index = 0; /* filled after the probes, in on_port() */
    }
    rc = load_guest(s->m, cfg->guest, err);
    if (rc)
        goto out;
    if (cfg->legacy)
        build_home_legacy(s->m);
    else
        build_home(s->m);
    rc = fill_data(s->m);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "guest RAM [0x%llx, 0x%llx) is not one region", DT_DATA,
                 DT_RAM_SIZE);
        goto out;
    }
    rc = set_initial_state(vm, &s->gen);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "vmm_set_state: %s", strerror(-rc));
        goto out;
    }
    rc = vmm_register_pio(vm, DT_PORT, 1, on_port, s);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "vmm_register_pio: %s", strerror(-rc));
        goto out;
    }
    if (cfg->trace && !cfg->legacy) {
        s->rec_cap = cfg->directed ? DT_MAX_DIRECTED : cfg->count;
        s->rec = calloc(s->rec_cap, sizeof(*s->rec));
        rc = s->rec ? dt_trace_start(&s->tr, KS_BIT(39),
                                     cfg->directed ? DT_MAX_DIRECTED : (unsigned)cfg->count, err)
                    : -ENOMEM;
        if (rc)
            goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = vmm_run(vm, (unsigned)(30000 + cfg->count), &ex);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (s->tr) {
        dt_trace_stop(s->tr);
        compare_traces(s);
    }
    st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    st->cpu = s->gen.cpu;
    st->cr4_extra = s->gen.cr4_extra;
    st->nx = s->gen.nx;
    if (rc) {
        snprintf(err, KS_ERR_LEN, "vmm_run: %s", strerror(-rc));
    } else if (s->paging_refused) {
        snprintf(err, KS_ERR_LEN,
                 "this KVM refuses CR0.PG=1 outside long mode (the guest's MOV CR0 got #GP): "
                 "no 32-bit or PAE paging to test");
        rc = -EOPNOTSUPP;
    } else if (ex.outcome != VMM_OUT_DEBUG_EXIT) {
        struct dt_result r;
        read_result(s->m, &r);
        snprintf(err, KS_ERR_LEN,
                 "guest stopped (outcome %d, KVM exit %u) during case %" PRIu64 ": phase %" PRIu64
                 " vector 0x%" PRIx64 " rip 0x%" PRIx64,
                 ex.outcome, ex.kvm_reason, s->c.index, r.phase, r.vector, r.rip);
        if (s->pending == PEND_CASE)
            dump_case(cfg->out, s, &r, (uint64_t[DT_MAX_ENT]){0}, "the guest died");
        rc = -EIO;
    }
out:
    if (vm)
        vmm_destroy(vm);
    dt_trace_free(s->tr);
    free(s->rec);
    free(s->directed);
    free(s);
    return rc;
}

static const char *const outcome_names[DT_NOUTCOMES] = {"ok", "not-present", "reserved", "unbacked",
                                                        "permission"};

void dt_print_stats(FILE *f, const struct dt_stats *st)
{
    static const char *const rsvd[] = {"maxphyaddr", "nx",       "gbpages", "ps-top", "large-page",
                                       "amd-bit8",   "pae-high", "pse36",   "pdpte"};
    static const char *const perm[] = {"write", "user", "nx", "smep", "smap", "pkey"};

    fprintf(f,
            "difftest: %" PRIu64 " cases, %" PRIu64 " agree, %" PRIu64 " disagree, %.2f s "
            "(%.1f us/case)\n",
            st->cases, st->agree, st->disagree, st->seconds,
            st->cases ? st->seconds * 1e6 / (double)st->cases : 0.0);
    fprintf(f,
            "  vCPU: maxphyaddr %u, gbpages %d, amd %d, nx %d; CR4 extras accepted 0x%" PRIx64
            ", refused 0x%" PRIx64 "\n",
            st->cpu.maxphyaddr, st->cpu.gbpages, st->cpu.amd, st->nx, st->cr4_extra,
            st->cr4_rejected);
    fprintf(f, "  %-12s %8s %8s %8s %8s %8s %8s | %6s %6s %6s %6s\n", "outcome", "r/cpl0", "w/cpl0",
            "x/cpl0", "r/cpl3", "w/cpl3", "x/cpl3", "L4", "L3", "L2", "L1");
    for (unsigned o = 0; o < DT_NOUTCOMES; o++) {
        fprintf(f, "  %-12s", outcome_names[o]);
        for (unsigned k = 0; k < 6; k++)
            fprintf(f, " %8" PRIu64, st->by_outcome[o][k]);
        fprintf(f, " |");
        for (unsigned l = 4; l >= 1; l--)
            fprintf(f, " %6" PRIu64, st->by_level[o][l]);
        fprintf(f, "\n");
    }
    fprintf(f,
            "  modes: 4-level %" PRIu64 ", PAE %" PRIu64 " (%" PRIu64
            " #GP on reserved PDPTE bits), 32-bit %" PRIu64 "\n",
            st->by_mode[0], st->by_mode[1], st->pdpte_gp, st->by_mode[2]);
    fprintf(f,
            "  successful walks: %" PRIu64 " 4K, %" PRIu64 " 2M, %" PRIu64 " 4M leaves; %" PRIu64
            " set A/D bits\n",
            st->leaf_4k, st->leaf_2m, st->leaf_4m, st->ad_set);
    if (st->trace_compared || st->trace_missing)
        fprintf(f,
                "  kvmmmu trace: %" PRIu64 " first walks compared, %" PRIu64 " disagree, %" PRIu64
                " cases without a traced walk, %" PRIu64 " unparsed lines\n",
                st->trace_compared, st->trace_mismatch, st->trace_missing, st->trace_unparsed);
    fprintf(f, "  reserved-bit reasons:");
    for (unsigned b = 0; b < KS_ARRAY_SIZE(rsvd); b++)
        fprintf(f, " %s %" PRIu64, rsvd[b], st->rsvd_why[b]);
    fprintf(f, "\n  permission reasons:");
    for (unsigned b = 0; b < KS_ARRAY_SIZE(perm); b++)
        fprintf(f, " %s %" PRIu64, perm[b], st->perm_why[b]);
    fprintf(f,
            "\n  CR0.WP 0/1: %" PRIu64 "/%" PRIu64 ", EFER.NXE 0/1: %" PRIu64 "/%" PRIu64
            ", CR4.SMEP %" PRIu64 ", CR4.SMAP %" PRIu64 ", CR4.PGE %" PRIu64 ", CR4.PSE %" PRIu64
            "; read first (twice) %" PRIu64 "\n",
            st->wp[0], st->wp[1], st->nxe[0], st->nxe[1], st->smep, st->smap, st->pge, st->pse,
            st->twice);
}
