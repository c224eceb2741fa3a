/*
 * The paging watch behind `run --lint` (docs/lint.md): the paging state of
 * every exit, from the registers KVM_CAP_SYNC_REGS already copied into the
 * kvm_run page, handed to a callback until it has seen what it waits for.
 */
#include "vmm_int.h"

#include <string.h>

void vmm_watch_paging(struct vmm *vm, vmm_paging_fn fn, void *opaque)
{
    vm->paging_fn = fn;
    vm->paging_opaque = opaque;
}

void vmm_pt_ctx(const struct vmm *vm, struct pt_ctx *out)
{
    const struct kvm_sregs *sr = vmm_sregs_const(vm);

    memset(out, 0, sizeof(*out));
    out->cr0 = sr->cr0;
    out->cr3 = sr->cr3;
    out->cr4 = sr->cr4;
    out->efer = sr->efer;
    out->rflags = vmm_regs_const(vm)->rflags;
    out->cpu = vm->pt_cpu;
}

bool vmm_host_gbpages(const struct vmm *vm)
{
    return cpuid_has(&vm->supported, cpu_feature_find("pdpe1gb"));
}

void vmm_paging_watch_exit(struct vmm *vm)
{
    struct pt_ctx c;

    vmm_pt_ctx(vm, &c);
    if (vm->paging_fn(vm->paging_opaque, &c))
        vm->paging_fn = NULL;
}
