/*
 * The crash explainer: a snapshot in, a structured explanation out.
 *
 * The report structure is private to lib/diag; callers use the functions
 * below so that the explainer can grow without touching them.
 */
#ifndef KS_DIAG_H
#define KS_DIAG_H

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

#endif
