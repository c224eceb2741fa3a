/*
 * The GDB stub's live target: gdb_target_ops over the vCPU, and the run
 * loop of `kvmscope run --gdb` (socket, Ctrl-C, stop on crash).
 *
 * How breakpoints work here follows what KVM_SET_GUEST_DEBUG does on this
 * project's hosts (probed by tests/kvm/test_gdb_probe.c, docs/gdb.md):
 *   - single-step (KVM_GUESTDBG_SINGLESTEP) works;
 *   - int3 with KVM_GUESTDBG_USE_SW_BP gives KVM_EXIT_INTERNAL_ERROR on
 *     PVM instead of a #BP exit, so Z0 never writes 0xCC into the guest;
 *   - DR0-3 execution breakpoints (USE_HW_BP) work, RFLAGS.RF does not
 *     suppress the re-trigger, so the stub steps over them;
 *   - DR data breakpoints never fire on PVM (CPL0 code runs in KVM's
 *     emulator, which does not check them).
 * So: Z0 and Z1 use the four debug registers while they last; more
 * breakpoints, and write watchpoints (Z2), switch continue into stepping
 * mode, where the stub single-steps and compares RIP with the breakpoints
 * and the watched bytes with their old values after every instruction.
 * Read and access watchpoints (Z3/Z4) are refused: without working data
 * breakpoints, reads cannot be observed.
 */
#include "vmm_int.h"

#include "ks/diag.h"
#include "ks/gdb.h"
#include "ks/log.h"
#include "ks/parse.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NUM_DR         4
#define SLICE_MS       20 /* how often a running guest looks at the socket */
#define STEPS_PER_POLL 512
#define DR6_BS         (1u << 14) /* single-step (SDM Vol. 3A §17.2.3) */

struct kbp {
    enum gdb_bp_type type;
    gva_t addr;
    unsigned len;
    uint8_t old[8]; /* watchpoints: the bytes last seen */
    bool old_valid;
};

struct gdb_kvm {
    struct vmm *vm;
    struct gdb_server srv;
    int fd; /* the connected GDB, -1 when none */

    struct kbp bp[GDB_MAX_BPS];
    unsigned nbp;

    bool resume_pending, resume_step;
    bool interrupt;
    bool crashed; /* triple fault / internal error / failed entry: cannot run again */
    bool gone;    /* the guest exited (debug-exit port, halt) */
    bool killed;
    struct vmm_exit exit;   /* the outcome that ended or stopped the guest */
    unsigned debug_control; /* what KVM_SET_GUEST_DEBUG was last given */
    unsigned blockirq;      /* KVM_GUESTDBG_BLOCKIRQ if KVM_CAP_SET_GUEST_DEBUG2 has it, else 0 */
};

/* ---- registers and memory ---- */

static int kvm_get_regs(void *t, struct gdb_regs *r)
{
    struct gdb_kvm *k = t;
    struct kvm_fpu fpu;
    int rc = vmm_get_state(k->vm, &r->s);

    if (rc < 0)
        return rc;
    if (ioctl(k->vm->vcpu_fd, KVM_GET_FPU, &fpu) < 0)
        return -errno;
    for (int i = 0; i < 8; i++)
        memcpy(r->fpu.st[i], fpu.fpr[i], 10);
    r->fpu.fctrl = fpu.fcw;
    r->fpu.fstat = fpu.fsw;
    /* KVM gives FXSAVE's abridged tag byte; GDB wants the full FSAVE tag word. */
    r->fpu.ftag = gdb_ftag_full(fpu.ftwx, fpu.fsw, &r->fpu);
    r->fpu.fop = fpu.last_opcode;
    r->fpu.fioff = (uint32_t)fpu.last_ip;
    r->fpu.fooff = (uint32_t)fpu.last_dp;
    memcpy(r->fpu.xmm, fpu.xmm, sizeof(r->fpu.xmm));
    r->fpu.mxcsr = fpu.mxcsr;
    return 0;
}

static int kvm_set_regs(void *t, const struct gdb_regs *r)
{
    struct gdb_kvm *k = t;
    struct kvm_fpu fpu;

    if (ioctl(k->vm->vcpu_fd, KVM_GET_FPU, &fpu) < 0)
        return -errno;
    for (int i = 0; i < 8; i++)
        memcpy(fpu.fpr[i], r->fpu.st[i], 10);
    fpu.fcw = (uint16_t)r->fpu.fctrl;
    fpu.fsw = (uint16_t)r->fpu.fstat;
    fpu.ftwx = gdb_ftag_abridged((uint16_t)r->fpu.ftag);
    fpu.last_opcode = (uint16_t)r->fpu.fop;
    memcpy(fpu.xmm, r->fpu.xmm, sizeof(fpu.xmm));
    fpu.mxcsr = r->fpu.mxcsr;
    if (ioctl(k->vm->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
        return -errno;
    return vmm_set_state(k->vm, &r->s);
}

/* The walk context of the vCPU as it is now, from the synced sregs (no ioctl). */
static void cur_ctx(struct gdb_kvm *k, struct pt_ctx *c)
{
    const struct kvm_sregs *sr = vmm_sregs_const(k->vm);

    memset(c, 0, sizeof(*c));
    c->cr0 = sr->cr0;
    c->cr3 = sr->cr3;
    c->cr4 = sr->cr4;
    c->efer = sr->efer;
    c->rflags = vmm_regs_const(k->vm)->rflags;
    vmm_pt_cpu(k->vm, &c->cpu);
}

static int kvm_read_mem(void *t, gva_t va, void *buf, size_t len)
{
    struct gdb_kvm *k = t;
    struct pt_ctx c;

    cur_ctx(k, &c);
    return gdb_gva_rw(&k->vm->gmem, &c, va, buf, len, false) == (long)len ? 0 : -EFAULT;
}

static int kvm_write_mem(void *t, gva_t va, const void *buf, size_t len)
{
    struct gdb_kvm *k = t;
    struct pt_ctx c;

    cur_ctx(k, &c);
    return gdb_gva_rw(&k->vm->gmem, &c, va, (void *)(uintptr_t)buf, len, true) == (long)len
               ? 0
               : -EFAULT;
}

/* ---- breakpoints ---- */

static bool is_exec(enum gdb_bp_type t)
{
    return t == GDB_BP_SW || t == GDB_BP_HW;
}

static unsigned count_exec(const struct gdb_kvm *k)
{
    unsigned n = 0;

    for (unsigned i = 0; i < k->nbp; i++)
        n += is_exec(k->bp[i].type);
    return n;
}

/* Continue must single-step when the debug registers cannot do the job. */
static bool need_stepping(const struct gdb_kvm *k)
{
    return count_exec(k) > NUM_DR || count_exec(k) != k->nbp;
}

static int kvm_insert_bp(void *t, enum gdb_bp_type type, gva_t addr, unsigned len)
{
    struct gdb_kvm *k = t;
    struct kbp *b;

    if (type == GDB_WP_READ || type == GDB_WP_ACCESS)
        return -EOPNOTSUPP;
    if (k->nbp == GDB_MAX_BPS)
        return -ENOSPC;
    b = &k->bp[k->nbp];
    *b = (struct kbp){.type = type, .addr = addr, .len = len};
    if (type == GDB_WP_WRITE)
        b->old_valid = kvm_read_mem(k, addr, b->old, len) == 0;
    k->nbp++;
    return 0;
}

static int kvm_remove_bp(void *t, enum gdb_bp_type type, gva_t addr, unsigned len)
{
    struct gdb_kvm *k = t;

    for (unsigned i = 0; i < k->nbp; i++) {
        if (k->bp[i].type == type && k->bp[i].addr == addr && k->bp[i].len == len) {
            k->bp[i] = k->bp[--k->nbp];
            return 0;
        }
    }
    return -ENOENT;
}

static int set_debug(struct gdb_kvm *k, unsigned control, bool arm_drs)
{
    struct kvm_guest_debug dbg;
    unsigned n = 0;

    memset(&dbg, 0, sizeof(dbg));
    dbg.control = control;
    if (arm_drs) {
        /*
         * DR7: Gn enables DRn, R/Wn=00 (execute) and LENn=00 are required
         * for instruction breakpoints, bit 10 reads as 1 (SDM Vol. 3A
         * §17.2.4, Figure 17-1).
         */
        dbg.arch.debugreg[7] = 0x400;
        for (unsigned i = 0; i < k->nbp && n < NUM_DR; i++) {
            if (!is_exec(k->bp[i].type))
                continue;
            dbg.arch.debugreg[n] = k->bp[i].addr;
            dbg.arch.debugreg[7] |= 2ULL << (2 * n);
            n++;
        }
        if (n)
            dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    }
    if (dbg.control == k->debug_control && !arm_drs)
        return 0;
    if (ioctl(k->vm->vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
        return -errno;
    k->debug_control = dbg.control;
    return 0;
}

static const struct kbp *exec_bp_at(const struct gdb_kvm *k, uint64_t rip)
{
    for (unsigned i = 0; i < k->nbp; i++)
        if (is_exec(k->bp[i].type) && k->bp[i].addr == rip)
            return &k->bp[i];
    return NULL;
}

/* A write watchpoint whose bytes changed (it then remembers the new value). */
static const struct kbp *changed_watch(struct gdb_kvm *k)
{
    for (unsigned i = 0; i < k->nbp; i++) {
        struct kbp *b = &k->bp[i];
        uint8_t now[8];
        bool ok;

        if (b->type != GDB_WP_WRITE)
            continue;
        ok = kvm_read_mem(k, b->addr, now, b->len) == 0;
        if (ok != b->old_valid || (ok && memcmp(now, b->old, b->len))) {
            memcpy(b->old, now, b->len);
            b->old_valid = ok;
            return b;
        }
    }
    return NULL;
}

static void refresh_watches(struct gdb_kvm *k)
{
    for (unsigned i = 0; i < k->nbp; i++)
        if (k->bp[i].type == GDB_WP_WRITE)
            k->bp[i].old_valid = kvm_read_mem(k, k->bp[i].addr, k->bp[i].old, k->bp[i].len) == 0;
}

/* ---- run control ---- */

static int kvm_resume(void *t, bool step)
{
    struct gdb_kvm *k = t;

    k->resume_pending = true;
    k->resume_step = step;
    return 0;
}

static void kvm_interrupt(void *t)
{
    struct gdb_kvm *k = t;

    k->interrupt = true;
}

static void kvm_detach(void *t, bool kill)
{
    struct gdb_kvm *k = t;

    k->killed = kill;
    k->nbp = 0;
    set_debug(k, 0, false);
}

static int kvm_monitor(void *t, const char *cmd, struct strbuf *out)
{
    struct gdb_kvm *k = t;
    struct snapshot snap;
    int rc = vmm_snapshot(k->vm, &snap);

    if (rc < 0)
        return rc;
    while (*cmd == ' ')
        cmd++;
    if (!strcmp(cmd, "explain")) {
        struct diag_report *r;

        rc = diag_explain(&snap, &r);
        if (rc < 0)
            return rc;
        diag_render_text(r, out);
        diag_free(r);
        return 0;
    }
    return gdb_monitor(&snap, cmd, out);
}

static const struct gdb_target_ops kvm_ops = {
    .get_regs = kvm_get_regs,
    .set_regs = kvm_set_regs,
    .read_mem = kvm_read_mem,
    .write_mem = kvm_write_mem,
    .insert_bp = kvm_insert_bp,
    .remove_bp = kvm_remove_bp,
    .resume = kvm_resume,
    .interrupt = kvm_interrupt,
    .monitor = kvm_monitor,
    .detach = kvm_detach,
};

/* ---- socket ---- */

/* Send everything the server queued. Returns 0 or -errno (then the client is gone). */
static int flush_out(struct gdb_kvm *k)
{
    size_t len;
    const uint8_t *p = gdb_server_output(&k->srv, &len);

    while (len) {
        ssize_t n = send(k->fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EPIPE;
        gdb_server_consumed(&k->srv, (size_t)n);
        p = gdb_server_output(&k->srv, &len);
    }
    return 0;
}

/* Read what GDB sent (waiting up to (timeout_ms), -1 = forever). Returns 0 or -errno/-EPIPE. */
static int pump_in(struct gdb_kvm *k, int timeout_ms)
{
    struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
    uint8_t buf[4096];
    ssize_t n;
    int rc = poll(&pfd, 1, timeout_ms);

    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0)
        return 0;
    n = recv(k->fd, buf, sizeof(buf), 0);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -errno;
    if (n == 0)
        return -EPIPE;
    rc = gdb_server_input(&k->srv, buf, (size_t)n);
    if (rc == 0)
        rc = flush_out(k);
    if (k->srv.bad_packets)
        ks_debug("gdb: %u bad packets, last: %s", k->srv.bad_packets, k->srv.err);
    return rc;
}

static bool is_crash(enum vmm_outcome o)
{
    return o == VMM_OUT_TRIPLE_FAULT || o == VMM_OUT_INTERNAL_ERROR || o == VMM_OUT_FAIL_ENTRY;
}

/*
 * Turn a final outcome into a stop: crashes stop with SIGSEGV and keep the
 * state for inspection; the guest leaving is reported as W.
 */
static void final_stop(struct gdb_kvm *k, const struct vmm_exit *e, struct gdb_stop *st)
{
    k->exit = *e;
    if (is_crash(e->outcome)) {
        k->crashed = true;
        st->reason = GDB_STOP_CRASH;
    } else if (e->outcome == VMM_OUT_HALT) {
        /* Halted for good (no interrupt source): stopped, inspectable, cannot go on. */
        k->gone = true;
        st->reason = GDB_STOP_TRAP;
    } else {
        k->gone = true;
        st->reason = GDB_STOP_EXITED;
        st->code = (unsigned)e->code;
    }
}

/*
 * One instruction with the debug registers disarmed (they would fault
 * first). GDB's own steps (block_irq) keep interrupts out where KVM can
 * (KVM_GUESTDBG_BLOCKIRQ, Linux 5.16), as QEMU does by default, so `stepi`
 * does not land in an interrupt handler; stepping mode lets them in.
 */
static int step_once(struct gdb_kvm *k, struct vmm_exit *e, bool block_irq)
{
    unsigned control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
    int rc;

    if (block_irq)
        control |= k->blockirq;
    rc = set_debug(k, control, false);

    if (rc < 0)
        return rc;
    return vmm_run(k->vm, 0, e);
}

static bool step_done(const struct vmm_exit *e)
{
    return e->outcome == VMM_OUT_DEBUG && e->debug_exception == 1;
}

/* Continue by stepping: the only way to see >4 breakpoints and write watchpoints here. */
static int step_until_stop(struct gdb_kvm *k, struct gdb_stop *st, unsigned long *steps)
{
    struct vmm_exit e;
    unsigned long n = 0;
    int rc;

    for (;;) {
        const struct kbp *b;

        *steps = ++n;
        rc = step_once(k, &e, false);
        if (rc < 0)
            return rc;
        if (!step_done(&e)) {
            if (e.outcome == VMM_OUT_DEBUG)
                continue; /* a stale debug exit: keep going */
            final_stop(k, &e, st);
            return 0;
        }
        b = changed_watch(k);
        if (b) {
            st->reason = GDB_STOP_WATCH;
            st->watch_type = GDB_WP_WRITE;
            st->addr = b->addr;
            return 0;
        }
        b = exec_bp_at(k, vmm_rip(k->vm));
        if (b) {
            st->reason = b->type == GDB_BP_SW ? GDB_STOP_SWBREAK : GDB_STOP_HWBREAK;
            return 0;
        }
        if (n % STEPS_PER_POLL == 0) {
            rc = pump_in(k, 0);
            if (rc < 0)
                return rc;
            if (k->interrupt) {
                st->reason = GDB_STOP_INTERRUPT;
                return 0;
            }
        }
    }
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int continue_stepping(struct gdb_kvm *k, struct gdb_stop *st)
{
    unsigned long steps = 0;
    double t0 = now_s();
    int rc = step_until_stop(k, st, &steps);
    double dt = now_s() - t0;

    ks_debug("gdb: stepping mode: %lu instructions in %.3f s (%.0f/s)", steps, dt,
             dt > 0 ? (double)steps / dt : 0.0);
    return rc;
}

/* Continue at full speed with the breakpoints in DR0-3, looking at the socket every slice. */
static int continue_fast(struct gdb_kvm *k, struct gdb_stop *st)
{
    struct vmm_exit e;
    int rc = set_debug(k, 0, true);

    if (rc < 0)
        return rc;
    for (;;) {
        rc = vmm_run(k->vm, SLICE_MS, &e);
        if (rc < 0)
            return rc;
        if (e.outcome == VMM_OUT_TIMEOUT || e.outcome == VMM_OUT_INTERRUPTED) {
            rc = pump_in(k, 0);
            if (rc < 0)
                return rc;
            if (k->interrupt) {
                st->reason = GDB_STOP_INTERRUPT;
                return 0;
            }
            continue;
        }
        if (e.outcome == VMM_OUT_DEBUG) {
            const struct kbp *b = exec_bp_at(k, vmm_rip(k->vm));

            /* dr6 bits 0-3 say which DR fired; the exit's dr7 is not reliable on PVM. */
            if (b && (e.debug_dr6 & 0xf)) {
                st->reason = b->type == GDB_BP_SW ? GDB_STOP_SWBREAK : GDB_STOP_HWBREAK;
                return 0;
            }
            st->reason = GDB_STOP_TRAP;
            return 0;
        }
        final_stop(k, &e, st);
        return 0;
    }
}

/* Carry out the resume the server asked for, and report the stop. */
static int do_resume(struct gdb_kvm *k)
{
    struct gdb_stop st = {.reason = GDB_STOP_TRAP};
    struct vmm_exit e;
    int rc = 0;

    k->resume_pending = false;
    if (k->interrupt) {
        /* Ctrl-C arrived in the same read as the resume: stop before running. */
        k->interrupt = false;
        st.reason = GDB_STOP_INTERRUPT;
        return gdb_server_stopped(&k->srv, &st);
    }
    if (k->crashed || k->gone) {
        /* Nothing can run any more: report the same end again. */
        final_stop(k, &k->exit, &st);
        return gdb_server_stopped(&k->srv, &st);
    }
    refresh_watches(k);
    if (k->resume_step || exec_bp_at(k, vmm_rip(k->vm))) {
        /* A step, or stepping off a breakpoint before continuing (RF is ignored on PVM). */
        rc = step_once(k, &e, k->resume_step);
        if (rc < 0)
            return rc;
        if (!step_done(&e) && e.outcome != VMM_OUT_DEBUG) {
            final_stop(k, &e, &st);
            return gdb_server_stopped(&k->srv, &st);
        }
        if (!k->resume_step) {
            const struct kbp *w = changed_watch(k);

            if (w) {
                st = (struct gdb_stop){
                    .reason = GDB_STOP_WATCH, .watch_type = GDB_WP_WRITE, .addr = w->addr};
                return gdb_server_stopped(&k->srv, &st);
            }
            /* The next instruction may carry a breakpoint of its own. */
            w = exec_bp_at(k, vmm_rip(k->vm));
            if (w) {
                st.reason = w->type == GDB_BP_SW ? GDB_STOP_SWBREAK : GDB_STOP_HWBREAK;
                set_debug(k, 0, false);
                return gdb_server_stopped(&k->srv, &st);
            }
        }
    }
    if (!k->resume_step) {
        rc = need_stepping(k) ? continue_stepping(k, &st) : continue_fast(k, &st);
        if (rc < 0)
            return rc;
    }
    set_debug(k, 0, false);
    k->interrupt = false;
    return gdb_server_stopped(&k->srv, &st);
}

/* ---- the session ---- */

int gdb_kvm_listen(const char *spec, int *fd_out, unsigned *port_out, char err[KS_ERR_LEN])
{
    char host[256] = "127.0.0.1";
    const char *port = spec, *colon = strrchr(spec, ':');
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd, one = 1, rc;
    char portstr[8]; /* the port in decimal, as getaddrinfo reads a numeric service */
    uint64_t pn;

    if (colon) {
        if ((size_t)(colon - spec) >= sizeof(host)) {
            snprintf(err, KS_ERR_LEN, "host name too long in '%s'", spec);
            return -EINVAL;
        }
        if (colon > spec) {
            memcpy(host, spec, (size_t)(colon - spec));
            host[colon - spec] = 0;
        }
        port = colon + 1;
    }
    /* parse_u64, not strtoul: that skips leading spaces and takes a sign ("+80", "-1"). */
    if (parse_u64(port, &pn) || pn > 65535) {
        snprintf(err, KS_ERR_LEN, "'%s' is not [HOST:]PORT (a port is 0-65535)", spec);
        return -EINVAL;
    }
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)pn);
    port = portstr;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "%s: %s", host, gai_strerror(rc));
        return -EINVAL;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "cannot listen on %s:%s: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

static int accept_client(struct gdb_kvm *k, int lfd)
{
    struct timeval send_timeout = {.tv_sec = 10};
    int one = 1;

    k->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (k->fd < 0)
        return -errno;
    /* Packets are small and latency-bound: no Nagle. */
    setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A client that stops reading must not block the VMM forever in send(). */
    setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
    gdb_server_init(&k->srv, &kvm_ops, k);
    k->nbp = 0;
    k->interrupt = false;
    k->resume_pending = false;
    return 0;
}

/* Serve one connected GDB until it detaches, kills, or goes away. */
static int serve(struct gdb_kvm *k)
{
    int rc = 0;

    while (!k->srv.done) {
        if (k->resume_pending) {
            rc = do_resume(k);
            if (rc == 0)
                rc = flush_out(k);
        } else {
            rc = pump_in(k, -1);
        }
        if (rc < 0)
            break;
    }
    if (rc < 0)
        ks_info("gdb: connection ended (%s)", strerror(-rc));
    /* An abrupt disconnect is a detach: breakpoints out, the guest runs on. */
    gdb_server_disconnect(&k->srv);
    gdb_server_free(&k->srv);
    close(k->fd);
    k->fd = -1;
    set_debug(k, 0, false);
    return rc == -EPIPE || rc == -ECONNRESET ? 0 : rc;
}

/* Whether a GDB is knocking (non-blocking). */
static bool pending_connection(int lfd, int timeout_ms)
{
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};

    return poll(&pfd, 1, timeout_ms) > 0;
}

int gdb_kvm_run(struct vmm *vm, const struct gdb_kvm_opts *o, struct gdb_kvm_result *res,
                char err[KS_ERR_LEN])
{
    struct gdb_kvm *k = calloc(1, sizeof(*k));
    unsigned waited_ms = 0;
    int rc = 0;

    if (!k) {
        snprintf(err, KS_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    memset(res, 0, sizeof(*res));
    k->vm = vm;
    k->fd = -1;
    k->debug_control = ~0u;
    rc = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
    k->blockirq = rc > 0 ? (unsigned)rc & KVM_GUESTDBG_BLOCKIRQ : 0;
    rc = 0;
    set_debug(k, 0, false);
    if (o->wait) {
        rc = accept_client(k, o->listen_fd);
        if (rc == 0) {
            res->attached = true;
            rc = serve(k);
        }
    }
    while (rc == 0 && !k->killed && !k->crashed && !k->gone) {
        struct vmm_exit e;

        /* Free run in slices, watching for a GDB to attach. */
        rc = vmm_run(vm, SLICE_MS, &e);
        if (rc < 0)
            break;
        if (e.outcome == VMM_OUT_TIMEOUT || e.outcome == VMM_OUT_INTERRUPTED) {
            waited_ms += SLICE_MS;
            if (o->timeout_ms && waited_ms >= o->timeout_ms) {
                k->exit = e;
                k->exit.outcome = VMM_OUT_TIMEOUT;
                break;
            }
            if (pending_connection(o->listen_fd, 0)) {
                rc = accept_client(k, o->listen_fd);
                if (rc == 0) {
                    /* GDB's attach stops the guest: its first '?' gets SIGINT (QEMU: T02). */
                    k->srv.last_stop.reason = GDB_STOP_INTERRUPT;
                    res->attached = true;
                    rc = serve(k);
                }
            }
            continue;
        }
        if (e.outcome == VMM_OUT_DEBUG) {
            continue; /* a leftover debug exit after a detach */
        }
        {
            struct gdb_stop st;

            /* Ended with no GDB attached: hand the outcome to the caller. */
            final_stop(k, &e, &st);
        }
    }
    if (rc < 0)
        snprintf(err, KS_ERR_LEN, "gdb stub: %s", strerror(-rc));
    if (k->killed && !k->crashed && !k->gone)
        k->exit.outcome = VMM_OUT_INTERRUPTED; /* killed while it could still run */
    res->exit = k->exit;
    res->killed = k->killed;
    free(k);
    return rc;
}
