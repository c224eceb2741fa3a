/*
 * The GDB options of `kvmscope run` (--gdb [HOST:]PORT, -s, -S) and the
 * call that runs the guest under the stub (docs/gdb.md). cmd_run.c adds
 * RUN_GDB_LONGOPT and RUN_GDB_SHORTOPTS to its getopt tables, hands each
 * option to run_gdb_opt(), and, when run_gdb_enabled(), runs the guest with
 * run_gdb_session() instead of vmm_run().
 */
#ifndef KS_CLI_RUN_GDB_H
#define KS_CLI_RUN_GDB_H

#include "ks/vmm.h"

#include <stdbool.h>

struct run_gdb {
    const char *listen; /* "[HOST:]PORT"; NULL = no stub */
    bool wait;          /* -S */
};

/* getopt_long value of --gdb, and the entries for the option tables. */
/* clang-format off */
#define RUN_GDB_OPT_GDB   0x4744
#define RUN_GDB_LONGOPT   {"gdb", required_argument, NULL, RUN_GDB_OPT_GDB}
#define RUN_GDB_SHORTOPTS "sS"
/* clang-format on */

/* Usage lines for --help. */
#define RUN_GDB_USAGE                                                                              \
    "  --gdb [HOST:]PORT   serve GDB's remote protocol (HOST default 127.0.0.1; PORT 0: any)\n"    \
    "  -s                  same as --gdb 127.0.0.1:1234\n"                                         \
    "  -S                  do not start the guest until GDB attaches (implies -s)\n"

/* If getopt's (c, arg) is a GDB option, record it and return true. */
bool run_gdb_opt(struct run_gdb *g, int c, const char *arg);

/* Whether the stub was asked for (-S alone implies -s). */
bool run_gdb_enabled(const struct run_gdb *g);

/*
 * Listen, say where on stderr ("kvmscope: run: gdb: listening on port N"),
 * and run the guest under the stub until it ends. (timeout_ms) bounds the
 * time the guest runs while no GDB is attached (0 = none).
 * Returns -1 with (out) filled when the guest ended (report it as after
 * vmm_run), or an exit status: CLI_OK when GDB killed a still-running
 * guest, CLI_USAGE for a bad [HOST:]PORT, CLI_HOST for socket or KVM
 * failures (after an error line).
 */
int run_gdb_session(const struct run_gdb *g, struct vmm *vm, unsigned timeout_ms,
                    struct vmm_exit *out);

#endif
