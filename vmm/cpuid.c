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

static const struct cpuid_entry *find(const struct cpuid_table *t, uint32_t fn, uint32_t idx)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->e[i].function == fn && t->e[i].index == idx)
            return &t->e[i];
    return NULL;
}

/* Whether the host's KVM offers 1 GiB pages at all (KVM caps = supported CPUID). */
static bool host_gbpages(const struct vmm *vm)
{
    const struct cpuid_entry *e = find(&vm->supported, 0x80000001, 0);

    return e && (e->reg[CPUID_EDX] & (1u << 26));
}

/*
 * What KVM's walker uses (spec/paging.md §2.6): MAXPHYADDR from leaf
 * 0x80000008 (36 without it), GBPAGES = guest CPUID AND KVM's caps (kernels
 * >= 6.14, and the shadow-paging case before), the AMD-compatible flag from
 * the vendor string (KVM is_amd_compatible()).
 */
static void compute_pt_cpu(struct vmm *vm)
{
    const struct cpuid_entry *l0 = find(&vm->cpuid, 0, 0);
    const struct cpuid_entry *x0 = find(&vm->cpuid, 0x80000000, 0);
    const struct cpuid_entry *x1 = find(&vm->cpuid, 0x80000001, 0);
    const struct cpuid_entry *x8 = find(&vm->cpuid, 0x80000008, 0);

    vm->pt_cpu.maxphyaddr = 36;
    if (x0 && x0->reg[CPUID_EAX] >= 0x80000008 && x8 && (x8->reg[CPUID_EAX] & 0xff))
        vm->pt_cpu.maxphyaddr = x8->reg[CPUID_EAX] & 0xff;
    vm->pt_cpu.gbpages = x1 && (x1->reg[CPUID_EDX] & (1u << 26)) && host_gbpages(vm);
    vm->pt_cpu.amd = false;
    if (l0) {
        /* Vendor string order is EBX, EDX, ECX. */
        char v[13];

        memcpy(v, &l0->reg[CPUID_EBX], 4);
        memcpy(v + 4, &l0->reg[CPUID_EDX], 4);
        memcpy(v + 8, &l0->reg[CPUID_ECX], 4);
        v[12] = '\0';
        vm->pt_cpu.amd = !strcmp(v, "AuthenticAMD") || !strcmp(v, "HygonGenuine");
    }
}

int vmm_setup_cpuid(struct vmm *vm, const char *cpu, char err[KS_ERR_LEN])
{
    int rc = get_supported(vm, err);

    if (rc)
        return rc;
    snprintf(vm->cpu_name, sizeof(vm->cpu_name), "%s", cpu ? cpu : "host");
    vm->cpuid = vm->supported;
    rc = install(vm, err);
    if (rc)
        return rc;
    compute_pt_cpu(vm);
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
