/*
 * kvmscope lint: latent page-table bugs in a snapshot, before they crash
 * (docs/lint.md). The snapshot is a raw image with registers given as flags
 * (as for `kvmscope pt`), or QEMU's offline artifacts (as for `kvmscope
 * explain`). The CPU model decides what is reserved: 1 GiB leaves are fine
 * on Skylake-Server and reserved on Haswell, which has no pdpe1gb.
 */
#include "cli.h"
#include "lint.h"
#include "ptcli.h"

#include "ks/cpumodel.h"
#include "ks/formats.h"
#include "ks/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "lint"

static const char usage_text[] =
    "usage: kvmscope lint --image FILE --cr3 X [--cr0 X] [--cr4 X] [--efer X] [--cpu MODEL]\n"
    "                     [--maxphyaddr N] [--gbpages on|off] [--amd] [--json]\n"
    "       kvmscope lint [--regs FILE] [--dump CORE] [--memory FILE[@BASE]] [--cpu MODEL]\n"
    "                     [--cr0 X] [--cr3 X] [--cr4 X] [--efer X] [--maxphyaddr N] [--json]\n"
    "\n"
    "Scans the page tables at CR3 and reports latent bugs: entries the vCPU model makes\n"
    "reserved (e.g. 1 GiB pages without pdpe1gb: every KVM software walk faults with P|RSVD),\n"
    "present entries pointing at tables outside memory, W+X supervisor mappings, and tables\n"
    "that point back at themselves beyond a bound. --image is raw guest-physical memory\n"
    "(file offset = GPA, registers from the flags); --regs/--dump/--memory are QEMU's\n"
    "artifacts as for 'kvmscope explain' (the flags then override the dump's registers).\n"
    "--cpu is the -cpu the guest ran with (default qemu64).\n"
    "Exit status: 0 clean, 1 findings, 2 usage, 4 bad input file.\n";

/* Flags the user gave explicitly (offline mode: overrides of the dump). */
enum given {
    G_CR0 = 1u << 0,
    G_CR3 = 1u << 1,
    G_CR4 = 1u << 2,
    G_EFER = 1u << 3,
    G_MAXPHY = 1u << 4,
    G_GBPAGES = 1u << 5,
    G_CPU = 1u << 6,
};

struct lint_opts {
    struct ptcli_opts pt;
    struct offline_inputs in;
    unsigned given;
};

static unsigned given_bit(int opt)
{
    switch (opt) {
    case 0x100:
        return G_CR0;
    case 0x103:
        return G_CR3;
    case 0x104:
        return G_CR4;
    case 0x105:
        return G_EFER;
    case 0x106:
        return G_CPU;
    case 0x107:
        return G_MAXPHY;
    case 0x108:
        return G_GBPAGES;
    default:
        return 0;
    }
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct lint_opts *o)
{
    static const struct option longopts[] = {
        PTCLI_LONGOPTS,
        {"regs", required_argument, NULL, 'r'},
        {"dump", required_argument, NULL, 'd'},
        {"memory", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    memset(o, 0, sizeof(*o));
    ptcli_defaults(&o->pt);
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int r = ptcli_opt(CMD, opt, optarg, &o->pt);

        if (r < 0)
            return CLI_USAGE;
        if (r > 0) {
            o->given |= given_bit(opt);
            continue;
        }
        switch (opt) {
        case 'r':
            o->in.regs_path = optarg;
            break;
        case 'd':
            o->in.core_path = optarg;
            break;
        case 'm':
            o->in.mem_spec = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return CLI_OK;
        default:
            ptcli_bad_option(CMD, argv, optopt);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error(CMD, "unexpected argument '%s' (see 'kvmscope lint --help')", argv[optind]);
        return CLI_USAGE;
    }
    if (o->pt.image && (o->in.regs_path || o->in.core_path || o->in.mem_spec)) {
        cli_error(CMD, "--image is a raw image with registers from the flags; it does not mix "
                       "with --regs/--dump/--memory");
        return CLI_USAGE;
    }
    if (!o->pt.image && !o->in.regs_path && !o->in.core_path && !o->in.mem_spec) {
        cli_error(CMD, "give --image FILE --cr3 X, or QEMU artifacts (--regs, --dump, --memory)");
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    return -1;
}

/* What the CPU model says about 1 GiB pages: the question this command exists for. */
static void model_note(const struct lint_opts *o, const struct pt_ctx *c, struct strbuf *notes)
{
    if (o->given & G_GBPAGES) {
        sb_printf(notes, "--gbpages %s: 1 GiB pages taken as %s whatever --cpu %s says\n",
                  c->cpu.gbpages ? "on" : "off", c->cpu.gbpages ? "valid" : "reserved", o->pt.cpu);
        return;
    }
    if (!c->cpu.gbpages) {
        sb_printf(notes,
                  "cpu %s has no pdpe1gb (CPUID.80000001H:EDX[26]): PS in a PDPTE is a reserved "
                  "bit, so KVM's software walker faults on every 1 GiB leaf\n",
                  o->pt.cpu);
        return;
    }
    sb_printf(notes,
              "cpu %s has pdpe1gb: 1 GiB leaves are valid in this model's view. Offline the host "
              "is unknown; a KVM that cannot give 1 GiB pages (the PVM host of spec/host.md) "
              "drops pdpe1gb and then faults on them: check there with 'kvmscope run --lint' or "
              "'kvmscope cpu %s'\n",
              o->pt.cpu, o->pt.cpu);
}

/* The CPU model's walk features; prints one error line. */
static int model_cpu(const struct lint_opts *o, struct pt_cpu *out)
{
    struct cpu_spec spec;
    char err[KS_ERR_LEN];

    if (cpu_spec_parse(o->pt.cpu, &spec, err)) {
        cli_error(CMD, "--cpu: %s", err);
        return CLI_USAGE;
    }
    if (spec.host_based) {
        cli_error(CMD,
                  "--cpu %s takes its CPUID from a live KVM; name a model such as Haswell or "
                  "Skylake-Server (or use 'kvmscope run --lint' on this host)",
                  o->pt.cpu);
        return CLI_USAGE;
    }
    /* Offline, the host is unknown: the model's view (what KVM gives when it can). */
    cpuid_pt_cpu(&spec.cpuid, true, out);
    if (spec.phys_bits)
        out->maxphyaddr = spec.phys_bits;
    if (o->pt.maxphyaddr >= 0)
        out->maxphyaddr = (unsigned)o->pt.maxphyaddr;
    if (o->pt.gbpages >= 0)
        out->gbpages = o->pt.gbpages;
    if (o->pt.amd)
        out->amd = true;
    return CLI_OK;
}

/* Offline artifacts -> context; the register flags override the dump. */
static int offline_ctx(const struct lint_opts *o, struct offline *off, struct pt_ctx *c,
                       struct strbuf *notes)
{
    char err[KS_ERR_LEN];
    int rc;

    if (offline_load(&o->in, off, err) < 0) {
        cli_error(CMD, "%s", err);
        return CLI_INPUT;
    }
    if (!(off->snap.have & SNAP_HAVE_MEM)) {
        cli_error(CMD, "no guest memory: give --dump CORE or --memory FILE[@BASE]");
        return CLI_USAGE;
    }
    if (!(off->snap.have & SNAP_HAVE_CRS) && !(o->given & G_CR3)) {
        cli_error(CMD, "no control registers in the inputs: give --regs FILE or --cr3 X "
                       "(--cr0/--cr4/--efer default to 4-level paging)");
        return CLI_USAGE;
    }
    sb_puts(notes, off->notes);
    snapshot_pt_ctx(&off->snap, c);
    if (!(off->snap.have & SNAP_HAVE_CRS)) {
        c->cr0 = o->pt.cr0;
        c->cr4 = o->pt.cr4;
        c->efer = o->pt.efer;
    }
    if (o->given & G_CR0)
        c->cr0 = o->pt.cr0;
    if (o->given & G_CR3)
        c->cr3 = o->pt.cr3;
    if (o->given & G_CR4)
        c->cr4 = o->pt.cr4;
    if (o->given & G_EFER)
        c->efer = o->pt.efer;
    else if ((off->snap.have & SNAP_EFER_INFERRED) && pt_mode_of(c) != PT_MODE_NONE)
        sb_puts(notes, "EFER was not in the inputs and is inferred with NXE=0: if the guest "
                       "set EFER.NXE, bit-63 (XD) findings are false; give --efer (or --regs "
                       "with QEMU's EFER= line)\n");
    rc = model_cpu(o, &c->cpu);
    if (rc)
        return rc;
    if (pt_ctx_check(c)) {
        cli_error(CMD,
                  "impossible paging state CR0 0x%llx CR4 0x%llx EFER 0x%llx (KVM would refuse "
                  "it)",
                  (unsigned long long)c->cr0, (unsigned long long)c->cr4,
                  (unsigned long long)c->efer);
        return CLI_INPUT;
    }
    return CLI_OK;
}

/* Where the root table (or the PAE PDPT) lives, and how many bytes of it matter. */
static bool root_backed(const struct gmem *m, const struct pt_ctx *c)
{
    switch (pt_mode_of(c)) {
    case PT_MODE_NONE:
        return true;
    case PT_MODE_PAE:
        return gmem_ptr(m, c->cr3 & 0xffffffe0ULL, 32) != NULL;
    case PT_MODE_32:
        return gmem_ptr(m, c->cr3 & 0xfffff000ULL, 4096) != NULL;
    default:
        return gmem_ptr(m, c->cr3 & KS_BITS(12, 51), 4096) != NULL;
    }
}

/* ptcli_ctx's "note: ..." lines, without their prefix (print_notes adds it back). */
static void add_ptcli_notes(const char *pn, struct strbuf *notes)
{
    while (*pn) {
        const char *nl = strchr(pn, '\n');
        size_t n = nl ? (size_t)(nl - pn) : strlen(pn);

        if (!strncmp(pn, "note: ", 6)) {
            pn += 6;
            n -= 6;
        }
        if (n)
            sb_printf(notes, "%.*s\n", (int)n, pn);
        pn += n + (nl ? 1 : 0);
    }
}

static void print_notes(const char *notes, bool json, struct strbuf *out)
{
    bool first = true;
    const char *p = notes;

    if (json)
        sb_puts(out, "[");
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);

        if (n && json) {
            char line[1024];

            snprintf(line, sizeof(line), "%.*s", (int)n, p);
            sb_puts(out, first ? "" : ",");
            sb_json_str(out, line);
            first = false;
        } else if (n) {
            sb_printf(out, "note: %.*s\n", (int)n, p);
        }
        p += n + (nl ? 1 : 0);
    }
    if (json)
        sb_puts(out, "]");
}

static int lint_and_report(const struct lint_opts *o, const struct gmem *m, const struct pt_ctx *c,
                           const char *source, struct strbuf *notes)
{
    struct lint_result r;
    struct strbuf out;
    char desc[512];
    int rc, status;

    if (!root_backed(m, c)) {
        cli_error(CMD, "CR3 0x%llx: the top-level table is outside the guest memory given",
                  (unsigned long long)c->cr3);
        return CLI_INPUT;
    }
    if (pt_mode_of(c) == PT_MODE_NONE)
        sb_puts(notes, "paging is off (CR0.PG=0): there are no page tables to lint\n");
    model_note(o, c, notes);
    rc = lint_scan(m, c, &r);
    if (rc) {
        lint_free(&r);
        if (rc == -ENOMEM) {
            cli_error(CMD, "out of memory");
            return CLI_HOST;
        }
        cli_error(CMD,
                  "PAE PDPTEs at CR3 0x%llx are unreadable or have reserved bits (the MOV "
                  "to CR3 would #GP)",
                  (unsigned long long)c->cr3);
        return CLI_INPUT;
    }
    sb_init(&out);
    if (o->pt.json) {
        sb_puts(&out, "{\"source\":");
        sb_json_str(&out, source);
        sb_puts(&out, ",\"cpu_model\":");
        sb_json_str(&out, o->pt.cpu);
        sb_puts(&out, ",\"notes\":");
        print_notes(sb_str(notes), true, &out);
        sb_puts(&out, ",\"lint\":");
        lint_json(&r, &out);
        sb_puts(&out, "}\n");
    } else {
        ptcli_describe(c, o->pt.cpu, desc, sizeof(desc));
        sb_printf(&out, "lint: %s: %s\n", source, desc);
        print_notes(sb_str(notes), false, &out);
        lint_text(&r, "", &out);
    }
    fputs(sb_str(&out), stdout);
    status = out.oom ? CLI_HOST : lint_total(&r) ? CLI_FOUND : CLI_OK;
    sb_free(&out);
    lint_free(&r);
    return status;
}

int cmd_lint(int argc, char **argv)
{
    struct lint_opts o;
    struct strbuf notes;
    int rc;

    rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    sb_init(&notes);
    if (o.pt.image) {
        struct ptcli_image img;
        struct pt_ctx c;

        rc = ptcli_image_open(CMD, o.pt.image, &img);
        if (rc)
            goto out;
        char pn[1024];

        rc = ptcli_ctx(CMD, &o.pt, &img, &c, pn, sizeof(pn));
        if (!rc)
            rc = model_cpu(&o, &c.cpu);
        if (!rc)
            add_ptcli_notes(pn, &notes);
        if (!rc)
            rc = lint_and_report(&o, &img.mem, &c, "raw image", &notes);
        ptcli_image_close(&img);
    } else {
        struct offline *off = calloc(1, sizeof(*off));
        struct pt_ctx c;

        if (!off) {
            cli_error(CMD, "out of memory");
            rc = CLI_HOST;
            goto out;
        }
        rc = offline_ctx(&o, off, &c, &notes);
        if (!rc)
            rc = lint_and_report(&o, off->snap.mem, &c,
                                 o.in.core_path ? "dump-guest-memory core" : "raw memory image",
                                 &notes);
        offline_close(off);
        free(off);
    }
out:
    sb_free(&notes);
    return rc;
}
