/*
 * Optional third check for the difftest: KVM's own walk, as its kvmmmu
 * tracepoints print it (spec/paging.md §5.1), against the entries the model
 * says it read. A private tracefs instance records only this process, with
 * event filters that drop the harness's walks, and a reader thread keeps the
 * first walk of every test address.
 */
#ifndef DT_TRACE_H
#define DT_TRACE_H

#include "ks/types.h"

#define DT_TRACE_MAX_LEVELS 16 /* elements kept per walk (retries repeat them) */
#define DT_TRACE_MAX_AD     8

struct dt_twalk {
    gva_t addr;
    uint32_t access; /* pferr of kvm_mmu_pagetable_walk: the access bits */
    unsigned n;
    uint64_t pte[DT_TRACE_MAX_LEVELS];
    unsigned level[DT_TRACE_MAX_LEVELS];
    bool failed;
    uint32_t error; /* kvm_mmu_walker_error */
    unsigned n_ad;
    gpa_t ad_gpa[DT_TRACE_MAX_AD];
    bool ad_dirty[DT_TRACE_MAX_AD];
};

struct dt_trace;

/*
 * Create the instance and start recording walks of addresses >= (min_addr)
 * for up to (max_walks) distinct addresses. Returns 0, or -errno with (err)
 * filled (e.g. no tracefs, not root).
 */
int dt_trace_start(struct dt_trace **out, gva_t min_addr, unsigned max_walks, char err[KS_ERR_LEN]);
/* Stop recording, drain what is buffered, and wait for the reader. */
void dt_trace_stop(struct dt_trace *t);
/* The first walk recorded for (addr), or NULL. Valid after dt_trace_stop(). */
const struct dt_twalk *dt_trace_find(const struct dt_trace *t, gva_t addr);
/* Remove the instance and free everything. NULL is accepted. */
void dt_trace_free(struct dt_trace *t);
/* Lines the reader could not parse, and events the kernel dropped (overruns). */
uint64_t dt_trace_unparsed(const struct dt_trace *t);

#endif
