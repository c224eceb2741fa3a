/*
 * Control and segment state that cannot be right: CR0/CR4/EFER
 * combinations the CPU refuses (SDM Vol. 3A §2.5, §9.8.5; KVM
 * kvm_is_valid_sregs() and __kvm_valid_efer()), CR4 bits the vCPU's CPUID
 * does not offer (KVM's cr4_guest_rsvd_bits), a non-canonical RIP, and
 * selectors or cached descriptors that the next reload would reject.
 */
#include "diag_int.h"

#include <stdio.h>
#include <string.h>

static const struct {
    uint64_t bit;
    const char *name;    /* the CR4 bit */
    const char *feature; /* the QEMU CPUID feature that allows it */
} cr4_features[] = {
    {KS_BIT(20), "SMEP", "smep"},  {KS_BIT(21), "SMAP", "smap"},
    {KS_BIT(22), "PKE", "pku"},    {KS_BIT(12), "LA57", "la57"},
    {KS_BIT(11), "UMIP", "umip"},  {KS_BIT(16), "FSGSBASE", "fsgsbase"},
    {KS_BIT(17), "PCIDE", "pcid"}, {KS_BIT(18), "OSXSAVE", "xsave"},
    {KS_BIT(13), "VMXE", "vmx"},   {KS_BIT(7), "PGE", "pge"},
};

static void cr_invalid(struct diag_report *r, const char *fmt, const char *detail)
{
    if (r->has_cause)
        return;
    r->has_cause = true;
    diag_set_cause(&r->cause, "cr-invalid", fmt, detail);
}

static void check_control(const struct snapshot *snap, struct diag_report *r)
{
    const struct x86_state *s = &r->s;
    bool pg = s->cr0 & X86_CR0_PG, pe = s->cr0 & X86_CR0_PE;
    bool lme = s->efer & X86_EFER_LME, lma = s->efer & X86_EFER_LMA;
    bool pae = s->cr4 & X86_CR4_PAE;
    bool efer_known = (snap->have & SNAP_HAVE_EFER) && !(snap->have & SNAP_EFER_INFERRED);

    if (!(snap->have & SNAP_HAVE_CRS))
        return;
    if (pg && !pe)
        cr_invalid(r, "%s",
                   "CR0.PG=1 with CR0.PE=0: paging without protected mode is invalid "
                   "(MOV CR0 raises #GP, SDM Vol. 3A 2.5)");
    if ((s->cr0 & KS_BIT(29)) && !(s->cr0 & KS_BIT(30)))
        cr_invalid(r, "%s", "CR0.NW=1 with CR0.CD=0 is invalid (#GP, SDM Vol. 3A 2.5)");
    if (lma && !pae)
        cr_invalid(r, "%s",
                   "EFER.LMA=1 with CR4.PAE=0: IA-32e mode requires PAE paging "
                   "(SDM Vol. 3A 9.8.5)");
    if (efer_known && lma != (lme && pg))
        cr_invalid(r, "%s",
                   "EFER.LMA does not equal EFER.LME && CR0.PG (KVM rejects such "
                   "state in KVM_SET_SREGS)");
    if (lma && (s->cr4 & X86_CR4_PAE) == 0 && !efer_known)
        diag_note(r, "EFER was inferred; the LMA/PAE check may be wrong");

    if (!(snap->have & SNAP_HAVE_CPUID))
        return;
    for (unsigned i = 0; i < KS_ARRAY_SIZE(cr4_features); i++) {
        const struct cpu_feature *f = cpu_feature_find(cr4_features[i].feature);

        if (!(s->cr4 & cr4_features[i].bit) || !f || cpuid_has(&snap->cpuid, f))
            continue;
        diag_note(r,
                  "cr-unsupported: CR4.%s is set but the vCPU's CPUID lacks %s: a guest MOV "
                  "to CR4 should #GP%s",
                  cr4_features[i].name, cr4_features[i].feature,
                  !strcmp(cr4_features[i].name, "SMEP")
                      ? " (this PVM host accepts CR4.SMEP anyway, see spec/host.md)"
                      : "");
        if (!r->has_cause && !r->secondary.id[0])
            diag_set_cause(&r->secondary, "cr-unsupported", "CR4.%s without CPUID %s",
                           cr4_features[i].name, cr4_features[i].feature);
    }
    if ((s->efer & X86_EFER_NXE) && cpu_feature_find("nx") &&
        !cpuid_has(&snap->cpuid, cpu_feature_find("nx")))
        diag_note(r, "cr-unsupported: EFER.NXE is set but the vCPU's CPUID lacks nx");
}

static void check_segments(struct diag_report *r)
{
    static const enum x86_sreg regs[] = {X86_SEG_CS, X86_SEG_SS, X86_SEG_DS,
                                         X86_SEG_ES, X86_SEG_FS, X86_SEG_GS};
    static const char *const names[] = {"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"};
    const struct x86_state *s = &r->s;
    char list[128] = "";
    size_t used = 0;
    bool cs_bad = false;

    if (!(s->cr0 & X86_CR0_PE))
        return;
    for (unsigned i = 0; i < KS_ARRAY_SIZE(regs); i++) {
        uint16_t sel = s->seg[regs[i]].selector;

        if ((sel & ~3u) == 0 || (sel & 4) || (sel & ~7u) + 7u <= s->gdt.limit)
            continue;
        cs_bad |= regs[i] == X86_SEG_CS;
        if (used < sizeof(list))
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s=0x%x",
                                     used ? ", " : "", names[regs[i]], sel);
    }
    if (used)
        diag_note(r,
                  "bad-selector: %s lie%s beyond the GDT limit 0x%x (GDT at 0x%llx, %u "
                  "descriptors): the cached descriptors still work, but reloading them raises "
                  "#GP(selector)%s",
                  list, strchr(list, ',') ? "" : "s", s->gdt.limit, (unsigned long long)s->gdt.base,
                  (s->gdt.limit + 1) / 8,
                  cs_bad ? "; the GDT in use is probably the boot loader's, not the kernel's" : "");
    if (r->mode == X86_MODE_LONG64 && s->seg[X86_SEG_CS].db)
        diag_note(r, "gdt-descriptor: CS has L=1 and D=1, a combination reserved in IA-32e "
                     "mode (SDM Vol. 3A 5.2.1)");
}

void diag_check_state(const struct snapshot *snap, struct diag_report *r)
{
    check_control(snap, r);
    if (snap->have & SNAP_HAVE_SREGS)
        check_segments(r);
    if (r->has_cause)
        return;
    /* SDM Vol. 3A §6.14 / Vol. 1 §3.3.7.1: RIP must be canonical in 64-bit mode. */
    if (r->mode == X86_MODE_LONG64 &&
        !pt_is_canonical(r->s.rip, (r->s.cr4 & X86_CR4_LA57) ? PT_MODE_5LEVEL : PT_MODE_4LEVEL)) {
        struct diag_exc *e;

        r->has_cause = true;
        diag_set_cause(&r->cause, "non-canonical",
                       "RIP 0x%llx is not canonical: bits 63:%d must all equal bit %d",
                       (unsigned long long)r->s.rip, (r->s.cr4 & X86_CR4_LA57) ? 57 : 48,
                       (r->s.cr4 & X86_CR4_LA57) ? 56 : 47);
        e = diag_push_exc(r, X86_GP, true, 0, false, 0);
        if (e) {
            e->why = r->cause;
            snprintf(e->raised_by, sizeof(e->raised_by),
                     "the transfer that loaded the non-canonical RIP 0x%llx",
                     (unsigned long long)r->s.rip);
        }
    }
}
