#include "cli.h"

#include "ks/log.h"
#include "ks/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct cli_cmd {
    const char *name;
    cli_cmd_fn fn;
    const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct cli_cmd commands[] = {
    {"help", cmd_help, "list the commands"},
    {"run", cmd_run, "boot a kernel under KVM and report how it stopped"},
    {"cpu", cmd_cpu, "list CPU models, or show what this host's KVM gives one"},
    {"explain", cmd_explain_dump, "explain a crash from QEMU's register dump, memory dump or core"},
    {"lint", cmd_lint,
     "find latent page-table bugs (reserved for the CPU model, W+X) in a snapshot"},
    {"pt", cmd_pt, "list and lint every mapping of a memory image's page tables"},
    {"walk", cmd_walk, "translate an address through a memory image's page tables, as KVM"},
    {"trace", cmd_trace, "explain a KVM trace (trace-cmd/tracefs text, trace.dat) or record one"},
};

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kvmscope: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
    if (parse_u64(s, out) == 0)
        return true;
    cli_error(cmd, "%s: '%s' is not a number (use decimal or 0x-prefixed hex)", flag, s ? s : "");
    return false;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: kvmscope [-v] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'kvmscope COMMAND --help' describes a command.\n");
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    usage(stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v"))
            log_set_level(log_level_current < LOG_TRACE ? log_level_current + 1 : LOG_TRACE);
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--version")) {
            printf("kvmscope 0.1\n");
            return CLI_OK;
        } else {
            fprintf(stderr, "kvmscope: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (!strcmp(argv[i], commands[c].name))
            return commands[c].fn(argc - i, argv + i);
    fprintf(stderr, "kvmscope: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return CLI_USAGE;
}
