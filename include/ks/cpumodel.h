/*
 * QEMU-compatible CPU models and feature names, as CPUID tables.
 *
 * `-cpu MODEL[,+feat][,-feat][,feat=on|off]` is parsed here into the CPUID
 * leaves a vCPU would see before the host's KVM is consulted; vmm/ then
 * intersects the table with KVM_GET_SUPPORTED_CPUID. Names follow QEMU's
 * target/i386/cpu.c feature-word tables.
 */
#ifndef KS_CPUMODEL_H
#define KS_CPUMODEL_H

#include "ks/paging.h"
#include "ks/types.h"

#define CPUID_MAX_ENTRIES 96

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_entry {
    uint32_t function, index;
    uint32_t flags;  /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX semantics: index matters */
    uint32_t reg[4]; /* eax, ebx, ecx, edx */
};

struct cpuid_table {
    unsigned n;
    struct cpuid_entry e[CPUID_MAX_ENTRIES];
};

struct cpu_feature {
    const char *name; /* QEMU's name, e.g. "pdpe1gb" */
    uint32_t function, index;
    enum cpuid_reg reg;
    uint8_t bit;
    const char *what; /* e.g. "1 GiB pages" */
};

struct cpu_model {
    const char *name; /* "Haswell", "qemu64", ... */
    const char *vendor;
    const char *const *features; /* NULL-terminated QEMU feature names */
    /* Added for the CPUID tables (QEMU X86CPUDefinition fields). */
    unsigned family, model, stepping;
    uint32_t level, xlevel; /* max basic leaf, max extended leaf */
    const char *model_id;   /* brand string, CPUID 0x80000002..4 */
    bool host_based;        /* "host"/"max": the table comes from the host's KVM */
};

/*
 * Default MAXPHYADDR of QEMU's named models: QEMU's phys-bits default for
 * every model except host/max is TCG_PHYS_ADDR_BITS = 40 (host-phys-bits is
 * off), written into CPUID 0x80000008 EAX[7:0]. Models without that leaf
 * (qemu32) leave KVM at its own default of 36 (spec/paging.md §2.6).
 */
#define CPU_DEFAULT_PHYS_BITS 40

/* Feature lookup by QEMU name (aliases like "pdpe1gb"/"pdpe1g" accepted); NULL if unknown. */
const struct cpu_feature *cpu_feature_find(const char *name);
/* All known features, for listings. */
const struct cpu_feature *cpu_features(unsigned *count);
const struct cpu_model *cpu_model_find(const char *name);
const struct cpu_model *cpu_models(unsigned *count);

struct cpuid_entry *cpuid_find(struct cpuid_table *t, uint32_t function, uint32_t index);
const struct cpuid_entry *cpuid_find_const(const struct cpuid_table *t, uint32_t function,
                                           uint32_t index);
bool cpuid_has(const struct cpuid_table *t, const struct cpu_feature *f);
void cpuid_set(struct cpuid_table *t, const struct cpu_feature *f, bool on);

/*
 * A parsed -cpu argument: the model's table with the explicit +/- changes
 * applied. (requested_on/off) list the features named explicitly, so the
 * caller can report those the host cannot give.
 * Models "host" and "max" produce an empty table with (host_based) set: the
 * caller fills it from the host's KVM and then applies (on)/(off).
 * Syntax as QEMU's -cpu: "feat=on|off", bare "feat" (= on), "+feat", "-feat",
 * "phys-bits=N", "vendor=GenuineIntel"; '_' and '-' are interchangeable in
 * names. (QEMU with KVM advertises the *host's* vendor for every named model;
 * say vendor=... to model that.) As in QEMU,
 * +feat/-feat override feat=on|off wherever they appear, and -feat beats +feat.
 * Returns 0 or -EINVAL with a reason in (err).
 */
struct cpu_spec {
    const struct cpu_model *model;
    bool host_based;
    struct cpuid_table cpuid;
    unsigned n_on, n_off;
    const struct cpu_feature *on[64], *off[64];
    unsigned phys_bits; /* "phys-bits=N" if given, else 0 */
    char vendor[13];    /* "vendor=..." if given, else "" */
};
int cpu_spec_parse(const char *arg, struct cpu_spec *out, char err[KS_ERR_LEN]);

/*
 * The page-walk features (MAXPHYADDR, 1 GiB pages, AMD-compatible vendor)
 * that KVM derives from a CPUID table (spec/paging.md §2.6, trap 2).
 * (host_gbpages) is whether the host's KVM can give 1 GiB pages at all: on
 * kernels >= 6.14 the effective bit is guest CPUID AND KVM's own caps.
 */
void cpuid_pt_cpu(const struct cpuid_table *t, bool host_gbpages, struct pt_cpu *out);

#endif
