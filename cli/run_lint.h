/*
 * `kvmscope run --lint` (docs/lint.md): the page-table lint of cli/lint.h
 * on the live guest, once at the first exit after the first CR3 load and
 * once at the final outcome.
 */
#ifndef KS_CLI_RUN_LINT_H
#define KS_CLI_RUN_LINT_H

#include "ks/strbuf.h"
#include "ks/vmm.h"

#include <stdio.h>

enum run_lint_mode {
    RUN_LINT_OFF,
    RUN_LINT_ON,     /* findings on stderr (and in --json); the exit status is the guest's */
    RUN_LINT_STRICT, /* findings after a clean outcome give RUN_LINT_STATUS */
};

/* `run --lint=strict`: a clean outcome (debug-exit or halt) with lint findings. */
#define RUN_LINT_STATUS 16

struct run_lint;

/* Parse the value of --lint[=strict]: NULL -> on. Returns false on a bad value. */
bool run_lint_parse(const char *arg, enum run_lint_mode *out);

/*
 * Start watching (vm), whose initial state is set: the paging state now is
 * the boot state. (cpu) is the --cpu argument (NULL: qemu64). Lint text goes
 * to (err). Returns NULL when out of memory.
 */
struct run_lint *run_lint_start(struct vmm *vm, const char *cpu, FILE *err);
/* Lint at the final outcome (any outcome but a host error), named (outcome). */
void run_lint_final(struct run_lint *rl, const char *outcome);
/* Findings over both lints. */
unsigned run_lint_findings(const struct run_lint *rl);
/* The "lint" array of `run --json`: one object per lint that ran. */
void run_lint_json(const struct run_lint *rl, struct strbuf *sb);
void run_lint_free(struct run_lint *rl);

#endif
