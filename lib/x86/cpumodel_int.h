/*
 * The data tables of QEMU's CPU models (lib/x86/cpumodel_data.c), shared
 * with the logic in lib/x86/cpumodel.c. Not a public interface.
 */
#ifndef KS_CPUMODEL_INT_H
#define KS_CPUMODEL_INT_H

#include "ks/cpumodel.h"

#define CPUMODEL_AMD "AuthenticAMD"
/* Leaf-1 EDX bits that AMD mirrors in 0x80000001 EDX (QEMU CPUID_EXT2_AMD_ALIASES). */
#define CPUMODEL_AMD_EXT2_ALIASES 0x0183f3ffu
/* Upper bound of cpumodel_nfeatures, for per-feature arrays on the stack. */
#define CPUMODEL_MAX_FEATURES 256

struct cpumodel_alias {
    const char *alias, *name;
};

extern const struct cpu_feature cpumodel_features[];
extern const size_t cpumodel_nfeatures;
extern const struct cpumodel_alias cpumodel_aliases[];
extern const size_t cpumodel_naliases;
extern const struct cpu_model cpumodel_models[];
extern const size_t cpumodel_nmodels;
/* QEMU's KVM accelerator defaults, NULL-terminated. */
extern const char *const cpumodel_kvm_on[];
extern const char *const cpumodel_kvm_off[];

#endif
