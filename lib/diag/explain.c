/*
 * diag_explain(): from a snapshot to a cause.
 *
 * 1. Validate the control and segment state (state.c).
 * 2. Find the first exception: the one the source reported, or the one the
 *    instruction at RIP raises, found by walking its fetch and each memory
 *    access the way KVM's emulator would (spec/paging.md §3.1, §5.6).
 * 3. Replay its delivery (deliver.c) until a handler runs or the CPU shuts
 *    down, and pick the root cause and the secondary one.
 * A snapshot of a guest that stopped normally gets no cause at all.
 */
#include "diag_int.h"

#include "ks/symtab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_note(struct diag_report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->n_notes >= DIAG_MAX_NOTES)
        return;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->n_notes++], DIAG_TEXT, fmt, ap);
    va_end(ap);
}

void diag_add_fix(struct diag_report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->n_fix >= DIAG_MAX_FIX)
        return;
    va_start(ap, fmt);
    vsnprintf(r->fix[r->n_fix++], sizeof(r->fix[0]), fmt, ap);
    va_end(ap);
}

void diag_set_cause(struct diag_cause *c, const char *id, const char *fmt, ...)
{
    va_list ap;

    snprintf(c->id, sizeof(c->id), "%s", id);
    va_start(ap, fmt);
    vsnprintf(c->summary, sizeof(c->summary), fmt, ap);
    va_end(ap);
}

struct diag_exc *diag_push_exc(struct diag_report *r, unsigned vector, bool has_ec, uint32_t ec,
                               bool has_cr2, uint64_t cr2)
{
    struct diag_exc *e;

    if (r->n_exc >= DIAG_MAX_EXC)
        return NULL;
    e = &r->exc[r->n_exc++];
    memset(e, 0, sizeof(*e));
    e->info.vector = vector;
    e->info.has_error_code = has_ec;
    e->info.error_code = ec;
    e->info.has_cr2 = has_cr2;
    e->info.cr2 = cr2;
    e->info.rip = r->s.rip;
    return e;
}

int diag_read_linear(const struct snapshot *snap, const struct pt_ctx *c, gva_t la, void *buf,
                     size_t len, uint32_t access, struct pt_walk *fault)
{
    uint8_t *dst = buf;

    if (!snap->mem)
        return -EFAULT;
    while (len > 0) {
        size_t chunk = 4096 - (la & 4095);
        int rc;

        if (chunk > len)
            chunk = len;
        rc = pt_walk(snap->mem, c, la, access, fault);
        if (rc < 0)
            return rc;
        if (fault->fault)
            return 1;
        if (gmem_read(snap->mem, fault->gpa, dst, chunk) < 0)
            return -EFAULT;
        dst += chunk;
        la += chunk;
        len -= chunk;
    }
    return 0;
}

static bool abnormal(enum snap_event ev)
{
    switch (ev) {
    case SNAP_EV_NONE:
    case SNAP_EV_TRIPLE_FAULT:
    case SNAP_EV_INTERNAL_ERROR:
    case SNAP_EV_FAIL_ENTRY:
    case SNAP_EV_EXCEPTION:
        return true;
    default:
        return false;
    }
}

/* A #PF raised by walk (w) for (what). */
static void raise_pf(struct diag_report *r, const struct pt_walk *w, bool stack, const char *what)
{
    struct diag_exc *e = diag_push_exc(r, X86_PF, true, w->error_code, true, w->gva);

    if (!e)
        return;
    e->has_walk = true;
    e->walk = *w;
    diag_cause_of_walk(r, w, stack, &e->why, &e->why2);
    snprintf(e->raised_by, sizeof(e->raised_by), "%s", what);
}

static bool canonical(const struct diag_report *r, gva_t la)
{
    return pt_is_canonical(la, (r->s.cr4 & X86_CR4_LA57) ? PT_MODE_5LEVEL : PT_MODE_4LEVEL);
}

/* Check one memory access of the instruction. Returns true if it raised an exception. */
static bool check_access(const struct snapshot *snap, struct diag_report *r,
                         const struct x86_mem_access *a)
{
    char what[DIAG_TEXT];
    struct pt_walk w;
    uint32_t access = x86_access_bits(a, r->cpl);
    gva_t la = a->linear;

    snprintf(what, sizeof(what), "the %s%s (%u bytes at 0x%llx) of `%s`",
             a->write ? (a->read ? "read-modify-write of the " : "write of the ") : "read of the ",
             a->what, a->size, (unsigned long long)la, r->insn.intel);
    if (x86_mode_is_64(r->mode) && a->kind != X86_ACC_SYSTEM &&
        (!canonical(r, la) || !canonical(r, la + a->size - 1))) {
        /*
         * SDM Vol. 3A §6.15 (interrupt 12) and the 64-bit exceptions of every
         * memory instruction: #SS(0) when the reference uses SS, implicitly
         * (push/pop, RSP/RBP base) or by override; #GP(0) otherwise.
         */
        bool ss = a->kind == X86_ACC_STACK || a->seg == X86_SEG_SS;
        struct diag_exc *e = diag_push_exc(r, ss ? X86_SS : X86_GP, true, 0, false, 0);
        if (e) {
            diag_set_cause(&e->why, "non-canonical", "%s: 0x%llx is not canonical", a->what,
                           (unsigned long long)la);
            snprintf(e->raised_by, sizeof(e->raised_by), "%s", what);
        }
        return true;
    }
    /*
     * A descriptor read needs its selector inside the table, and a TI=1
     * selector needs an LDT (SDM Vol. 3A §3.4.2, §5.3): else #GP(selector),
     * whose error code keeps the index and TI (§6.13).
     */
    if (a->kind == X86_ACC_SYSTEM &&
        (strstr(a->what, "GDT entry") || strstr(a->what, "LDT entry"))) {
        bool ldt = strstr(a->what, "LDT entry");
        const struct x86_seg *ldtr = &r->s.seg[X86_SEG_LDTR];
        uint64_t off = la - (ldt ? ldtr->base : r->s.gdt.base);
        uint32_t limit = ldt ? ldtr->limit : r->s.gdt.limit;
        bool no_ldt = ldt && (ldtr->unusable || !ldtr->present);

        if (no_ldt || off + 7 > limit) {
            uint32_t ec = ((uint32_t)off & 0xfff8) | (ldt ? 4 : 0);
            struct diag_exc *e = diag_push_exc(r, X86_GP, true, ec, false, 0);
            if (e) {
                if (no_ldt)
                    diag_set_cause(&e->why, "bad-selector",
                                   "selector 0x%x points into the LDT, but no LDT is loaded", ec);
                else
                    diag_set_cause(&e->why, "bad-selector",
                                   "selector 0x%x lies beyond the %s limit 0x%x", ec,
                                   ldt ? "LDT" : "GDT", limit);
                snprintf(e->raised_by, sizeof(e->raised_by), "%s", what);
            }
            return true;
        }
    }
    /*
     * Each page the access touches, in modular arithmetic: an access at the
     * top of the address space wraps to page 0 (the fuzzer found the loop
     * that compared addresses spinning forever there). Decoded accesses are
     * at most a few KiB (XSAVE areas), so 16 pages only bounds a corrupt size.
     */
    const gva_t first = la & ~0xfffull, last = (la + (a->size ? a->size - 1 : 0)) & ~0xfffull;
    const uint64_t npages = ((last - first) >> 12) + 1;

    for (uint64_t i = 0; i < npages && i < 16; i++) {
        gva_t at = i ? first + (i << 12) : la;
        if (pt_walk(snap->mem, &r->ctx, at, access, &w) < 0)
            return false;
        if (w.fault) {
            raise_pf(r, &w, a->kind == X86_ACC_STACK, what);
            return true;
        }
    }
    return false;
}

/* What the registers say when there is no memory to walk. */
static void registers_only(const struct snapshot *snap, struct diag_report *r)
{
    const struct x86_state *s = &r->s;
    enum pt_mode pm = pt_mode_of(&r->ctx);
    unsigned esz = (s->efer & X86_EFER_LMA) ? 16 : 8;

    diag_note(r, "no guest memory given: the page walk cannot be checked; from the registers "
                 "alone:");
    diag_note(r, "%s paging%s, CR3=0x%llx; the CPU is in %s at RIP 0x%llx, CPL %u",
              pm == PT_MODE_NONE ? "no" : pt_mode_name(pm),
              (snap->have & SNAP_EFER_INFERRED) ? " (EFER inferred from the mode)" : "",
              (unsigned long long)s->cr3, x86_cpu_mode_name(r->mode), (unsigned long long)s->rip,
              r->cpl);
    /* Boot code leaves the values it just wrote in registers: say what they tell. */
    if ((snap->have & SNAP_HAVE_GPRS) && (s->cr0 & X86_CR0_PG) &&
        (s->gpr[X86_RAX] & 0xffffffffull) == (s->cr0 & 0xffffffffull))
        diag_note(r,
                  "RAX holds CR0 (0x%llx): the instruction before RIP most likely was the "
                  "MOV to CR0 that turned paging on, so RIP is the first fetch through the "
                  "new page tables",
                  (unsigned long long)s->cr0);
    if ((snap->have & SNAP_HAVE_GPRS) && (s->gpr[X86_RCX] & 0xffffffffull) == 0xc0000080)
        diag_note(r, "ECX=0xc0000080 (the EFER MSR): EFER was just written; a long-mode entry "
                     "is in progress");
    if ((s->cr0 & X86_CR0_PE) && s->idt.limit < 14 * esz + esz - 1)
        diag_note(r,
                  "IDTR limit 0x%x: no usable IDT, so any exception here escalates through "
                  "#GP and #DF to a triple fault",
                  s->idt.limit);
    if (r->event == SNAP_EV_INTERNAL_ERROR && r->internal_suberror == 1)
        diag_note(r,
                  "emulation failure at RIP: if KVM's fetch walk of 0x%llx failed (e.g. a "
                  "reserved bit in a page-table entry), it had no bytes to emulate; give "
                  "--memory or --dump so that the walk from CR3 0x%llx can be checked",
                  (unsigned long long)r->rip_linear, (unsigned long long)s->cr3);
}

static bool raise_sel(struct diag_report *r, unsigned vector, uint32_t ec, const char *id,
                      const char *what, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static bool raise_sel(struct diag_report *r, unsigned vector, uint32_t ec, const char *id,
                      const char *what, const char *fmt, ...)
{
    struct diag_exc *e = diag_push_exc(r, vector, true, ec, false, 0);
    va_list ap;

    if (!e)
        return true;
    snprintf(e->why.id, sizeof(e->why.id), "%s", id);
    va_start(ap, fmt);
    vsnprintf(e->why.summary, sizeof(e->why.summary), fmt, ap);
    va_end(ap);
    snprintf(e->raised_by, sizeof(e->raised_by), "%s", what);
    return true;
}

/*
 * IRET and far RET load CS (and RIP) from the stack: check the selector and
 * its descriptor the way SDM Vol. 2A (IRET, RET "far return") does, so a
 * corrupt frame is named instead of "does not fault". The frame itself was
 * already walked as a stack read.
 */
static bool check_far_return(const struct snapshot *snap, struct diag_report *r)
{
    bool iret = !strncmp(r->insn.mnemonic, "iret", 4);
    bool retf = !strcmp(r->insn.mnemonic, "ret") && r->insn.far_transfer;
    unsigned slot = r->insn.operand_width / 8;
    uint8_t frame[16] = {0}, d[8];
    uint64_t rip = 0, desc, sp = r->s.gpr[X86_RSP];
    uint16_t sel;
    struct pt_walk w;
    char what[DIAG_TEXT];

    if ((!iret && !retf) || !(r->s.cr0 & X86_CR0_PE) || r->mode == X86_MODE_VM86 ||
        (slot != 2 && slot != 4 && slot != 8))
        return false;
    if (!x86_mode_is_64(r->mode))
        sp = (r->s.seg[X86_SEG_SS].base + (sp & 0xffffffffu)) & 0xffffffffu;
    if (diag_read_linear(snap, &r->ctx, sp, frame, 2 * slot, 0, &w) != 0)
        return false;
    memcpy(&rip, frame, slot);
    sel = (uint16_t)(frame[slot] | frame[slot + 1] << 8);
    snprintf(what, sizeof(what), "`%s` loading CS=0x%x, RIP=0x%llx from the stack at 0x%llx",
             r->insn.intel, sel, (unsigned long long)rip, (unsigned long long)sp);
    if ((sel & ~3u) == 0)
        return raise_sel(r, X86_GP, 0, "bad-selector", what,
                         "the return frame's CS is the null selector: the frame is corrupt or "
                         "RSP points at the wrong place");
    if ((sel & 3u) < r->cpl)
        return raise_sel(r, X86_GP, sel & 0xfffc, "bad-selector", what,
                         "return to CS RPL %u from CPL %u: a return may not raise privilege",
                         sel & 3u, r->cpl);
    if (!(sel & 4) && (sel & ~7u) + 7u > r->s.gdt.limit)
        return raise_sel(r, X86_GP, sel & 0xfffc, "bad-selector", what,
                         "the return frame's CS 0x%x lies beyond the GDT limit 0x%x", sel,
                         r->s.gdt.limit);
    if (sel & 4)
        return false; /* LDT selectors: not checked */
    if (diag_read_linear(snap, &r->ctx, r->s.gdt.base + (sel & ~7u), d, 8, PT_ACCESS_IMPLICIT,
                         &w) != 0)
        return false;
    memcpy(&desc, d, 8);
    if (!((desc >> 44) & 1) || !((desc >> 43) & 1))
        return raise_sel(r, X86_GP, sel & 0xfffc, "gdt-descriptor", what,
                         "the return frame's CS 0x%x is not a code segment (descriptor 0x%016llx)",
                         sel, (unsigned long long)desc);
    if (!(desc & KS_BIT(47)))
        return raise_sel(r, X86_NP, sel & 0xfffc, "gdt-descriptor", what,
                         "the return frame's CS 0x%x is not present (descriptor 0x%016llx)", sel,
                         (unsigned long long)desc);
    if ((desc & KS_BIT(53)) && (r->s.efer & X86_EFER_LMA) && !canonical(r, rip))
        return raise_sel(r, X86_GP, 0, "non-canonical", what,
                         "the return address 0x%llx is not canonical", (unsigned long long)rip);
    return false;
}

/* Find the first exception from the instruction at RIP (spec §5.6: how KVM's emulator sees it). */
/*
 * The instruction at RIP fetched and every operand translated: what it raises
 * by itself (#UD, a bad far-return frame, INT n), or why KVM stopped anyway.
 */
static void insn_translates(const struct snapshot *snap, struct diag_report *r, bool *software)
{
    if (!strcmp(r->insn.mnemonic, "ud2") || !strcmp(r->insn.mnemonic, "ud1") ||
        !strcmp(r->insn.mnemonic, "ud0")) {
        /* A deliberate #UD (BUG()-style): not a cause in itself, its delivery may be. */
        struct diag_exc *e = diag_push_exc(r, X86_UD, false, 0, false, 0);
        if (e)
            snprintf(e->raised_by, sizeof(e->raised_by), "`%s` (raises #UD on purpose)",
                     r->insn.intel);
        return;
    }
    if (check_far_return(snap, r))
        return;
    if (r->insn.is_int) {
        struct diag_exc *e = diag_push_exc(r, r->insn.int_vector, false, 0, false, 0);
        if (e) {
            snprintf(e->raised_by, sizeof(e->raised_by), "`%s` (a software interrupt)",
                     r->insn.intel);
            *software = true;
        }
        return;
    }
    if (snap->event == SNAP_EV_INTERNAL_ERROR && snap->internal_suberror == 1 &&
        (snap->have & SNAP_PT_CPU_ASSUMED)) {
        diag_note(r,
                  "KVM reported an emulation failure, but with the assumed CPU model `%s` at "
                  "RIP translates and does not fault: either the vCPU's features differ (give "
                  "--cpu as the guest ran), or KVM's emulator could not handle the instruction",
                  r->insn.intel);
        return;
    }
    if (snap->event == SNAP_EV_INTERNAL_ERROR && snap->internal_suberror == 1) {
        /*
         * KVM_INTERNAL_ERROR_EMULATION (arch/x86/kvm/x86.c handle_emulation_failure): the
         * fetch and every operand translate, so the guest did nothing wrong architecturally;
         * KVM's emulator gave up on the instruction itself.
         */
        r->has_cause = true;
        diag_set_cause(&r->cause, "emulation-failure",
                       "KVM's instruction emulator could not emulate `%s` at 0x%llx (CPL %u): "
                       "its fetch and operands translate, so the instruction is valid here",
                       r->insn.intel, (unsigned long long)r->rip_linear, r->cpl);
        return;
    }
    diag_note(r, "`%s` at RIP does not fault when replayed; the cause lies elsewhere",
              r->insn.intel);
}

static void infer_first(const struct snapshot *snap, struct diag_report *r, bool *software)
{
    char what[DIAG_TEXT];

    if (!(snap->have & SNAP_HAVE_MEM)) {
        registers_only(snap, r);
        return;
    }
    if (r->fetch_rc < 0 && r->fetch_rc != -ENODATA && r->fetch_rc != -EILSEQ) {
        diag_note(r, "the paging state is impossible to walk (%s)",
                  r->fetch_rc == -EINVAL ? "EFER.LMA without CR4.PAE or CR0.PG" : "error");
        return;
    }
    if (r->fetch.fault) {
        snprintf(what, sizeof(what), "fetching the instruction at 0x%llx%s",
                 (unsigned long long)r->fetch.walk.gva,
                 r->fetch.walk.gva != r->rip_linear && r->fetch.len ? " (its second page)" : "");
        raise_pf(r, &r->fetch.walk, false, what);
        return;
    }
    if (r->fetch.unbacked) {
        r->has_cause = true;
        diag_set_cause(&r->cause, "fetch-mmio",
                       "RIP 0x%llx translates to GPA 0x%llx, which is not guest RAM: KVM cannot "
                       "execute from there (emulation failure)",
                       (unsigned long long)r->rip_linear,
                       (unsigned long long)r->fetch.unbacked_gpa);
        return;
    }
    if (r->fetch_rc == -EILSEQ) {
        struct diag_exc *e = diag_push_exc(r, X86_UD, false, 0, false, 0);
        if (e) {
            diag_set_cause(&e->why, "invalid-opcode",
                           "the bytes at RIP are not a valid instruction in %s",
                           x86_cpu_mode_name(r->mode));
            snprintf(e->raised_by, sizeof(e->raised_by), "decoding the bytes at 0x%llx",
                     (unsigned long long)r->rip_linear);
        }
        return;
    }
    if (r->fetch_rc != 0)
        return;
    if (r->insn.privileged && r->cpl > 0) {
        struct diag_exc *e = diag_push_exc(r, X86_GP, true, 0, false, 0);
        if (e) {
            diag_set_cause(&e->why, "privileged-insn", "`%s` needs CPL 0 but runs at CPL %u",
                           r->insn.intel, r->cpl);
            snprintf(e->raised_by, sizeof(e->raised_by), "executing `%s`", r->insn.intel);
        }
        return;
    }
    for (unsigned i = 0; i < r->insn.n_acc; i++)
        if (check_access(snap, r, &r->insn.acc[i]))
            return;
    insn_translates(snap, r, software);
}

/* Start from the exceptions the source saw (e.g. a TCG -d int log). */
static void use_known(const struct snapshot *snap, struct diag_report *r)
{
    const struct snap_exception *k = &snap->exc[0];
    struct diag_exc *e =
        diag_push_exc(r, k->vector, k->has_error_code, k->error_code, k->has_cr2, k->cr2);

    if (!e)
        return;
    e->info.rip = k->rip;
    snprintf(e->raised_by, sizeof(e->raised_by), "reported by the %s",
             snap->source[0] ? snap->source : "snapshot");
    if (k->vector == X86_PF && k->has_cr2 && (snap->have & SNAP_HAVE_MEM)) {
        struct pt_walk w;
        /* The walk the fault came from: its access bits are in the error code. */
        uint32_t access = k->error_code & (PFERR_W | PFERR_U);

        if (k->cr2 == r->rip_linear || (k->error_code & PFERR_F))
            access |= PFERR_F;
        if (pt_walk(snap->mem, &r->ctx, k->cr2, access, &w) == 0 && w.fault) {
            bool stack = false;

            /* A stack slot of the instruction at RIP makes it a stack fault. */
            for (unsigned i = 0; r->fetch_rc == 0 && i < r->insn.n_acc; i++) {
                const struct x86_mem_access *a = &r->insn.acc[i];
                if (a->kind == X86_ACC_STACK && k->cr2 >= a->linear && k->cr2 < a->linear + a->size)
                    stack = true;
            }
            e->has_walk = true;
            e->walk = w;
            diag_cause_of_walk(r, &w, stack, &e->why, &e->why2);
            if (w.error_code != k->error_code)
                diag_note(r,
                          "the walk of CR2 0x%llx now gives error code 0x%x, the source "
                          "reported 0x%x (TCG reports RSVD faults without P, spec/host.md)",
                          (unsigned long long)k->cr2, w.error_code, k->error_code);
        } else {
            diag_note(r, "CR2 0x%llx translates fine now: the tables changed after the fault",
                      (unsigned long long)k->cr2);
        }
    }
}

/*
 * The CPU's own walker accepts a 1 GiB page that KVM's software walker
 * rejects (spec/paging.md 2.6, 7): show what the hardware would execute at
 * RIP, which KVM's decoder never fetched.
 */
static void hardware_view(const struct snapshot *snap, struct diag_report *r)
{
    const struct pt_level *lv = diag_fault_lv(&r->fetch.walk);
    struct x86_insn insn;
    uint8_t bytes[X86_MAX_INSN_LEN];
    gpa_t gpa;
    size_t n = sizeof(bytes);

    if (!lv || lv->level != 3 || !(lv->rsvd_why & PT_RSVD_GBPAGES) || (lv->rsvd_bits & ~PTE_PS))
        return;
    gpa = (lv->entry & KS_BITS(30, 51)) | (r->rip_linear & KS_BITS(0, 29));
    while (n > 0 && gmem_read(snap->mem, gpa, bytes, n) < 0)
        n--;
    if (n == 0 || x86_decode(bytes, n, &r->s, &insn) < 0)
        return;
    diag_note(r,
              "on hardware, which accepts the 1 GiB page, RIP maps to GPA 0x%llx: `%s` "
              "(%s); KVM's decoder never fetched these bytes, so instruction bytes that a "
              "trace prints for this RIP are stale (spec/paging.md 5.4)",
              (unsigned long long)gpa, insn.intel, insn.att);
}

/* The root is why the first exception was raised; a software INT's root is its delivery. */
static void pick_causes(struct diag_report *r)
{
    unsigned i = 0;

    if (r->has_cause || r->n_exc == 0)
        return;
    while (i < r->n_exc && !r->exc[i].why.id[0])
        i++;
    if (i == r->n_exc)
        return;
    r->has_cause = true;
    r->cause = r->exc[i].why;
    r->has_secondary = false;
    if (r->exc[i].has_walk) {
        r->walk = r->exc[i].walk;
        r->has_walk = true;
        snprintf(r->walk_what, sizeof(r->walk_what), "%s", r->exc[i].raised_by);
    }
    if (r->exc[i].why2.id[0]) {
        r->has_secondary = true;
        r->secondary = r->exc[i].why2;
        return;
    }
    for (unsigned j = i + 1; j < r->n_exc; j++) {
        if (r->exc[j].why.id[0] && strcmp(r->exc[j].why.id, r->cause.id)) {
            r->has_secondary = true;
            r->secondary = r->exc[j].why;
            return;
        }
    }
    /* A state problem found by diag_check_state() (e.g. cr-unsupported) comes second. */
    if (r->secondary.id[0] && strcmp(r->secondary.id, r->cause.id))
        r->has_secondary = true;
}

int diag_explain(const struct snapshot *snap, struct diag_report **out)
{
    struct diag_report *r;
    bool software = false;

    if (!snap || !out)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->s = snap->s;
    r->have = snap->have;
    r->event = snap->event;
    r->internal_suberror = snap->internal_suberror;
    snprintf(r->source, sizeof(r->source), "%s", snap->source);
    snapshot_pt_ctx(snap, &r->ctx);
    r->mode = x86_cpu_mode_of(&r->s);
    r->rip_linear =
        x86_mode_is_64(r->mode) ? r->s.rip : (r->s.seg[X86_SEG_CS].base + r->s.rip) & 0xffffffffull;
    if (snap->have & SNAP_HAVE_CPL)
        r->cpl = snap->cpl;
    else
        r->cpl = (r->s.cr0 & X86_CR0_PE) ? r->s.seg[X86_SEG_CS].selector & 3 : 0;
    {
        char sym[96] = "";

        if (snap->syms)
            symtab_format(snap->syms, r->rip_linear, sym, sizeof(sym));
        snprintf(r->where, sizeof(r->where), "0x%llx%s%s%s", (unsigned long long)r->s.rip,
                 sym[0] ? " <" : "", sym, sym[0] ? ">" : "");
    }

    if (snap->have & SNAP_HAVE_MEM) {
        r->fetched = true;
        r->fetch_rc = x86_fetch_decode(snap->mem, &r->ctx, &r->s, r->cpl, &r->fetch, &r->insn);
    }
    if (!abnormal(snap->event)) {
        *out = r;
        return 0;
    }

    diag_check_state(snap, r);
    if (!r->has_cause && r->n_exc == 0) {
        if (snap->n_exc > 0) {
            use_known(snap, r);
        } else {
            r->chain_inferred = true;
            infer_first(snap, r, &software);
        }
        if (r->n_exc > 0)
            diag_deliver(snap, r, software);
    }
    pick_causes(r);
    if (r->has_cause && !strcmp(r->cause.id, "rsvd-gbpages") && r->fetch.fault)
        hardware_view(snap, r);
    if (snap->event == SNAP_EV_INTERNAL_ERROR && r->fetch.fault)
        diag_note(r, "KVM exited with an internal error instead of injecting this #PF: it was "
                     "only skipping the instruction (EMULTYPE_SKIP: a nested EPT_MISCONFIG "
                     "fast-MMIO exit, or SVM without next_rip), found no bytes at RIP and gave "
                     "up; the hardware walker had accepted the same tables "
                     "(spec/paging.md 5.6)");
    if (snap->event == SNAP_EV_TRIPLE_FAULT && r->n_exc > 0 && !r->triple_fault)
        diag_note(r, "the replay does not end in a triple fault although the guest shut down: "
                     "the chain above is incomplete");
    if (r->has_cause)
        diag_make_fixes(snap, r);
    *out = r;
    return 0;
}

void diag_free(struct diag_report *r)
{
    free(r);
}

bool diag_has_cause(const struct diag_report *r)
{
    return r && r->has_cause;
}

const char *diag_cause_id(const struct diag_report *r)
{
    return r && r->has_cause ? r->cause.id : NULL;
}

const char *diag_secondary_id(const struct diag_report *r)
{
    return r && r->has_cause && r->has_secondary ? r->secondary.id : NULL;
}

unsigned diag_exception_count(const struct diag_report *r)
{
    return r ? r->n_exc : 0;
}

int diag_exception_at(const struct diag_report *r, unsigned i, struct diag_exc_info *out)
{
    if (!r || i >= r->n_exc)
        return -ERANGE;
    *out = r->exc[i].info;
    return 0;
}

bool diag_triple_fault(const struct diag_report *r)
{
    return r && r->triple_fault;
}

const struct pt_walk *diag_root_walk(const struct diag_report *r)
{
    return r && r->has_walk ? &r->walk : NULL;
}

int diag_fault_level(const struct diag_report *r)
{
    return r && r->has_walk && r->walk.fault ? r->walk.fault_level : 0;
}
