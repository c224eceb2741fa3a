/*
 * The command line of `kvmscope run` (docs/run.md): the options, their
 * checks, and --help.
 */
#ifndef KS_CLI_RUN_OPTS_H
#define KS_CLI_RUN_OPTS_H

#include "run_gdb.h"
#include "run_lint.h"

#include <stdbool.h>
#include <stdint.h>

#define RUN_MAX_MODULES 32

struct run_opts {
    uint64_t ram;
    const char *cpu, *append, *kernel;
    const char *serial, *trace, *trace_json;
    const char *modules[RUN_MAX_MODULES]; /* "file args" */
    char *module_store[RUN_MAX_MODULES];  /* strings split from --initrd lists */
    unsigned nmodules;
    bool has_entry, has_load;
    uint64_t entry, load;
    bool vga, stats, strict, json, irqchip;
    unsigned timeout_ms, last;
    enum run_lint_mode lint;
    struct run_gdb gdb; /* --gdb, -s, -S (cli/run_gdb.h) */
};

/*
 * Parse argv into (o) (zeroed by the caller). Returns -1 to go on, or the
 * exit status: CLI_OK after --help, CLI_USAGE after one error line.
 * The caller frees o->module_store[].
 */
int run_parse_opts(int argc, char **argv, struct run_opts *o);

#endif
