/*
 * The VMM: the only module that talks to /dev/kvm.
 *
 * A struct vmm is one VM with one vCPU. Devices register port and MMIO
 * handlers explicitly (include/ks/vmm_dev.h); vmm_run() returns to the
 * caller on every outcome that needs a decision (it never exits the
 * process), with a struct vmm_exit that says what happened.
 *
 * Guest RAM uses the PC layout of QEMU's "pc" machine (hw/i386/pc_piix.c,
 * pc_memory_init): RAM at [0, 0xa0000) and [0x100000, low_end), where
 * low_end = min(ram_size, 3.5 GiB); the rest of RAM is relocated to
 * [4 GiB, 4 GiB + ram_size - low_end). The legacy hole [0xa0000, 0x100000)
 * is not RAM: 0xa0000-0xbffff is VGA MMIO, 0xc0000-0xfffff (option ROMs and
 * BIOS in QEMU) is unbacked here because there is no firmware.
 *
 * Costs (spec/host.md): every vCPU ioctl costs ~5 us on a PVM host, so the
 * run loop uses KVM_CAP_SYNC_REGS (regs, sregs and events come back in the
 * shared kvm_run page) and does no ioctl per exit besides KVM_RUN.
 */
#ifndef KS_VMM_H
#define KS_VMM_H

#include "ks/cpumodel.h"
#include "ks/gmem.h"
#include "ks/snapshot.h"
#include "ks/x86.h"

struct vmm;

/* Where the 640K-1M hole starts and ends, and where high RAM goes. */
#define VMM_LOWMEM_END     0xa0000ULL
#define VMM_HIGHMEM_START  0x100000ULL
#define VMM_BELOW_4G_MAX   0xe0000000ULL /* 3.5 GiB, QEMU pc's lowmem limit */
#define VMM_ABOVE_4G_START 0x100000000ULL

struct vmm_config {
    uint64_t ram_size;   /* bytes; PC layout with the 640K-1M hole; 0 = 128 MiB */
    const char *cpu;     /* QEMU -cpu syntax; NULL = "qemu64" */
    bool irqchip;        /* create KVM's in-kernel irqchip and PIT */
    unsigned trace_ring; /* exits kept in the trace ring, rounded up to a power of 2 (0 = 4096) */
    bool strict;         /* unhandled port/MMIO I/O stops vmm_run (VMM_OUT_UNHANDLED_IO) */
};

/* A request from a device handler (returned by vmm_io_fn). */
enum vmm_io_result {
    VMM_IO_OK = 0,
    VMM_IO_STOP = 1, /* stop the run loop: vmm_run() returns VMM_OUT_DEBUG_EXIT */
    VMM_IO_UNHANDLED = 2,
};

/*
 * A port (is_mmio false) or MMIO handler. (data) holds (size) bytes: filled
 * by the handler on reads, read by it on writes. A handler that returns
 * VMM_IO_STOP sets (*stop_code) to the value the guest wrote. (addr) is the
 * accessed port or GPA (not an offset). Handlers must accept any size 1..8
 * and any address inside their range: the guest is untrusted.
 */
typedef int (*vmm_io_fn)(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                         uint64_t *stop_code);

enum vmm_outcome {
    VMM_OUT_DEBUG_EXIT,
    VMM_OUT_HALT, /* HLT that nothing can wake (IF=0, or no interrupt source) */
    VMM_OUT_TRIPLE_FAULT,
    VMM_OUT_INTERNAL_ERROR, /* also unknown KVM exit reasons (suberror 0, see kvm_reason) */
    VMM_OUT_FAIL_ENTRY,
    VMM_OUT_UNHANDLED_IO,
    VMM_OUT_TIMEOUT,
    VMM_OUT_DEBUG,       /* KVM_EXIT_DEBUG (breakpoint, single-step, watchpoint) */
    VMM_OUT_INTERRUPTED, /* vmm_kick() */
    VMM_OUT_HOST_ERROR,
};

struct vmm_exit {
    enum vmm_outcome outcome;
    uint32_t kvm_reason; /* raw KVM_EXIT_* */
    uint64_t code;       /* debug-exit value, fail-entry reason, ... */
    uint32_t suberror;   /* internal error */
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
    /* KVM_EXIT_FAIL_ENTRY: the vCPU that failed (kvm_run.fail_entry.cpu) */
    uint32_t fail_entry_cpu;
};

/*
 * Open /dev/kvm, create the VM, its RAM, the vCPU and its CPUID. Host
 * problems produce a message saying what to do (no /dev/kvm, permission
 * denied, API version). Never checks CPU flags: PVM hosts have no vmx/svm.
 * Returns 0 or -errno with (err) filled; (*out) is NULL on failure.
 */
int vmm_create(const struct vmm_config *cfg, struct vmm **out, char err[KS_ERR_LEN]);
/* Close everything and unmap guest RAM. NULL is accepted. */
void vmm_destroy(struct vmm *vm);

/* Guest RAM, writable (one region per RAM range above). Valid until vmm_destroy(). */
const struct gmem *vmm_gmem(const struct vmm *vm);
/* The configured RAM size in bytes. */
uint64_t vmm_ram_size(const struct vmm *vm);

/*
 * Register a handler for ports [base, base+len) or GPAs [base, base+len).
 * Ranges must not overlap registered ones and must not be RAM (MMIO).
 * Returns 0, -EINVAL (empty, wrapping, overlapping) or -ENOMEM.
 */
int vmm_register_pio(struct vmm *vm, uint16_t base, uint16_t len, vmm_io_fn fn, void *opaque);
int vmm_register_mmio(struct vmm *vm, gpa_t base, uint64_t len, vmm_io_fn fn, void *opaque);
/*
 * Register (fn) to run when the VM is destroyed (devices free their state
 * there). Returns 0 or -ENOMEM.
 */
int vmm_on_destroy(struct vmm *vm, void (*fn)(void *opaque), void *opaque);

/*
 * The vCPU state. vmm_get_state() reads the synced registers from the
 * kvm_run page plus one KVM_GET_DEBUGREGS (and KVM_GET_MSRS for
 * KERNEL_GS_BASE) ioctl; vmm_set_state() marks regs and sregs dirty so the
 * next KVM_RUN loads them (no ioctl). Both return 0 or -errno.
 */
int vmm_get_state(struct vmm *vm, struct x86_state *s);
int vmm_set_state(struct vmm *vm, const struct x86_state *s);
/* RIP of the last exit, from the synced registers (no ioctl). */
uint64_t vmm_rip(const struct vmm *vm);

/*
 * Read up to (len) bytes at linear address (lin) through the guest's page
 * tables as they are now (lib/paging, the walk KVM does; A/D bits are not
 * set), as an instruction fetch (fetch true: NX applies) or a data read, at
 * the vCPU's current CPL. Stops at the first byte that is unmapped or not
 * RAM. Returns the number of bytes read.
 */
unsigned vmm_read_linear(const struct vmm *vm, uint64_t lin, void *buf, unsigned len, bool fetch);

/*
 * The CPUID installed with KVM_SET_CPUID2: the -cpu model intersected with
 * KVM_GET_SUPPORTED_CPUID ("host"/"max": the supported table itself).
 */
const struct cpuid_table *vmm_cpuid(const struct vmm *vm);
/* KVM_GET_SUPPORTED_CPUID of this host. */
const struct cpuid_table *vmm_supported_cpuid(const struct vmm *vm);
/*
 * The walk features KVM effectively uses for this vCPU (spec/paging.md
 * §2.6). On kernels >= 6.14 KVM computes guest CPUID AND its own caps, so
 * gbpages is false on a host whose KVM lacks 1 GiB pages (the PVM hosts of
 * spec/host.md) whatever the CPUID says.
 */
void vmm_pt_cpu(const struct vmm *vm, struct pt_cpu *out);

/*
 * The CPUID report: one line per feature the -cpu spec asked for (model
 * features and explicit +feat) that the host's KVM cannot give, with its
 * consequence, e.g. "pdpe1gb: this host's KVM cannot offer 1 GiB pages; a
 * guest that maps them faults with P|RSVD". Returns the number of entries
 * and sets (*lines) to an array owned by the VM.
 */
unsigned vmm_cpuid_report(const struct vmm *vm, const char *const **lines);

/*
 * Run until an outcome; (timeout_ms) 0 = none. The timeout is a POSIX
 * timer whose signal sets kvm_run->immediate_exit, so a guest spinning at
 * CPL0 cannot hold the VMM past it. Returns 0 with (out) filled, or -errno
 * (host failure: out->outcome is VMM_OUT_HOST_ERROR, out->host_errno set).
 * vmm_run() may be called again after any outcome except a triple fault,
 * internal error or failed entry.
 */
int vmm_run(struct vmm *vm, unsigned timeout_ms, struct vmm_exit *out);
/* The last outcome vmm_run returned (zeroed before the first run). */
const struct vmm_exit *vmm_last_exit(const struct vmm *vm);
/*
 * Make a vmm_run() in another thread return VMM_OUT_INTERRUPTED soon
 * (async-signal-safe). Safe to call at any time.
 */
void vmm_kick(struct vmm *vm);

/*
 * A paging watch (`run --lint`, docs/lint.md). KVM does not exit to
 * userspace on MOV to CR3, but with KVM_CAP_SYNC_REGS CR0/CR3/CR4/EFER come
 * back with every exit at no cost, so the watch sees paging state changes at
 * the next exit after them. After each exit, before it is handled, (fn) gets
 * the vCPU's paging context (as vmm_pt_ctx) until it returns true; then the
 * watch is removed. NULL removes it. Without a watch the run loop pays one
 * branch per exit.
 */
typedef bool (*vmm_paging_fn)(void *opaque, const struct pt_ctx *c);
void vmm_watch_paging(struct vmm *vm, vmm_paging_fn fn, void *opaque);

/*
 * The paging context of the vCPU as of its last exit (CR0, CR3, CR4, EFER,
 * RFLAGS from the synced registers, no ioctl) with the walk features KVM uses
 * (vmm_pt_cpu). PAE PDPTE registers are not read: pdptr_valid is false, so
 * lib/paging loads them from CR3 as the MOV to CR3 did.
 */
void vmm_pt_ctx(const struct vmm *vm, struct pt_ctx *out);

/*
 * Whether this host's KVM can give a guest 1 GiB pages at all: pdpe1gb
 * (CPUID.80000001H:EDX[26]) in KVM_GET_SUPPORTED_CPUID. False on the PVM
 * hosts of spec/host.md, whatever -cpu model is asked for.
 */
bool vmm_host_gbpages(const struct vmm *vm);

/* Fill (snap) from the stopped vCPU and guest memory (snap->mem points into the VM). */
int vmm_snapshot(struct vmm *vm, struct snapshot *snap);

/* Printable names for outcomes ("debug_exit", "triple_fault", ...) and KVM exit reasons. */
const char *vmm_outcome_name(enum vmm_outcome o);
const char *vmm_exit_reason_name(uint32_t kvm_reason);

/*
 * The exit trace: every exit is recorded in a preallocated ring, with no
 * allocation and no system call (the time comes from the vDSO clock).
 */
enum vmm_trace_flags {
    VMM_TR_IO = 1u << 0, /* port I/O */
    VMM_TR_MMIO = 1u << 1,
    VMM_TR_WRITE = 1u << 2,
    VMM_TR_UNHANDLED = 1u << 3, /* no device claimed the access */
    VMM_TR_STRING = 1u << 4,    /* string PIO (rep ins/outs with count > 1) */
};

struct vmm_trace_rec {
    uint64_t t_ns;      /* CLOCK_MONOTONIC when KVM_RUN returned */
    uint32_t handle_ns; /* time in the VMM until the next KVM_RUN (0: not resumed) */
    uint32_t reason;    /* KVM_EXIT_* */
    uint64_t rip;
    uint64_t addr;    /* port or MMIO GPA */
    uint64_t data;    /* first (up to 8) data bytes, little-endian */
    uint32_t count;   /* PIO repeat count */
    uint8_t size;     /* access size in bytes */
    uint8_t flags;    /* enum vmm_trace_flags */
    uint8_t insn_len; /* valid bytes in insn (0: unreadable) */
    uint8_t insn[15]; /* instruction bytes at CS.base+RIP */
};

/* Called with batches of completed records, oldest first. */
typedef void (*vmm_trace_sink_fn)(void *opaque, const struct vmm_trace_rec *recs, unsigned n);

/*
 * Stream every record to (fn) (NULL: none). Records are handed over in
 * batches when the ring fills and on vmm_trace_flush(), so the sink costs
 * nothing per exit.
 */
void vmm_trace_set_sink(struct vmm *vm, vmm_trace_sink_fn fn, void *opaque);
/* Hand every record not yet given to the sink over to it. */
void vmm_trace_flush(struct vmm *vm);
/* Copy the last (n) records, oldest first, into (out); returns how many were copied. */
unsigned vmm_trace_last(const struct vmm *vm, struct vmm_trace_rec *out, unsigned n);
/* Exits since creation (also those no longer in the ring). */
uint64_t vmm_trace_total(const struct vmm *vm);
/* Accesses no device claimed since creation. */
uint64_t vmm_unhandled_total(const struct vmm *vm);

#endif
