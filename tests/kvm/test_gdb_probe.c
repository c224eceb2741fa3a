/*
 * Probe of KVM's guest-debug features on this host (spec/formats.md §4,
 * spec/host.md "Guest debug"), with a raw 32-bit flat guest and no VMM
 * layer in between. It asserts what vmm/gdb_kvm.c relies on (single-step,
 * DR0-3 execution breakpoints, write and access watchpoints, resuming past
 * an execution breakpoint) and prints what int3 + USE_SW_BP does here,
 * which decides how Z0 is implemented (docs/gdb.md "Probe").
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE 0x10000
#define CODE     0x1000
#define DATA     0x2000

/* 32-bit code at CODE: three nops, a store, a load, hlt. */
static const uint8_t guest_code[] = {
    0x90, 0x90, 0x90,             /* 0x1000 nop x3 */
    0xa3, 0x00, 0x20, 0x00, 0x00, /* 0x1003 mov [0x2000], eax */
    0xa1, 0x04, 0x20, 0x00, 0x00, /* 0x1008 mov eax, [0x2004] */
    0xf4,                         /* 0x100d hlt */
};

struct vm {
    int kvm, vm, vcpu;
    uint8_t *mem;
    struct kvm_run *run;
};

static int vm_open(struct vm *v)
{
    struct kvm_userspace_memory_region r = {0};
    struct kvm_sregs sr;
    struct kvm_regs regs = {0};
    struct kvm_segment seg = {
        .base = 0, .limit = 0xffffffff, .present = 1, .s = 1, .db = 1, .g = 1};
    long sz;

    memset(v, 0, sizeof(*v));
    v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (v->kvm < 0)
        return -errno;
    v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
    if (v->vm < 0)
        return -errno;
    v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (v->mem == MAP_FAILED)
        return -errno;
    r.memory_size = MEM_SIZE;
    r.userspace_addr = (uintptr_t)v->mem;
    if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        return -errno;
    v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
    if (v->vcpu < 0)
        return -errno;
    sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    v->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
    if (v->run == MAP_FAILED)
        return -errno;
    memcpy(v->mem + CODE, guest_code, sizeof(guest_code));
    if (ioctl(v->vcpu, KVM_GET_SREGS, &sr) < 0)
        return -errno;
    seg.type = 0xb;
    seg.selector = 8;
    sr.cs = seg;
    seg.type = 3;
    seg.selector = 16;
    sr.ds = sr.es = sr.fs = sr.gs = sr.ss = seg;
    sr.cr0 |= 1; /* PE, paging off */
    if (ioctl(v->vcpu, KVM_SET_SREGS, &sr) < 0)
        return -errno;
    regs.rip = CODE;
    regs.rflags = 2;
    regs.rax = 0x11223344;
    if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
        return -errno;
    return 0;
}

static void vm_close(struct vm *v)
{
    if (v->vcpu > 0)
        close(v->vcpu);
    if (v->vm > 0)
        close(v->vm);
    if (v->kvm > 0)
        close(v->kvm);
    if (v->mem && v->mem != MAP_FAILED)
        munmap(v->mem, MEM_SIZE);
}

static int set_debug(struct vm *v, uint32_t control, const uint64_t dr[8])
{
    struct kvm_guest_debug dbg = {0};

    dbg.control = control;
    if (dr)
        memcpy(dbg.arch.debugreg, dr, sizeof(dbg.arch.debugreg));
    return ioctl(v->vcpu, KVM_SET_GUEST_DEBUG, &dbg) < 0 ? -errno : 0;
}

static int run(struct vm *v)
{
    return ioctl(v->vcpu, KVM_RUN, 0) < 0 ? -errno : (int)v->run->exit_reason;
}

static uint64_t rip(struct vm *v)
{
    struct kvm_regs regs;

    ioctl(v->vcpu, KVM_GET_REGS, &regs);
    return regs.rip;
}

#define OPEN_OR_SKIP(v)                                                                            \
    do {                                                                                           \
        int rc_ = vm_open(v);                                                                      \
        if (rc_ < 0) {                                                                             \
            vm_close(v);                                                                           \
            SKIP("no usable /dev/kvm (%s)", strerror(-rc_));                                       \
        }                                                                                          \
    } while (0)

static void probe_singlestep(void)
{
    struct vm v;

    OPEN_OR_SKIP(&v);
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, NULL), 0);
    for (uint64_t want = CODE + 1; want <= CODE + 3; want++) {
        EXPECT_EQ(run(&v), KVM_EXIT_DEBUG);
        EXPECT_EQ(v.run->debug.arch.exception, 1);
        EXPECT_EQ(v.run->debug.arch.pc, want);
        EXPECT(v.run->debug.arch.dr6 & (1u << 14)); /* DR6.BS */
        EXPECT_EQ(rip(&v), want);
    }
    printf("  single-step: exception=%u pc=%#llx dr6=%#llx\n", v.run->debug.arch.exception,
           (unsigned long long)v.run->debug.arch.pc, (unsigned long long)v.run->debug.arch.dr6);
    vm_close(&v);
}

static void probe_int3(void)
{
    struct vm v;
    int r;

    OPEN_OR_SKIP(&v);
    v.mem[CODE + 2] = 0xcc;
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, NULL), 0);
    r = run(&v);
    if (r == KVM_EXIT_DEBUG) {
        printf("  int3+USE_SW_BP: KVM_EXIT_DEBUG exception=%u pc=%#llx rip=%#llx\n",
               v.run->debug.arch.exception, (unsigned long long)v.run->debug.arch.pc,
               (unsigned long long)rip(&v));
        EXPECT_EQ(v.run->debug.arch.exception, 3);
        EXPECT_EQ(v.run->debug.arch.pc, CODE + 2);
    } else {
        printf("  int3+USE_SW_BP: exit reason %d", r);
        if (r == KVM_EXIT_INTERNAL_ERROR) {
            printf(" (internal error, suberror %u, ndata %u:", v.run->internal.suberror,
                   v.run->internal.ndata);
            for (unsigned i = 0; i < v.run->internal.ndata && i < 16; i++)
                printf(" %#llx", (unsigned long long)v.run->internal.data[i]);
            printf(")");
        }
        printf(" rip=%#llx\n", (unsigned long long)rip(&v));
        /* The one other outcome seen on PVM hosts (spec/host.md). */
        EXPECT_EQ(r, KVM_EXIT_INTERNAL_ERROR);
    }
    vm_close(&v);
}

static void probe_hw_exec(void)
{
    uint64_t dr[8] = {0};
    struct vm v;
    int r;

    OPEN_OR_SKIP(&v);
    dr[0] = CODE + 2;
    dr[7] = 0x400 | 0x2; /* G0, R/W0=00 (execute), LEN0=00 (SDM Vol. 3A §17.2.4) */
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr), 0);
    r = run(&v);
    EXPECT_EQ(r, KVM_EXIT_DEBUG);
    EXPECT_EQ(v.run->debug.arch.exception, 1);
    EXPECT_EQ(v.run->debug.arch.pc, CODE + 2);
    EXPECT(v.run->debug.arch.dr6 & 1);
    EXPECT_EQ(rip(&v), CODE + 2); /* a fault: the instruction has not run */
    printf("  hw exec bp: exception=%u pc=%#llx dr6=%#llx dr7=%#llx\n", v.run->debug.arch.exception,
           (unsigned long long)v.run->debug.arch.pc, (unsigned long long)v.run->debug.arch.dr6,
           (unsigned long long)v.run->debug.arch.dr7);

    /* Resume the way the stub does: one single-step with the breakpoint disarmed, then re-arm. */
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, NULL), 0);
    EXPECT_EQ(run(&v), KVM_EXIT_DEBUG);
    EXPECT_EQ(rip(&v), CODE + 3);
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr), 0);
    r = run(&v);
    EXPECT_EQ(r, KVM_EXIT_HLT);
    EXPECT_EQ(rip(&v), CODE + 0xe);
    vm_close(&v);
}

static void probe_hw_exec_rf(void)
{
    uint64_t dr[8] = {0};
    struct kvm_regs regs;
    struct vm v;
    int r;

    OPEN_OR_SKIP(&v);
    dr[0] = CODE + 2;
    dr[7] = 0x400 | 0x2;
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr), 0);
    EXPECT_EQ(run(&v), KVM_EXIT_DEBUG);
    /* Setting RFLAGS.RF should let the faulting instruction run once (SDM §17.3.1.1). */
    ioctl(v.vcpu, KVM_GET_REGS, &regs);
    regs.rflags |= 1u << 16;
    ioctl(v.vcpu, KVM_SET_REGS, &regs);
    r = run(&v);
    printf("  hw exec bp resumed with RF=1: exit %d rip=%#llx (%s)\n", r,
           (unsigned long long)rip(&v),
           r == KVM_EXIT_HLT ? "RF honoured" : "RF ignored: re-triggered");
    EXPECT(r == KVM_EXIT_HLT || (r == KVM_EXIT_DEBUG && rip(&v) == CODE + 2));
    vm_close(&v);
}

static void set_rip(struct vm *v, uint64_t ip)
{
    struct kvm_regs regs;

    ioctl(v->vcpu, KVM_GET_REGS, &regs);
    regs.rip = ip;
    ioctl(v->vcpu, KVM_SET_REGS, &regs);
}

/*
 * Data breakpoints. Real VMX/SVM deliver them as #DB traps; on PVM the CPL0
 * guest is run by KVM's instruction emulator, which does not check data
 * breakpoints, so the guest runs on to its hlt. Either outcome is reported;
 * anything else fails.
 */
static void probe_hw_watch(void)
{
    uint64_t dr[8] = {0};
    struct vm v;
    int r;

    OPEN_OR_SKIP(&v);
    dr[1] = DATA;
    /* G1, R/W1=01 (write), LEN1=11 (4 bytes) */
    dr[7] = 0x400 | 0x8 | (1ull << 20) | (3ull << 22);
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr), 0);
    r = run(&v);
    EXPECT_EQ(v.mem[DATA], 0x44);
    if (r == KVM_EXIT_DEBUG) {
        EXPECT_EQ(v.run->debug.arch.exception, 1);
        EXPECT(v.run->debug.arch.dr6 & 2);
        EXPECT_EQ(rip(&v), CODE + 8); /* a trap: after the store */
        printf("  hw write watch: fired, rip=%#llx dr6=%#llx\n", (unsigned long long)rip(&v),
               (unsigned long long)v.run->debug.arch.dr6);
    } else {
        EXPECT_EQ(r, KVM_EXIT_HLT);
        EXPECT_EQ(rip(&v), CODE + 0xe);
        printf("  hw write watch: NOT fired (exit %d, rip=%#llx): data breakpoints unusable\n", r,
               (unsigned long long)rip(&v));
    }

    /* Access watch (R/W=11) on 0x2004, from the start again. */
    set_rip(&v, CODE);
    dr[1] = 0;
    dr[2] = DATA + 4;
    dr[7] = 0x400 | 0x20 | (3ull << 24) | (3ull << 26);
    EXPECT_EQ(set_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr), 0);
    r = run(&v);
    if (r == KVM_EXIT_DEBUG) {
        EXPECT(v.run->debug.arch.dr6 & 4);
        EXPECT_EQ(rip(&v), CODE + 0xd);
        printf("  hw access watch: fired, rip=%#llx\n", (unsigned long long)rip(&v));
    } else {
        EXPECT_EQ(r, KVM_EXIT_HLT);
        printf("  hw access watch: NOT fired (exit %d)\n", r);
    }
    vm_close(&v);
}

int main(void)
{
    RUN(probe_singlestep);
    RUN(probe_int3);
    RUN(probe_hw_exec);
    RUN(probe_hw_exec_rf);
    RUN(probe_hw_watch);
    return t_done();
}
