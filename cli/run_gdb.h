/*
 * The GDB options of `kvmscope run` (--gdb [HOST:]PORT, -s, -S) and the
 * call that runs the guest under the stub. cmd_run.c feeds its arguments
 * to run_gdb_option() and, when run_gdb_enabled(), runs the guest with
 * run_gdb_session() instead of its own loop. docs/gdb.md describes it.
 */
#ifndef KS_CLI_RUN_GDB_H
#define KS_CLI_RUN_GDB_H

#include "ks/vmm.h"

#include <stdbool.h>

struct run_gdb {
    const char *listen; /* "[HOST:]PORT"; NULL = no stub */
    bool wait;          /* -S */
};

/* Usage lines for --help. */
#define RUN_GDB_USAGE                                                                              \
    "  --gdb [HOST:]PORT  serve GDB's remote protocol (HOST default 127.0.0.1)\n"                  \
    "  -s                 same as --gdb 127.0.0.1:1234\n"                                          \
    "  -S                 stop before the first instruction until GDB attaches\n"

/*
 * If argv[*i] is a GDB option, consume it (and its value) and return 1;
 * return 0 if it is not one, or -1 after printing a usage error.
 */
int run_gdb_option(struct run_gdb *g, int argc, char **argv, int *i);

/* Whether the stub was asked for (-S alone implies -s). */
bool run_gdb_enabled(const struct run_gdb *g);

/*
 * Listen, say where on stderr ("kvmscope: run: gdb: listening on HOST:PORT"),
 * and run the guest under the stub until it ends. (timeout_ms) bounds the
 * time the guest runs while no GDB is attached (0 = none). Fills (out) with
 * how the guest ended and (*killed) when GDB killed it. Returns 0, or a
 * CLI status (CLI_USAGE for a bad address, CLI_HOST for socket or KVM
 * failures) after printing an error line.
 */
int run_gdb_session(const struct run_gdb *g, struct vmm *vm, unsigned timeout_ms,
                    struct vmm_exit *out, bool *killed);

#endif
