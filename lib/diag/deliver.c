/*
 * Replaying exception delivery the way the CPU does it, check by check, so
 * that the report can say which one failed: SDM Vol. 3A §6.12 (protected
 * mode), §6.14 (IA-32e mode: 16-byte gates, 64-bit code segment, RSP0/IST
 * stack switch, 16-byte aligned frame of SS, RSP, RFLAGS, CS, RIP and the
 * error code), §6.13 (the error code: selector index, IDT bit, EXT bit) and
 * §6.15 Table 6-5 (which pairs of exceptions become #DF). KVM's
 * kvm_multiple_exception() (arch/x86/kvm/x86.c) follows the same table and
 * shuts the guest down for any exception raised while delivering #DF.
 *
 * Every read and write of delivery is an implicit supervisor access
 * (PFERR_IMPLICIT_ACCESS in KVM) and is walked through the page tables: the
 * IDT gate, the GDT/LDT descriptor, the TSS stack pointer and the pushes.
 */
#include "diag_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* SDM Vol. 3A Table 6-4; KVM exception_class(). */
enum exc_class { CLS_BENIGN, CLS_CONTRIBUTORY, CLS_PAGE_FAULT };

static enum exc_class exc_class(unsigned v)
{
    switch (v) {
    case X86_DE:
    case X86_TS:
    case X86_NP:
    case X86_SS:
    case X86_GP:
        return CLS_CONTRIBUTORY;
    case X86_PF:
    case X86_VE:
        return CLS_PAGE_FAULT;
    default:
        return CLS_BENIGN;
    }
}

/* What went wrong while delivering: the new exception and why. */
struct dfault {
    unsigned vector;
    bool has_ec;
    uint32_t ec;
    bool has_walk;
    struct pt_walk walk;
    struct diag_cause why;
    char text[DIAG_TEXT];
};

static void fail(struct dfault *f, unsigned vector, uint32_t ec, const char *id, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

static void fail(struct dfault *f, unsigned vector, uint32_t ec, const char *id, const char *fmt,
                 ...)
{
    va_list ap;

    f->vector = vector;
    f->has_ec = x86_vector_has_error_code(vector);
    f->ec = ec;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
    snprintf(f->why.id, sizeof(f->why.id), "%s", id);
    snprintf(f->why.summary, sizeof(f->why.summary), "%s", f->text);
}

/*
 * Read (len) bytes of a system structure at linear (la). Returns 0, or 1 with
 * (f) filled as the #PF the walk raised, or -1 when the memory is not backed.
 */
static int sys_read(const struct snapshot *snap, struct diag_report *r, gva_t la, void *buf,
                    size_t len, const char *what, struct dfault *f)
{
    int rc = diag_read_linear(snap, &r->ctx, la, buf, len, PT_ACCESS_IMPLICIT, &f->walk);

    if (rc == 1) {
        char reason[160] = "";
        const struct pt_level *lv = diag_fault_lv(&f->walk);

        if (lv)
            pt_level_reason(&r->ctx, lv, reason, sizeof(reason));
        else
            pt_perm_reason(&r->ctx, &f->walk, reason, sizeof(reason));
        fail(f, X86_PF, f->walk.error_code, "", "reading the %s at 0x%llx faults: %s", what,
             (unsigned long long)f->walk.gva, reason);
        f->has_walk = true;
        diag_cause_of_walk(r, &f->walk, false, &f->why, NULL);
        return 1;
    }
    if (rc < 0) {
        diag_note(r, "the %s at 0x%llx is not in guest RAM; the replay cannot read it", what,
                  (unsigned long long)la);
        return -1;
    }
    return 0;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

/* Push (n) bytes below (top) as the new-CPL stack writes of delivery. */
static int check_pushes(const struct snapshot *snap, struct diag_report *r, gva_t top, unsigned n,
                        unsigned slot, unsigned new_cpl, uint64_t wrap, struct dfault *f)
{
    uint32_t access = PFERR_W | (new_cpl == 3 ? PFERR_U : PT_ACCESS_IMPLICIT);
    /* The CPU writes the highest slot (SS or EFLAGS) first: walk from the top down. */
    gva_t hi = (top - slot) & wrap, lo = (top - n) & wrap;
    gva_t pages[2] = {hi & ~0xfffull, lo & ~0xfffull};

    for (unsigned i = 0; i < (pages[0] == pages[1] ? 1u : 2u); i++) {
        gva_t at = i == 0 ? hi : (pages[0] - slot) & wrap;
        struct pt_walk w;

        if (pt_walk(snap->mem, &r->ctx, at, access, &w) < 0)
            return -1;
        if (w.fault) {
            char reason[160] = "";
            const struct pt_level *lv = diag_fault_lv(&w);

            if (lv)
                pt_level_reason(&r->ctx, lv, reason, sizeof(reason));
            else
                pt_perm_reason(&r->ctx, &w, reason, sizeof(reason));
            f->walk = w;
            f->has_walk = true;
            fail(f, X86_PF, w.error_code, "",
                 "pushing the %u-byte exception frame below 0x%llx faults at 0x%llx: %s", n,
                 (unsigned long long)top, (unsigned long long)at, reason);
            diag_cause_of_walk(r, &w, true, &f->why, NULL);
            return 1;
        }
    }
    return 0;
}

/* SDM Vol. 3A §6.14.5: RSPn or ISTn from the 64-bit TSS. */
static int tss_stack(const struct snapshot *snap, struct diag_report *r, unsigned ist,
                     unsigned new_cpl, uint32_t ext, uint64_t *rsp, struct dfault *f)
{
    const struct x86_seg *tr = &r->s.seg[X86_SEG_TR];
    uint32_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * new_cpl;
    char what[40];
    uint8_t b[8];
    int rc;

    snprintf(what, sizeof(what), ist ? "TSS IST%u slot" : "TSS RSP%u slot", ist ? ist : new_cpl);
    if (tr->unusable || !tr->present || (tr->type != 0x9 && tr->type != 0xb)) {
        fail(f, X86_TS, (tr->selector & 0xfffc) | ext, "stack-fault",
             "the stack switch needs a 64-bit TSS, but TR (selector 0x%x, type 0x%x) is not one",
             tr->selector, tr->type);
        return 1;
    }
    if ((uint64_t)off + 7 > tr->limit) {
        fail(f, X86_TS, (tr->selector & 0xfffc) | ext, "stack-fault",
             "the %s at TSS offset 0x%x lies beyond the TSS limit 0x%x", what, off, tr->limit);
        return 1;
    }
    rc = sys_read(snap, r, tr->base + off, b, 8, what, f);
    if (rc)
        return rc;
    *rsp = rd64(b);
    if (*rsp == 0)
        diag_note(r, "the %s holds 0: the handler stack starts at the top of the address space",
                  what);
    return 0;
}

/* An IDT gate, decoded (SDM Vol. 3A §6.11 Figure 6-2, §6.14.1 Figure 6-8). */
struct gate {
    uint64_t lo; /* the low 8 bytes as read, for the report */
    uint64_t off;
    unsigned sel, type, dpl, ist;
};

/*
 * Read and check gate (v): limit, type, DPL for INT n, present (SDM Vol. 3A
 * §6.12.1.1, §6.14.1). Returns 0 with (g), 1 with (f), -1 (unbacked, task gate).
 */
static int read_gate(const struct snapshot *snap, struct diag_report *r, unsigned v, bool ia32e,
                     bool software, uint32_t ext, struct gate *g, struct dfault *f)
{
    unsigned esz = ia32e ? 16 : 8;
    uint32_t idt_ec = v * 8 + 2 + ext; /* SDM Vol. 3A 6.13: IDT flag, EXT for external events */
    const struct x86_dtable *idt = &r->s.idt;
    uint8_t b[16] = {0};
    char what[32];
    uint64_t hi;
    int rc;

    if ((uint64_t)v * esz + esz - 1 > idt->limit) {
        fail(f, X86_GP, idt_ec, "idt-limit",
             "IDT limit 0x%x does not reach gate %u (bytes 0x%x-0x%x of the IDT)%s", idt->limit, v,
             v * esz, v * esz + esz - 1, idt->limit == 0 ? ": no IDT was loaded" : "");
        return 1;
    }
    snprintf(what, sizeof(what), "IDT gate %u", v);
    rc = sys_read(snap, r, idt->base + (uint64_t)v * esz, b, esz, what, f);
    if (rc)
        return rc;
    g->lo = rd64(b);
    hi = rd64(b + 8);
    g->sel = (g->lo >> 16) & 0xffff;
    g->type = (g->lo >> 40) & 0xf;
    g->dpl = (g->lo >> 45) & 3;
    g->ist = ia32e ? (g->lo >> 32) & 7 : 0;
    g->off = (g->lo & 0xffff) | ((g->lo >> 32) & 0xffff0000ull);
    if (ia32e)
        g->off |= (hi & 0xffffffffull) << 32;

    /* SDM §6.14.1: only 64-bit interrupt/trap gates in IA-32e mode. */
    if (ia32e ? (g->type != 0xe && g->type != 0xf)
              : (g->type != 0x5 && g->type != 0x6 && g->type != 0x7 && g->type != 0xe &&
                 g->type != 0xf)) {
        fail(f, X86_GP, idt_ec, "idt-gate",
             "IDT gate %u (0x%016llx%s) has type 0x%x, not an %sinterrupt or trap gate", v,
             (unsigned long long)g->lo, ia32e ? "..." : "", g->type, ia32e ? "64-bit " : "");
        return 1;
    }
    if (software && g->dpl < r->cpl) {
        fail(f, X86_GP, idt_ec, "idt-gate",
             "INT %u at CPL %u needs gate DPL >= %u, but gate %u has DPL %u (SDM Vol. 3A 6.12.1.1)",
             v, r->cpl, r->cpl, v, g->dpl);
        return 1;
    }
    if (!(g->lo & KS_BIT(47))) {
        fail(f, X86_NP, idt_ec, "idt-gate", "IDT gate %u is not present (P=0; entry 0x%016llx)", v,
             (unsigned long long)g->lo);
        return 1;
    }
    if (g->type == 0x5) {
        diag_note(r, "gate %u is a task gate; task switches are not replayed", v);
        return -1;
    }
    return 0;
}

/*
 * The handler's code segment (SDM Vol. 3A §6.12.1.1, §6.14.1): selector in
 * the table, a present code segment with DPL <= CPL, 64-bit in IA-32e mode.
 * Returns 0 with (*new_cpl), 1 with (f), -1 when the descriptor is unbacked.
 */
static int check_handler_cs(const struct snapshot *snap, struct diag_report *r, unsigned v,
                            unsigned sel, bool ia32e, uint32_t ext, unsigned *new_cpl,
                            struct dfault *f)
{
    const struct x86_dtable *dt = (sel & 4) ? NULL : &r->s.gdt;
    uint64_t base = dt ? dt->base : r->s.seg[X86_SEG_LDTR].base;
    uint32_t limit = dt ? dt->limit : r->s.seg[X86_SEG_LDTR].limit;
    uint32_t sel_ec = (sel & 0xfffc) | ext;
    unsigned s, ctype, cdpl;
    bool present, l, db;
    char what[48];
    uint8_t d[8];
    uint64_t dlo;
    int rc;

    if ((sel & ~3u) == 0) {
        fail(f, X86_GP, ext, "gdt-descriptor", "IDT gate %u selects the null code segment", v);
        return 1;
    }
    if (!dt && (r->s.seg[X86_SEG_LDTR].unusable || !r->s.seg[X86_SEG_LDTR].present)) {
        fail(f, X86_GP, sel_ec, "bad-selector",
             "gate %u's code selector 0x%x points into the LDT, but no LDT is loaded", v, sel);
        return 1;
    }
    if ((sel & ~7u) + 7ull > limit) {
        fail(f, X86_GP, sel_ec, "bad-selector",
             "gate %u's code selector 0x%x lies beyond the %s limit 0x%x", v, sel,
             dt ? "GDT" : "LDT", limit);
        return 1;
    }
    snprintf(what, sizeof(what), "%s descriptor 0x%x", dt ? "GDT" : "LDT", sel & ~7u);
    rc = sys_read(snap, r, base + (sel & ~7u), d, 8, what, f);
    if (rc)
        return rc;
    dlo = rd64(d);
    s = (dlo >> 44) & 1;
    ctype = (dlo >> 40) & 0xf;
    cdpl = (dlo >> 45) & 3;
    present = dlo & KS_BIT(47);
    l = dlo & KS_BIT(53);
    db = dlo & KS_BIT(54);
    if (!s || !(ctype & 8)) {
        fail(f, X86_GP, sel_ec, "gdt-descriptor",
             "gate %u's selector 0x%x is not a code segment (descriptor 0x%016llx)", v, sel,
             (unsigned long long)dlo);
        return 1;
    }
    if (cdpl > r->cpl) {
        fail(f, X86_GP, sel_ec, "gdt-descriptor", "gate %u's code segment 0x%x has DPL %u > CPL %u",
             v, sel, cdpl, r->cpl);
        return 1;
    }
    if (!present) {
        fail(f, X86_NP, sel_ec, "gdt-descriptor",
             "gate %u's code segment 0x%x is not present (descriptor 0x%016llx)", v, sel,
             (unsigned long long)dlo);
        return 1;
    }
    if (ia32e && (!l || db)) {
        fail(f, X86_GP, sel_ec, "gdt-descriptor",
             "in IA-32e mode the handler's code segment must be 64-bit (L=1, D=0), but "
             "selector 0x%x has L=%d D=%d (descriptor 0x%016llx)",
             sel, l, db, (unsigned long long)dlo);
        return 1;
    }
    *new_cpl = (ctype & 4) ? r->cpl : cdpl; /* conforming code keeps the CPL */
    return 0;
}

/*
 * Deliver (e) in protected or IA-32e mode. Returns 0 when a handler is
 * reached, 1 with (f) when delivery raised another exception, -1 when the
 * replay cannot continue (unbacked memory, task gates).
 */
static int deliver_protected(const struct snapshot *snap, struct diag_report *r, struct diag_exc *e,
                             bool software, struct dfault *f)
{
    bool ia32e = r->ctx.efer & X86_EFER_LMA;
    unsigned v = e->info.vector;
    uint32_t ext = software ? 0 : 1;
    unsigned new_cpl, frame;
    struct gate g;
    uint64_t rsp;
    int rc;

    rc = read_gate(snap, r, v, ia32e, software, ext, &g, f);
    if (rc)
        return rc;
    rc = check_handler_cs(snap, r, v, g.sel, ia32e, ext, &new_cpl, f);
    if (rc)
        return rc;

    /* The stack (SDM §6.14.4, §6.14.5; §6.12.1 for 32-bit). */
    if (ia32e) {
        rsp = r->s.gpr[X86_RSP];
        if (g.ist || new_cpl < r->cpl) {
            rc = tss_stack(snap, r, g.ist, new_cpl, ext, &rsp, f);
            if (rc)
                return rc;
        }
        rsp &= ~0xfull;
        frame = 8 * (e->info.has_error_code ? 6 : 5);
        /* SDM Vol. 3A 6.14.2: a non-canonical frame address raises #SS(EXT). */
        if (!pt_is_canonical(rsp - 1, pt_mode_of(&r->ctx)) ||
            !pt_is_canonical(rsp - frame, pt_mode_of(&r->ctx))) {
            fail(f, X86_SS, ext, "non-canonical",
                 "the %u-byte exception frame below RSP 0x%llx is not canonical", frame,
                 (unsigned long long)rsp);
            return 1;
        }
    } else {
        if (new_cpl < r->cpl) {
            diag_note(r, "a 32-bit stack switch through the TSS is not replayed; the frame "
                         "checks below use the current stack");
        }
        uint64_t sp = r->s.gpr[X86_RSP] & (r->s.seg[X86_SEG_SS].db ? 0xffffffffull : 0xffffull);

        frame = ((g.type & 8) ? 4 : 2) * (e->info.has_error_code ? 4 : 3);
        rsp = (r->s.seg[X86_SEG_SS].base + sp) & 0xffffffffull;
    }
    rc = check_pushes(snap, r, rsp, frame, ia32e ? 8 : ((g.type & 8) ? 4 : 2), new_cpl,
                      ia32e ? ~0ull : 0xffffffffull, f);
    if (rc)
        return rc;

    if (ia32e && !pt_is_canonical(g.off, pt_mode_of(&r->ctx))) {
        fail(f, X86_GP, ext, "non-canonical", "gate %u's handler address 0x%llx is not canonical",
             v, (unsigned long long)g.off);
        return 1;
    }
    snprintf(e->delivery, sizeof(e->delivery),
             "delivered through gate %u to %04x:0x%llx, stack 0x%llx (CPL %u)", v, g.sel,
             (unsigned long long)g.off, (unsigned long long)(rsp - frame), new_cpl);

    /* The handler's first fetch happens after delivery: a fault there is a new exception. */
    {
        struct pt_walk w;
        if (pt_walk(snap->mem, &r->ctx, g.off, PFERR_F | (new_cpl == 3 ? PFERR_U : 0), &w) == 0 &&
            w.fault) {
            diag_note(r,
                      "the handler at 0x%llx cannot be fetched (#PF 0x%x): each delivery "
                      "faults again on the handler and pushes another frame",
                      (unsigned long long)g.off, w.error_code);
        }
    }
    return 0;
}

/* Real mode: the IVT and a 6-byte frame (SDM Vol. 3A §20.1.4). */
static int deliver_real(const struct snapshot *snap, struct diag_report *r, struct diag_exc *e,
                        struct dfault *f)
{
    unsigned v = e->info.vector;
    uint8_t ivt[4];

    if ((uint64_t)v * 4 + 3 > r->s.idt.limit) {
        fail(f, X86_GP, 0, "idt-limit", "IVT limit 0x%x does not reach vector %u", r->s.idt.limit,
             v);
        f->has_ec = false;
        return 1;
    }
    if (gmem_read(snap->mem, r->s.idt.base + v * 4ull, ivt, 4) < 0) {
        diag_note(r, "the IVT entry of vector %u is not in guest RAM", v);
        return -1;
    }
    snprintf(e->delivery, sizeof(e->delivery), "delivered through the IVT to %04x:%04x",
             ivt[2] | ivt[3] << 8, ivt[0] | ivt[1] << 8);
    return 0;
}

void diag_deliver(const struct snapshot *snap, struct diag_report *r, bool software)
{
    while (r->n_exc > 0) {
        struct diag_exc *e = &r->exc[r->n_exc - 1];
        struct dfault f;
        struct diag_exc *n;
        unsigned prev = e->info.vector;
        int rc;

        memset(&f, 0, sizeof(f));
        if (!(snap->have & SNAP_HAVE_MEM)) {
            snprintf(e->delivery, sizeof(e->delivery),
                     "delivery not replayed: no guest memory to read the IDT from");
            unsigned esz = (r->ctx.efer & X86_EFER_LMA) ? 16 : 8;
            if ((uint64_t)prev * esz + esz - 1 > r->s.idt.limit && (r->s.cr0 & X86_CR0_PE)) {
                /* The limit check needs no memory. */
                rc = deliver_protected(snap, r, e, software, &f);
            } else {
                return;
            }
        } else if (!(r->s.cr0 & X86_CR0_PE)) {
            rc = deliver_real(snap, r, e, &f);
        } else {
            rc = deliver_protected(snap, r, e, software, &f);
        }
        software = false;
        if (rc == 0) {
            e->info.delivered = true;
            return;
        }
        if (rc < 0)
            return;

        snprintf(e->delivery, sizeof(e->delivery), "%s", f.text);
        if (prev == X86_DF) {
            n = diag_push_exc(r, f.vector, f.has_ec, f.ec, f.vector == X86_PF, f.walk.gva);
            if (n) {
                n->why = f.why;
                n->has_walk = f.has_walk;
                n->walk = f.walk;
                snprintf(n->raised_by, sizeof(n->raised_by), "while delivering #DF");
                snprintf(n->delivery, sizeof(n->delivery),
                         "not delivered: a fault while delivering #DF shuts the CPU down "
                         "(triple fault, SDM Vol. 3A 6.15 interrupt 8)");
            }
            r->triple_fault = true;
            return;
        }
        n = diag_push_exc(r, f.vector, f.has_ec, f.ec, f.vector == X86_PF, f.walk.gva);
        if (!n)
            return;
        n->why = f.why;
        n->has_walk = f.has_walk;
        n->walk = f.walk;
        snprintf(n->raised_by, sizeof(n->raised_by), "while delivering %s", x86_vector_name(prev));
        {
            enum exc_class c1 = exc_class(prev), c2 = exc_class(f.vector);
            if ((c1 == CLS_CONTRIBUTORY && c2 == CLS_CONTRIBUTORY) ||
                (c1 == CLS_PAGE_FAULT && c2 != CLS_BENIGN)) {
                snprintf(n->delivery, sizeof(n->delivery),
                         "not delivered: %s during %s delivery becomes a double fault "
                         "(SDM Vol. 3A Table 6-5)",
                         c2 == CLS_PAGE_FAULT ? "a page fault" : "a contributory exception",
                         x86_vector_name(prev));
                n = diag_push_exc(r, X86_DF, true, 0, false, 0);
                if (!n)
                    return;
                snprintf(n->raised_by, sizeof(n->raised_by), "%s while delivering %s",
                         x86_vector_name(f.vector), x86_vector_name(prev));
            }
            /* Otherwise the new exception is delivered instead ("serially"). */
        }
    }
}
