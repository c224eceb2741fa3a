/*
 * lib/diag internals: the report structure and the helpers its files share.
 */
#ifndef KS_DIAG_INT_H
#define KS_DIAG_INT_H

#include "ks/decode.h"
#include "ks/diag.h"

#define DIAG_MAX_EXC   8
#define DIAG_MAX_FIX   5
#define DIAG_MAX_NOTES 10
#define DIAG_TEXT      320

/* A cause: a stable id (docs/causes.md) and one line saying what is wrong. */
struct diag_cause {
    char id[32];
    char summary[DIAG_TEXT];
};

/* One step of the chain: an exception, why it was raised, how its delivery went. */
struct diag_exc {
    struct diag_exc_info info;
    struct diag_cause why;     /* why it was raised; id "" for a plain #DF */
    struct diag_cause why2;    /* a second reason at the same time (id "" if none) */
    char raised_by[DIAG_TEXT]; /* "fetching the instruction at 0x133025" */
    char delivery[DIAG_TEXT];  /* "IDT limit 0x0 does not reach gate 14 (needs 0xef)" */
    bool has_walk;             /* raised by a faulting page walk (a #PF) */
    struct pt_walk walk;
};

struct diag_report {
    /* The input, copied: the report outlives the snapshot. */
    struct x86_state s;
    unsigned cpl;
    uint32_t have;
    enum snap_event event;
    uint32_t internal_suberror;
    struct pt_ctx ctx;
    enum x86_cpu_mode mode;
    gva_t rip_linear; /* CS.base + RIP */
    char source[128];
    char where[128]; /* "0x133025 <kernel_start+0x25>" */

    /* The instruction at RIP. */
    bool fetched; /* a fetch was attempted (memory was given) */
    int fetch_rc; /* x86_fetch_decode() result */
    struct x86_fetch fetch;
    struct x86_insn insn;

    /* The chain, oldest first, and how it ended. */
    unsigned n_exc;
    struct diag_exc exc[DIAG_MAX_EXC];
    bool triple_fault;
    bool chain_inferred; /* inferred from the instruction, not reported by the source */

    /* The walk that explains the root cause. */
    bool has_walk;
    struct pt_walk walk;
    char walk_what[96]; /* "instruction fetch", "IDT gate 14 read", ... */

    bool has_cause;
    struct diag_cause cause, secondary;
    bool has_secondary;
    unsigned n_fix;
    char fix[DIAG_MAX_FIX][DIAG_TEXT * 2];

    unsigned n_notes;
    char notes[DIAG_MAX_NOTES][DIAG_TEXT];
};

void diag_note(struct diag_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_add_fix(struct diag_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void diag_set_cause(struct diag_cause *c, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append an exception to the chain; NULL when the chain is full. */
struct diag_exc *diag_push_exc(struct diag_report *r, unsigned vector, bool has_ec, uint32_t ec,
                               bool has_cr2, uint64_t cr2);

/* Read (len) bytes at linear (la) as an implicit supervisor access; fills (fault) on a failed walk.
 */
int diag_read_linear(const struct snapshot *snap, const struct pt_ctx *c, gva_t la, void *buf,
                     size_t len, uint32_t access, struct pt_walk *fault);

/* state.c: CR/EFER/segment validation. Sets (r->cause) when the state itself is the crash. */
void diag_check_state(const struct snapshot *snap, struct diag_report *r);

/* deliver.c: replay delivery of the last exception in the chain, extending it until a handler
 * is reached or the CPU shuts down. (software) is true for INT n / INT3 / INTO. */
void diag_deliver(const struct snapshot *snap, struct diag_report *r, bool software);

/* cause.c: the cause id of a faulting walk, and the fixes for a cause. */
void diag_cause_of_walk(const struct diag_report *r, const struct pt_walk *w, bool stack,
                        struct diag_cause *out, struct diag_cause *second);
void diag_make_fixes(const struct snapshot *snap, struct diag_report *r);

/* The level entry that failed in (w), or NULL. */
const struct pt_level *diag_fault_lv(const struct pt_walk *w);

#endif
