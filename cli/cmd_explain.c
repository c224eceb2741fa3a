/*
 * kvmscope explain: the crash explainer on QEMU's offline artifacts (a
 * register dump, a dump-guest-memory core, a raw memory image, kernel
 * symbols), with the same report and JSON that `kvmscope run` prints
 * (docs/explain.md).
 */
#include "cli.h"

#include "ks/cpumodel.h"
#include "ks/diag.h"
#include "ks/formats.h"
#include "ks/parse.h"
#include "ks/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: kvmscope explain [--regs FILE] [--dump FILE] [--memory FILE[@BASE]] [--symbols ELF]\n"
    "                        [--cpu MODEL] [--efer X] [--maxphyaddr N] [--json]\n"
    "\n"
    "Explains why a guest stopped from QEMU's artifacts: --regs is QEMU text with a register\n"
    "dump (stderr of a KVM error, `info registers`, a `-d int` log), --dump a dump-guest-memory\n"
    "ELF core, --memory a raw RAM image (pmemsave; BASE = GPA of its first byte). With memory,\n"
    "the instruction at RIP, its operands and exception delivery are walked through the page\n"
    "tables as KVM walks them. --cpu is the -cpu the guest ran with (default qemu64, QEMU's\n"
    "default); --efer and --maxphyaddr override what the dump and the model give.\n"
    "Exit status: 0 nothing wrong found, 1 a cause was found, 2 usage, 4 bad input file.\n";

static const char *cmd = "explain";

/* A -d int log: the exceptions of the last episode (the last one raised afresh, then nested). */
static void known_exceptions(const struct qemu_dump_info *info, struct snapshot *snap)
{
    unsigned first = 0;

    if (snap->n_exc || !info->nexc)
        return;
    if (snap->event != SNAP_EV_TRIPLE_FAULT && snap->event != SNAP_EV_EXCEPTION)
        return;
    for (unsigned i = 0; i < info->nexc; i++)
        if (info->exc[i].check_old < 0)
            first = i;
    for (unsigned i = first; i < info->nexc && snap->n_exc < SNAP_MAX_EXC; i++) {
        const struct qemu_exception *q = &info->exc[i];
        struct snap_exception *e = &snap->exc[snap->n_exc++];

        e->vector = q->vector;
        e->has_error_code = x86_vector_has_error_code(q->vector) && !q->software;
        e->error_code = q->error_code;
        e->has_cr2 = q->has_cr2;
        e->cr2 = q->cr2;
        e->rip = q->rip;
    }
}

static int apply_cpu(const char *model, struct snapshot *snap, struct strbuf *notes)
{
    struct cpu_spec spec;
    char err[KS_ERR_LEN];

    if (cpu_spec_parse(model, &spec, err) < 0) {
        cli_error(cmd, "--cpu: %s", err);
        return CLI_USAGE;
    }
    snprintf(snap->cpu_model, sizeof(snap->cpu_model), "%s", model);
    if (spec.host_based) {
        sb_printf(notes,
                  "--cpu %s takes its features from the host that ran the guest, which is "
                  "unknown here: CPUID-dependent checks are skipped\n",
                  model);
        return 0;
    }
    snap->cpuid = spec.cpuid;
    snap->have |= SNAP_HAVE_CPUID | SNAP_HAVE_PT_CPU | SNAP_PT_CPU_ASSUMED;
    /* Offline, the host is unknown: assume its KVM gave what the model asks for. */
    cpuid_pt_cpu(&snap->cpuid, true, &snap->pt_cpu);
    if (spec.phys_bits)
        snap->pt_cpu.maxphyaddr = spec.phys_bits;
    return 0;
}

static void print_notes_json(struct strbuf *sb, const char *notes)
{
    bool first = true;
    const char *p = notes;

    sb_puts(sb, "[");
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[600];

        if (n) {
            snprintf(line, sizeof(line), "%.*s", (int)n, p);
            sb_puts(sb, first ? "" : ",");
            sb_json_str(sb, line);
            first = false;
        }
        p += n + (nl ? 1 : 0);
    }
    sb_puts(sb, "]");
}

struct explain_args {
    struct offline_inputs in;
    const char *cpu;
    bool json, have_efer, have_maxphy, cpu_given;
    uint64_t efer, maxphy;
};

/* Returns -1 to go on, else the exit status (usage errors, --help). */
static int parse_args(int argc, char **argv, struct explain_args *a)
{
    static const struct option longopts[] = {
        {"regs", required_argument, NULL, 'r'},
        {"dump", required_argument, NULL, 'd'},
        {"memory", required_argument, NULL, 'm'},
        {"symbols", required_argument, NULL, 's'},
        {"cpu", required_argument, NULL, 'c'},
        {"efer", required_argument, NULL, 'e'},
        {"maxphyaddr", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    memset(a, 0, sizeof(*a));
    a->cpu = "qemu64";
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            a->in.regs_path = optarg;
            break;
        case 'd':
            a->in.core_path = optarg;
            break;
        case 'm':
            a->in.mem_spec = optarg;
            break;
        case 's':
            a->in.kernel_path = optarg;
            break;
        case 'c':
            a->cpu = optarg;
            a->cpu_given = true;
            break;
        case 'j':
            a->json = true;
            break;
        case 'e':
            if (!cli_u64(cmd, "--efer", optarg, &a->efer))
                return CLI_USAGE;
            a->have_efer = true;
            break;
        case 'p':
            if (!cli_u64(cmd, "--maxphyaddr", optarg, &a->maxphy))
                return CLI_USAGE;
            /* SDM Vol. 3A §4.1.4: MAXPHYADDR is at most 52. */
            if (a->maxphy < 32 || a->maxphy > 52) {
                cli_error(cmd, "--maxphyaddr: %llu is not between 32 and 52",
                          (unsigned long long)a->maxphy);
                return CLI_USAGE;
            }
            a->have_maxphy = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return CLI_OK;
        case ':':
            cli_error(cmd, "%s needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_error(cmd, "unknown option '%s'", argv[optind - 1]);
            fputs(usage_text, stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    if (!a->in.regs_path && !a->in.core_path) {
        cli_error(cmd, "give --regs FILE and/or --dump FILE");
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    return -1;
}

/* The report, as JSON or as text with the loader's notes first. */
static void render(const struct diag_report *r, const char *source, const char *notes, bool json,
                   struct strbuf *out)
{
    if (json) {
        sb_puts(out, "{\"source\":");
        sb_json_str(out, source);
        sb_puts(out, ",\"notes\":");
        print_notes_json(out, notes);
        sb_puts(out, ",\"explanation\":");
        diag_render_json(r, out);
        sb_puts(out, "}\n");
        return;
    }
    for (const char *p = notes; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);

        if (n)
            sb_printf(out, "note: %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    diag_render_text(r, out);
}

int cmd_explain_dump(int argc, char **argv)
{
    struct explain_args a;
    struct offline o;
    struct diag_report *r = NULL;
    struct strbuf notes, out;
    char err[KS_ERR_LEN];
    int status;

    status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    if (offline_load(&a.in, &o, err) < 0) {
        cli_error(cmd, "%s", err);
        offline_close(&o);
        return CLI_INPUT;
    }
    sb_init(&notes);
    sb_init(&out);
    sb_puts(&notes, o.notes);
    status = apply_cpu(a.cpu, &o.snap, &notes);
    if (status) {
        offline_close(&o);
        sb_free(&notes);
        return status;
    }
    if (!a.cpu_given)
        sb_puts(&notes, "no --cpu given: assumed QEMU's default -cpu qemu64 (no 1 GiB pages, "
                        "MAXPHYADDR 40)\n");
    if (a.have_efer) {
        o.snap.s.efer = a.efer;
        o.snap.have = (o.snap.have | SNAP_HAVE_EFER) & ~SNAP_EFER_INFERRED;
    }
    if (a.have_maxphy)
        o.snap.pt_cpu.maxphyaddr = (unsigned)a.maxphy;
    if (o.have_text)
        known_exceptions(&o.info, &o.snap);
    if (o.snap.n_exc > 0)
        snprintf(o.snap.source, sizeof(o.snap.source), "QEMU -d int log");
    else if (!o.snap.source[0])
        snprintf(o.snap.source, sizeof(o.snap.source), "%s",
                 o.have_text ? "QEMU register dump" : "dump-guest-memory core");

    if (diag_explain(&o.snap, &r) < 0) {
        cli_error(cmd, "out of memory");
        offline_close(&o);
        sb_free(&notes);
        return CLI_HOST;
    }
    render(r, o.snap.source, sb_str(&notes), a.json, &out);
    fputs(sb_str(&out), stdout);
    status = diag_has_cause(r) ? CLI_FOUND : CLI_OK;
    diag_free(r);
    offline_close(&o);
    sb_free(&notes);
    sb_free(&out);
    return status;
}
