/*
 * A snapshot: everything the explainer knows about a stopped guest.
 *
 * A live VM (vmm/) and QEMU's artifacts (lib/formats/) are two sources of
 * the same structure; lib/diag consumes it and does not care which.
 */
#ifndef KS_SNAPSHOT_H
#define KS_SNAPSHOT_H

#include "ks/cpumodel.h"
#include "ks/gmem.h"
#include "ks/x86.h"

struct symtab;

/* Which parts of the snapshot are known. */
enum snap_have {
    SNAP_HAVE_GPRS = 1u << 0,
    SNAP_HAVE_SREGS = 1u << 1, /* segments and descriptor tables */
    SNAP_HAVE_CRS = 1u << 2,
    SNAP_HAVE_EFER = 1u << 3,
    SNAP_EFER_INFERRED = 1u << 4, /* EFER was guessed from the mode (QEMU dumps lack it) */
    SNAP_HAVE_DRS = 1u << 5,
    SNAP_HAVE_MEM = 1u << 6,
    SNAP_HAVE_CPUID = 1u << 7,
    SNAP_HAVE_PT_CPU = 1u << 8, /* (pt_cpu) states KVM's effective walk features */
    SNAP_HAVE_CPL = 1u << 9,
    /* (pt_cpu) comes from a CPU model the user named or a default, not from the live vCPU. */
    SNAP_PT_CPU_ASSUMED = 1u << 10,
};

/* How the guest stopped. */
enum snap_event {
    SNAP_EV_NONE,
    SNAP_EV_TRIPLE_FAULT,   /* KVM_EXIT_SHUTDOWN */
    SNAP_EV_INTERNAL_ERROR, /* KVM_EXIT_INTERNAL_ERROR */
    SNAP_EV_FAIL_ENTRY,
    SNAP_EV_HALT,
    SNAP_EV_DEBUG_EXIT,
    SNAP_EV_UNHANDLED_IO,
    SNAP_EV_TIMEOUT,
    SNAP_EV_EXCEPTION, /* an exception is known to have been raised (e.g. from a TCG log) */
};

/*
 * An exception the source saw being raised (a TCG `-d int` log line, KVM's
 * pending-exception state), oldest first. lib/diag starts its replay from
 * the first one instead of inferring it from the instruction at RIP.
 */
struct snap_exception {
    unsigned vector;
    bool has_error_code;
    uint32_t error_code;
    bool has_cr2;
    uint64_t cr2;
    uint64_t rip;
};

#define SNAP_MAX_EXC 8

struct snapshot {
    uint32_t have; /* enum snap_have */
    struct x86_state s;
    unsigned cpl;

    enum snap_event event;
    uint32_t internal_suberror;
    unsigned n_internal_data;
    uint64_t internal_data[16];
    uint64_t fail_entry_reason;

    struct cpuid_table cpuid; /* the vCPU's CPUID, when SNAP_HAVE_CPUID */
    struct pt_cpu pt_cpu;     /* effective walk features, when SNAP_HAVE_PT_CPU */
    char cpu_model[64];       /* the -cpu argument, if known */

    const struct gmem *mem;    /* NULL without SNAP_HAVE_MEM */
    const struct symtab *syms; /* optional kernel symbols */
    char source[128];          /* "kvmscope run", "QEMU register dump", ... */

    unsigned n_exc; /* known exceptions (optional) */
    struct snap_exception exc[SNAP_MAX_EXC];

    /*
     * Whether the host's KVM offers 1 GiB pages at all (pdpe1gb in
     * KVM_GET_SUPPORTED_CPUID): 1 yes, 0 no, -1 unknown (offline artifacts).
     * The explainer only promises that -cpu ...,pdpe1gb helps when it is 1.
     */
    int host_gbpages;
};

/* Zero a snapshot and set KVM's defaults for unknown walk features (MAXPHYADDR 36). */
void snapshot_init(struct snapshot *snap);

/* The page-walk context (CRs, EFER, RFLAGS, PKRU, PDPTRs, features) of (snap). */
void snapshot_pt_ctx(const struct snapshot *snap, struct pt_ctx *out);

#endif
