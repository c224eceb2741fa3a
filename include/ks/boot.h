/*
 * Kernel loading the way QEMU's -kernel does it: Multiboot1 (ELF32 and the
 * a.out kludge), Multiboot2 (ELF32/ELF64), ELF with a PVH entry note, and
 * flat binaries. Pure: it parses the (untrusted) image, writes the segments
 * and the boot-information structures into guest memory through gmem, and
 * returns the initial vCPU state each protocol promises.
 * References: Multiboot Specification 0.6.96 §3; Multiboot2 Specification
 * 2.0 §3; Xen's arch-x86/hvm/start_info.h (PVH); spec/formats.md §5.
 */
#ifndef KS_BOOT_H
#define KS_BOOT_H

#include "ks/gmem.h"
#include "ks/x86.h"

enum boot_format { BOOT_AUTO, BOOT_MULTIBOOT1, BOOT_MULTIBOOT2, BOOT_PVH, BOOT_FLAT };

struct boot_module {
    const uint8_t *data;
    size_t size;
    const char *cmdline; /* QEMU's "file arg arg" form: the whole string */
};

struct boot_request {
    const uint8_t *image;
    size_t image_size;
    enum boot_format format; /* BOOT_AUTO detects; BOOT_FLAT must be explicit */
    const char *cmdline;     /* --append; NULL = "" */
    const struct boot_module *modules;
    unsigned nmodules;
    gpa_t flat_load;   /* flat binaries: load address */
    uint64_t flat_entry; /* flat binaries: entry point */
};

struct boot_result {
    enum boot_format format;
    struct x86_state state; /* the initial vCPU state the protocol promises */
    gpa_t entry;
    gpa_t info;             /* boot information structure (EBX) */
    gpa_t image_start, image_end;
    char desc[160];         /* e.g. "Multiboot2 ELF64, entry 0x100010" */
};

/*
 * Load (req) into guest RAM (m); RAM is every region of (m), and the memory
 * map handed to the kernel is built from them. Returns 0, or -EINVAL
 * (malformed image: truncated, overlapping segments, bad checksum, entry
 * outside memory, absurd sizes...) / -ENOSPC (does not fit) with the reason
 * in (err).
 */
int boot_load(const struct gmem *m, const struct boot_request *req, struct boot_result *out,
              char err[KS_ERR_LEN]);

const char *boot_format_name(enum boot_format f);

#endif
