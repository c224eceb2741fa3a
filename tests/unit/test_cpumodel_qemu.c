/*
 * Our CPU models against the installed QEMU's own definitions: for every
 * named model, QMP query-cpu-model-expansion (type full) must agree with our
 * table on every feature we know, and on vendor, family, model, stepping,
 * level, xlevel and brand string.
 *
 * With -accel kvm QEMU applies its KVM defaults (x2apic on, svm/monitor/acpi
 * off) exactly as our tables do, but advertises the host's vendor for every
 * model; with -accel tcg (no /dev/kvm) the accelerator-dependent features are
 * skipped instead. SKIPs when qemu-system-x86_64 is not installed.
 */
#include "harness.h"

#include "ks/cpumodel.h"

#include <stdlib.h>
#include <unistd.h>

static char *qmp_out;

/* Run QEMU once with one expansion query per model; keep its stdout. */
static bool run_qemu(const char *accel, const struct cpu_model *m, unsigned n)
{
    char path[] = "/tmp/ks-qmp-XXXXXX", cmd[256];
    size_t cap = 1 << 20, len = 0;
    FILE *f, *p;
    int fd = mkstemp(path);

    if (fd < 0 || !(f = fdopen(fd, "w")))
        return false;
    fprintf(f, "{\"execute\":\"qmp_capabilities\"}\n");
    for (unsigned i = 0; i < n; i++)
        if (!m[i].host_based)
            fprintf(f,
                    "{\"execute\":\"query-cpu-model-expansion\",\"arguments\":{\"type\":\"full\","
                    "\"model\":{\"name\":\"%s\"}}}\n",
                    m[i].name);
    fprintf(f, "{\"execute\":\"quit\"}\n");
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "timeout 60 qemu-system-x86_64 -machine none -accel %s -nodefaults -display none "
             "-qmp stdio <%s 2>/dev/null",
             accel, path);
    p = popen(cmd, "r");
    free(qmp_out);
    qmp_out = malloc(cap);
    if (!p || !qmp_out) {
        unlink(path);
        return false;
    }
    while (len + 1 < cap) {
        size_t got = fread(qmp_out + len, 1, cap - len - 1, p);
        if (!got)
            break;
        len += got;
    }
    qmp_out[len] = '\0';
    pclose(p);
    unlink(path);
    return strstr(qmp_out, "\"props\"") != NULL;
}

/* The expansion line of the i-th queried model (lines with "props", in order), copied. */
static char *expansion(unsigned i)
{
    static char *line;
    const char *p = qmp_out;

    for (;;) {
        const char *props = strstr(p, "\"props\""), *start, *end;

        if (!props)
            return NULL;
        end = strchr(props, '\n');
        if (!end)
            end = props + strlen(props);
        if (!i--) {
            start = props;
            while (start > qmp_out && start[-1] != '\n')
                start--;
            free(line);
            line = strndup(start, (size_t)(end - start));
            return line;
        }
        p = end;
    }
}

/* "name": true|false in (props); -1 when QEMU does not know the name. */
static int prop_bool(const char *props, const char *name)
{
    char key[96];

    snprintf(key, sizeof(key), "\"%s\": true", name);
    if (strstr(props, key))
        return 1;
    snprintf(key, sizeof(key), "\"%s\": false", name);
    return strstr(props, key) ? 0 : -1;
}

/* "key": number, or "key": "string" in (props). */
static bool prop_num(const char *props, const char *key, unsigned v)
{
    char pat[96];

    snprintf(pat, sizeof(pat), "\"%s\": %u,", key, v);
    return strstr(props, pat) != NULL;
}

static bool prop_str(const char *props, const char *key, const char *v)
{
    char pat[160];

    snprintf(pat, sizeof(pat), "\"%s\": \"%s\"", key, v);
    return strstr(props, pat) != NULL;
}

static void compare(bool kvm)
{
    unsigned n, nf, q = 0, checked = 0;
    const struct cpu_model *m = cpu_models(&n);
    const struct cpu_feature *f = cpu_features(&nf);
    /* Features whose value depends on the accelerator (kvm_default_props, tcg_default_props). */
    static const char *const accel_dep[] = {"vme",     "x2apic", "svm",
                                            "monitor", "acpi",   "hypervisor"};

    for (unsigned i = 0; i < n; i++) {
        struct cpu_spec s;
        char err[KS_ERR_LEN];
        char *props;

        if (m[i].host_based)
            continue;
        props = expansion(q++);
        if (!props || cpu_spec_parse(m[i].name, &s, err)) {
            printf("  %s: no expansion from QEMU\n", m[i].name);
            t_case_failed = 1;
            continue;
        }
        for (unsigned j = 0; j < nf; j++) {
            int v = prop_bool(props, f[j].name);
            bool skip = false;

            for (size_t k = 0; !kvm && k < KS_ARRAY_SIZE(accel_dep); k++)
                skip |= !strcmp(f[j].name, accel_dep[k]);
            if (v < 0 || skip)
                continue; /* e.g. osxsave/ospke are not properties in QEMU */
            checked++;
            if (v != cpuid_has(&s.cpuid, &f[j])) {
                printf("  %s: feature %s is %s in QEMU, %s here\n", m[i].name, f[j].name,
                       v ? "on" : "off", v ? "off" : "on");
                t_case_failed = 1;
            }
        }
        if (!kvm && !prop_str(props, "vendor", m[i].vendor)) {
            printf("  %s: vendor differs\n", m[i].name);
            t_case_failed = 1;
        }
        if (!prop_num(props, "family", m[i].family) || !prop_num(props, "model", m[i].model) ||
            !prop_num(props, "stepping", m[i].stepping) || !prop_num(props, "level", m[i].level) ||
            !prop_num(props, "xlevel", m[i].xlevel) ||
            !prop_str(props, "model-id", m[i].model_id)) {
            printf("  %s: family/stepping/level/xlevel/model-id differ\n", m[i].name);
            t_case_failed = 1;
        }
    }
    if (checked <= 9 * 120) {
        printf("  only %u feature values compared (%u models)\n", checked, q);
        t_case_failed = 1;
    }
}

static bool have_qemu(void)
{
    return system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0;
}

static void models_match_qemu_kvm(void)
{
    unsigned n;
    const struct cpu_model *m = cpu_models(&n);

    if (!have_qemu())
        SKIP("qemu-system-x86_64 not installed");
    if (access("/dev/kvm", R_OK | W_OK))
        SKIP("no /dev/kvm");

    if (!run_qemu("kvm", m, n))
        SKIP("QEMU with -accel kvm gave no expansion");
    compare(true);
}

static void models_match_qemu_tcg(void)
{
    unsigned n;
    const struct cpu_model *m = cpu_models(&n);

    if (!have_qemu())
        SKIP("qemu-system-x86_64 not installed");
    if (!run_qemu("tcg", m, n)) {
        printf("  QEMU gave no expansion:\n%.400s\n", qmp_out ? qmp_out : "");
        t_case_failed = 1;
        return;
    }
    compare(false);
}

int main(void)
{
    RUN(models_match_qemu_kvm);
    RUN(models_match_qemu_tcg);
    free(qmp_out);
    return t_done();
}
