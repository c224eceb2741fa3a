/*
 * The tables behind lib/x86/cpumodel.c: QEMU's feature names with their CPUID
 * bits, the legacy aliases, and the named models with their feature lists.
 * Facts from QEMU target/i386/cpu.c (feature_word_info[], builtin_x86_defs[],
 * v7.2), the Intel SDM Vol. 2A CPUID tables and AMD APM Vol. 3 Appendix E;
 * tests/unit/test_cpumodel_qemu.c checks them against the installed QEMU.
 */
#include "cpumodel_int.h"

#define L1  0x1u
#define L7  0x7u
#define LX1 0x80000001u

#define F(n, fn, idx, r, b, w)                                                                     \
    {                                                                                              \
        n, fn, idx, CPUID_##r, b, w                                                                \
    }

/* SDM Vol. 2A, CPUID, Tables 3-10/3-11 (leaf 1), Table 3-8 (leaf 7), AMD APM Vol. 3 E.4.2. */
const struct cpu_feature cpumodel_features[] = {
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
const struct cpumodel_alias cpumodel_aliases[] = {
    {"xd", "nx"},         {"sse3", "pni"}, {"pclmuldq", "pclmulqdq"}, {"sse4-1", "sse4.1"},
    {"sse4-2", "sse4.2"}, {"i64", "lm"},   {"ffxsr", "fxsr-opt"},     {"pdpe1g", "pdpe1gb"},
};

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

/* qemu64 lacks vme (unlike kvm64): PPRO_FEATURES + mtrr, clflush, mca, pse36. */
static const char *const f_qemu64[] = {PPRO,      "mtrr", "clflush", "mca",     "pse36",
                                       "pni",     "cx16", "lm",      "syscall", "nx",
                                       "lahf-lm", "svm",  NULL};
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
#define AMD   CPUMODEL_AMD

/* builtin_x86_defs[] (QEMU 7.2): vendor, family/model/stepping, level, xlevel, brand. */
const struct cpu_model cpumodel_models[] = {
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
const char *const cpumodel_kvm_on[] = {"x2apic", "hypervisor", NULL};
const char *const cpumodel_kvm_off[] = {"svm", "monitor", "acpi", NULL};

const size_t cpumodel_nfeatures = KS_ARRAY_SIZE(cpumodel_features);
const size_t cpumodel_naliases = KS_ARRAY_SIZE(cpumodel_aliases);
const size_t cpumodel_nmodels = KS_ARRAY_SIZE(cpumodel_models);
_Static_assert(KS_ARRAY_SIZE(cpumodel_features) <= CPUMODEL_MAX_FEATURES,
               "raise CPUMODEL_MAX_FEATURES");
