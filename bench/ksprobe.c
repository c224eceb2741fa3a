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
 *   end_us           stdio flushed at exit (the output is written)
 *   runs             KVM_RUN calls
 *   last_reason      kvm_run->exit_reason after the last KVM_RUN
 *   hwm_kb rss_kb    VmHWM and VmRSS at exit
 *   guest_kb         resident KiB of the mappings that back KVM memslots
 * end_us - last_exit_us is the time from the guest's last exit (for a crash,
 * the triple fault) to the printed result.
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

static uint64_t t0, t_create_vm, t_first_run, t_first_exit, t_last_exit;
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
    if (req == KVM_CREATE_VM && rc >= 0 && !t_create_vm)
        t_create_vm = now_ns();
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

__attribute__((destructor)) static void probe_fini(void)
{
    const char *path = getenv("KSPROBE_OUT");
    uint64_t t_end;
    FILE *f;

    fflush(NULL);
    t_end = now_ns();
    if (!path)
        return;
    f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f,
            "create_vm_us=%.1f first_run_us=%.1f first_exit_us=%.1f last_exit_us=%.1f "
            "end_us=%.1f runs=%llu last_reason=%d hwm_kb=%ld rss_kb=%ld guest_kb=%ld\n",
            us(t_create_vm), us(t_first_run), us(t_first_exit), us(t_last_exit), us(t_end),
            (unsigned long long)runs, (int)last_reason, status_kb("VmHWM"), status_kb("VmRSS"),
            guest_rss_kb());
    fclose(f);
}
