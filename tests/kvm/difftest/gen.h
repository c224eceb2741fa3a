/*
 * Random cases for the paging difftest: one guest access under freshly
 * randomised 4-level page tables and control registers, reproducible from
 * (seed, index). Pure: no KVM, no I/O; dt_case_ctx() turns a case into the
 * model's input.
 */
#ifndef DT_GEN_H
#define DT_GEN_H

#include "ks/paging.h"

/* What the vCPU under test accepts; the generator only produces legal control registers. */
struct dt_gen_cfg {
    struct pt_cpu cpu;  /* walk features the VMM reports (vmm_pt_cpu) */
    uint64_t cr0_base;  /* CR0 without WP; WP is randomised */
    uint64_t efer_base; /* EFER with LME|LMA; NXE is randomised when (nx) */
    bool nx;            /* guest CPUID has NX, so EFER.NXE may be set */
    uint64_t cr4_extra; /* CR4 bits besides PAE that this KVM accepts (randomised per case) */
    /* Let CPL3 cases use PML4 slot 256, where the PVM host injects #PF without
     * walking the guest's tables (docs/difftest.md, "PVM divergences"). */
    bool user_slot256;
    /* The VM runs the legacy guest (difftest32): cases use 32-bit or PAE paging. */
    bool legacy;
};

struct dt_entry {
    int level;
    gpa_t gpa;
    uint64_t val;
};

#define DT_MAX_ENT 6

struct dt_case {
    uint64_t seed, index;
    enum pt_mode mode; /* PT_MODE_4LEVEL, PT_MODE_PAE or PT_MODE_32 */
    uint64_t cr0, cr3, cr4, efer;
    gva_t gva;
    unsigned kind;   /* enum dt_kind */
    bool user;       /* performed at CPL3 */
    bool twice;      /* a read of the same address first (4-level guest only) */
    uint64_t wval;   /* value a write stores */
    uint64_t rflags; /* loaded right before the access (AC varies; CR0.AM=0, so no #AC) */
    unsigned esize;  /* entry size: 4 (32-bit paging) or 8 */
    unsigned nent;
    /* Entries written before the access, top level first: the walk path
     * (4-level: L4..L1; 32-bit: L2, L1) or, for PAE, all four PDPTEs then L2, L1. */
    struct dt_entry ent[DT_MAX_ENT];
};

/* What every qword of a data page holds: "mov eax, <GPA[31:0]>; ret", GPA[39:32], 0x5a. */
uint64_t dt_pattern(gpa_t qword_gpa);

/* Case (index) of run (seed), a pure function of its arguments. */
void dt_gen_case(const struct dt_gen_cfg *cfg, uint64_t seed, uint64_t index, struct dt_case *out);

/* The access as the walker sees it: PFERR_W/F, plus PFERR_U at CPL3. */
uint32_t dt_case_access(const struct dt_case *c);

/* The model's view of the vCPU for (c): its control registers, RFLAGS and (cpu);
 * PAE PDPTEs are left for the model to load from memory, as the CR0 load did. */
void dt_case_ctx(const struct dt_case *c, const struct pt_cpu *cpu, struct pt_ctx *ctx);

/* "read", "write", "fetch" */
const char *dt_kind_name(unsigned kind);

#endif
