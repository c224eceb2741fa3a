/*
 * The VMM: the only module that talks to /dev/kvm.
 *
 * A struct vmm is one VM with one vCPU. Devices register port and MMIO
 * handlers explicitly; vmm_run() returns to the caller on every outcome that
 * needs a decision (it never exits the process), with a struct vmm_exit that
 * says what happened.
 */
#ifndef KS_VMM_H
#define KS_VMM_H

#include "ks/cpumodel.h"
#include "ks/gmem.h"
#include "ks/snapshot.h"
#include "ks/x86.h"

struct vmm;

struct vmm_config {
    uint64_t ram_size;    /* bytes; PC layout with the 640K-1M hole */
    const char *cpu;      /* QEMU -cpu syntax; NULL = "qemu64" */
    bool irqchip;         /* create KVM's in-kernel irqchip and PIT */
    unsigned trace_ring;  /* exits kept in the trace ring (0 = default) */
};

/* A request from a device handler (returned by vmm_io_fn). */
enum vmm_io_result {
    VMM_IO_OK = 0,
    VMM_IO_STOP = 1,     /* stop the run loop: vmm_run() returns VMM_OUT_DEBUG_EXIT */
    VMM_IO_UNHANDLED = 2,
};

/*
 * A port (is_mmio false) or MMIO handler. (data) holds (size) bytes: filled
 * by the handler on reads, read by it on writes. A handler that returns
 * VMM_IO_STOP sets (*stop_code) to the value the guest wrote.
 */
typedef int (*vmm_io_fn)(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                         uint64_t *stop_code);

enum vmm_outcome {
    VMM_OUT_DEBUG_EXIT,
    VMM_OUT_HALT,
    VMM_OUT_TRIPLE_FAULT,
    VMM_OUT_INTERNAL_ERROR,
    VMM_OUT_FAIL_ENTRY,
    VMM_OUT_UNHANDLED_IO,
    VMM_OUT_TIMEOUT,
    VMM_OUT_DEBUG,     /* KVM_EXIT_DEBUG (breakpoint, single-step, watchpoint) */
    VMM_OUT_INTERRUPTED, /* vmm_kick() or a signal */
    VMM_OUT_HOST_ERROR,
};

struct vmm_exit {
    enum vmm_outcome outcome;
    uint32_t kvm_reason;   /* raw KVM_EXIT_* */
    uint64_t code;         /* debug-exit value, fail-entry reason, ... */
    uint32_t suberror;     /* internal error */
    unsigned ndata;
    uint64_t data[16];
    /* unhandled I/O */
    bool io_is_mmio, io_write;
    uint64_t io_addr;
    unsigned io_size;
    uint64_t io_data;
    /* KVM_EXIT_DEBUG */
    uint32_t debug_exception;
    uint64_t debug_pc, debug_dr6, debug_dr7;
    int host_errno;
};

int vmm_create(const struct vmm_config *cfg, struct vmm **out, char err[KS_ERR_LEN]);
void vmm_destroy(struct vmm *vm);

/* Guest RAM, writable. Valid until vmm_destroy(). */
const struct gmem *vmm_gmem(const struct vmm *vm);

int vmm_register_pio(struct vmm *vm, uint16_t base, uint16_t len, vmm_io_fn fn, void *opaque);
int vmm_register_mmio(struct vmm *vm, gpa_t base, uint64_t len, vmm_io_fn fn, void *opaque);

int vmm_get_state(struct vmm *vm, struct x86_state *s);
int vmm_set_state(struct vmm *vm, const struct x86_state *s);

/* The CPUID installed with KVM_SET_CPUID2 and the walk features KVM derives from it. */
const struct cpuid_table *vmm_cpuid(const struct vmm *vm);
void vmm_pt_cpu(const struct vmm *vm, struct pt_cpu *out);

/* Run until an outcome; (timeout_ms) 0 = none. Returns 0 or -errno (host failure). */
int vmm_run(struct vmm *vm, unsigned timeout_ms, struct vmm_exit *out);

/* Fill (snap) from the stopped vCPU and guest memory. */
int vmm_snapshot(struct vmm *vm, struct snapshot *snap);

#endif
