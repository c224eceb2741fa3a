/*
 * `kvmscope run` options: flags, modules and --initrd lists, sizes and
 * timeouts, checked before anything is loaded (docs/run.md).
 */
#include "run_opts.h"

#include "cli.h"

#include "ks/boot.h"
#include "ks/parse.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "run"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: kvmscope run [options] KERNEL\n"
        "  -m SIZE             guest RAM (default 128M; a plain number is MiB, like QEMU)\n"
        "  --cpu MODEL[,+feat][,-feat][,feat=on|off]   QEMU CPU model (default qemu64)\n"
        "  --append CMDLINE    kernel command line\n"
        "  --initrd FILE[ args][,FILE[ args]...]       Multiboot modules, QEMU style\n"
        "  --module FILE[ args]                        one more Multiboot module\n"
        "  --entry ADDR        flat binary: entry point (and --load ADDR: load address)\n"
        "  --serial FILE       COM1 and debugcon output to FILE (default stdout)\n"
        "  --vga               print the VGA text screen at exit\n"
        "  --trace FILE        exit trace as text (FILE.json: Perfetto JSON)\n"
        "  --trace-json FILE   exit trace as Perfetto/Chrome JSON\n"
        "  --stats             histogram of exits by reason, port and MMIO page\n"
        "  --timeout SEC       stop the guest after SEC seconds (fractions allowed)\n"
        "  --strict            an access to a port/MMIO address without a device stops it\n"
        "  --irqchip           in-kernel PIC/IOAPIC/LAPIC and PIT (for interrupt-driven guests)\n"
        "  --json              one JSON object on stdout (console output goes to stderr)\n"
        "  --last N            exits shown on an abnormal outcome (default 16)\n"
        "  --lint[=strict]     lint the page tables at the first CR3 load and at "
        "exit\n" RUN_GDB_USAGE "exit status: docs/exit-status.md\n");
}

static bool add_module(struct run_opts *o, const char *spec)
{
    if (o->nmodules == RUN_MAX_MODULES) {
        cli_error(CMD, "too many modules (at most %d)", RUN_MAX_MODULES);
        return false;
    }
    if (!spec[0] || spec[0] == ' ') {
        cli_error(CMD, "empty module file name in '%s'", spec);
        return false;
    }
    o->modules[o->nmodules++] = spec;
    return true;
}

/* QEMU's -initrd "file args,file args" (",," is a literal comma), via lib/boot's iterator. */
static bool add_initrd_list(struct run_opts *o, const char *list)
{
    size_t len = strlen(list) + 1;
    char *cmdline = malloc(len), *path = malloc(len);
    const char *cursor = list;
    int rc = -ENOMEM;

    /* No entry can be longer than the whole list, so -ENAMETOOLONG cannot happen. */
    while (cmdline && path && (rc = boot_module_list_next(&cursor, cmdline, len, path, len)) == 1) {
        char *m = strdup(cmdline);

        if (!m || o->nmodules == RUN_MAX_MODULES) {
            free(m);
            free(cmdline);
            free(path);
            cli_error(CMD, "--initrd: too many modules (at most %d)", RUN_MAX_MODULES);
            return false;
        }
        o->module_store[o->nmodules] = m;
        o->modules[o->nmodules++] = m;
    }
    free(cmdline);
    free(path);
    if (rc < 0) {
        cli_error(CMD, "--initrd '%s': %s", list,
                  rc == -ENOMEM ? "out of memory" : "empty module entry or file name");
        return false;
    }
    return true;
}

static bool parse_timeout(const char *s, unsigned *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (!s[0] || *end || errno || !isfinite(v) || v < 0 || v > 86400.0 * 30) {
        cli_error(CMD, "--timeout: '%s' is not a number of seconds (e.g. 5 or 0.5)", s);
        return false;
    }
    *ms = (unsigned)ceil(v * 1000.0);
    if (v > 0 && *ms == 0)
        *ms = 1;
    return true;
}

static bool parse_ram(const char *s, uint64_t *out)
{
    uint64_t v;
    size_t n = strlen(s);

    /* QEMU's -m: a plain number is MiB. */
    if (n && s[n - 1] >= '0' && s[n - 1] <= '9') {
        if (parse_u64(s, &v) || v > (1ULL << 20)) {
            cli_error(CMD, "-m: '%s' is not a size (e.g. 128M, 1G)", s);
            return false;
        }
        v <<= 20;
    } else if (parse_size(s, &v)) {
        cli_error(CMD, "-m: '%s' is not a size (e.g. 128M, 1G)", s);
        return false;
    }
    if (v < (2ULL << 20) || v > (1ULL << 40) || (v & 0xfff)) {
        cli_error(CMD, "-m: %s: RAM must be a multiple of 4 KiB between 2M and 1T", s);
        return false;
    }
    *out = v;
    return true;
}

enum {
    OPT_CPU = 256,
    OPT_APPEND,
    OPT_INITRD,
    OPT_MODULE,
    OPT_ENTRY,
    OPT_LOAD,
    OPT_SERIAL,
    OPT_VGA,
    OPT_TRACE,
    OPT_TRACE_JSON,
    OPT_STATS,
    OPT_TIMEOUT,
    OPT_STRICT,
    OPT_JSON,
    OPT_LAST,
    OPT_IRQCHIP,
    OPT_LINT,
};

int run_parse_opts(int argc, char **argv, struct run_opts *o)
{
    static const struct option longopts[] = {
        {"cpu", required_argument, NULL, OPT_CPU},
        {"append", required_argument, NULL, OPT_APPEND},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"module", required_argument, NULL, OPT_MODULE},
        {"entry", required_argument, NULL, OPT_ENTRY},
        {"load", required_argument, NULL, OPT_LOAD},
        {"serial", required_argument, NULL, OPT_SERIAL},
        {"vga", no_argument, NULL, OPT_VGA},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"trace-json", required_argument, NULL, OPT_TRACE_JSON},
        {"stats", no_argument, NULL, OPT_STATS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"json", no_argument, NULL, OPT_JSON},
        {"last", required_argument, NULL, OPT_LAST},
        {"irqchip", no_argument, NULL, OPT_IRQCHIP},
        {"lint", optional_argument, NULL, OPT_LINT},
        {"help", no_argument, NULL, 'h'},
        RUN_GDB_LONGOPT,
        {NULL, 0, NULL, 0},
    };
    uint64_t v;
    int c;

    o->ram = 128ULL << 20;
    o->last = 16;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:h" RUN_GDB_SHORTOPTS, longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (!parse_ram(optarg, &o->ram))
                return CLI_USAGE;
            break;
        case OPT_CPU:
            o->cpu = optarg;
            break;
        case OPT_APPEND:
            o->append = optarg;
            break;
        case OPT_INITRD:
            if (!add_initrd_list(o, optarg))
                return CLI_USAGE;
            break;
        case OPT_MODULE:
            if (!add_module(o, optarg))
                return CLI_USAGE;
            break;
        case OPT_ENTRY:
            if (!cli_u64(CMD, "--entry", optarg, &o->entry))
                return CLI_USAGE;
            o->has_entry = true;
            break;
        case OPT_LOAD:
            if (!cli_u64(CMD, "--load", optarg, &o->load))
                return CLI_USAGE;
            o->has_load = true;
            break;
        case OPT_SERIAL:
            o->serial = optarg;
            break;
        case OPT_VGA:
            o->vga = true;
            break;
        case OPT_TRACE:
            o->trace = optarg;
            break;
        case OPT_TRACE_JSON:
            o->trace_json = optarg;
            break;
        case OPT_STATS:
            o->stats = true;
            break;
        case OPT_TIMEOUT:
            if (!parse_timeout(optarg, &o->timeout_ms))
                return CLI_USAGE;
            break;
        case OPT_STRICT:
            o->strict = true;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_IRQCHIP:
            o->irqchip = true;
            break;
        case OPT_LINT:
            if (!run_lint_parse(optarg, &o->lint)) {
                cli_error(CMD, "--lint takes no value or =strict, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_LAST:
            if (!cli_u64(CMD, "--last", optarg, &v))
                return CLI_USAGE;
            if (v > 4096) {
                cli_error(CMD, "--last: at most 4096 exits are kept");
                return CLI_USAGE;
            }
            o->last = (unsigned)v;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        case ':':
            cli_error(CMD, "option '%s' needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            if (run_gdb_opt(&o->gdb, c, optarg))
                break;
            cli_error(CMD, "unknown option '%s' (see kvmscope run --help)", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(CMD, optind >= argc ? "no KERNEL given" : "exactly one KERNEL expected");
        usage(stderr);
        return CLI_USAGE;
    }
    o->kernel = argv[optind];
    if (o->has_load && !o->has_entry) {
        cli_error(CMD, "--load needs --entry (a flat binary has no header to take it from)");
        return CLI_USAGE;
    }
    /* --trace FILE.json selects the JSON format. */
    if (o->trace && !o->trace_json) {
        size_t n = strlen(o->trace);

        if (n > 5 && !strcmp(o->trace + n - 5, ".json")) {
            o->trace_json = o->trace;
            o->trace = NULL;
        }
    }
    return -1;
}
