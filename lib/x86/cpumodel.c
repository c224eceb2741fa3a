/*
 * QEMU's x86 CPU models as CPUID tables, and the -cpu argument parser.
 *
 * Facts (feature names, bit positions, model family/model/stepping, levels
 * and feature sets) follow QEMU's target/i386/cpu.c (feature_word_info[] and
 * builtin_x86_defs[], v7.2) and the Intel SDM Vol. 2A CPUID tables; the
 * choices where a VMM has freedom are listed in docs/cpu-models.md.
 */
#include "ks/cpumodel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define L1  0x1u
#define L7  0x7u
#define LX1 0x80000001u

#define F(n, fn, idx, r, b, w)                                                                     \
    {                                                                                              \
        n, fn, idx, CPUID_##r, b, w                                                                \
    }

/* SDM Vol. 2A, CPUID, Tables 3-10/3-11 (leaf 1), Table 3-8 (leaf 7), AMD APM Vol. 3 E.4.2. */
static const struct cpu_feature features[] = {
    /* CPUID.01H:EDX */
    F("fpu", L1, 0, EDX, 0, "x87 FPU"),
    F("vme", L1, 0, EDX, 1, "virtual-8086 mode extensions"),
    F("de", L1, 0, EDX, 2, "debugging extensions"),
    F("pse", L1, 0, EDX, 3, "4 MiB pages (CR4.PSE)"),
    F("tsc", L1, 0, EDX, 4, "time-stamp counter"),
    F("msr", L1, 0, EDX, 5, "RDMSR/WRMSR"),
    F("pae", L1, 0, EDX, 6, "physical address extension"),
    F("mce", L1, 0, EDX, 7, "machine-check exception"),
    F("cx8", L1, 0, EDX, 8, "CMPXCHG8B"),
    F("apic", L1, 0, EDX, 9, "local APIC"),
    F("sep", L1, 0, EDX, 11, "SYSENTER/SYSEXIT"),
    F("mtrr", L1, 0, EDX, 12, "MTRRs"),
    F("pge", L1, 0, EDX, 13, "global pages (CR4.PGE)"),
    F("mca", L1, 0, EDX, 14, "machine-check architecture"),
    F("cmov", L1, 0, EDX, 15, "CMOV"),
    F("pat", L1, 0, EDX, 16, "page attribute table"),
    F("pse36", L1, 0, EDX, 17, "36-bit 4 MiB-page addresses"),
    F("pn", L1, 0, EDX, 18, "processor serial number"),
    F("clflush", L1, 0, EDX, 19, "CLFLUSH"),
    F("ds", L1, 0, EDX, 21, "debug store"),
    F("acpi", L1, 0, EDX, 22, "thermal monitor MSRs"),
    F("mmx", L1, 0, EDX, 23, "MMX"),
    F("fxsr", L1, 0, EDX, 24, "FXSAVE/FXRSTOR"),
    F("sse", L1, 0, EDX, 25, "SSE"),
    F("sse2", L1, 0, EDX, 26, "SSE2"),
    F("ss", L1, 0, EDX, 27, "self snoop"),
    F("ht", L1, 0, EDX, 28, "multi-threading"),
    F("tm", L1, 0, EDX, 29, "thermal monitor"),
    F("ia64", L1, 0, EDX, 30, "IA-64"),
    F("pbe", L1, 0, EDX, 31, "pending break enable"),
    /* CPUID.01H:ECX */
    F("pni", L1, 0, ECX, 0, "SSE3"),
    F("pclmulqdq", L1, 0, ECX, 1, "PCLMULQDQ"),
    F("dtes64", L1, 0, ECX, 2, "64-bit debug store"),
    F("monitor", L1, 0, ECX, 3, "MONITOR/MWAIT"),
    F("ds-cpl", L1, 0, ECX, 4, "CPL-qualified debug store"),
    F("vmx", L1, 0, ECX, 5, "VMX"),
    F("smx", L1, 0, ECX, 6, "SMX"),
    F("est", L1, 0, ECX, 7, "SpeedStep"),
    F("tm2", L1, 0, ECX, 8, "thermal monitor 2"),
    F("ssse3", L1, 0, ECX, 9, "SSSE3"),
    F("cid", L1, 0, ECX, 10, "L1 context ID"),
    F("fma", L1, 0, ECX, 12, "FMA3"),
    F("cx16", L1, 0, ECX, 13, "CMPXCHG16B"),
    F("xtpr", L1, 0, ECX, 14, "xTPR update control"),
    F("pdcm", L1, 0, ECX, 15, "perfmon and debug capability"),
    F("pcid", L1, 0, ECX, 17, "process-context identifiers (CR4.PCIDE)"),
    F("dca", L1, 0, ECX, 18, "direct cache access"),
    F("sse4.1", L1, 0, ECX, 19, "SSE4.1"),
    F("sse4.2", L1, 0, ECX, 20, "SSE4.2"),
    F("x2apic", L1, 0, ECX, 21, "x2APIC"),
    F("movbe", L1, 0, ECX, 22, "MOVBE"),
    F("popcnt", L1, 0, ECX, 23, "POPCNT"),
    F("tsc-deadline", L1, 0, ECX, 24, "TSC-deadline timer"),
    F("aes", L1, 0, ECX, 25, "AES-NI"),
    F("xsave", L1, 0, ECX, 26, "XSAVE"),
    F("osxsave", L1, 0, ECX, 27, "CR4.OSXSAVE mirror"),
    F("avx", L1, 0, ECX, 28, "AVX"),
    F("f16c", L1, 0, ECX, 29, "F16C"),
    F("rdrand", L1, 0, ECX, 30, "RDRAND"),
    F("hypervisor", L1, 0, ECX, 31, "running under a hypervisor"),
    /* CPUID.(EAX=07H,ECX=0):EBX */
    F("fsgsbase", L7, 0, EBX, 0, "RD/WR{FS,GS}BASE (CR4.FSGSBASE)"),
    F("tsc-adjust", L7, 0, EBX, 1, "IA32_TSC_ADJUST"),
    F("sgx", L7, 0, EBX, 2, "SGX"),
    F("bmi1", L7, 0, EBX, 3, "BMI1"),
    F("hle", L7, 0, EBX, 4, "HLE"),
    F("avx2", L7, 0, EBX, 5, "AVX2"),
    F("smep", L7, 0, EBX, 7, "supervisor-mode execution prevention (CR4.SMEP)"),
    F("bmi2", L7, 0, EBX, 8, "BMI2"),
    F("erms", L7, 0, EBX, 9, "enhanced REP MOVSB/STOSB"),
    F("invpcid", L7, 0, EBX, 10, "INVPCID"),
    F("rtm", L7, 0, EBX, 11, "RTM"),
    F("mpx", L7, 0, EBX, 14, "MPX"),
    F("avx512f", L7, 0, EBX, 16, "AVX-512 foundation"),
    F("avx512dq", L7, 0, EBX, 17, "AVX-512 DQ"),
    F("rdseed", L7, 0, EBX, 18, "RDSEED"),
    F("adx", L7, 0, EBX, 19, "ADX"),
    F("smap", L7, 0, EBX, 20, "supervisor-mode access prevention (CR4.SMAP)"),
    F("avx512ifma", L7, 0, EBX, 21, "AVX-512 IFMA"),
    F("pcommit", L7, 0, EBX, 22, "PCOMMIT"),
    F("clflushopt", L7, 0, EBX, 23, "CLFLUSHOPT"),
    F("clwb", L7, 0, EBX, 24, "CLWB"),
    F("intel-pt", L7, 0, EBX, 25, "processor trace"),
    F("avx512pf", L7, 0, EBX, 26, "AVX-512 PF"),
    F("avx512er", L7, 0, EBX, 27, "AVX-512 ER"),
    F("avx512cd", L7, 0, EBX, 28, "AVX-512 CD"),
    F("sha-ni", L7, 0, EBX, 29, "SHA extensions"),
    F("avx512bw", L7, 0, EBX, 30, "AVX-512 BW"),
    F("avx512vl", L7, 0, EBX, 31, "AVX-512 VL"),
    /* CPUID.(EAX=07H,ECX=0):ECX */
    F("avx512vbmi", L7, 0, ECX, 1, "AVX-512 VBMI"),
    F("umip", L7, 0, ECX, 2, "user-mode instruction prevention (CR4.UMIP)"),
    F("pku", L7, 0, ECX, 3, "protection keys (CR4.PKE)"),
    F("ospke", L7, 0, ECX, 4, "CR4.PKE mirror"),
    F("waitpkg", L7, 0, ECX, 5, "UMONITOR/UMWAIT/TPAUSE"),
    F("avx512vbmi2", L7, 0, ECX, 6, "AVX-512 VBMI2"),
    F("gfni", L7, 0, ECX, 8, "GFNI"),
    F("vaes", L7, 0, ECX, 9, "VAES"),
    F("vpclmulqdq", L7, 0, ECX, 10, "VPCLMULQDQ"),
    F("avx512vnni", L7, 0, ECX, 11, "AVX-512 VNNI"),
    F("avx512bitalg", L7, 0, ECX, 12, "AVX-512 BITALG"),
    F("avx512-vpopcntdq", L7, 0, ECX, 14, "AVX-512 VPOPCNTDQ"),
    F("la57", L7, 0, ECX, 16, "5-level paging (CR4.LA57)"),
    F("rdpid", L7, 0, ECX, 22, "RDPID"),
    F("bus-lock-detect", L7, 0, ECX, 24, "bus-lock debug exception"),
    F("cldemote", L7, 0, ECX, 25, "CLDEMOTE"),
    F("movdiri", L7, 0, ECX, 27, "MOVDIRI"),
    F("movdir64b", L7, 0, ECX, 28, "MOVDIR64B"),
    F("sgxlc", L7, 0, ECX, 30, "SGX launch control"),
    F("pks", L7, 0, ECX, 31, "supervisor protection keys"),
    /* CPUID.(EAX=07H,ECX=0):EDX */
    F("avx512-4vnniw", L7, 0, EDX, 2, "AVX-512 4VNNIW"),
    F("avx512-4fmaps", L7, 0, EDX, 3, "AVX-512 4FMAPS"),
    F("fsrm", L7, 0, EDX, 4, "fast short REP MOV"),
    F("avx512-vp2intersect", L7, 0, EDX, 8, "AVX-512 VP2INTERSECT"),
    F("md-clear", L7, 0, EDX, 10, "VERW clears buffers"),
    F("serialize", L7, 0, EDX, 14, "SERIALIZE"),
    F("tsx-ldtrk", L7, 0, EDX, 16, "TSX load tracking"),
    F("pconfig", L7, 0, EDX, 18, "PCONFIG"),
    F("arch-lbr", L7, 0, EDX, 19, "architectural LBRs"),
    F("amx-bf16", L7, 0, EDX, 22, "AMX BF16"),
    F("avx512-fp16", L7, 0, EDX, 23, "AVX-512 FP16"),
    F("amx-tile", L7, 0, EDX, 24, "AMX tiles"),
    F("amx-int8", L7, 0, EDX, 25, "AMX INT8"),
    F("spec-ctrl", L7, 0, EDX, 26, "IBRS/IBPB"),
    F("stibp", L7, 0, EDX, 27, "STIBP"),
    F("arch-capabilities", L7, 0, EDX, 29, "IA32_ARCH_CAPABILITIES"),
    F("core-capability", L7, 0, EDX, 30, "IA32_CORE_CAPABILITIES"),
    F("ssbd", L7, 0, EDX, 31, "speculative store bypass disable"),
    /* CPUID.80000001H:ECX */
    F("lahf-lm", LX1, 0, ECX, 0, "LAHF/SAHF in 64-bit mode"),
    F("cmp-legacy", LX1, 0, ECX, 1, "core multi-processing legacy mode"),
    F("svm", LX1, 0, ECX, 2, "SVM"),
    F("extapic", LX1, 0, ECX, 3, "extended APIC space"),
    F("cr8legacy", LX1, 0, ECX, 4, "CR8 in 32-bit mode"),
    F("abm", LX1, 0, ECX, 5, "LZCNT/POPCNT"),
    F("sse4a", LX1, 0, ECX, 6, "SSE4A"),
    F("misalignsse", LX1, 0, ECX, 7, "misaligned SSE mode"),
    F("3dnowprefetch", LX1, 0, ECX, 8, "PREFETCH/PREFETCHW"),
    F("osvw", LX1, 0, ECX, 9, "OS-visible workarounds"),
    F("ibs", LX1, 0, ECX, 10, "instruction-based sampling"),
    F("xop", LX1, 0, ECX, 11, "XOP"),
    F("skinit", LX1, 0, ECX, 12, "SKINIT/STGI"),
    F("wdt", LX1, 0, ECX, 13, "watchdog timer"),
    F("lwp", LX1, 0, ECX, 15, "lightweight profiling"),
    F("fma4", LX1, 0, ECX, 16, "FMA4"),
    F("tce", LX1, 0, ECX, 17, "translation cache extension"),
    F("nodeid-msr", LX1, 0, ECX, 19, "node ID MSR"),
    F("tbm", LX1, 0, ECX, 21, "TBM"),
    F("topoext", LX1, 0, ECX, 22, "topology extensions"),
    F("perfctr-core", LX1, 0, ECX, 23, "core performance counters"),
    F("perfctr-nb", LX1, 0, ECX, 24, "northbridge performance counters"),
    /* CPUID.80000001H:EDX */
    F("syscall", LX1, 0, EDX, 11, "SYSCALL/SYSRET"),
    F("nx", LX1, 0, EDX, 20, "execute disable (EFER.NXE)"),
    F("mmxext", LX1, 0, EDX, 22, "AMD MMX extensions"),
    F("fxsr-opt", LX1, 0, EDX, 25, "FFXSR"),
    F("pdpe1gb", LX1, 0, EDX, 26, "1 GiB pages"),
    F("rdtscp", LX1, 0, EDX, 27, "RDTSCP"),
    F("lm", LX1, 0, EDX, 29, "long mode (EFER.LME)"),
    F("3dnowext", LX1, 0, EDX, 30, "3DNow! extensions"),
    F("3dnow", LX1, 0, EDX, 31, "3DNow!"),
};

/* QEMU's legacy spellings (target/i386/cpu.c feature-name aliases). */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"xd", "nx"},         {"sse3", "pni"}, {"pclmuldq", "pclmulqdq"}, {"sse4-1", "sse4.1"},
    {"sse4-2", "sse4.2"}, {"i64", "lm"},   {"ffxsr", "fxsr-opt"},     {"pdpe1g", "pdpe1gb"},
};

/* Leaf-1 EDX bits that AMD mirrors in 0x80000001 EDX (QEMU CPUID_EXT2_AMD_ALIASES). */
#define AMD_EXT2_ALIASES 0x0183f3ffu

#define PPRO                                                                                       \
    "fpu", "de", "pse", "tsc", "msr", "mce", "cx8", "pge", "cmov", "pat", "fxsr", "mmx", "sse",    \
        "sse2", "pae", "sep", "apic"
#define CORE_1EDX PPRO, "vme", "mtrr", "clflush", "mca", "pse36"
#define HSW_1ECX                                                                                   \
    "avx", "xsave", "aes", "popcnt", "x2apic", "sse4.2", "sse4.1", "cx16", "ssse3", "pclmulqdq",   \
        "pni", "tsc-deadline", "fma", "movbe", "pcid", "f16c", "rdrand"
#define HSW_7EBX "fsgsbase", "bmi1", "hle", "avx2", "smep", "bmi2", "erms", "invpcid", "rtm"
#define SKX_7EBX                                                                                   \
    HSW_7EBX, "rdseed", "adx", "smap", "clwb", "avx512f", "avx512dq", "avx512bw", "avx512cd",      \
        "avx512vl", "clflushopt"
#define EPYC_1ECX                                                                                  \
    "rdrand", "f16c", "avx", "xsave", "aes", "popcnt", "movbe", "sse4.2", "sse4.1", "cx16", "fma", \
        "ssse3", "monitor", "pclmulqdq", "pni"
#define EPYC_7EBX                                                                                  \
    "fsgsbase", "bmi1", "avx2", "smep", "bmi2", "rdseed", "adx", "smap", "clflushopt", "sha-ni"
#define EPYC_X1                                                                                    \
    "lm", "rdtscp", "pdpe1gb", "fxsr-opt", "mmxext", "nx", "syscall", "osvw", "3dnowprefetch",     \
        "misalignsse", "sse4a", "abm", "cr8legacy", "svm", "lahf-lm", "topoext"

static const char *const f_qemu64[] = {CORE_1EDX, "pni",     "cx16", "lm", "syscall",
                                       "nx",      "lahf-lm", "svm",  NULL};
static const char *const f_kvm64[] = {CORE_1EDX, "pni", "cx16", "lm", "syscall", "nx", NULL};
static const char *const f_qemu32[] = {PPRO, "pni", NULL};
static const char *const f_haswell[] = {CORE_1EDX, HSW_1ECX,  HSW_7EBX, "lm",      "rdtscp",
                                        "nx",      "syscall", "abm",    "lahf-lm", NULL};
static const char *const f_skl_client[] = {
    CORE_1EDX, HSW_1ECX, HSW_7EBX,  "rdseed", "adx",     "smap",          "lm",
    "rdtscp",  "nx",     "syscall", "abm",    "lahf-lm", "3dnowprefetch", NULL};
static const char *const f_skl_server[] = {CORE_1EDX, HSW_1ECX,        SKX_7EBX, "pku",     "lm",
                                           "pdpe1gb", "rdtscp",        "nx",     "syscall", "abm",
                                           "lahf-lm", "3dnowprefetch", NULL};
static const char *const f_icl_server[] = {CORE_1EDX,
                                           HSW_1ECX,
                                           SKX_7EBX,
                                           "avx512vbmi",
                                           "umip",
                                           "pku",
                                           "avx512vbmi2",
                                           "gfni",
                                           "vaes",
                                           "vpclmulqdq",
                                           "avx512vnni",
                                           "avx512bitalg",
                                           "avx512-vpopcntdq",
                                           "la57",
                                           "spec-ctrl",
                                           "ssbd",
                                           "lm",
                                           "pdpe1gb",
                                           "rdtscp",
                                           "nx",
                                           "syscall",
                                           "abm",
                                           "lahf-lm",
                                           "3dnowprefetch",
                                           NULL};
static const char *const f_epyc[] = {CORE_1EDX, EPYC_1ECX, EPYC_7EBX, EPYC_X1, NULL};
static const char *const f_epyc_rome[] = {CORE_1EDX, EPYC_1ECX, EPYC_7EBX,      "clwb", "umip",
                                          "rdpid",   EPYC_X1,   "perfctr-core", NULL};
static const char *const f_none[] = {NULL};

#define INTEL "GenuineIntel"
#define AMD   "AuthenticAMD"

/* builtin_x86_defs[] (QEMU 7.2): vendor, family/model/stepping, level, xlevel, brand. */
static const struct cpu_model models[] = {
    {"qemu64", AMD, f_qemu64, 15, 107, 1, 0xd, 0x8000000a, "QEMU Virtual CPU version 2.5+", false},
    {"kvm64", INTEL, f_kvm64, 15, 6, 1, 0xd, 0x80000008, "Common KVM processor", false},
    {"qemu32", INTEL, f_qemu32, 6, 6, 3, 4, 0x80000004, "QEMU Virtual CPU version 2.5+", false},
    {"Haswell", INTEL, f_haswell, 6, 60, 4, 0xd, 0x80000008, "Intel Core Processor (Haswell)",
     false},
    {"Skylake-Client", INTEL, f_skl_client, 6, 94, 3, 0xd, 0x80000008,
     "Intel Core Processor (Skylake)", false},
    {"Skylake-Server", INTEL, f_skl_server, 6, 85, 4, 0xd, 0x80000008,
     "Intel Xeon Processor (Skylake)", false},
    {"Icelake-Server", INTEL, f_icl_server, 6, 134, 0, 0xd, 0x80000008,
     "Intel Xeon Processor (Icelake)", false},
    {"EPYC", AMD, f_epyc, 23, 1, 2, 0xd, 0x8000001e, "AMD EPYC Processor", false},
    {"EPYC-Rome", AMD, f_epyc_rome, 23, 49, 0, 0xd, 0x8000001e, "AMD EPYC-Rome Processor", false},
    {"host", NULL, f_none, 0, 0, 0, 0, 0, NULL, true},
    {"max", NULL, f_none, 0, 0, 0, 0, 0, NULL, true},
};

/*
 * QEMU's KVM accelerator defaults applied to every named model
 * (target/i386/kvm/kvm-cpu.c kvm_default_props, x86_cpu_load_model):
 * x2apic and hypervisor on; svm, monitor and acpi off.
 */
static const char *const kvm_on[] = {"x2apic", "hypervisor"};
static const char *const kvm_off[] = {"svm", "monitor", "acpi"};

/* Compare a user-given name with a table name, treating '_' as '-' (QEMU does). */
static bool name_eq(const char *user, const char *name)
{
    for (; *user && *name; user++, name++) {
        char c = *user == '_' ? '-' : *user;
        if (c != *name)
            return false;
    }
    return !*user && !*name;
}

const struct cpu_feature *cpu_feature_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < KS_ARRAY_SIZE(aliases); i++)
        if (name_eq(name, aliases[i].alias)) {
            name = aliases[i].name;
            break;
        }
    for (size_t i = 0; i < KS_ARRAY_SIZE(features); i++)
        if (name_eq(name, features[i].name))
            return &features[i];
    return NULL;
}

const struct cpu_feature *cpu_features(unsigned *count)
{
    *count = KS_ARRAY_SIZE(features);
    return features;
}

const struct cpu_model *cpu_model_find(const char *name)
{
    if (!name)
        return NULL;
    /* QEMU model names are case-sensitive; so are ours. */
    for (size_t i = 0; i < KS_ARRAY_SIZE(models); i++)
        if (!strcmp(name, models[i].name))
            return &models[i];
    return NULL;
}

const struct cpu_model *cpu_models(unsigned *count)
{
    *count = KS_ARRAY_SIZE(models);
    return models;
}

const struct cpuid_entry *cpuid_find_const(const struct cpuid_table *t, uint32_t function,
                                           uint32_t index)
{
    for (unsigned i = 0; i < t->n && i < CPUID_MAX_ENTRIES; i++) {
        const struct cpuid_entry *e = &t->e[i];
        if (e->function == function && (!(e->flags & 1) || e->index == index))
            return e;
    }
    return NULL;
}

struct cpuid_entry *cpuid_find(struct cpuid_table *t, uint32_t function, uint32_t index)
{
    return (struct cpuid_entry *)(uintptr_t)cpuid_find_const(t, function, index);
}

/* Leaves whose sub-leaf index is significant (SDM Vol. 2A, CPUID). */
static bool indexed_leaf(uint32_t function)
{
    return function == 4 || function == 7 || function == 0xb || function == 0xd ||
           function == 0xf || function == 0x10 || function == 0x12 || function == 0x14 ||
           function == 0x1f || function == 0x8000001d;
}

static struct cpuid_entry *add_entry(struct cpuid_table *t, uint32_t function, uint32_t index)
{
    struct cpuid_entry *e = cpuid_find(t, function, index);

    if (e)
        return e;
    if (t->n >= CPUID_MAX_ENTRIES)
        return NULL;
    e = &t->e[t->n++];
    memset(e, 0, sizeof(*e));
    e->function = function;
    e->index = index;
    e->flags = indexed_leaf(function) ? 1 : 0;
    return e;
}

bool cpuid_has(const struct cpuid_table *t, const struct cpu_feature *f)
{
    const struct cpuid_entry *e = cpuid_find_const(t, f->function, f->index);

    return e && (e->reg[f->reg] >> f->bit) & 1;
}

void cpuid_set(struct cpuid_table *t, const struct cpu_feature *f, bool on)
{
    struct cpuid_entry *e =
        on ? add_entry(t, f->function, f->index) : cpuid_find(t, f->function, f->index);

    if (!e)
        return;
    if (on)
        e->reg[f->reg] |= 1u << f->bit;
    else
        e->reg[f->reg] &= ~(1u << f->bit);
}

static uint32_t vendor_word(const char *v, int i)
{
    uint32_t w;

    memcpy(&w, v + 4 * i, 4);
    return w;
}

/* CPUID.01H:EAX layout (SDM Vol. 2A Figure 3-6): extended family/model above 0xf. */
static uint32_t version_eax(const struct cpu_model *m)
{
    uint32_t fam = m->family, eax = m->stepping & 0xf;

    eax |= (m->model & 0xf) << 4 | ((m->model >> 4) & 0xf) << 16;
    if (fam > 0xf)
        eax |= 0xf << 8 | ((fam - 0xf) & 0xff) << 20;
    else
        eax |= fam << 8;
    return eax;
}

static void set_phys_bits(struct cpuid_table *t, unsigned phys_bits)
{
    struct cpuid_entry *e = cpuid_find(t, 0x80000008, 0);
    const struct cpu_feature *la57 = cpu_feature_find("la57");

    if (!e)
        return;
    /* EAX[7:0] physical, EAX[15:8] linear address bits (48, or 57 with LA57). */
    e->reg[CPUID_EAX] = (phys_bits & 0xff) | (cpuid_has(t, la57) ? 57u : 48u) << 8;
}

/* Build the CPUID table of a named model, before any -cpu modifications. */
static void build_table(const struct cpu_model *m, struct cpuid_table *t)
{
    struct cpuid_entry *e;
    const bool amd = !strcmp(m->vendor, AMD);

    memset(t, 0, sizeof(*t));
    e = add_entry(t, 0, 0);
    e->reg[CPUID_EAX] = m->level;
    e->reg[CPUID_EBX] = vendor_word(m->vendor, 0);
    e->reg[CPUID_EDX] = vendor_word(m->vendor, 1);
    e->reg[CPUID_ECX] = vendor_word(m->vendor, 2);
    e = add_entry(t, 1, 0);
    e->reg[CPUID_EAX] = version_eax(m);
    e->reg[CPUID_EBX] = 8u << 8; /* CLFLUSH line size 64 bytes, in 8-byte units */
    if (m->level >= 7)
        add_entry(t, 7, 0); /* EAX = 0: sub-leaf 0 is the only one */
    e = add_entry(t, 0x80000000, 0);
    e->reg[CPUID_EAX] = m->xlevel;
    e->reg[CPUID_EBX] = vendor_word(m->vendor, 0);
    e->reg[CPUID_EDX] = vendor_word(m->vendor, 1);
    e->reg[CPUID_ECX] = vendor_word(m->vendor, 2);
    e = add_entry(t, 0x80000001, 0);
    if (amd)
        e->reg[CPUID_EAX] = version_eax(m);
    for (uint32_t leaf = 0x80000002; leaf <= 0x80000004 && leaf <= m->xlevel; leaf++) {
        char brand[48] = {0};

        e = add_entry(t, leaf, 0);
        strncpy(brand, m->model_id, sizeof(brand) - 1);
        memcpy(e->reg, brand + 16 * (leaf - 0x80000002), 16);
    }
    if (m->xlevel >= 0x80000008)
        add_entry(t, 0x80000008, 0);

    for (const char *const *n = m->features; *n; n++) {
        const struct cpu_feature *f = cpu_feature_find(*n);
        if (f)
            cpuid_set(t, f, true);
    }
    for (size_t i = 0; i < KS_ARRAY_SIZE(kvm_on); i++)
        cpuid_set(t, cpu_feature_find(kvm_on[i]), true);
    for (size_t i = 0; i < KS_ARRAY_SIZE(kvm_off); i++)
        cpuid_set(t, cpu_feature_find(kvm_off[i]), false);
    set_phys_bits(t, CPU_DEFAULT_PHYS_BITS);
}

/* AMD: 0x80000001 EDX repeats leaf-1 EDX bits (APM Vol. 3 E.4.2; QEMU does the same). */
static void mirror_amd_aliases(struct cpuid_table *t, const struct cpu_model *m)
{
    struct cpuid_entry *l1 = cpuid_find(t, 1, 0), *x1 = cpuid_find(t, 0x80000001, 0);

    if (strcmp(m->vendor, AMD) || !l1 || !x1)
        return;
    x1->reg[CPUID_EDX] =
        (x1->reg[CPUID_EDX] & ~AMD_EXT2_ALIASES) | (l1->reg[CPUID_EDX] & AMD_EXT2_ALIASES);
}

static void note(struct cpu_spec *s, const struct cpu_feature *f, bool on)
{
    /* Replace an earlier mention: the list says what was finally asked for. */
    for (unsigned i = 0; i < s->n_on; i++)
        if (s->on[i] == f)
            s->on[i] = s->on[--s->n_on];
    for (unsigned i = 0; i < s->n_off; i++)
        if (s->off[i] == f)
            s->off[i] = s->off[--s->n_off];
    if (on)
        s->on[s->n_on++] = f;
    else
        s->off[s->n_off++] = f;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes"}, *const no[] = {"off", "false", "no"};

    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(v, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(v, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_phys_bits(const char *v, unsigned *out)
{
    char *end;
    unsigned long n;

    if (!*v || *v < '0' || *v > '9')
        return -EINVAL;
    n = strtoul(v, &end, 10);
    /* QEMU accepts 32..52 (TARGET_PHYS_ADDR_SPACE_BITS) for phys-bits. */
    if (*end || n < 32 || n > 52)
        return -EINVAL;
    *out = (unsigned)n;
    return 0;
}

/* How a feature was last named; a higher rank is never overridden by a lower one. */
enum how { HOW_NONE, HOW_ASSIGN, HOW_PLUS, HOW_MINUS };

/* One comma-separated item after the model name. Returns 0 or -EINVAL. */
static int parse_item(char *item, struct cpu_spec *s, enum how *how, char err[KS_ERR_LEN])
{
    const struct cpu_feature *f;
    char *eq = strchr(item, '=');
    bool on = true;

    if (item[0] == '+' || item[0] == '-') {
        f = cpu_feature_find(item + 1);
        if (!f) {
            snprintf(err, KS_ERR_LEN, "unknown CPU feature '%s' in '%s'", item + 1, item);
            return -EINVAL;
        }
        /* QEMU applies plus_features, then minus_features: -feat beats +feat. */
        if (item[0] == '-' || how[f - features] != HOW_MINUS) {
            how[f - features] = item[0] == '+' ? HOW_PLUS : HOW_MINUS;
            note(s, f, item[0] == '+');
        }
        return 0;
    }
    if (eq)
        *eq = '\0';
    if (name_eq(item, "phys-bits")) {
        if (!eq || parse_phys_bits(eq + 1, &s->phys_bits)) {
            snprintf(err, KS_ERR_LEN, "phys-bits needs a number from 32 to 52, not '%s'",
                     eq ? eq + 1 : "");
            return -EINVAL;
        }
        return 0;
    }
    f = cpu_feature_find(item);
    if (!f) {
        snprintf(err, KS_ERR_LEN, "unknown CPU feature '%s'", item);
        return -EINVAL;
    }
    if (eq && parse_bool(eq + 1, &on)) {
        snprintf(err, KS_ERR_LEN, "feature '%s' takes on or off, not '%s'", item, eq + 1);
        return -EINVAL;
    }
    /* QEMU: +feat/-feat win over feat=on|off whatever the order. */
    if (how[f - features] <= HOW_ASSIGN) {
        how[f - features] = HOW_ASSIGN;
        note(s, f, on);
    }
    return 0;
}

static void list_models(char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < KS_ARRAY_SIZE(models) && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", models[i].name);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

int cpu_spec_parse(const char *arg, struct cpu_spec *out, char err[KS_ERR_LEN])
{
    char buf[1024], *item, *save = NULL;
    enum how how[KS_ARRAY_SIZE(features)] = {HOW_NONE};

    memset(out, 0, sizeof(*out));
    if (!arg || !*arg) {
        snprintf(err, KS_ERR_LEN, "empty CPU model");
        return -EINVAL;
    }
    if (strlen(arg) >= sizeof(buf)) {
        snprintf(err, KS_ERR_LEN, "CPU specification too long (%zu bytes)", strlen(arg));
        return -EINVAL;
    }
    strcpy(buf, arg);
    item = strtok_r(buf, ",", &save);
    out->model = item ? cpu_model_find(item) : NULL;
    if (!out->model) {
        char known[256];

        list_models(known, sizeof(known));
        snprintf(err, KS_ERR_LEN, "unknown CPU model '%s' (known: %s)", item ? item : "", known);
        return -EINVAL;
    }
    out->host_based = out->model->host_based;
    while ((item = strtok_r(NULL, ",", &save))) {
        if (out->n_on + out->n_off >= KS_ARRAY_SIZE(out->on)) {
            snprintf(err, KS_ERR_LEN, "too many feature changes (at most %zu)",
                     KS_ARRAY_SIZE(out->on));
            return -EINVAL;
        }
        if (parse_item(item, out, how, err))
            return -EINVAL;
    }
    if (out->host_based)
        return 0;

    build_table(out->model, &out->cpuid);
    for (unsigned i = 0; i < out->n_on; i++)
        cpuid_set(&out->cpuid, out->on[i], true);
    for (unsigned i = 0; i < out->n_off; i++)
        cpuid_set(&out->cpuid, out->off[i], false);
    mirror_amd_aliases(&out->cpuid, out->model);
    if (out->phys_bits) {
        if (!cpuid_find(&out->cpuid, 0x80000008, 0)) {
            snprintf(err, KS_ERR_LEN,
                     "phys-bits: model %s has no CPUID leaf 0x80000008 (KVM then uses 36)",
                     out->model->name);
            return -EINVAL;
        }
        set_phys_bits(&out->cpuid, out->phys_bits);
    } else {
        /* Re-derive the linear-address width in case la57 was toggled. */
        const struct cpuid_entry *e = cpuid_find_const(&out->cpuid, 0x80000008, 0);
        if (e)
            set_phys_bits(&out->cpuid, e->reg[CPUID_EAX] & 0xff);
    }
    return 0;
}

void cpuid_pt_cpu(const struct cpuid_table *t, bool host_gbpages, struct pt_cpu *out)
{
    const struct cpuid_entry *e = cpuid_find_const(t, 0x80000000, 0);
    const struct cpuid_entry *v = cpuid_find_const(t, 0, 0);

    /* KVM cpuid_query_maxphyaddr(): 0x80000008 EAX[7:0] if reachable, else 36. */
    out->maxphyaddr = 36;
    if (e && e->reg[CPUID_EAX] >= 0x80000008) {
        const struct cpuid_entry *p = cpuid_find_const(t, 0x80000008, 0);
        if (p)
            out->maxphyaddr = p->reg[CPUID_EAX] & 0xff;
    }
    /* KVM is_amd_compatible(): vendor AuthenticAMD or HygonGenuine (CPUID.0 EBX-EDX-ECX). */
    out->amd = false;
    if (v) {
        char vendor[13];

        memcpy(vendor, &v->reg[CPUID_EBX], 4);
        memcpy(vendor + 4, &v->reg[CPUID_EDX], 4);
        memcpy(vendor + 8, &v->reg[CPUID_ECX], 4);
        vendor[12] = '\0';
        out->amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
    }
    /* Kernels >= 6.14: guest CPUID.80000001H:EDX[26] AND KVM's own caps (spec §2.6). */
    out->gbpages = cpuid_has(t, cpu_feature_find("pdpe1gb")) && host_gbpages;
}
