/*
 * vCPU state: KVM's structures <-> struct x86_state, and snapshots.
 *
 * With KVM_CAP_SYNC_REGS the registers live in the kvm_run page (KVM
 * stores them there on every exit and loads the dirty ones on entry);
 * otherwise in the cache of struct vmm, loaded with ioctls when dirty.
 */
#include "vmm_int.h"

#include "ks/paging.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_KERNEL_GS_BASE 0xc0000102u

struct kvm_regs *vmm_regs(struct vmm *vm)
{
    return vm->sync_regs ? &vm->run->s.regs.regs : &vm->regs;
}

struct kvm_sregs *vmm_sregs(struct vmm *vm)
{
    return vm->sync_regs ? &vm->run->s.regs.sregs : &vm->sregs;
}

const struct kvm_regs *vmm_regs_const(const struct vmm *vm)
{
    return vm->sync_regs ? &vm->run->s.regs.regs : &vm->regs;
}

const struct kvm_sregs *vmm_sregs_const(const struct vmm *vm)
{
    return vm->sync_regs ? &vm->run->s.regs.sregs : &vm->sregs;
}

uint64_t vmm_rip(const struct vmm *vm)
{
    return vmm_regs_const(vm)->rip;
}

/* struct x86_seg mirrors struct kvm_segment field for field: one initializer, both ways. */
#define SEG_COPY(T, src)                                                                           \
    (T)                                                                                            \
    {                                                                                              \
        .base = (src)->base, .limit = (src)->limit, .selector = (src)->selector,                   \
        .type = (src)->type, .s = (src)->s, .dpl = (src)->dpl, .present = (src)->present,          \
        .avl = (src)->avl, .l = (src)->l, .db = (src)->db, .g = (src)->g,                          \
        .unusable = (src)->unusable,                                                               \
    }

static void seg_from_kvm(struct x86_seg *d, const struct kvm_segment *s)
{
    *d = SEG_COPY(struct x86_seg, s);
}

static void seg_to_kvm(struct kvm_segment *d, const struct x86_seg *s)
{
    *d = SEG_COPY(struct kvm_segment, s);
}

/* struct kvm_sregs order, mapped to enum x86_sreg. */
// clang-format off
#define SEG_LIST(X)                                                            \
    X(X86_SEG_ES, es) X(X86_SEG_CS, cs) X(X86_SEG_SS, ss) X(X86_SEG_DS, ds)    \
    X(X86_SEG_FS, fs) X(X86_SEG_GS, gs) X(X86_SEG_LDTR, ldt) X(X86_SEG_TR, tr)
// clang-format on

static void regs_to_state(const struct kvm_regs *r, const struct kvm_sregs *sr, struct x86_state *s)
{
    s->gpr[X86_RAX] = r->rax;
    s->gpr[X86_RCX] = r->rcx;
    s->gpr[X86_RDX] = r->rdx;
    s->gpr[X86_RBX] = r->rbx;
    s->gpr[X86_RSP] = r->rsp;
    s->gpr[X86_RBP] = r->rbp;
    s->gpr[X86_RSI] = r->rsi;
    s->gpr[X86_RDI] = r->rdi;
    s->gpr[X86_R8] = r->r8;
    s->gpr[X86_R9] = r->r9;
    s->gpr[X86_R10] = r->r10;
    s->gpr[X86_R11] = r->r11;
    s->gpr[X86_R12] = r->r12;
    s->gpr[X86_R13] = r->r13;
    s->gpr[X86_R14] = r->r14;
    s->gpr[X86_R15] = r->r15;
    s->rip = r->rip;
    s->rflags = r->rflags;
#define X(idx, f) seg_from_kvm(&s->seg[idx], &sr->f);
    SEG_LIST(X)
#undef X
    s->gdt = (struct x86_dtable){sr->gdt.base, sr->gdt.limit};
    s->idt = (struct x86_dtable){sr->idt.base, sr->idt.limit};
    s->cr0 = sr->cr0;
    s->cr2 = sr->cr2;
    s->cr3 = sr->cr3;
    s->cr4 = sr->cr4;
    s->cr8 = sr->cr8;
    s->efer = sr->efer;
}

static void state_to_regs(const struct x86_state *s, struct kvm_regs *r, struct kvm_sregs *sr)
{
    r->rax = s->gpr[X86_RAX];
    r->rcx = s->gpr[X86_RCX];
    r->rdx = s->gpr[X86_RDX];
    r->rbx = s->gpr[X86_RBX];
    r->rsp = s->gpr[X86_RSP];
    r->rbp = s->gpr[X86_RBP];
    r->rsi = s->gpr[X86_RSI];
    r->rdi = s->gpr[X86_RDI];
    r->r8 = s->gpr[X86_R8];
    r->r9 = s->gpr[X86_R9];
    r->r10 = s->gpr[X86_R10];
    r->r11 = s->gpr[X86_R11];
    r->r12 = s->gpr[X86_R12];
    r->r13 = s->gpr[X86_R13];
    r->r14 = s->gpr[X86_R14];
    r->r15 = s->gpr[X86_R15];
    r->rip = s->rip;
    /* Bit 1 of RFLAGS is reserved as 1 (SDM Vol. 1 §3.4.3); KVM_SET_REGS does not fix it. */
    r->rflags = s->rflags | 2;
#define X(idx, f) seg_to_kvm(&sr->f, &s->seg[idx]);
    SEG_LIST(X)
#undef X
    sr->gdt.base = s->gdt.base;
    sr->gdt.limit = (uint16_t)s->gdt.limit;
    sr->idt.base = s->idt.base;
    sr->idt.limit = (uint16_t)s->idt.limit;
    sr->cr0 = s->cr0;
    sr->cr2 = s->cr2;
    sr->cr3 = s->cr3;
    sr->cr4 = s->cr4;
    sr->cr8 = s->cr8;
    sr->efer = s->efer;
    /* Leave apic_base and the pending-interrupt bitmap as KVM reported them. */
}

/*
 * PAE paging (CR0.PG, CR4.PAE, not long mode) walks through the PDPTE
 * registers loaded at the last CR3 write, which may differ from memory by
 * now (SDM Vol. 3A §4.4.1). KVM_GET_SREGS2 returns them; kernels without it
 * leave pdptr_valid false, and readers load them from memory.
 */
static void load_pdptrs(struct vmm *vm, struct x86_state *s)
{
    struct kvm_sregs2 sr2;

    if (!(s->cr0 & X86_CR0_PG) || !(s->cr4 & X86_CR4_PAE) || (s->efer & X86_EFER_LMA))
        return;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS2, &sr2) < 0 ||
        !(sr2.flags & KVM_SREGS2_FLAGS_PDPTRS_VALID))
        return;
    memcpy(s->pdptr, sr2.pdptrs, sizeof(s->pdptr));
    s->pdptr_valid = true;
}

int vmm_get_state(struct vmm *vm, struct x86_state *s)
{
    struct kvm_debugregs dr;
    struct {
        struct kvm_msrs h;
        struct kvm_msr_entry e[1];
    } msrs = {.h.nmsrs = 1, .e[0].index = MSR_KERNEL_GS_BASE};

    memset(s, 0, sizeof(*s));
    regs_to_state(vmm_regs_const(vm), vmm_sregs_const(vm), s);
    if (ioctl(vm->vcpu_fd, KVM_GET_DEBUGREGS, &dr) < 0)
        return -errno;
    memcpy(s->dr, dr.db, sizeof(dr.db));
    s->dr[6] = dr.dr6;
    s->dr[7] = dr.dr7;
    if (ioctl(vm->vcpu_fd, KVM_GET_MSRS, &msrs) == 1)
        s->kernel_gs_base = msrs.e[0].data;
    load_pdptrs(vm, s);
    return 0;
}

int vmm_set_state(struct vmm *vm, const struct x86_state *s)
{
    state_to_regs(s, vmm_regs(vm), vmm_sregs(vm));
    if (vm->sync_regs)
        vm->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    else
        vm->state_dirty = true;
    return 0;
}

/* The page-walk context of the current vCPU state (what pt_walk needs). */
static void walk_ctx(const struct vmm *vm, struct pt_ctx *c)
{
    const struct kvm_sregs *sr = vmm_sregs_const(vm);

    memset(c, 0, sizeof(*c));
    c->cr0 = sr->cr0;
    c->cr3 = sr->cr3;
    c->cr4 = sr->cr4;
    c->efer = sr->efer;
    c->rflags = vmm_regs_const(vm)->rflags;
    c->cpu = vm->pt_cpu;
}

static bool cache_hit(const struct vmm *vm, const struct fetch_cache *fc, const struct pt_ctx *c,
                      uint32_t access, uint64_t va_page)
{
    if (!fc->valid || fc->va_page != va_page || fc->access != access || fc->cr0 != c->cr0 ||
        fc->cr3 != c->cr3 || fc->cr4 != c->cr4 || fc->efer != c->efer)
        return false;
    for (unsigned i = 0; i < fc->nlevels; i++) {
        uint64_t v = 0;
        const void *p = gmem_ptr(&vm->gmem, fc->entry_gpa[i], fc->entry_size);

        if (!p)
            return false;
        memcpy(&v, p, fc->entry_size);
        if (v != fc->entry[i])
            return false;
    }
    return true;
}

static void cache_fill(struct fetch_cache *fc, const struct pt_ctx *c, uint32_t access,
                       uint64_t va_page, const struct pt_walk *w)
{
    fc->valid = w->nlevels <= KS_ARRAY_SIZE(fc->entry);
    fc->cr0 = c->cr0;
    fc->cr3 = c->cr3;
    fc->cr4 = c->cr4;
    fc->efer = c->efer;
    fc->access = access;
    fc->va_page = va_page;
    fc->gpa_page = w->gpa & ~0xfffull;
    fc->nlevels = w->nlevels;
    fc->entry_size = w->mode == PT_MODE_32 ? 4 : 8;
    for (unsigned i = 0; i < w->nlevels && i < KS_ARRAY_SIZE(fc->entry); i++) {
        fc->entry_gpa[i] = w->lv[i].entry_gpa;
        fc->entry[i] = w->lv[i].entry;
    }
}

/*
 * Translate (va) for (access). Returns false when the walk faults. With a
 * cache, a walk over unchanged entries is answered from it.
 */
static bool translate(const struct vmm *vm, struct fetch_cache *fc, const struct pt_ctx *c,
                      uint64_t va, uint32_t access, gpa_t *gpa)
{
    uint64_t page = va & ~0xfffull;
    struct pt_walk w;

    if (fc && cache_hit(vm, fc, c, access, page)) {
        *gpa = fc->gpa_page | (va & 0xfff);
        return true;
    }
    if (pt_walk(&vm->gmem, c, va, access, &w) || w.fault)
        return false;
    if (fc)
        cache_fill(fc, c, access, page, &w);
    *gpa = w.gpa;
    return true;
}

/* Copy up to (len) bytes at linear (lin), stopping at the first unmapped byte. */
static unsigned copy_linear(const struct vmm *vm, struct fetch_cache *fc, uint64_t lin,
                            uint8_t *buf, unsigned len, bool fetch)
{
    const struct kvm_sregs *sr = vmm_sregs_const(vm);
    bool paging = sr->cr0 & X86_CR0_PG;
    uint32_t access = (fetch ? PFERR_F : 0) | ((sr->ss.dpl == 3) ? PFERR_U : 0);
    unsigned n = 0;
    struct pt_ctx ctx;

    if (paging)
        walk_ctx(vm, &ctx);
    while (n < len) {
        uint64_t va = lin + n, gpa = va;
        unsigned chunk = (unsigned)(0x1000 - (va & 0xfff));
        const uint8_t *p;

        if (chunk > len - n)
            chunk = len - n;
        if (paging && !translate(vm, fc, &ctx, va, access, &gpa))
            break;
        p = gmem_ptr(&vm->gmem, gpa, chunk);
        if (!p) {
            /* The end of a RAM region inside this page: byte by byte. */
            while (n < len && (p = gmem_ptr(&vm->gmem, gpa++, 1)))
                buf[n++] = *p;
            break;
        }
        memcpy(buf + n, p, chunk);
        n += chunk;
    }
    return n;
}

/*
 * Instruction bytes at CS.base+RIP, through the guest's page tables when
 * paging is on (lib/paging walks them exactly as KVM would, without
 * setting A/D bits). Bytes past an unmapped page are not returned.
 */
unsigned vmm_fetch_insn(struct vmm *vm, uint8_t *buf, unsigned len)
{
    const struct kvm_sregs *sr = vmm_sregs_const(vm);
    uint64_t lin = vmm_regs_const(vm)->rip;

    /* Outside 64-bit mode the linear address is CS.base + EIP, truncated to 32 bits. */
    if (!((sr->efer & X86_EFER_LMA) && sr->cs.l))
        lin = (lin + sr->cs.base) & 0xffffffffu;
    return copy_linear(vm, &vm->fetch, lin, buf, len, true);
}

unsigned vmm_read_linear(const struct vmm *vm, uint64_t lin, void *buf, unsigned len, bool fetch)
{
    return copy_linear(vm, NULL, lin, buf, len, fetch);
}

static enum snap_event snap_event_of(enum vmm_outcome o)
{
    switch (o) {
    case VMM_OUT_TRIPLE_FAULT:
        return SNAP_EV_TRIPLE_FAULT;
    case VMM_OUT_INTERNAL_ERROR:
        return SNAP_EV_INTERNAL_ERROR;
    case VMM_OUT_FAIL_ENTRY:
        return SNAP_EV_FAIL_ENTRY;
    case VMM_OUT_HALT:
        return SNAP_EV_HALT;
    case VMM_OUT_DEBUG_EXIT:
        return SNAP_EV_DEBUG_EXIT;
    case VMM_OUT_UNHANDLED_IO:
        return SNAP_EV_UNHANDLED_IO;
    case VMM_OUT_TIMEOUT:
        return SNAP_EV_TIMEOUT;
    default:
        return SNAP_EV_NONE;
    }
}

int vmm_snapshot(struct vmm *vm, struct snapshot *snap)
{
    const struct vmm_exit *e = &vm->last;
    int rc;

    snapshot_init(snap);
    rc = vmm_get_state(vm, &snap->s);
    if (rc)
        return rc;
    snap->have = SNAP_HAVE_GPRS | SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_EFER | SNAP_HAVE_DRS |
                 SNAP_HAVE_MEM | SNAP_HAVE_CPUID | SNAP_HAVE_PT_CPU | SNAP_HAVE_CPL;
    /* CPL is SS.DPL (SDM Vol. 3A §5.5; KVM vmx_get_cpl/svm_get_cpl); 0 in real mode. */
    snap->cpl = (snap->s.cr0 & 1) ? snap->s.seg[X86_SEG_SS].dpl : 0;
    snap->event = snap_event_of(e->outcome);
    if (e->outcome == VMM_OUT_INTERNAL_ERROR) {
        snap->internal_suberror = e->suberror;
        snap->n_internal_data = e->ndata;
        memcpy(snap->internal_data, e->data, sizeof(snap->internal_data));
    }
    if (e->outcome == VMM_OUT_FAIL_ENTRY)
        snap->fail_entry_reason = e->code;
    snap->cpuid = vm->cpuid;
    snap->pt_cpu = vm->pt_cpu;
    snap->host_gbpages = cpuid_has(&vm->supported, cpu_feature_find("pdpe1gb"));
    snprintf(snap->cpu_model, sizeof(snap->cpu_model), "%s", vm->cpu_name);
    snap->mem = &vm->gmem;
    snprintf(snap->source, sizeof(snap->source), "kvmscope run");
    return 0;
}
