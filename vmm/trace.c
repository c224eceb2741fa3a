/*
 * The exit trace ring and printable names.
 */
#include "vmm_int.h"

#include <errno.h>
#include <stdlib.h>

int vmm_trace_init(struct vmm *vm, unsigned entries)
{
    uint32_t n = 1;

    if (entries > (1u << 24))
        entries = 1u << 24;
    while (n < entries)
        n <<= 1;
    /* calloc of a large block is fresh zero pages: only the records written get touched. */
    vm->ring = calloc(n, sizeof(*vm->ring));
    if (!vm->ring)
        return -ENOMEM;
    vm->ring_mask = n - 1;
    return 0;
}

void vmm_trace_set_sink(struct vmm *vm, vmm_trace_sink_fn fn, void *opaque)
{
    vm->sink = fn;
    vm->sink_opaque = opaque;
    vm->flushed = vm->total;
}

void vmm_trace_flush(struct vmm *vm)
{
    uint64_t size = (uint64_t)vm->ring_mask + 1;

    if (!vm->sink)
        return;
    if (vm->total - vm->flushed > size) /* lost: cannot happen while the sink is set */
        vm->flushed = vm->total - size;
    while (vm->flushed < vm->total) {
        uint64_t start = vm->flushed & vm->ring_mask;
        uint64_t n = vm->total - vm->flushed;

        if (start + n > size)
            n = size - start;
        vm->sink(vm->sink_opaque, &vm->ring[start], (unsigned)n);
        vm->flushed += n;
    }
}

unsigned vmm_trace_last(const struct vmm *vm, struct vmm_trace_rec *out, unsigned n)
{
    uint64_t size = (uint64_t)vm->ring_mask + 1;
    uint64_t have = vm->total < size ? vm->total : size;
    uint64_t first;

    if (n > have)
        n = (unsigned)have;
    first = vm->total - n;
    for (unsigned i = 0; i < n; i++)
        out[i] = vm->ring[(first + i) & vm->ring_mask];
    return n;
}

uint64_t vmm_trace_total(const struct vmm *vm)
{
    return vm->total;
}

uint64_t vmm_unhandled_total(const struct vmm *vm)
{
    return vm->unhandled;
}

const char *vmm_outcome_name(enum vmm_outcome o)
{
    static const char *const names[] = {
        [VMM_OUT_DEBUG_EXIT] = "debug_exit",     [VMM_OUT_HALT] = "halt",
        [VMM_OUT_TRIPLE_FAULT] = "triple_fault", [VMM_OUT_INTERNAL_ERROR] = "internal_error",
        [VMM_OUT_FAIL_ENTRY] = "fail_entry",     [VMM_OUT_UNHANDLED_IO] = "unhandled_io",
        [VMM_OUT_TIMEOUT] = "timeout",           [VMM_OUT_DEBUG] = "debug",
        [VMM_OUT_INTERRUPTED] = "interrupted",   [VMM_OUT_HOST_ERROR] = "host_error",
    };

    if ((unsigned)o < KS_ARRAY_SIZE(names) && names[o])
        return names[o];
    return "unknown";
}

/* The names of include/uapi/linux/kvm.h, without the KVM_EXIT_ prefix. */
const char *vmm_exit_reason_name(uint32_t reason)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "EXCEPTION",
        [KVM_EXIT_IO] = "IO",
        [KVM_EXIT_HYPERCALL] = "HYPERCALL",
        [KVM_EXIT_DEBUG] = "DEBUG",
        [KVM_EXIT_HLT] = "HLT",
        [KVM_EXIT_MMIO] = "MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
        [KVM_EXIT_INTR] = "INTR",
        [KVM_EXIT_SET_TPR] = "SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
        [KVM_EXIT_S390_SIEIC] = "S390_SIEIC",
        [KVM_EXIT_S390_RESET] = "S390_RESET",
        [KVM_EXIT_DCR] = "DCR",
        [KVM_EXIT_NMI] = "NMI",
        [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
        [KVM_EXIT_OSI] = "OSI",
        [KVM_EXIT_PAPR_HCALL] = "PAPR_HCALL",
        [KVM_EXIT_S390_UCONTROL] = "S390_UCONTROL",
        [KVM_EXIT_WATCHDOG] = "WATCHDOG",
        [KVM_EXIT_S390_TSCH] = "S390_TSCH",
        [KVM_EXIT_EPR] = "EPR",
        [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
        [KVM_EXIT_S390_STSI] = "S390_STSI",
        [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
        [KVM_EXIT_HYPERV] = "HYPERV",
    };

    if (reason < KS_ARRAY_SIZE(names) && names[reason])
        return names[reason];
    return "OTHER";
}
