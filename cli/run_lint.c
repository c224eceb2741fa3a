/*
 * `kvmscope run --lint` (docs/lint.md). KVM does not exit to userspace on a
 * MOV to CR3, but KVM_CAP_SYNC_REGS hands the VMM CR0/CR3/CR4/EFER with every
 * exit for free, so a paging watch (vmm_watch_paging) sees the first exit
 * after the guest's first CR3 load: the first exit with CR0.PG=1 and a CR3
 * other than the boot state's (any CR3 when the guest booted with paging
 * off). The lint runs there once, the watch removes itself, and the run loop
 * is back to its one branch per exit. The second lint runs at the outcome.
 */
#include "run_lint.h"

#include "lint.h"

#include "ks/cpumodel.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 2

struct lint_point {
    char at[32];     /* "first_cr3_load" or "exit" */
    char detail[64]; /* exit number or outcome */
    struct lint_result r;
    bool ok; /* the scan ran (false: impossible state, no memory) */
};

struct run_lint {
    struct vmm *vm;
    FILE *err;
    uint64_t boot_cr3;
    bool boot_paging;
    char note[512];
    unsigned npoints;
    struct lint_point p[MAX_POINTS];
};

bool run_lint_parse(const char *arg, enum run_lint_mode *out)
{
    if (!arg)
        *out = RUN_LINT_ON;
    else if (!strcmp(arg, "strict"))
        *out = RUN_LINT_STRICT;
    else
        return false;
    return true;
}

/*
 * The 1 GiB-page question, answered for this host: the model's CPUID says
 * whether the guest was promised pdpe1gb, vmm_host_gbpages whether this KVM
 * can deliver it at all (spec/paging.md §2.6, spec/host.md).
 */
static void gbpages_note(struct run_lint *rl, const char *cpu)
{
    struct cpu_spec *spec = calloc(1, sizeof(*spec));
    char err[KS_ERR_LEN];
    struct pt_cpu eff;
    bool model, host = vmm_host_gbpages(rl->vm);

    vmm_pt_cpu(rl->vm, &eff);
    model = host;
    if (spec && !cpu_spec_parse(cpu, spec, err) && !spec->host_based)
        model = cpuid_has(&spec->cpuid, cpu_feature_find("pdpe1gb"));
    free(spec);
    if (eff.gbpages)
        snprintf(rl->note, sizeof(rl->note),
                 "cpu %s: 1 GiB pages are valid (the model has pdpe1gb and this host's KVM "
                 "gives them)",
                 cpu);
    else if (model && !host)
        snprintf(rl->note, sizeof(rl->note),
                 "cpu %s has pdpe1gb, but THIS host's KVM cannot give 1 GiB pages at all "
                 "(pdpe1gb is not in KVM_GET_SUPPORTED_CPUID): PS in a PDPTE is reserved for "
                 "this vCPU whatever the model says",
                 cpu);
    else
        snprintf(rl->note, sizeof(rl->note),
                 "cpu %s has no pdpe1gb: PS in a PDPTE is reserved for this vCPU%s", cpu,
                 host ? "" : " (and this host's KVM could not give 1 GiB pages anyway)");
}

static void lint_now(struct run_lint *rl, const struct pt_ctx *c, const char *at,
                     const char *detail)
{
    struct lint_point *p;
    struct strbuf sb;
    const struct gmem *m = vmm_gmem(rl->vm);

    if (rl->npoints == MAX_POINTS)
        return;
    p = &rl->p[rl->npoints++];
    snprintf(p->at, sizeof(p->at), "%s", at);
    snprintf(p->detail, sizeof(p->detail), "%s", detail);
    p->ok = lint_scan(m, c, &p->r) == 0;
    sb_init(&sb);
    sb_printf(&sb, "lint: at %s (%s): %s paging, CR3 0x%" PRIx64 "\n", at, detail,
              pt_mode_name(pt_mode_of(c)), c->cr3);
    if (!p->ok)
        sb_puts(&sb, "lint: the paging state could not be scanned (PAE PDPTEs unreadable or "
                     "invalid, or out of memory)\n");
    else if (pt_mode_of(c) == PT_MODE_NONE)
        sb_puts(&sb, "lint: paging is off: no page tables to lint\n");
    else {
        sb_printf(&sb, "lint: %s\n", rl->note);
        lint_text(&p->r, "lint: ", &sb);
    }
    fputs(sb_str(&sb), rl->err);
    fflush(rl->err);
    sb_free(&sb);
}

static bool on_exit_paging(void *opaque, const struct pt_ctx *c)
{
    struct run_lint *rl = opaque;
    char detail[64];

    if (!(c->cr0 & X86_CR0_PG) || (rl->boot_paging && c->cr3 == rl->boot_cr3))
        return false;
    snprintf(detail, sizeof(detail), "exit %" PRIu64 ", rip 0x%" PRIx64, vmm_trace_total(rl->vm),
             vmm_rip(rl->vm));
    lint_now(rl, c, "first_cr3_load", detail);
    return true;
}

struct run_lint *run_lint_start(struct vmm *vm, const char *cpu, FILE *err)
{
    struct run_lint *rl = calloc(1, sizeof(*rl));
    struct pt_ctx c;

    if (!rl)
        return NULL;
    rl->vm = vm;
    rl->err = err;
    vmm_pt_ctx(vm, &c);
    rl->boot_paging = c.cr0 & X86_CR0_PG;
    rl->boot_cr3 = c.cr3;
    gbpages_note(rl, cpu ? cpu : "qemu64");
    vmm_watch_paging(vm, on_exit_paging, rl);
    return rl;
}

void run_lint_final(struct run_lint *rl, const char *outcome)
{
    struct pt_ctx c;

    vmm_watch_paging(rl->vm, NULL, NULL);
    vmm_pt_ctx(rl->vm, &c);
    lint_now(rl, &c, "exit", outcome);
}

unsigned run_lint_findings(const struct run_lint *rl)
{
    unsigned n = 0;

    for (unsigned i = 0; i < rl->npoints; i++)
        n += rl->p[i].ok ? lint_total(&rl->p[i].r) : 0;
    return n;
}

void run_lint_json(const struct run_lint *rl, struct strbuf *sb)
{
    sb_putc(sb, '[');
    for (unsigned i = 0; i < rl->npoints; i++) {
        const struct lint_point *p = &rl->p[i];

        sb_printf(sb, "%s{\"at\":\"%s\",\"detail\":", i ? "," : "", p->at);
        sb_json_str(sb, p->detail);
        sb_puts(sb, ",\"note\":");
        sb_json_str(sb, rl->note);
        sb_puts(sb, ",\"result\":");
        if (p->ok)
            lint_json(&p->r, sb);
        else
            sb_puts(sb, "null");
        sb_putc(sb, '}');
    }
    sb_putc(sb, ']');
}

void run_lint_free(struct run_lint *rl)
{
    if (!rl)
        return;
    for (unsigned i = 0; i < rl->npoints; i++)
        lint_free(&rl->p[i].r);
    free(rl);
}
