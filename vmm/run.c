/*
 * The run loop: KVM_RUN, then dispatch of the exit, with no other system
 * call per exit. Registers come back through KVM_CAP_SYNC_REGS, the time
 * comes from the vDSO, and the trace ring is preallocated.
 *
 * Timeouts: a POSIX timer aimed at this thread raises VMM_SIGNAL, whose
 * handler sets kvm_run->immediate_exit. A signal that arrives while the
 * vCPU runs makes KVM_RUN return EINTR; one that arrives between two
 * KVM_RUN calls leaves immediate_exit set, so the next KVM_RUN returns at
 * once (Documentation/virt/kvm/api.rst, "immediate_exit"). Either way the
 * loop never blocks past the deadline, and no race is possible.
 */
#include "vmm_int.h"

#include "ks/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define VMM_SIGNAL      (SIGRTMIN + 3)
#define RFLAGS_IF       (1u << 9)
#define IRQCHIP_POLL_MS 100

/* The kvm_run page of the vCPU this thread is running; for the signal handler only. */
static _Thread_local struct kvm_run *volatile tl_run;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    struct kvm_run *run = tl_run;

    (void)sig;
    (void)si;
    (void)uc;
    if (run)
        run->immediate_exit = 1;
}

static int install_handler(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(VMM_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int arm_timer(unsigned first_ms, unsigned interval_ms, timer_t *timer)
{
    struct sigevent sev;
    struct itimerspec its;
    sigset_t set;

    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = VMM_SIGNAL;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, timer) < 0)
        return -errno;
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = first_ms / 1000;
    its.it_value.tv_nsec = (long)(first_ms % 1000) * 1000000L;
    its.it_interval.tv_sec = interval_ms / 1000;
    its.it_interval.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
    if (timer_settime(*timer, 0, &its, NULL) < 0) {
        int rc = -errno;

        timer_delete(*timer);
        return rc;
    }
    sigemptyset(&set);
    sigaddset(&set, VMM_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

static void fill_data(uint64_t *dst, const uint8_t *src, unsigned size)
{
    uint64_t v = 0;

    memcpy(&v, src, size < 8 ? size : 8);
    *dst = v;
}

/*
 * One access to one device. Returns VMM_IO_OK, VMM_IO_STOP (with *code) or
 * VMM_IO_UNHANDLED (reads then see all-ones, like an absent ISA device).
 */
static int dispatch(struct vmm *vm, const struct io_table *t, uint64_t addr, bool write,
                    uint8_t *data, unsigned size, uint64_t *code)
{
    const struct io_range *r = io_table_find(t, addr);
    int rc = VMM_IO_UNHANDLED;

    if (r)
        rc = r->fn(r->opaque, addr, write, data, size, code);
    if (rc == VMM_IO_UNHANDLED) {
        vm->unhandled++;
        if (!write)
            memset(data, 0xff, size);
    }
    return rc;
}

static bool io_outcome(struct vmm *vm, int rc, bool mmio, bool write, uint64_t addr,
                       const uint8_t *data, unsigned size, uint64_t code, struct vmm_exit *out,
                       struct vmm_trace_rec *rec)
{
    if (rc == VMM_IO_STOP) {
        out->outcome = VMM_OUT_DEBUG_EXIT;
        out->code = code;
        return true;
    }
    if (rc != VMM_IO_UNHANDLED)
        return false;
    rec->flags |= VMM_TR_UNHANDLED;
    if (!vm->strict)
        return false;
    out->outcome = VMM_OUT_UNHANDLED_IO;
    out->io_is_mmio = mmio;
    out->io_write = write;
    out->io_addr = addr;
    out->io_size = size;
    fill_data(&out->io_data, data, size);
    return true;
}

/* KVM_EXIT_IO, string I/O included: count elements of size bytes at data_offset. */
static bool handle_pio(struct vmm *vm, struct vmm_exit *out, struct vmm_trace_rec *rec)
{
    struct kvm_run *run = vm->run;
    bool write = run->io.direction == KVM_EXIT_IO_OUT;
    unsigned size = run->io.size, count = run->io.count;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    uint64_t code = 0;

    rec->flags = VMM_TR_IO | (write ? VMM_TR_WRITE : 0) | (count > 1 ? VMM_TR_STRING : 0);
    rec->addr = run->io.port;
    rec->size = (uint8_t)size;
    rec->count = count;
    /* The data area must lie inside the kvm_run mapping; KVM guarantees it, check anyway. */
    if (size == 0 || size > 8 || run->io.data_offset + (uint64_t)size * count > vm->run_size)
        return false;
    for (unsigned i = 0; i < count; i++, data += size) {
        int rc = dispatch(vm, &vm->pio, run->io.port, write, data, size, &code);

        if (i == 0 && write)
            fill_data(&rec->data, data, size);
        if (io_outcome(vm, rc, false, write, run->io.port, data, size, code, out, rec))
            return true;
    }
    if (!write)
        fill_data(&rec->data, (uint8_t *)run + run->io.data_offset, size);
    return false;
}

static bool handle_mmio(struct vmm *vm, struct vmm_exit *out, struct vmm_trace_rec *rec)
{
    struct kvm_run *run = vm->run;
    bool write = run->mmio.is_write;
    unsigned size = run->mmio.len;
    uint64_t code = 0;
    int rc;

    rec->flags = VMM_TR_MMIO | (write ? VMM_TR_WRITE : 0);
    rec->addr = run->mmio.phys_addr;
    rec->size = (uint8_t)size;
    rec->count = 1;
    if (size == 0 || size > sizeof(run->mmio.data))
        return false;
    rc = dispatch(vm, &vm->mmio, run->mmio.phys_addr, write, run->mmio.data, size, &code);
    fill_data(&rec->data, run->mmio.data, size);
    return io_outcome(vm, rc, true, write, run->mmio.phys_addr, run->mmio.data, size, code, out,
                      rec);
}

bool vmm_handle_exit(struct vmm *vm, struct vmm_exit *out, struct vmm_trace_rec *rec)
{
    struct kvm_run *run = vm->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        return handle_pio(vm, out, rec);
    case KVM_EXIT_MMIO:
        return handle_mmio(vm, out, rec);
    case KVM_EXIT_HLT:
        /*
         * KVM only exits on HLT without an in-kernel LAPIC; then nothing can
         * ever raise an interrupt, so the vCPU is halted for good whatever
         * IF says. (code) keeps IF for the report.
         */
        out->outcome = VMM_OUT_HALT;
        out->code = (vmm_regs_const(vm)->rflags & RFLAGS_IF) ? 1 : 0;
        return true;
    case KVM_EXIT_SHUTDOWN:
        out->outcome = VMM_OUT_TRIPLE_FAULT;
        return true;
    case KVM_EXIT_INTERNAL_ERROR:
        out->outcome = VMM_OUT_INTERNAL_ERROR;
        out->suberror = run->internal.suberror;
        out->ndata = run->internal.ndata < 16 ? run->internal.ndata : 16;
        memcpy(out->data, run->internal.data, out->ndata * sizeof(out->data[0]));
        return true;
    case KVM_EXIT_FAIL_ENTRY:
        out->outcome = VMM_OUT_FAIL_ENTRY;
        out->code = run->fail_entry.hardware_entry_failure_reason;
        out->fail_entry_cpu = run->fail_entry.cpu;
        return true;
    case KVM_EXIT_DEBUG:
        out->outcome = VMM_OUT_DEBUG;
        out->debug_exception = run->debug.arch.exception;
        out->debug_pc = run->debug.arch.pc;
        out->debug_dr6 = run->debug.arch.dr6;
        out->debug_dr7 = run->debug.arch.dr7;
        return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        return false;
    default:
        /* KVM_EXIT_UNKNOWN, EXCEPTION, SYSTEM_EVENT...: nothing a PC VMM can continue from. */
        out->outcome = VMM_OUT_INTERNAL_ERROR;
        out->suberror = 0;
        return true;
    }
}

static int sync_in(struct vmm *vm)
{
    if (vm->sync_regs || !vm->state_dirty)
        return 0;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &vm->sregs) < 0 ||
        ioctl(vm->vcpu_fd, KVM_SET_REGS, &vm->regs) < 0)
        return -errno;
    vm->state_dirty = false;
    return 0;
}

static int sync_out(struct vmm *vm)
{
    if (vm->sync_regs)
        return 0;
    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &vm->regs) < 0 ||
        ioctl(vm->vcpu_fd, KVM_GET_SREGS, &vm->sregs) < 0)
        return -errno;
    return 0;
}

static int host_error(struct vmm_exit *out, int rc)
{
    out->outcome = VMM_OUT_HOST_ERROR;
    out->host_errno = -rc;
    return rc;
}

/*
 * With the in-kernel LAPIC, KVM handles HLT itself and never exits for it,
 * so "halted with interrupts off" (nothing can wake the vCPU: no NMI source
 * exists either) is detected by polling the MP state whenever the periodic
 * timer interrupts KVM_RUN.
 */
static bool halted_for_good(struct vmm *vm)
{
    struct kvm_mp_state mp;

    if (ioctl(vm->vcpu_fd, KVM_GET_MP_STATE, &mp) < 0 || mp.mp_state != KVM_MP_STATE_HALTED)
        return false;
    if (sync_out(vm))
        return false;
    return !(vmm_regs_const(vm)->rflags & RFLAGS_IF);
}

static int run_loop(struct vmm *vm, uint64_t deadline, struct vmm_exit *out)
{
    struct kvm_run *run = vm->run;
    struct vmm_trace_rec *prev = NULL;
    int rc;

    for (;;) {
        if (ks_unlikely(vm->kicked)) {
            vm->kicked = 0;
            out->outcome = VMM_OUT_INTERRUPTED;
            return 0;
        }
        rc = sync_in(vm);
        if (rc)
            return host_error(out, rc);
        /* The handling time is only written out by a trace sink: skip the clock otherwise. */
        if (prev && vm->sink)
            prev->handle_ns = (uint32_t)(now_ns() - prev->t_ns);
        rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
        if (ks_unlikely(rc < 0)) {
            rc = -errno;
            if (rc != -EINTR && rc != -EAGAIN)
                return host_error(out, rc);
            run->immediate_exit = 0;
            if (deadline && now_ns() >= deadline) {
                out->outcome = VMM_OUT_TIMEOUT;
                out->kvm_reason = KVM_EXIT_INTR;
                rc = sync_out(vm);
                return rc ? host_error(out, rc) : 0;
            }
            if (vm->irqchip && halted_for_good(vm)) {
                out->outcome = VMM_OUT_HALT;
                out->kvm_reason = KVM_EXIT_HLT;
                return 0;
            }
            prev = NULL;
            continue;
        }
        rc = sync_out(vm);
        if (rc)
            return host_error(out, rc);

        struct vmm_trace_rec *rec = vmm_trace_next(vm);
        rec->t_ns = now_ns();
        rec->handle_ns = 0;
        rec->reason = run->exit_reason;
        rec->rip = vmm_regs_const(vm)->rip;
        rec->addr = rec->data = 0;
        rec->count = 0;
        rec->size = rec->flags = 0;
        rec->insn_len = (uint8_t)vmm_fetch_insn(vm, rec->insn, sizeof(rec->insn));
        out->kvm_reason = run->exit_reason;
        if (ks_unlikely(vm->paging_fn != NULL))
            vmm_paging_watch_exit(vm);
        if (vmm_handle_exit(vm, out, rec))
            return 0;
        prev = rec;
    }
}

int vmm_run(struct vmm *vm, unsigned timeout_ms, struct vmm_exit *out)
{
    timer_t timer;
    bool armed = false;
    uint64_t deadline = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = install_handler();
    if (rc)
        return host_error(out, rc);
    tl_run = vm->run;
    vm->thread = pthread_self();
    vm->running = 1;
    if (timeout_ms || vm->irqchip) {
        /*
         * The first signal comes at the deadline (or the first halt poll);
         * then every IRQCHIP_POLL_MS (or 10 ms, should a signal ever land
         * where it cannot stop KVM_RUN) until the loop returns.
         */
        unsigned first = timeout_ms, every = vm->irqchip ? IRQCHIP_POLL_MS : 10;

        if (!first || (vm->irqchip && first > IRQCHIP_POLL_MS))
            first = IRQCHIP_POLL_MS;
        if (timeout_ms)
            deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
        rc = arm_timer(first, every, &timer);
        if (rc) {
            vm->running = 0;
            tl_run = NULL;
            return host_error(out, rc);
        }
        armed = true;
    }
    rc = run_loop(vm, deadline, out);
    if (armed)
        timer_delete(timer);
    vm->running = 0;
    tl_run = NULL;
    /* A signal may have landed after the last KVM_RUN: do not carry it into the next run. */
    vm->run->immediate_exit = 0;
    vm->last = *out;
    return rc;
}

const struct vmm_exit *vmm_last_exit(const struct vmm *vm)
{
    return &vm->last;
}

void vmm_kick(struct vmm *vm)
{
    vm->kicked = 1;
    if (vm->run)
        vm->run->immediate_exit = 1;
    /* A vCPU inside KVM_RUN only notices a signal; the handler is installed by vmm_run. */
    if (vm->running && !pthread_equal(vm->thread, pthread_self()))
        pthread_kill(vm->thread, VMM_SIGNAL);
}
