/*
 * The command-line front end: the only code that exits and chooses exit
 * statuses. Statuses shared by every subcommand (docs/exit-status.md):
 *   0  success; for walk/explain/lint: nothing wrong was found
 *   1  a fault or crash was found and explained (walk faulted, guest crashed)
 *   2  usage error (bad flag, bad number)
 *   3  host or KVM error (no /dev/kvm, permission denied, ioctl failure)
 *   4  bad input file (missing, truncated, malformed)
 * `kvmscope run` adds its own guest outcome statuses (docs/exit-status.md).
 */
#ifndef KS_CLI_H
#define KS_CLI_H

#include <stdbool.h>
#include <stdint.h>

enum cli_status {
    CLI_OK = 0,
    CLI_FOUND = 1,
    CLI_USAGE = 2,
    CLI_HOST = 3,
    CLI_INPUT = 4,
};

/* A subcommand: returns the process exit status. argv[0] is the subcommand name. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* kvmscope walk: translate one address through an image's page tables (docs/paging.md). */
int cmd_walk(int argc, char **argv);
/* kvmscope pt: list (and --lint) every mapping of an image's page tables (docs/paging.md). */
int cmd_pt(int argc, char **argv);

/* `kvmscope trace explain|record` (cli/cmd_trace.c, docs/trace.md). */
int cmd_trace(int argc, char **argv);

/* Print "kvmscope: <cmd>: <message>" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number flag parsing; prints an error line and returns false on bad input. */
bool cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);

/* Subcommands. */
int cmd_run(int argc, char **argv);
/* `kvmscope explain` (cli/cmd_explain.c, docs/explain.md). */
int cmd_explain_dump(int argc, char **argv);
int cmd_cpu(int argc, char **argv);
/* `kvmscope lint` (cli/cmd_lint.c, docs/lint.md). */
int cmd_lint(int argc, char **argv);

#endif
