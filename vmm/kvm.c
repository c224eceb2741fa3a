/*
 * /dev/kvm, the VM, guest RAM and the vCPU.
 *
 * Startup is kept to the few ioctls a VM needs (spec/host.md: a bare C VMM
 * starts in ~1.6 ms). Guest RAM is one MAP_NORESERVE anonymous mapping that
 * is never touched here, so a 4 GiB guest costs nothing until it writes.
 */
#include "vmm_int.h"

#include "ks/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define DEFAULT_RAM (128ULL << 20)
/* Three pages below the BIOS area, as QEMU's KVM_SET_TSS_ADDR (target/i386/kvm/kvm.c). */
#define TSS_ADDR 0xfeffd000UL

static int open_kvm(char err[KS_ERR_LEN])
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int e, version;

    if (fd < 0) {
        e = errno;
        if (e == ENOENT || e == ENXIO || e == ENODEV)
            snprintf(err, KS_ERR_LEN,
                     "no /dev/kvm: is the kvm module loaded? "
                     "(modprobe kvm_pvm / kvm_intel / kvm_amd)");
        else if (e == EACCES || e == EPERM)
            snprintf(err, KS_ERR_LEN,
                     "permission denied on /dev/kvm: add yourself to the kvm group or run as root");
        else
            snprintf(err, KS_ERR_LEN, "cannot open /dev/kvm: %s", strerror(e));
        return -e;
    }
    /* KVM_API_VERSION has been 12 since Linux 2.6.22; anything else is not the KVM we know. */
    version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        snprintf(err, KS_ERR_LEN, "/dev/kvm speaks API version %d, kvmscope needs %d", version,
                 KVM_API_VERSION);
        close(fd);
        return -ENOTSUP;
    }
    return fd;
}

static int add_slot(struct vmm *vm, uint32_t slot, gpa_t gpa, uint64_t size, uint8_t *hva,
                    char err[KS_ERR_LEN])
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)hva,
    };
    int rc;

    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_SET_USER_MEMORY_REGION [0x%llx, +0x%llx): %s",
                 (unsigned long long)gpa, (unsigned long long)size, strerror(-rc));
        return rc;
    }
    rc = gmem_add(&vm->gmem, gpa, size, hva, true);
    if (rc)
        snprintf(err, KS_ERR_LEN, "guest memory table: %s", strerror(-rc));
    return rc;
}

/*
 * The PC layout (see vmm.h). The host mapping mirrors the guest-physical
 * layout below 4 GiB, so the hole's host pages exist but are never mapped
 * into the guest (QEMU does the same with its "pc.ram" block).
 */
static int setup_ram(struct vmm *vm, uint64_t size, char err[KS_ERR_LEN])
{
    uint64_t low_end, high;
    int rc;

    if (size < 2 * VMM_HIGHMEM_START || (size & 0xfff)) {
        snprintf(err, KS_ERR_LEN, "RAM size 0x%llx: need a multiple of 4 KiB and at least 2 MiB",
                 (unsigned long long)size);
        return -EINVAL;
    }
    if (size > (1ULL << 40)) {
        snprintf(err, KS_ERR_LEN, "RAM size 0x%llx is more than 1 TiB", (unsigned long long)size);
        return -EINVAL;
    }
    vm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (vm->ram == MAP_FAILED) {
        vm->ram = NULL;
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "cannot map %llu MiB of guest RAM: %s",
                 (unsigned long long)(size >> 20), strerror(-rc));
        return rc;
    }
    vm->ram_size = size;
    low_end = size < VMM_BELOW_4G_MAX ? size : VMM_BELOW_4G_MAX;
    high = size - low_end;
    rc = add_slot(vm, 0, 0, VMM_LOWMEM_END, vm->ram, err);
    if (!rc)
        rc = add_slot(vm, 1, VMM_HIGHMEM_START, low_end - VMM_HIGHMEM_START,
                      vm->ram + VMM_HIGHMEM_START, err);
    if (!rc && high)
        rc = add_slot(vm, 2, VMM_ABOVE_4G_START, high, vm->ram + low_end, err);
    return rc;
}

static int setup_vcpu(struct vmm *vm, char err[KS_ERR_LEN])
{
    int mmap_size, rc;

    vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_CREATE_VCPU: %s", strerror(-rc));
        return rc;
    }
    mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < (int)sizeof(struct kvm_run)) {
        snprintf(err, KS_ERR_LEN, "KVM_GET_VCPU_MMAP_SIZE returned %d", mmap_size);
        return -EIO;
    }
    vm->run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        vm->run = NULL;
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "mmap of the vCPU's kvm_run: %s", strerror(-rc));
        return rc;
    }
    vm->run_size = (size_t)mmap_size;
    return 0;
}

/*
 * The initial registers: one KVM_GET_REGS + KVM_GET_SREGS, kept in the
 * cache (or in the sync-regs area, which KVM only fills after a KVM_RUN).
 */
static int load_initial_state(struct vmm *vm, char err[KS_ERR_LEN])
{
    int rc;

    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &vm->regs) < 0 ||
        ioctl(vm->vcpu_fd, KVM_GET_SREGS, &vm->sregs) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "reading the vCPU's initial registers: %s", strerror(-rc));
        return rc;
    }
    if (vm->sync_regs) {
        vm->run->s.regs.regs = vm->regs;
        vm->run->s.regs.sregs = vm->sregs;
        /*
         * Events are not synced: storing them costs ~0.35 us per exit on the
         * PVM host (5% of a PIO round trip) and only a snapshot needs them,
         * which reads them with one KVM_GET_VCPU_EVENTS.
         */
        vm->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    }
    return 0;
}

static int create_irqchip(struct vmm *vm, char err[KS_ERR_LEN])
{
    struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
    int rc;

    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_CREATE_IRQCHIP: %s", strerror(-rc));
        return rc;
    }
    if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_CREATE_PIT2: %s", strerror(-rc));
        return rc;
    }
    return 0;
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out, char err[KS_ERR_LEN])
{
    struct vmm *vm;
    int rc;

    *out = NULL;
    err[0] = '\0';
    vm = calloc(1, sizeof(*vm));
    if (!vm) {
        snprintf(err, KS_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
    vm->strict = cfg->strict;
    vm->irqchip = cfg->irqchip;
    gmem_init(&vm->gmem);

    rc = vm->kvm_fd = open_kvm(err);
    if (rc < 0)
        goto fail;
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        rc = -errno;
        snprintf(err, KS_ERR_LEN, "KVM_CREATE_VM: %s%s", strerror(-rc),
                 rc == -EBUSY ? " (another hypervisor owns the CPU?)" : "");
        goto fail;
    }
    /* Needed on Intel before the first vCPU runs real-mode code; harmless elsewhere. */
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
        ks_debug("KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));
    rc = setup_ram(vm, cfg->ram_size ? cfg->ram_size : DEFAULT_RAM, err);
    if (rc)
        goto fail;
    if (cfg->irqchip) {
        rc = create_irqchip(vm, err);
        if (rc)
            goto fail;
    }
    rc = setup_vcpu(vm, err);
    if (rc)
        goto fail;
    vm->sync_regs =
        (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) &
         (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) == (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
    rc = vmm_setup_cpuid(vm, cfg->cpu, err);
    if (rc)
        goto fail;
    rc = load_initial_state(vm, err);
    if (rc)
        goto fail;
    rc = vmm_trace_init(vm, cfg->trace_ring ? cfg->trace_ring : 4096);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "out of memory for the exit trace");
        goto fail;
    }
    *out = vm;
    return 0;
fail:
    vmm_destroy(vm);
    return rc < 0 ? rc : -EIO;
}

void vmm_destroy(struct vmm *vm)
{
    if (!vm)
        return;
    for (unsigned i = vm->nhooks; i-- > 0;)
        vm->hooks[i].fn(vm->hooks[i].opaque);
    free(vm->hooks);
    io_table_free(&vm->pio);
    io_table_free(&vm->mmio);
    vmm_free_report(vm);
    free(vm->ring);
    if (vm->run)
        munmap(vm->run, vm->run_size);
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    if (vm->ram)
        munmap(vm->ram, vm->ram_size);
    free(vm);
}

const struct gmem *vmm_gmem(const struct vmm *vm)
{
    return &vm->gmem;
}

uint64_t vmm_ram_size(const struct vmm *vm)
{
    return vm->ram_size;
}

int vmm_on_destroy(struct vmm *vm, void (*fn)(void *opaque), void *opaque)
{
    struct destroy_hook *h = realloc(vm->hooks, (vm->nhooks + 1) * sizeof(*h));

    if (!h)
        return -ENOMEM;
    vm->hooks = h;
    h[vm->nhooks++] = (struct destroy_hook){fn, opaque};
    return 0;
}
