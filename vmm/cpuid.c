/*
 * The vCPU's CPUID, always installed with KVM_SET_CPUID2: on kernels >= 6.6
 * KVM latches features such as GBPAGES and the AMD-compatible flag only in
 * kvm_vcpu_after_set_cpuid(), so a VMM that never calls it gets a vCPU
 * whose walker differs from any real CPU (spec/paging.md §2.6).
 */
#include "vmm_int.h"

#include "ks/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static int get_supported(struct vmm *vm, char err[KS_ERR_LEN])
{
    struct {
        struct kvm_cpuid2 h;
        struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
    } buf;
    int rc;

    memset(&buf, 0, sizeof(buf));
    buf.h.nent = CPUID_MAX_ENTRIES;
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &buf) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-rc));
        return rc;
    }
    vm->supported.n = buf.h.nent;
    for (unsigned i = 0; i < buf.h.nent; i++) {
        const struct kvm_cpuid_entry2 *k = &buf.e[i];

        vm->supported.e[i] = (struct cpuid_entry){
            .function = k->function,
            .index = k->index,
            .flags = k->flags,
            .reg = {k->eax, k->ebx, k->ecx, k->edx},
        };
    }
    return 0;
}

static int install(struct vmm *vm, char err[KS_ERR_LEN])
{
    struct {
        struct kvm_cpuid2 h;
        struct kvm_cpuid_entry2 e[CPUID_MAX_ENTRIES];
    } buf;
    int rc;

    memset(&buf, 0, sizeof(buf));
    buf.h.nent = vm->cpuid.n;
    for (unsigned i = 0; i < vm->cpuid.n; i++) {
        const struct cpuid_entry *c = &vm->cpuid.e[i];

        buf.e[i] = (struct kvm_cpuid_entry2){
            .function = c->function,
            .index = c->index,
            .flags = c->flags,
            .eax = c->reg[CPUID_EAX],
            .ebx = c->reg[CPUID_EBX],
            .ecx = c->reg[CPUID_ECX],
            .edx = c->reg[CPUID_EDX],
        };
    }
    if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, &buf) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_SET_CPUID2: %s", strerror(-rc));
        return rc;
    }
    return 0;
}

/* Whether the host's KVM offers 1 GiB pages at all (its caps = the supported CPUID). */
static bool host_gbpages(const struct vmm *vm)
{
    return cpuid_has(&vm->supported, cpu_feature_find("pdpe1gb"));
}

/* What a guest loses without (f): the architectural consequence, for the report. */
static const char *consequence(const struct cpu_feature *f)
{
    static const struct {
        const char *name, *text;
    } c[] = {
        {"pdpe1gb", "a guest that maps them faults with P|RSVD (#PF error code 0x9)"},
        {"smep", "a guest that sets CR4.SMEP anyway should get #GP (some KVM hosts, such as PVM, "
                 "accept and enforce it)"},
        {"smap", "a guest that sets CR4.SMAP anyway gets #GP"},
        {"pku", "a guest that sets CR4.PKE anyway gets #GP"},
        {"la57", "a guest that sets CR4.LA57 anyway gets #GP; 5-level paging is unavailable"},
        {"nx", "a guest that sets EFER.NXE gets #GP, and bit 63 of its PTEs is reserved"},
        {"lm", "the guest cannot enter long mode (EFER.LME is reserved)"},
        {"pae", "the guest cannot use PAE or long-mode paging"},
        {"pse", "CR4.PSE and 4 MiB pages are unavailable"},
    };

    for (size_t i = 0; i < KS_ARRAY_SIZE(c); i++)
        if (!strcmp(f->name, c[i].name))
            return c[i].text;
    return "a guest that checks CPUID will not use it; one that uses it anyway may get #UD";
}

static void note_missing(struct vmm *vm, const struct cpu_feature *f)
{
    char line[320];

    for (unsigned i = 0; i < vm->nreport; i++)
        if (!strncmp(vm->report[i], f->name, strlen(f->name)) &&
            vm->report[i][strlen(f->name)] == ':')
            return;
    if (vm->nreport == VMM_MAX_REPORT)
        return;
    snprintf(line, sizeof(line), "%s: this host's KVM cannot offer %s; %s", f->name, f->what,
             consequence(f));
    vm->report[vm->nreport] = strdup(line);
    if (vm->report[vm->nreport])
        vm->nreport++;
}

/*
 * (model) AND (supported), feature by feature: every known feature bit the
 * model sets and KVM lacks is cleared and reported. Non-feature fields
 * (vendor, family, brand, leaf limits) are the model's, as in QEMU.
 */
static void intersect(struct vmm *vm, const struct cpu_spec *spec)
{
    unsigned nf;
    const struct cpu_feature *fs = cpu_features(&nf);
    const struct cpuid_entry *hx8 = cpuid_find_const(&vm->supported, 0x80000008, 0);
    struct cpuid_entry *x8 = cpuid_find(&vm->cpuid, 0x80000008, 0);

    for (unsigned i = 0; i < nf; i++) {
        if (cpuid_has(&vm->cpuid, &fs[i]) && !cpuid_has(&vm->supported, &fs[i])) {
            cpuid_set(&vm->cpuid, &fs[i], false);
            note_missing(vm, &fs[i]);
        }
    }
    /* Explicit +feat that the model table could not even hold (e.g. host-only leaves). */
    for (unsigned i = 0; i < spec->n_on; i++)
        if (!cpuid_has(&vm->supported, spec->on[i]))
            note_missing(vm, spec->on[i]);
    /* A guest MAXPHYADDR above the host's would let it use GPAs KVM cannot map. */
    if (x8 && hx8 && (x8->reg[CPUID_EAX] & 0xff) > (hx8->reg[CPUID_EAX] & 0xff))
        x8->reg[CPUID_EAX] = (x8->reg[CPUID_EAX] & ~0xffu) | (hx8->reg[CPUID_EAX] & 0xff);
    /* KVM's paravirtual signature leaves, which QEMU also passes to every KVM guest. */
    for (uint32_t fn = 0x40000000; fn <= 0x40000001; fn++) {
        const struct cpuid_entry *h = cpuid_find_const(&vm->supported, fn, 0);

        if (h && !cpuid_find_const(&vm->cpuid, fn, 0) && vm->cpuid.n < CPUID_MAX_ENTRIES)
            vm->cpuid.e[vm->cpuid.n++] = *h;
    }
}

/* "host"/"max": the supported table, then the explicit changes. */
static void host_table(struct vmm *vm, const struct cpu_spec *spec)
{
    vm->cpuid = vm->supported;
    for (unsigned i = 0; i < spec->n_on; i++) {
        if (cpuid_has(&vm->supported, spec->on[i]))
            cpuid_set(&vm->cpuid, spec->on[i], true);
        else
            note_missing(vm, spec->on[i]);
    }
    for (unsigned i = 0; i < spec->n_off; i++)
        cpuid_set(&vm->cpuid, spec->off[i], false);
}

int vmm_setup_cpuid(struct vmm *vm, const char *cpu, char err[KS_ERR_LEN])
{
    struct cpu_spec *spec;
    char perr[KS_ERR_LEN];
    int rc = get_supported(vm, err);

    if (rc)
        return rc;
    if (!cpu)
        cpu = "qemu64";
    snprintf(vm->cpu_name, sizeof(vm->cpu_name), "%s", cpu);
    spec = malloc(sizeof(*spec));
    if (!spec) {
        snprintf(err, KS_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    if (cpu_spec_parse(cpu, spec, perr)) {
        snprintf(err, KS_ERR_LEN, "--cpu %.64s: %.160s", cpu, perr);
        free(spec);
        return -EINVAL;
    }
    if (spec->host_based) {
        host_table(vm, spec);
    } else {
        vm->cpuid = spec->cpuid;
        intersect(vm, spec);
    }
    free(spec);
    rc = install(vm, err);
    if (rc)
        return rc;
    cpuid_pt_cpu(&vm->cpuid, host_gbpages(vm), &vm->pt_cpu);
    return 0;
}

void vmm_free_report(struct vmm *vm)
{
    for (unsigned i = 0; i < vm->nreport; i++)
        free(vm->report[i]);
    vm->nreport = 0;
}

const struct cpuid_table *vmm_cpuid(const struct vmm *vm)
{
    return &vm->cpuid;
}

const struct cpuid_table *vmm_supported_cpuid(const struct vmm *vm)
{
    return &vm->supported;
}

void vmm_pt_cpu(const struct vmm *vm, struct pt_cpu *out)
{
    *out = vm->pt_cpu;
}

unsigned vmm_cpuid_report(const struct vmm *vm, const char *const **lines)
{
    *lines = (const char *const *)vm->report;
    return vm->nreport;
}
