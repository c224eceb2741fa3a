/*
 * Exit-trace output for `kvmscope run`: the --trace text and Perfetto JSON
 * writers, the --stats histogram, and the "last exits" lines, all fed by
 * the VMM's trace sink (vmm_trace_set_sink) in batches.
 */
#ifndef KS_CLI_RUN_TRACE_H
#define KS_CLI_RUN_TRACE_H

#include "ks/strbuf.h"
#include "ks/vmm.h"

#include <stdio.h>

struct run_trace;

/* Where the records go; any FILE may be NULL. */
struct run_trace_opts {
    FILE *text; /* --trace FILE */
    FILE *json; /* --trace-json FILE, or --trace FILE.json */
    bool stats; /* keep the histogram */
};

/* Returns NULL on allocation failure. The JSON header is written at once. */
struct run_trace *run_trace_new(const struct run_trace_opts *o);
/* The vmm_trace_sink_fn to register with (opaque) = the run_trace. */
void run_trace_sink(void *opaque, const struct vmm_trace_rec *recs, unsigned n);
/* Close the JSON document with an instant event for (outcome). Flushes both files. */
void run_trace_finish(struct run_trace *t, const char *outcome);
/* The histogram as text (by exit reason, then by port and MMIO page). */
void run_trace_stats_text(const struct run_trace *t, struct strbuf *sb);
/* {"exits":N,"by_reason":{...},"by_port":[...],"by_mmio_page":[...]} */
void run_trace_stats_json(const struct run_trace *t, struct strbuf *sb);
void run_trace_free(struct run_trace *t);

/* One human line for a record (no newline); (t0) is the time origin. */
void run_trace_line(struct strbuf *sb, const struct vmm_trace_rec *r, uint64_t t0);
/* One JSON object for a record. */
void run_trace_json_rec(struct strbuf *sb, const struct vmm_trace_rec *r, uint64_t t0);

#endif
