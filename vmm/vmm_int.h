/*
 * VMM internals shared by the vmm/ sources (and the GDB target, vmm/gdb_...).
 * Not a public interface: everything outside vmm/ uses include/ks/vmm.h.
 */
#ifndef KS_VMM_INT_H
#define KS_VMM_INT_H

#include "ks/vmm.h"

#include <linux/kvm.h>
#include <pthread.h>

struct io_range {
    uint64_t base, len;
    vmm_io_fn fn;
    void *opaque;
};

/* A sorted, non-overlapping table of ranges; looked up by binary search. */
struct io_table {
    struct io_range *r;
    unsigned n, cap;
};

struct destroy_hook {
    void (*fn)(void *opaque);
    void *opaque;
};

#define VMM_MAX_REPORT 32

/*
 * The last instruction-fetch translation of the trace, reused while the
 * paging registers, the access and every entry of the walk are unchanged
 * (so it gives exactly what a new walk would give, for 4 reads instead of
 * a walk on every exit).
 */
struct fetch_cache {
    bool valid;
    uint64_t cr0, cr3, cr4, efer;
    uint32_t access;
    uint64_t va_page, gpa_page;
    unsigned nlevels, entry_size;
    uint64_t entry_gpa[5], entry[5];
};

struct vmm {
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    bool sync_regs; /* KVM_CAP_SYNC_REGS with regs+sregs+events */
    bool strict;
    bool irqchip;

    uint8_t *ram; /* one anonymous mapping of ram_size bytes */
    uint64_t ram_size;
    struct gmem gmem;

    /* Register cache when sync regs are unavailable or before the first run. */
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    bool state_dirty; /* regs/sregs must be loaded before the next KVM_RUN */

    struct cpuid_table cpuid, supported;
    struct pt_cpu pt_cpu;
    char cpu_name[64];
    char *report[VMM_MAX_REPORT];
    unsigned nreport;

    struct io_table pio, mmio;
    struct destroy_hook *hooks;
    unsigned nhooks;

    /* Trace ring: (ring_mask + 1) records, a power of two. */
    struct vmm_trace_rec *ring;
    uint32_t ring_mask;
    uint64_t total;   /* records written */
    uint64_t flushed; /* records handed to the sink */
    vmm_trace_sink_fn sink;
    void *sink_opaque;
    uint64_t unhandled;

    struct fetch_cache fetch;

    /* `run --lint`: called after each exit until it returns true (vmm_watch_paging). */
    vmm_paging_fn paging_fn;
    void *paging_opaque;

    volatile int kicked;
    pthread_t thread; /* the thread inside vmm_run, for vmm_kick */
    volatile int running;
    struct vmm_exit last;
};

/* io.c */
int io_table_add(struct io_table *t, uint64_t base, uint64_t len, vmm_io_fn fn, void *opaque);
const struct io_range *io_table_find(const struct io_table *t, uint64_t addr);
void io_table_free(struct io_table *t);

/* cpuid.c: build and install the vCPU's CPUID. Returns 0 or -errno with (err). */
int vmm_setup_cpuid(struct vmm *vm, const char *cpu, char err[KS_ERR_LEN]);
void vmm_free_report(struct vmm *vm);

/* state.c: the vCPU registers, wherever they currently live. */
struct kvm_regs *vmm_regs(struct vmm *vm);
struct kvm_sregs *vmm_sregs(struct vmm *vm);
const struct kvm_regs *vmm_regs_const(const struct vmm *vm);
const struct kvm_sregs *vmm_sregs_const(const struct vmm *vm);
/* Read up to (len) instruction bytes at CS.base+RIP; returns the count read. */
unsigned vmm_fetch_insn(struct vmm *vm, uint8_t *buf, unsigned len);

/*
 * run.c: dispatch the exit described by vm->run (already recorded in rec).
 * Returns true when it ends vmm_run with (out) filled. Exposed for tests,
 * which fake exits this host's KVM never produces (string PIO with count > 1).
 */
bool vmm_handle_exit(struct vmm *vm, struct vmm_exit *out, struct vmm_trace_rec *rec);

/* paging_watch.c: hand the exit's paging state to vm->paging_fn (set: checked by the caller). */
void vmm_paging_watch_exit(struct vmm *vm);

/* trace.c */
int vmm_trace_init(struct vmm *vm, unsigned entries);
static inline struct vmm_trace_rec *vmm_trace_next(struct vmm *vm)
{
    if (ks_unlikely(vm->sink && vm->total - vm->flushed > vm->ring_mask))
        vmm_trace_flush(vm);
    return &vm->ring[vm->total++ & vm->ring_mask];
}

#endif
