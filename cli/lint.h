/*
 * The page-table lint shared by `kvmscope lint` and `kvmscope run --lint`
 * (docs/lint.md): one scan of an address space (pt_scan, bounded by -ELOOP),
 * findings grouped by kind with the exact entries behind each, rendered as
 * text or JSON. The rules themselves are lib/paging's (pt_lint).
 */
#ifndef KS_CLI_LINT_H
#define KS_CLI_LINT_H

#include "ks/gmem.h"
#include "ks/paging.h"
#include "ks/strbuf.h"

/* Entries listed per finding (a run of 512 W+X pages lists its first ones). */
#define LINT_MAX_LISTED 16

/* Lint kinds beyond pt_lint's: the scan hit its table bound (docs/lint.md). */
#define LINT_KIND_LOOP 4
#define LINT_NKINDS    5

/* One page-table entry behind a finding. */
struct lint_entry {
    gva_t va;        /* first address the entry maps (or would map) */
    int level;       /* 1 = PTE ... 4 = PML4E */
    gpa_t entry_gpa; /* where the entry lives */
    uint64_t entry;  /* its value */
};

struct lint_finding {
    int kind;           /* enum pt_lint_kind, or LINT_KIND_LOOP */
    gva_t va;           /* first address of the run */
    uint64_t size;      /* bytes */
    uint64_t page_size; /* bytes per entry */
    int level;          /* level of the entries (reserved, W+X leaves) or of the missing table */
    uint64_t npages;    /* entries in the run */
    uint64_t rsvd_bits; /* reserved: bits of the first entry */
    uint32_t rsvd_why;  /* reserved: enum pt_rsvd_why */
    char rule[768];     /* the rule and its source, one sentence */
    unsigned nentries;  /* listed entries (at most LINT_MAX_LISTED) */
    struct lint_entry entries[LINT_MAX_LISTED];
};

struct lint_result {
    struct pt_ctx ctx;
    struct pt_scan_stats st;
    struct lint_finding *f;
    unsigned n, cap;
    uint64_t entries[LINT_NKINDS]; /* entries flagged, by kind */
    unsigned runs[LINT_NKINDS];    /* findings (runs), by kind */
    bool bounded;                  /* pt_scan hit its bound: the scan is incomplete */
};

/*
 * Scan (c)'s address space in (m). pt_scan bounds its table visits (4 per
 * page of memory + 64, -ELOOP beyond): that becomes a LINT_KIND_LOOP finding.
 * Returns 0, -EINVAL (impossible state, PAE PDPTEs unreadable or invalid)
 * or -ENOMEM. Free with lint_free (also after an error).
 */
int lint_scan(const struct gmem *m, const struct pt_ctx *c, struct lint_result *out);
void lint_free(struct lint_result *r);
/* Findings (runs) of every kind; 0 = clean. */
unsigned lint_total(const struct lint_result *r);
const char *lint_kind_name(int kind);

/* The report as text: every line starts with (prefix) (e.g. "lint: "). */
void lint_text(const struct lint_result *r, const char *prefix, struct strbuf *sb);
/* The report as one JSON object (no newline). */
void lint_json(const struct lint_result *r, struct strbuf *sb);

#endif
