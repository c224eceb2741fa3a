/*
 * rawkvm: the benchmark floor. A minimal KVM program that boots a Multiboot1
 * ELF32 kernel the way `kvmscope run` does (flat 32-bit protected mode,
 * Multiboot 0.6.96 §3.2 machine state), serves the same three ports the
 * bench guests use, and exits with QEMU's isa-debug-exit convention.
 *
 * This is a benchmark peer, not product code: it may include <linux/kvm.h>
 * and exit anywhere. It does only what any VMM must do for such a kernel
 * (VM, RAM slot, vCPU, CPUID, registers, KVM_RUN loop), so the time it takes
 * is the KVM floor on this host.
 *
 *   rawkvm [-q] [-m MiB] [-s MASK] KERNEL.elf
 *
 * Ports: COM1 THR 0x3f8 (written to stdout unless -q), COM1 LSR 0x3fd
 * (reads 0x60: transmitter empty), isa-debug-exit 0xf4 (exit status
 * (value << 1) | 1). Other port reads see 0xff, writes are dropped.
 * HLT exits 124, a triple fault 125, anything else 126.
 *
 * -s MASK sets kvm_run->kvm_valid_regs (KVM_CAP_SYNC_REGS: 1 regs, 2 sregs,
 * 4 events), so KVM copies those registers into kvm_run on every exit, as
 * kvmscope does; it measures what that copy costs per exit.
 */
#include "ks/parse.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MB1_BOOT_MAGIC 0x2BADB002u
#define MBI_ADDR       0x9000u
#define STACK_TOP      0x80000u
#define MAX_CPUID      256

static void die(const char *what)
{
    fprintf(stderr, "rawkvm: %s: %s\n", what, strerror(errno));
    exit(126);
}

static void die_msg(const char *msg)
{
    fprintf(stderr, "rawkvm: %s\n", msg);
    exit(126);
}

/* Copy the PT_LOAD segments of an ELF32 file into guest RAM; returns e_entry. */
static uint32_t load_elf32(const char *path, uint8_t *ram, uint64_t ram_size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *f;
    const Elf32_Ehdr *eh;

    if (fd < 0 || fstat(fd, &st) < 0)
        die(path);
    f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (f == MAP_FAILED)
        die(path);
    close(fd);
    eh = (const Elf32_Ehdr *)f;
    if ((size_t)st.st_size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
        eh->e_ident[EI_CLASS] != ELFCLASS32 ||
        eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > (uint64_t)st.st_size)
        die_msg("not an ELF32 kernel");
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf32_Phdr *ph = (const Elf32_Phdr *)(f + eh->e_phoff) + i;

        if (ph->p_type != PT_LOAD)
            continue;
        if ((uint64_t)ph->p_paddr + ph->p_memsz > ram_size || ph->p_filesz > ph->p_memsz ||
            (uint64_t)ph->p_offset + ph->p_filesz > (uint64_t)st.st_size)
            die_msg("segment outside RAM or file");
        memcpy(ram + ph->p_paddr, f + ph->p_offset, ph->p_filesz);
        memset(ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
    }
    uint32_t entry = eh->e_entry;

    munmap(f, (size_t)st.st_size);
    return entry;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
    *s = (struct kvm_segment){
        .base = 0,
        .limit = 0xffffffff,
        .selector = sel,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = 1,
        .s = 1,
        .l = 0,
        .g = 1,
    };
}

int main(int argc, char **argv)
{
    uint64_t ram_size = 128ull << 20;
    int quiet = 0, opt;
    unsigned sync_mask = 0;

    while ((opt = getopt(argc, argv, "qm:s:")) != -1) {
        if (opt == 'q')
            quiet = 1;
        else if (opt == 's' || opt == 'm') {
            uint64_t v;

            /* -m is 1 MiB to 1 TiB - 1; -s a 32-bit mask of KVM_SYNC_X86_* bits. */
            if (parse_u64(optarg, &v) || (opt == 'm' && (v == 0 || v >= (1ull << 20))) ||
                v > 0xffffffffull) {
                fprintf(stderr, "rawkvm: -%c: '%s' is not a number in range\n", opt, optarg);
                exit(2);
            }
            if (opt == 's')
                sync_mask = (unsigned)v;
            else
                ram_size = v << 20;
        } else
            die_msg("usage: rawkvm [-q] [-m MiB] [-s MASK] KERNEL.elf");
    }
    if (optind != argc - 1)
        die_msg("usage: rawkvm [-q] [-m MiB] [-s MASK] KERNEL.elf");

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("/dev/kvm");
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        die_msg("unexpected KVM API version");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");

    /* Never touched until the loader writes it: same as kvmscope's MAP_NORESERVE RAM. */
    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die("guest RAM");
    struct kvm_userspace_memory_region slot = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = ram_size,
        .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    uint32_t entry = load_elf32(argv[optind], ram, ram_size);
    /* A minimal Multiboot information structure: flags 0 (nothing provided). */
    memset(ram + MBI_ADDR, 0, 0x60);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    /* The host's supported CPUID, as any VMM installs (a vCPU without CPUID is not a PC). */
    struct {
        struct kvm_cpuid2 h;
        struct kvm_cpuid_entry2 e[MAX_CPUID];
    } cpuid = {.h.nent = MAX_CPUID};
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
        die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid) < 0)
        die("KVM_SET_CPUID2");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    flat_segment(&sregs.cs, 0x10, 0xb);
    flat_segment(&sregs.ds, 0x18, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.cr0 = 0x11; /* PE | ET */
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs = {
        .rip = entry,
        .rax = MB1_BOOT_MAGIC,
        .rbx = MBI_ADDR,
        .rsp = STACK_TOP,
        .rflags = 2,
    };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");
    run->kvm_valid_regs = sync_mask;

    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN");
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;

            if (run->io.direction == KVM_EXIT_IO_OUT) {
                if (run->io.port == 0xf4) {
                    uint32_t v = 0;

                    memcpy(&v, data, run->io.size < 4 ? run->io.size : 4);
                    fflush(stdout);
                    exit((int)(((v << 1) | 1) & 0xff));
                }
                if (run->io.port == 0x3f8 && !quiet)
                    fwrite(data, run->io.size, run->io.count, stdout);
            } else {
                memset(data, run->io.port == 0x3fd ? 0x60 : 0xff,
                       (size_t)run->io.size * run->io.count);
            }
            break;
        }
        case KVM_EXIT_HLT:
            exit(124);
        case KVM_EXIT_SHUTDOWN:
            exit(125);
        default:
            fprintf(stderr, "rawkvm: exit reason %u\n", run->exit_reason);
            exit(126);
        }
    }
}
