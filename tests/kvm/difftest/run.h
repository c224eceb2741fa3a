/*
 * The difftest driver: runs generated cases in the difftest guest under real
 * KVM (through vmm.h), walks the same tables with the model (paging.h) and
 * compares fault, error code, CR2, the value read/written/fetched and the
 * A/D bits. Disagreements are dumped in full to (out).
 */
#ifndef DT_RUN_H
#define DT_RUN_H

#include "gen.h"
#include "ks/types.h"

#include <stdio.h>

struct dt_run_cfg {
    uint64_t seed;
    uint64_t first, count; /* case indices [first, first+count) */
    const char *cpu;       /* vmm_config.cpu: QEMU -cpu syntax, NULL = default */
    const char *guest;     /* path of the guest image */
    unsigned max_dumps;    /* disagreements dumped in full (the rest are counted) */
    bool user_slot256;     /* dt_gen_cfg.user_slot256 */
    bool legacy;           /* run the legacy guest: 32-bit and PAE paging instead of 4-level */
    /* Also compare KVM's kvmmmu trace of each case's first walk (entries
     * read, walker error, A/D lines) with the model (trace.h); needs root
     * and tracefs. */
    bool trace;
    FILE *out;
    /*
     * Directed cases instead of generated ones (NULL: generate). Called once
     * the vCPU's features and accepted CR4 bits are known; fills up to (max)
     * cases and returns how many. (count) is then ignored. KVM's outcome of
     * case i goes to kvm[i].
     */
    unsigned (*directed)(void *opaque, const struct pt_cpu *cpu, uint64_t cr4_extra,
                         struct dt_case *cases, unsigned max);
    void *directed_opaque;
    struct dt_kvm_outcome *kvm;
};

/* What the guest reported for one case. */
struct dt_kvm_outcome {
    uint64_t phase, vector, err, cr2, value;
    uint64_t post[DT_MAX_ENT]; /* the entries after the access */
};
#define DT_MAX_DIRECTED 64

enum dt_outcome { DT_OUT_OK, DT_OUT_NP, DT_OUT_RSVD, DT_OUT_UNBACKED, DT_OUT_PERM, DT_NOUTCOMES };

struct dt_stats {
    uint64_t cases, agree, disagree;
    uint64_t by_outcome[DT_NOUTCOMES][6]; /* [outcome][kind + 3*user] */
    uint64_t by_level[DT_NOUTCOMES][5];   /* faulting level (0 = no fault) */
    uint64_t rsvd_why[16];                /* enum pt_rsvd_why bit index */
    uint64_t perm_why[8];                 /* enum pt_perm_why bit index */
    uint64_t leaf_4k, leaf_2m, leaf_4m;   /* successful walks by page size */
    uint64_t ad_set;                      /* successful walks that set A or D bits */
    uint64_t by_mode[3];                  /* 4-level, PAE, 32-bit */
    uint64_t pdpte_gp; /* PAE cases whose CR0 load #GPs on a reserved PDPTE bit */
    uint64_t wp[2], nxe[2], smep, smap, pge, pse, twice;
    uint64_t cr4_rejected; /* CR4 extras the guest's MOV CR4 refused (#GP) */
    /* cfg->trace: walks compared, disagreeing, and cases with no traced walk */
    uint64_t trace_compared, trace_mismatch, trace_missing, trace_unparsed;
    struct pt_cpu cpu;
    uint64_t cr4_extra;
    bool nx;
    double seconds;
};

/*
 * Run (cfg->count) cases in one VM. Returns 0 when all cases ran (look at
 * st->disagree), -ENODEV without /dev/kvm, -EOPNOTSUPP when the legacy guest
 * finds that this KVM refuses paging outside long mode, or another -errno
 * when the VM or guest failed (reason in (err)).
 */
int dt_run(const struct dt_run_cfg *cfg, struct dt_stats *st, char err[KS_ERR_LEN]);

/* Human-readable totals of (st). */
void dt_print_stats(FILE *f, const struct dt_stats *st);

#endif
