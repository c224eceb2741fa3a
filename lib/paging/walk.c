/*
 * The guest page walk, step for step as KVM's FNAME(walk_addr_generic)
 * (arch/x86/kvm/mmu/paging_tmpl.h) does it: spec/paging.md §1.1 (algorithm),
 * §3 (permissions and the #PF error code) and §4 (A/D updates).
 * Entries are read in place through gmem_ptr(); nothing is allocated.
 */
#include "paging_internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

enum pt_mode pt_mode_of(const struct pt_ctx *c)
{
    /* spec §1: the mode follows EFER.LMA, not LME; LA57 only counts in long mode. */
    if (!(c->cr0 & X86_CR0_PG))
        return PT_MODE_NONE;
    if (c->efer & X86_EFER_LMA)
        return (c->cr4 & X86_CR4_LA57) ? PT_MODE_5LEVEL : PT_MODE_4LEVEL;
    return (c->cr4 & X86_CR4_PAE) ? PT_MODE_PAE : PT_MODE_32;
}

const char *pt_mode_name(enum pt_mode mode)
{
    switch (mode) {
    case PT_MODE_NONE:
        return "no paging";
    case PT_MODE_32:
        return "32-bit";
    case PT_MODE_PAE:
        return "PAE";
    case PT_MODE_4LEVEL:
        return "4-level";
    case PT_MODE_5LEVEL:
        return "5-level";
    }
    return "?";
}

const char *pt_level_name(enum pt_mode mode, int level)
{
    static const char *const names[] = {"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};

    if (level < 1 || level > 5)
        return "entry";
    if (mode == PT_MODE_32) /* two levels: the PDE and the PTE (SDM Vol. 3A 4.3) */
        return level == 2 ? "PDE" : "PTE";
    return names[level];
}

const char *pt_page_size_name(uint64_t size)
{
    switch (size) {
    case 4096:
        return "4K";
    case 2ULL << 20:
        return "2M";
    case 4ULL << 20:
        return "4M";
    case 1ULL << 30:
        return "1G";
    case 512ULL << 30:
        return "512G";
    case 1ULL << 48:
        return "256T";
    default:
        return NULL;
    }
}

const char *pt_verdict_name(enum pt_verdict verdict)
{
    switch (verdict) {
    case PT_OK:
        return "ok";
    case PT_NOT_PRESENT:
        return "not present";
    case PT_RESERVED:
        return "reserved";
    case PT_UNBACKED:
        return "unbacked";
    }
    return "?";
}

bool pt_is_canonical(gva_t va, enum pt_mode mode)
{
    /* SDM Vol. 3A §3.3.7.1: bits 63:47 (63:56 with LA57) are copies of one bit. */
    unsigned top = mode == PT_MODE_4LEVEL ? 47 : mode == PT_MODE_5LEVEL ? 56 : 64;
    uint64_t high;

    if (top == 64)
        return true;
    high = va >> top; /* bits 63:top, all zeros or all ones */
    return high == 0 || high == (~0ULL >> top);
}

int pt_ctx_check(const struct pt_ctx *c)
{
    /*
     * States KVM refuses (kvm_is_valid_cr0, kvm_is_valid_sregs): paging
     * without protection; EFER.LME with CR0.PG (long mode) without CR4.PAE
     * or EFER.LMA; EFER.LMA outside long mode.
     */
    const bool lme_pg = (c->efer & X86_EFER_LME) && (c->cr0 & X86_CR0_PG);

    if ((c->cr0 & X86_CR0_PG) && !(c->cr0 & X86_CR0_PE))
        return -EINVAL;
    if (lme_pg && (!(c->cr4 & X86_CR4_PAE) || !(c->efer & X86_EFER_LMA)))
        return -EINVAL;
    if (!lme_pg && (c->efer & X86_EFER_LMA))
        return -EINVAL;
    return 0;
}

int pt_load_pdptrs(const struct gmem *m, const struct pt_ctx *c, uint64_t out[4])
{
    /* KVM load_pdptrs() (regs.c): the 32-byte PDPT at CR3[31:5], validated (spec §2.5). */
    gpa_t base = c->cr3 & 0xffffffe0ULL;
    uint64_t rsvd = pt_pdpte_rsvd_mask(c);
    int ret = 0;

    if (gmem_read(m, base, out, 4 * sizeof(uint64_t)))
        return -EFAULT;
    for (int i = 0; i < 4; i++)
        if ((out[i] & PTE_P) && (out[i] & rsvd))
            ret = -EINVAL;
    return ret;
}

uint32_t pt_perm_check(const struct pt_ctx *c, bool wide, uint32_t access, bool user_page,
                       bool writable, bool executable, unsigned pkey, uint32_t *why)
{
    /* KVM update_permission_bitmask() + permission_fault() (spec §3.3). */
    const bool write = access & PFERR_W, user = access & PFERR_U, fetch = access & PFERR_F;
    const bool wp = c->cr0 & X86_CR0_WP, nxe = c->efer & X86_EFER_NXE;
    uint32_t w = 0, code = 0;

    if (write && !writable && (user || wp))
        w |= PT_PERM_WRITE;
    if (user && !user_page)
        w |= PT_PERM_USER;
    if (fetch && nxe && !executable)
        w |= PT_PERM_NX;
    if ((c->cr4 & X86_CR4_SMEP) && fetch && !user && user_page)
        w |= PT_PERM_SMEP;
    if ((c->cr4 & X86_CR4_SMAP) && !fetch && !user && user_page) {
        /* RFLAGS.AC overrides SMAP only for explicit accesses. */
        bool override = (c->rflags & X86_RFLAGS_AC) && !(access & PT_ACCESS_IMPLICIT);
        if (!override)
            w |= PT_PERM_SMAP;
    }
    /* Protection keys: 64-bit entries in long mode with CR4.PKE (update_pkru_bitmask). */
    if (wide && (c->cr4 & X86_CR4_PKE) && (c->efer & X86_EFER_LMA)) {
        unsigned kb = (c->pkru >> (2 * pkey)) & 3;
        bool chk = !fetch && user_page, chkw = chk && write && (user || wp);

        if ((chk && (kb & 1)) || (chkw && (kb & 2))) {
            w |= PT_PERM_PKEY;
            code |= PFERR_PK;
        }
    }
    if (why)
        *why = w;
    return w ? (code | PFERR_P) : 0;
}

/* The error path of walk_addr_generic: W/U from the access, F only with NXE or SMEP. */
static void set_fault(const struct pt_ctx *c, struct pt_walk *w, uint32_t code, int level)
{
    code |= w->access & (PFERR_W | PFERR_U);
    if ((w->access & PFERR_F) && ((c->efer & X86_EFER_NXE) || (c->cr4 & X86_CR4_SMEP)))
        code |= PFERR_F;
    w->fault = true;
    w->error_code = code;
    w->fault_level = level;
}

/* GPA of a leaf (spec §2.4). */
static gpa_t leaf_gpa(bool wide, int level, uint64_t e, gva_t va, uint64_t *size)
{
    if (!wide) {
        if (level == 1) {
            *size = 4096;
            return (e & PT32_ADDR_MASK) | (va & 0xfff);
        }
        /* 4 MiB page; PSE-36: PDE[16:13] are GPA[35:32] (KVM pse36_gfn_delta). */
        *size = 4u << 20;
        return (e & 0xffc00000ULL) | ((e >> 13) & 0xfULL) << 32 | (va & 0x3fffff);
    }
    *size = 1ULL << (12 + 9 * (level - 1));
    return (e & KS_BITS(12 + 9 * (level - 1), 51)) | (va & (*size - 1));
}

/* A/D bits to set after a successful walk (spec §4; update_accessed_dirty_bits). */
static void plan_ad(struct pt_walk *w, unsigned first, unsigned size)
{
    bool write = w->access & PFERR_W;

    w->n_ad = 0;
    for (unsigned i = first; i < w->nlevels; i++) {
        const struct pt_level *lv = &w->lv[i];
        uint64_t e = lv->entry | PTE_A;

        if (lv->leaf && write)
            e |= PTE_D;
        if (e != lv->entry)
            w->ad[w->n_ad++] = (struct pt_ad_update){lv->entry_gpa, lv->entry, e, size};
    }
}

int pt_walk(const struct gmem *m, const struct pt_ctx *c, gva_t va, uint32_t access,
            struct pt_walk *out)
{
    const enum pt_mode mode = pt_mode_of(c);
    const bool wide = mode != PT_MODE_32;
    const unsigned size = wide ? 8 : 4, bits = wide ? 9 : 10;
    const uint64_t addr_mask = wide ? PT64_ADDR_MASK : PT32_ADDR_MASK;
    bool u = true, wr = true, x = true;
    unsigned first = 0;
    int level;
    gpa_t table;
    uint64_t e = 0;

    uint64_t rsvd[2][6];

    /* Only the header is cleared: lv[] and ad[] are valid up to nlevels and n_ad. */
    memset(out, 0, offsetof(struct pt_walk, lv));
    out->gva = va;
    out->access = access;
    out->mode = mode;
    memset(&out->fault, 0, offsetof(struct pt_walk, ad) - offsetof(struct pt_walk, fault));
    if (pt_ctx_check(c) || (access & ~(PFERR_W | PFERR_U | PFERR_F | PT_ACCESS_IMPLICIT)))
        return -EINVAL;
    if (mode == PT_MODE_NONE) {
        /* nonpaging_gva_to_gpa(): identity, nothing read, every access allowed. */
        out->gpa = va;
        out->user = out->writable = out->executable = true;
        return 0;
    }

    if (mode == PT_MODE_PAE) {
        uint64_t pdptr[4];
        const uint64_t *regs = c->pdptr;
        struct pt_level *lv = &out->lv[out->nlevels++];
        unsigned idx = (va >> 30) & 3;

        if (!c->pdptr_valid) {
            /* Unreadable or invalid PDPTEs: the CR write that loaded them would #GP. */
            if (pt_load_pdptrs(m, c, pdptr))
                return -EINVAL;
            regs = pdptr;
        }
        e = regs[idx];
        *lv = (struct pt_level){
            .level = 3, .index = idx, .entry_gpa = (c->cr3 & 0xffffffe0ULL) + 8 * idx, .entry = e};
        /* Only P is checked at walk time; the PDPTE takes no part in the rights (§1). */
        if (!(e & PTE_P)) {
            lv->verdict = PT_NOT_PRESENT;
            set_fault(c, out, 0, 3);
            return 0;
        }
        table = e & addr_mask;
        level = 2;
        first = 1;
    } else {
        level = mode == PT_MODE_5LEVEL ? 5 : mode == PT_MODE_4LEVEL ? 4 : 2;
        table = c->cr3 & addr_mask;
    }
    pt_rsvd_table(c, mode, rsvd);

    for (;;) {
        struct pt_level *lv = &out->lv[out->nlevels++];
        unsigned idx = (va >> (12 + (level - 1) * bits)) & ((1u << bits) - 1);
        const void *p;

        *lv =
            (struct pt_level){.level = level, .index = idx, .entry_gpa = table + (gpa_t)idx * size};
        p = gmem_ptr(m, lv->entry_gpa, size);
        if (!p) {
            /* No memslot behind the table: KVM ends the walk as "not present" (§3.4). */
            lv->verdict = PT_UNBACKED;
            set_fault(c, out, 0, level);
            return 0;
        }
        e = pt_load_entry(p, size);
        lv->entry = e;
        if (!(e & PTE_P)) {
            lv->verdict = PT_NOT_PRESENT;
            set_fault(c, out, 0, level);
            return 0;
        }
        if (ks_unlikely(e & rsvd[!!(e & PTE_PS)][level])) {
            lv->rsvd_bits = pt_rsvd_check(c, mode, level, e, &lv->rsvd_why);
            lv->verdict = PT_RESERVED;
            set_fault(c, out, PFERR_P | PFERR_RSVD, level);
            return 0;
        }
        u &= !!(e & PTE_U);
        wr &= !!(e & PTE_W);
        if (wide)
            x &= !(e & PTE_NX);
        /* is_last_gpte(): PS makes a leaf in 64-bit entries; in 32-bit only with CR4.PSE. */
        if (level == 1 || ((e & PTE_PS) && (wide || (c->cr4 & X86_CR4_PSE))))
            break;
        table = e & addr_mask;
        level--;
    }

    out->lv[out->nlevels - 1].leaf = true;
    out->leaf_level = level;
    out->user = u;
    out->writable = wr;
    out->executable = x;
    out->pkey = wide ? (unsigned)((e >> 59) & 0xf) : 0;
    {
        uint32_t code = pt_perm_check(c, wide, access, u, wr, x, out->pkey, &out->perm_why);
        if (code) {
            set_fault(c, out, code, level);
            return 0;
        }
    }
    out->gpa = leaf_gpa(wide, level, e, va, &out->page_size);
    plan_ad(out, first, size);
    return 0;
}

int pt_apply_ad(const struct gmem *m, const struct pt_walk *w)
{
    if (w->fault)
        return -EINVAL;
    for (unsigned i = 0; i < w->n_ad; i++) {
        const struct pt_ad_update *a = &w->ad[i];
        /* KVM writes each entry with a cmpxchg and retries the walk if it changed. */
        int ret = gmem_cmpxchg(m, a->entry_gpa, a->old_entry, a->new_entry, a->size);
        if (ret)
            return ret;
    }
    return 0;
}
