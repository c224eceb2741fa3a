/*
 * ksprobe.so: an LD_PRELOAD probe that times a KVM process from the inside
 * without changing it, so kvmscope, rawkvm and QEMU are measured the same way.
 *
 * It wraps ioctl() and mmap() and, when the process exits, appends one line
 * of key=value pairs to the file named by $KSPROBE_OUT:
 *   create_vm_us     KVM_CREATE_VM returned      (all times in µs after the
 *   first_run_us     first KVM_RUN entered        probe's constructor, i.e.
 *   first_exit_us    first KVM_RUN returned       just after dynamic linking)
 *   last_exit_us     last KVM_RUN returned
 *   teardown_us      the VMM closed its VM or vCPU fd (-1 if it left that to exit)
 *   end_us           stdio flushed at exit (the output is written)
 *   runs             KVM_RUN calls
 *   last_reason      kvm_run->exit_reason after the last KVM_RUN
 *   hwm_kb rss_kb    VmHWM and VmRSS when guest RAM is unmapped, else at exit
 *   guest_kb         resident KiB of the mappings that back KVM memslots, then
 * min(teardown_us, end_us) - last_exit_us is the time from the guest's last
 * exit (for a crash, the triple fault) to the printed result: kvmscope prints
 * its report before it destroys the VM, rawkvm and QEMU exit without closing.
 *
 * Benchmark tooling, not product code: it may include <linux/kvm.h>.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>

#define MAX_SLOTS 16
#define MAX_VCPUS 8

static int (*real_ioctl)(int, unsigned long, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_close)(int);

static uint64_t t0, t_create_vm, t_first_run, t_first_exit, t_last_exit, t_teardown;
static int vm_fd = -1;
static uint64_t runs;
static uint32_t last_reason = ~0u;
static struct {
    uint64_t addr, size;
} slots[MAX_SLOTS];
static unsigned nslots;
static int vcpu_fds[MAX_VCPUS];
static struct kvm_run *vcpu_runs[MAX_VCPUS];
static unsigned nvcpus;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double us(uint64_t t)
{
    return t ? (double)(t - t0) / 1e3 : -1.0;
}

__attribute__((constructor)) static void probe_init(void)
{
    t0 = now_ns();
    real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    real_munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;
    int rc;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (req == KVM_RUN) {
        uint64_t t = now_ns();

        if (!t_first_run)
            t_first_run = t;
        rc = real_ioctl(fd, req, arg);
        t = now_ns();
        if (!t_first_exit)
            t_first_exit = t;
        t_last_exit = t;
        __atomic_add_fetch(&runs, 1, __ATOMIC_RELAXED);
        for (unsigned i = 0; i < nvcpus; i++)
            if (vcpu_fds[i] == fd && vcpu_runs[i])
                last_reason = vcpu_runs[i]->exit_reason;
        return rc;
    }
    rc = real_ioctl(fd, req, arg);
    if (req == KVM_CREATE_VM && rc >= 0 && !t_create_vm) {
        t_create_vm = now_ns();
        vm_fd = rc;
    }
    if (req == KVM_CREATE_VCPU && rc >= 0 && nvcpus < MAX_VCPUS)
        vcpu_fds[nvcpus++] = rc;
    if (req == KVM_SET_USER_MEMORY_REGION && rc == 0 && nslots < MAX_SLOTS) {
        const struct kvm_userspace_memory_region *r = arg;

        if (r->memory_size) {
            slots[nslots].addr = r->userspace_addr;
            slots[nslots].size = r->memory_size;
            nslots++;
        }
    }
    return rc;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p;

    if (!real_mmap)
        probe_init();
    p = real_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && fd >= 0)
        for (unsigned i = 0; i < nvcpus; i++)
            if (vcpu_fds[i] == fd && off == 0)
                vcpu_runs[i] = p;
    return p;
}

/* Memory figures, taken when guest RAM is unmapped (or at exit if it never is). */
static struct {
    int taken;
    long hwm_kb, rss_kb, guest_kb;
} mem;

static int overlaps_slot(uint64_t lo, uint64_t hi)
{
    for (unsigned i = 0; i < nslots; i++)
        if (lo < slots[i].addr + slots[i].size && slots[i].addr < hi)
            return 1;
    return 0;
}

/* Resident KiB of the mappings that back memslots (guest RAM touched). */
static long guest_rss_kb(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long lo = 0, hi = 0;
    int in_guest = 0;
    long kb, sum = 0;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in_guest = overlaps_slot(lo, hi);
        else if (in_guest && sscanf(line, "Rss: %ld kB", &kb) == 1)
            sum += kb;
    }
    fclose(f);
    return sum;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(key);

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n) && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

static void sample_memory(void)
{
    if (mem.taken)
        return;
    mem.taken = 1;
    mem.hwm_kb = status_kb("VmHWM");
    mem.rss_kb = status_kb("VmRSS");
    mem.guest_kb = guest_rss_kb();
}

/* A VMM that unmaps guest RAM before exiting: sample while it is still mapped. */
int munmap(void *addr, size_t len)
{
    if (!real_munmap)
        probe_init();
    if (overlaps_slot((uint64_t)(uintptr_t)addr, (uint64_t)(uintptr_t)addr + len))
        sample_memory();
    return real_munmap(addr, len);
}

/* The VMM tears the VM down itself: everything it printed came before. */
int close(int fd)
{
    if (!real_close)
        probe_init();
    if (!t_teardown && fd >= 0 && fd == vm_fd)
        t_teardown = now_ns();
    for (unsigned i = 0; i < nvcpus && !t_teardown; i++)
        if (fd == vcpu_fds[i])
            t_teardown = now_ns();
    return real_close(fd);
}

__attribute__((destructor)) static void probe_fini(void)
{
    const char *path = getenv("KSPROBE_OUT");
    uint64_t t_end;
    FILE *f;

    fflush(NULL);
    t_end = now_ns();
    sample_memory();
    if (!path)
        return;
    f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f,
            "create_vm_us=%.1f first_run_us=%.1f first_exit_us=%.1f last_exit_us=%.1f "
            "teardown_us=%.1f end_us=%.1f runs=%llu last_reason=%d hwm_kb=%ld rss_kb=%ld "
            "guest_kb=%ld\n",
            us(t_create_vm), us(t_first_run), us(t_first_exit), us(t_last_exit), us(t_teardown),
            us(t_end), (unsigned long long)runs, (int)last_reason, mem.hwm_kb, mem.rss_kb,
            mem.guest_kb);
    fclose(f);
}
