/*
 * The crash explainer: a snapshot in, a structured explanation out.
 *
 * The report structure is private to lib/diag; callers use the functions
 * below so that the explainer can grow without touching them.
 */
#ifndef KS_DIAG_H
#define KS_DIAG_H

#include "ks/paging.h"
#include "ks/snapshot.h"
#include "ks/strbuf.h"

struct diag_report;

/*
 * Explain (snap). Allocates (*out), which the caller frees with diag_free().
 * Returns 0 (also when nothing is wrong) or -ENOMEM / -EINVAL.
 */
int diag_explain(const struct snapshot *snap, struct diag_report **out);
void diag_free(struct diag_report *r);

/* Whether the report found a crash cause (false: no false alarm to raise). */
bool diag_has_cause(const struct diag_report *r);
/* The stable cause identifier (docs/causes.md), e.g. "rsvd-gbpages"; NULL if none. */
const char *diag_cause_id(const struct diag_report *r);

/* The human report (fits one screen for a simple case). */
void diag_render_text(const struct diag_report *r, struct strbuf *sb);
/* The "explanation" JSON object: {"exceptions":[...],"walk":{...},"cause":{...}}. */
void diag_render_json(const struct diag_report *r, struct strbuf *sb);

/*
 * Structured access for callers and tests (the zoo, `kvmscope run`).
 */

/* One exception of the reconstructed chain, oldest first. */
struct diag_exc_info {
    unsigned vector;
    bool has_error_code;
    uint32_t error_code;
    bool has_cr2;
    uint64_t cr2;
    uint64_t rip;   /* RIP at which it was raised */
    bool delivered; /* its delivery succeeded (a handler would run) */
};

/* Number of exceptions in the chain (0 when nothing was raised or inferred). */
unsigned diag_exception_count(const struct diag_report *r);
/* Fill (out) with exception (i). Returns 0 or -ERANGE. */
int diag_exception_at(const struct diag_report *r, unsigned i, struct diag_exc_info *out);
/* Whether the replay ends in a triple fault (shutdown). */
bool diag_triple_fault(const struct diag_report *r);
/* The secondary cause (e.g. the IDT that turned a #PF into a triple fault); NULL if none. */
const char *diag_secondary_id(const struct diag_report *r);
/* The walk behind the root cause, NULL if the cause is not a page walk. */
const struct pt_walk *diag_root_walk(const struct diag_report *r);
/* Its failing level (1..5), 0 when there is no faulting walk. */
int diag_fault_level(const struct diag_report *r);

#endif
