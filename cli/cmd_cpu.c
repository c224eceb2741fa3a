/*
 * `kvmscope cpu --list` and `kvmscope cpu MODEL[,changes]`: the QEMU CPU
 * models, and for one of them what this host's KVM makes of it (the table
 * the VMM installs with KVM_SET_CPUID2, and the walk features KVM uses).
 */
#include "cli.h"

#include "ks/cpumodel.h"
#include "ks/strbuf.h"
#include "ks/vmm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "cpu"

static void usage(FILE *f)
{
    fprintf(f, "usage: kvmscope cpu --list\n"
               "       kvmscope cpu [--all] [--json] MODEL[,+feat][,-feat][,feat=on|off]\n"
               "  the model's features, what this host's KVM offers, and what a guest gets\n");
}

static int list_models(void)
{
    unsigned n;
    const struct cpu_model *m = cpu_models(&n);

    for (unsigned i = 0; i < n; i++)
        printf("%-16s %-13s %s\n", m[i].name, m[i].host_based ? "(host)" : m[i].vendor,
               m[i].model_id ? m[i].model_id : "");
    return CLI_OK;
}

/* The consequence the VMM reported for (f), or NULL when nothing was lost. */
static const char *lost(const char *const *lines, unsigned n, const struct cpu_feature *f)
{
    size_t len = strlen(f->name);

    for (unsigned i = 0; i < n; i++)
        if (!strncmp(lines[i], f->name, len) && lines[i][len] == ':')
            return lines[i] + len + 2;
    return NULL;
}

static int show(const char *spec_arg, bool all, bool json)
{
    struct vmm_config cfg = {.ram_size = 2 << 20, .cpu = spec_arg, .trace_ring = 1};
    struct cpu_spec *spec = malloc(sizeof(*spec));
    const struct cpu_feature *fs;
    const char *const *lines;
    char err[KS_ERR_LEN];
    struct strbuf sb;
    struct vmm *vm;
    struct pt_cpu pc;
    unsigned nf, nl;
    bool first = true;
    int rc;

    if (!spec)
        return CLI_HOST;
    if (cpu_spec_parse(spec_arg, spec, err)) {
        cli_error(CMD, "%s", err);
        free(spec);
        return CLI_USAGE;
    }
    rc = vmm_create(&cfg, &vm, err);
    if (rc) {
        cli_error(CMD, "%s", err);
        free(spec);
        return CLI_HOST;
    }
    if (spec->host_based)
        spec->cpuid = *vmm_supported_cpuid(vm);
    fs = cpu_features(&nf);
    nl = vmm_cpuid_report(vm, &lines);
    vmm_pt_cpu(vm, &pc);
    sb_init(&sb);
    if (json) {
        sb_puts(&sb, "{\"model\":");
        sb_json_str(&sb, spec_arg);
        sb_printf(&sb,
                  ",\"effective\":{\"maxphyaddr\":%u,\"gbpages\":%s,\"amd\":%s},\"features\":[",
                  pc.maxphyaddr, pc.gbpages ? "true" : "false", pc.amd ? "true" : "false");
    } else {
        sb_printf(&sb, "%-18s %-5s %-5s %-9s %s\n", "feature", "model", "KVM", "effective",
                  "what / consequence");
    }
    for (unsigned i = 0; i < nf; i++) {
        const struct cpu_feature *f = &fs[i];
        bool want = cpuid_has(&spec->cpuid, f);
        bool offer = cpuid_has(vmm_supported_cpuid(vm), f);
        bool eff = cpuid_has(vmm_cpuid(vm), f);
        const char *why = lost(lines, nl, f);

        for (unsigned k = 0; k < spec->n_on && !want; k++)
            want = spec->on[k] == f;
        if (!all && !want && !eff)
            continue;
        if (json) {
            sb_printf(&sb, "%s{\"name\":", first ? "" : ",");
            sb_json_str(&sb, f->name);
            sb_printf(&sb, ",\"model\":%s,\"kvm\":%s,\"effective\":%s,\"what\":",
                      want ? "true" : "false", offer ? "true" : "false", eff ? "true" : "false");
            sb_json_str(&sb, f->what);
            if (why) {
                sb_puts(&sb, ",\"consequence\":");
                sb_json_str(&sb, why);
            }
            sb_putc(&sb, '}');
        } else {
            sb_printf(&sb, "%-18s %-5s %-5s %-9s %s\n", f->name, want ? "yes" : "-",
                      offer ? "yes" : "-", eff ? "yes" : "-", why ? why : f->what);
        }
        first = false;
    }
    if (json) {
        sb_puts(&sb, "]}\n");
    } else {
        sb_printf(&sb,
                  "\nKVM's page walker for this vCPU: MAXPHYADDR %u, 1 GiB pages %s, "
                  "AMD-compatible %s\n",
                  pc.maxphyaddr, pc.gbpages ? "yes" : "no", pc.amd ? "yes" : "no");
        if (nl)
            sb_printf(&sb, "%u requested feature%s this host's KVM cannot give.\n", nl,
                      nl == 1 ? "" : "s");
    }
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
    vmm_destroy(vm);
    free(spec);
    return CLI_OK;
}

int cmd_cpu(int argc, char **argv)
{
    const char *model = NULL;
    bool all = false, json = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            return list_models();
        } else if (!strcmp(argv[i], "--all")) {
            all = true;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return CLI_OK;
        } else if (argv[i][0] == '-' || model) {
            cli_error(CMD, "unexpected argument '%s'", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else {
            model = argv[i];
        }
    }
    if (!model) {
        usage(stderr);
        return CLI_USAGE;
    }
    return show(model, all, json);
}
