/*
 * Cause ids (docs/causes.md) for faulting walks, and concrete fixes: the
 * QEMU -cpu flag and the models that carry it (lib/x86/cpumodel.c), the
 * page-table entry to change, or a plain statement that this host's KVM
 * cannot give the feature.
 */
#include "diag_int.h"

#include <stdio.h>
#include <string.h>

const struct pt_level *diag_fault_lv(const struct pt_walk *w)
{
    if (!w->fault)
        return NULL;
    for (unsigned i = 0; i < w->nlevels; i++)
        if (w->lv[i].verdict != PT_OK)
            return &w->lv[i];
    return NULL; /* a permission fault: every entry was fine on its own */
}

/* A walk's reason bit (PT_RSVD_* or PT_PERM_*), its cause id, and what it means. */
struct cause_id {
    uint32_t why;
    const char *id;
    const char *what;
};

/* Reserved-bit reasons in the order a human should fix them (the surprising one first). */
static const struct cause_id rsvd_ids[] = {
    {PT_RSVD_GBPAGES, "rsvd-gbpages",
     "PS=1 in a PDPTE asks for a 1 GiB page, which this vCPU "
     "does not have (CPUID.80000001H:EDX[26] pdpe1gb as KVM "
     "resolves it)"},
    {PT_RSVD_PS_TOP, "rsvd-ps-top-level",
     "PS=1 is reserved in a PML4E/PML5E: there are no "
     "512 GiB pages"},
    {PT_RSVD_NX, "rsvd-nx", "bit 63 (XD) is reserved while EFER.NXE=0"},
    {PT_RSVD_MAXPHYADDR, "rsvd-maxphyaddr", "address bits at or above MAXPHYADDR are set"},
    {PT_RSVD_LARGE_PAGE, "rsvd-large-page",
     "a large page's frame is not aligned: bits 13..20 "
     "(2 MiB) or 13..29 (1 GiB) must be 0"},
    {PT_RSVD_AMD_BIT8, "rsvd-amd-bit8",
     "bit 8 of a PML4E/PML5E is reserved on AMD-compatible "
     "vCPUs"},
    {PT_RSVD_PAE_HIGH, "rsvd-pae", "PAE entries reserve bits 62:MAXPHYADDR"},
    {PT_RSVD_PSE36, "rsvd-pse36", "a 4 MiB PDE has bits 21:17 set (KVM always assumes PSE-36)"},
    {PT_RSVD_PDPTE, "rsvd-pae", "a PAE PDPTE register has reserved bits"},
};

static const struct cause_id perm_ids[] = {
    {PT_PERM_SMEP, "smep", "CR4.SMEP forbids supervisor fetches from user pages"},
    {PT_PERM_SMAP, "smap",
     "CR4.SMAP forbids supervisor data accesses to user pages "
     "(RFLAGS.AC=0 or an implicit access)"},
    {PT_PERM_PKEY, "pkey", "the page's protection key denies the access (PKRU)"},
    {PT_PERM_NX, "nx-fetch", "instruction fetch from a page marked XD (bit 63) with EFER.NXE=1"},
    {PT_PERM_USER, "user-supervisor",
     "a CPL 3 access to a supervisor page (U/S=0 somewhere in "
     "the walk)"},
    {PT_PERM_WRITE, "write-protect",
     "a write to a read-only page (R/W=0 somewhere in the walk, "
     "with CR0.WP=1 or at CPL 3)"},
};

void diag_cause_of_walk(const struct diag_report *r, const struct pt_walk *w, bool stack,
                        struct diag_cause *out, struct diag_cause *second)
{
    const struct pt_level *lv = diag_fault_lv(w);
    struct diag_cause *slot = out;

    memset(out, 0, sizeof(*out));
    if (second)
        memset(second, 0, sizeof(*second));
    if (!w->fault)
        return;
    (void)r;
    if (lv && lv->verdict == PT_RESERVED) {
        for (unsigned i = 0; i < KS_ARRAY_SIZE(rsvd_ids) && slot; i++) {
            if (!(lv->rsvd_why & rsvd_ids[i].why))
                continue;
            diag_set_cause(slot, rsvd_ids[i].id, "%s at level %d (%s 0x%llx @ GPA 0x%llx)",
                           rsvd_ids[i].what, lv->level, pt_level_name(w->mode, lv->level),
                           (unsigned long long)lv->entry, (unsigned long long)lv->entry_gpa);
            slot = slot == out ? second : NULL;
        }
        if (!out->id[0])
            diag_set_cause(out, "rsvd-maxphyaddr", "reserved bits 0x%llx set at level %d",
                           (unsigned long long)lv->rsvd_bits, lv->level);
        return;
    }
    if (lv) { /* not present or unbacked */
        diag_set_cause(out, stack ? "stack-fault" : "not-present",
                       "%s%s at level %d is %s (0x%llx @ GPA 0x%llx)",
                       stack ? "the stack page is unmapped: " : "",
                       pt_level_name(w->mode, lv->level), lv->level,
                       lv->verdict == PT_UNBACKED ? "in a table outside guest RAM" : "not present",
                       (unsigned long long)lv->entry, (unsigned long long)lv->entry_gpa);
        return;
    }
    for (unsigned i = 0; i < KS_ARRAY_SIZE(perm_ids) && slot; i++) {
        if (!(w->perm_why & perm_ids[i].why))
            continue;
        diag_set_cause(slot, perm_ids[i].id, "%s", perm_ids[i].what);
        slot = slot == out ? second : NULL;
    }
}

/* --- fixes ------------------------------------------------------------------------------ */

/* "Skylake-Server, EPYC, ..." : the models whose default features include (feat). */
static void models_with(const char *feat, char *buf, size_t len)
{
    const struct cpu_feature *f = cpu_feature_find(feat);
    unsigned n = 0, used = 0;
    const struct cpu_model *m = cpu_models(&n);

    buf[0] = 0;
    for (unsigned i = 0; m && i < n; i++) {
        for (const char *const *p = m[i].features; p && *p; p++) {
            if (strcmp(*p, feat) && (!f || cpu_feature_find(*p) != f))
                continue;
            if (used < len)
                used +=
                    (unsigned)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", m[i].name);
            break;
        }
    }
}

/* Whether the -cpu argument asked for (feat), by name or through its model. */
static bool cpu_arg_requests(const struct snapshot *snap, const char *feat)
{
    struct cpu_spec spec;
    char err[KS_ERR_LEN];
    const struct cpu_feature *f = cpu_feature_find(feat);

    if (!snap->cpu_model[0] || !f)
        return false;
    if (cpu_spec_parse(snap->cpu_model, &spec, err) < 0 || spec.host_based)
        return false;
    return cpuid_has(&spec.cpuid, f);
}

static bool vcpu_has(const struct snapshot *snap, const char *feat)
{
    const struct cpu_feature *f = cpu_feature_find(feat);

    return (snap->have & SNAP_HAVE_CPUID) && f && cpuid_has(&snap->cpuid, f);
}

static const char *base_model(const struct snapshot *snap, char *buf, size_t len)
{
    const char *comma;

    if (!snap->cpu_model[0])
        return "MODEL";
    comma = strchr(snap->cpu_model, ',');
    snprintf(buf, len, "%.*s",
             comma ? (int)(comma - snap->cpu_model) : (int)strlen(snap->cpu_model),
             snap->cpu_model);
    return buf;
}

static void fix_cpu_flag(const struct snapshot *snap, struct diag_report *r, const char *feat,
                         const char *what)
{
    char models[256], mb[64];

    models_with(feat, models, sizeof(models));
    diag_add_fix(r, "give the vCPU %s: -cpu %s,%s%s%s%s", what, base_model(snap, mb, sizeof(mb)),
                 feat, models[0] ? " (QEMU models that include it: " : "", models,
                 models[0] ? ")" : "");
}

static void fix_gbpages(const struct snapshot *snap, struct diag_report *r,
                        const struct pt_level *lv)
{
    bool in_cpuid = vcpu_has(snap, "pdpe1gb");
    bool asked = cpu_arg_requests(snap, "pdpe1gb");
    bool eff_known = snap->have & SNAP_HAVE_PT_CPU;

    if (snap->host_gbpages == 0 || (in_cpuid && eff_known && !snap->pt_cpu.gbpages) ||
        (asked && (snap->have & SNAP_HAVE_CPUID) && !in_cpuid)) {
        diag_add_fix(r,
                     "this host's KVM does not offer 1 GiB pages (KVM_GET_SUPPORTED_CPUID "
                     "lacks pdpe1gb%s): no -cpu flag can fix it here; map with 2 MiB pages "
                     "instead",
                     in_cpuid ? ", so KVM ignores the bit in the vCPU's CPUID"
                     : asked  ? ", so the requested pdpe1gb was dropped"
                              : "");
        fix_cpu_flag(snap, r, "pdpe1gb", "1 GiB pages on a host whose KVM offers them");
    } else {
        fix_cpu_flag(snap, r, "pdpe1gb", "1 GiB pages");
        if (snap->host_gbpages < 0)
            diag_add_fix(r, "that works only if the host's KVM offers pdpe1gb (`kvmscope cpu "
                            "MODEL` on that host shows it; nested and PVM hosts often do not): "
                            "otherwise map with 2 MiB pages");
    }
    if (lv)
        diag_add_fix(r,
                     "2 MiB mapping: PDPTE @ GPA 0x%llx: 0x%llx -> <page directory GPA> | "
                     "0x%llx (PS cleared), with PDE[n] = 0x%llx + n * 0x200000 | 0x%llx "
                     "for n = 0..511",
                     (unsigned long long)lv->entry_gpa, (unsigned long long)lv->entry,
                     (unsigned long long)(lv->entry & 0xfff & ~PTE_PS & 0x7f),
                     (unsigned long long)(lv->entry & KS_BITS(30, 51)),
                     (unsigned long long)(lv->entry & 0x1ff));
}

static void fix_entry(struct diag_report *r, const struct pt_walk *w, const struct pt_level *lv,
                      uint64_t new_val, const char *why)
{
    diag_add_fix(r, "%s @ GPA 0x%llx (level %d): 0x%llx -> 0x%llx (%s)",
                 pt_level_name(w->mode, lv->level), (unsigned long long)lv->entry_gpa, lv->level,
                 (unsigned long long)lv->entry, (unsigned long long)new_val, why);
}

/* The entries of a successful-but-forbidden walk that lack (bit) (or have it, for NX). */
static void fix_perm_entries(struct diag_report *r, const struct pt_walk *w, uint64_t bit, bool set,
                             const char *why)
{
    for (unsigned i = 0; i < w->nlevels; i++) {
        const struct pt_level *lv = &w->lv[i];
        if (set ? !(lv->entry & bit) : (lv->entry & bit))
            fix_entry(r, w, lv, set ? lv->entry | bit : lv->entry & ~bit, why);
    }
}

static void fix_walk(const struct snapshot *snap, struct diag_report *r, const char *id,
                     const struct pt_walk *w)
{
    const struct pt_level *lv = diag_fault_lv(w);

    if (!strcmp(id, "rsvd-gbpages")) {
        fix_gbpages(snap, r, lv);
    } else if (!strcmp(id, "rsvd-nx") && lv) {
        diag_add_fix(r, "set EFER.NXE (bit 11 of MSR 0xc0000080) before enabling paging%s",
                     vcpu_has(snap, "nx") || !(snap->have & SNAP_HAVE_CPUID)
                         ? ""
                         : "; the vCPU also needs -cpu ...,nx");
        fix_entry(r, w, lv, lv->entry & ~PTE_NX, "or clear XD");
    } else if (!strcmp(id, "rsvd-maxphyaddr") && lv) {
        fix_entry(r, w, lv, lv->entry & ~lv->rsvd_bits, "clear the bits above MAXPHYADDR");
        diag_add_fix(r,
                     "the vCPU's MAXPHYADDR is %u (CPUID.80000008H:EAX[7:0]; KVM uses 36 "
                     "without that leaf); a wider one needs -cpu ...,phys-bits=N",
                     r->ctx.cpu.maxphyaddr);
    } else if ((!strcmp(id, "rsvd-large-page") || !strcmp(id, "rsvd-amd-bit8") ||
                !strcmp(id, "rsvd-pae") || !strcmp(id, "rsvd-pse36")) &&
               lv) {
        fix_entry(r, w, lv, lv->entry & ~lv->rsvd_bits, "clear the reserved bits");
    } else if (!strcmp(id, "rsvd-ps-top-level") && lv) {
        fix_entry(r, w, lv, lv->entry & ~PTE_PS,
                  "clear PS and point the entry at a next-level table");
    } else if ((!strcmp(id, "not-present") || !strcmp(id, "stack-fault")) && lv) {
        diag_add_fix(r,
                     "map 0x%llx: %s @ GPA 0x%llx (level %d) is 0x%llx; it needs P=1 and a "
                     "frame%s",
                     (unsigned long long)w->gva, pt_level_name(w->mode, lv->level),
                     (unsigned long long)lv->entry_gpa, lv->level, (unsigned long long)lv->entry,
                     lv->verdict == PT_UNBACKED ? " (and its table must be in guest RAM)" : "");
    } else if (!strcmp(id, "write-protect")) {
        fix_perm_entries(r, w, PTE_W, true, "set R/W, or the write itself is the bug");
    } else if (!strcmp(id, "user-supervisor")) {
        fix_perm_entries(r, w, PTE_U, true, "set U/S if CPL 3 may use it");
    } else if (!strcmp(id, "nx-fetch")) {
        fix_perm_entries(r, w, PTE_NX, false, "clear XD to allow execution");
    } else if (!strcmp(id, "smep")) {
        diag_add_fix(r, "supervisor code must live in supervisor pages: clear U/S in the leaf, "
                        "or clear CR4.SMEP (bit 20)");
    } else if (!strcmp(id, "smap")) {
        diag_add_fix(r, "bracket intentional user accesses with stac/clac (RFLAGS.AC=1), or "
                        "clear CR4.SMAP (bit 21)");
    } else if (!strcmp(id, "pkey")) {
        diag_add_fix(r,
                     "PKRU 0x%x denies key %u: clear its AD/WD bits with wrpkru, or give "
                     "the page key 0",
                     r->ctx.pkru, w->pkey);
    }
}

void diag_make_fixes(const struct snapshot *snap, struct diag_report *r)
{
    const char *id = r->cause.id;

    if (r->has_walk)
        fix_walk(snap, r, id, &r->walk);
    if (!strcmp(id, "idt-limit") || (r->has_secondary && !strcmp(r->secondary.id, "idt-limit")))
        diag_add_fix(r,
                     "load an IDT (lidt) that covers every vector that can occur, at least "
                     "0-31: limit 0x%x in IA-32e mode, before anything can fault",
                     (r->ctx.efer & X86_EFER_LMA) ? 32 * 16 - 1 : 32 * 8 - 1);
    if (!strcmp(id, "idt-gate") || (r->has_secondary && !strcmp(r->secondary.id, "idt-gate")))
        diag_add_fix(r, "fill the gate: P=1, type 0xE (interrupt) or 0xF (trap), a 64-bit code "
                        "selector, DPL 3 only for vectors user code may INT");
    if (!strcmp(id, "gdt-descriptor") || !strcmp(id, "bad-selector") ||
        (r->has_secondary &&
         (!strcmp(r->secondary.id, "gdt-descriptor") || !strcmp(r->secondary.id, "bad-selector"))))
        diag_add_fix(r, "load a GDT (lgdt) that contains the selectors in use, with a 64-bit "
                        "code descriptor (e.g. 0x00af9b000000ffff), then reload CS with a far "
                        "jump or lretq");
    if (r->has_secondary && !strcmp(r->secondary.id, "stack-fault") && !r->has_walk)
        diag_add_fix(r, "map the exception stack (RSP0/IST in the TSS, or the current RSP)");
    if (!strcmp(id, "non-canonical"))
        diag_add_fix(r, "use canonical addresses: bits 63:47 (63:56 with LA57) must all equal "
                        "bit 47 (56); check the pointer or stack value that was loaded");
    if (!strcmp(id, "cr-invalid"))
        diag_add_fix(r, "enter long mode in the architectural order: CR0.PE, then CR4.PAE, "
                        "EFER.LME, then CR0.PG (SDM Vol. 3A 9.8.5)");
    if (!strcmp(id, "emulation-failure")) {
        diag_add_fix(r, "KVM emulates instructions only when it must (MMIO, invalid guest state, "
                        "and on shadow-paging hosts such as PVM every CPL0 instruction): run "
                        "where the CPU executes it natively (VT-x/AMD-V with EPT/NPT), or avoid "
                        "the instruction on this path");
        if (!strncmp(r->insn.mnemonic, "iret", 4))
            diag_add_fix(r, "on PVM hosts a 32-bit IRET at CPL0 is known not to be emulated "
                            "(IRETQ in 64-bit mode is): return from handlers with pop + jmp "
                            "while debugging here, or use 64-bit handlers");
    }
    if (!strcmp(id, "cr-unsupported") && r->n_fix == 0)
        diag_add_fix(r, "do not set the bit, or give the vCPU the feature with -cpu");
}
