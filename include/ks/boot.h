/*
 * Kernel loading the way QEMU's -kernel does it: Multiboot1 (ELF32 and the
 * a.out kludge), Multiboot2 (ELF32/ELF64), ELF with a PVH entry note, and
 * flat binaries. Pure: it parses the (untrusted) image, writes the segments
 * and the boot-information structures into guest memory through gmem, and
 * returns the initial vCPU state each protocol promises.
 * References: Multiboot Specification 0.6.96 §3; Multiboot2 Specification
 * 2.0 §3; Xen's arch-x86/hvm/start_info.h (PVH); spec/formats.md §5.
 * docs/boot.md describes the memory layout and where kvmscope differs from
 * QEMU.
 *
 * Guest memory layout chosen by boot_load():
 *   - kernel segments at their physical addresses (never in 0xa0000-0x100000);
 *   - modules, each page-aligned, after the highest kernel byte;
 *   - the boot area (GDT, memory map, information structure, strings) at
 *     BOOT_AREA_LOW (0x8000) when that low RAM is free, otherwise page-aligned
 *     after the last module. Within it: GDT at +0, memory map at +0x1000,
 *     information structure at +0x1500 (so Multiboot1 gets QEMU's 0x9000 and
 *     0x9500), strings and module tables after that.
 */
#ifndef KS_BOOT_H
#define KS_BOOT_H

#include "ks/gmem.h"
#include "ks/x86.h"

enum boot_format { BOOT_AUTO, BOOT_MULTIBOOT1, BOOT_MULTIBOOT2, BOOT_PVH, BOOT_FLAT };

/* Protocol constants (Multiboot 0.6.96 §3.1.1/§3.2, Multiboot2 §3.1.1/§3.2, Xen start_info.h). */
#define BOOT_MB1_HEADER_MAGIC         0x1BADB002u
#define BOOT_MB1_BOOT_MAGIC           0x2BADB002u /* EAX at entry */
#define BOOT_MB1_SEARCH               8192u /* header within the first 8 KiB, 4-byte aligned */
#define BOOT_MB2_HEADER_MAGIC         0xE85250D6u
#define BOOT_MB2_BOOT_MAGIC           0x36D76289u /* EAX at entry */
#define BOOT_MB2_SEARCH               32768u /* header within the first 32 KiB, 8-byte aligned */
#define BOOT_PVH_START_MAGIC          0x336EC578u /* hvm_start_info.magic */
#define BOOT_XEN_ELFNOTE_PHYS32_ENTRY 18          /* Xen elfnote.h */

/* The legacy VGA/option-ROM/BIOS hole nothing may be loaded into. */
#define BOOT_HOLE_START 0xA0000u
#define BOOT_HOLE_END   0x100000u
#define BOOT_AREA_LOW   0x8000u

/* The flat GDT boot_load() writes (GDTR points at it): QEMU's selectors. */
#define BOOT_CS_SELECTOR 0x08
#define BOOT_DS_SELECTOR 0x10

/* Limits on hostile input, each with its own error message. */
#define BOOT_MAX_PHDRS   128 /* e_phnum above this is rejected as absurd */
#define BOOT_MAX_MODULES 64
#define BOOT_MAX_CMDLINE 65536 /* bytes, per command line */
#define BOOT_MAX_MMAP    48    /* memory-map entries */

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
    gpa_t flat_load;     /* flat binaries: load address */
    uint64_t flat_entry; /* flat binaries: entry point */
    /*
     * The kernel's file name as given on the command line, or NULL. When set,
     * a Multiboot1 kernel's command line becomes "<kernel_name> <cmdline>"
     * exactly as QEMU's hw/i386/multiboot.c builds it (kvm-unit-tests skip
     * that first word as argv[0]). Multiboot2 and PVH get (cmdline) alone.
     */
    const char *kernel_name;
};

struct boot_result {
    enum boot_format format;
    struct x86_state state; /* the initial vCPU state the protocol promises */
    gpa_t entry;
    gpa_t info; /* boot information structure (EBX); 0 for flat binaries */
    gpa_t image_start, image_end;
    char desc[160]; /* e.g. "Multiboot2 ELF64, entry 0x100010" */
    /* Added by the boot module (compatible extension). */
    gpa_t area;        /* boot area (GDT at +0), see the layout above */
    gpa_t modules_end; /* end of the last module (== page after image_end if none) */
    unsigned nmodules;
};

/*
 * Load (req) into guest RAM (m); RAM is every region of (m), and the memory
 * map handed to the kernel is built from them (available RAM minus the
 * 0xa0000-0x100000 hole, which is reported as reserved). Returns 0, or
 * -EINVAL (malformed image: truncated, overlapping segments, bad checksum,
 * entry outside memory, absurd sizes, unsupported required feature...) /
 * -ENOSPC (does not fit in RAM) / -EFAULT (a region is read-only) /
 * -ENOMEM, with the reason in (err). (out) is filled only on success.
 *
 * The initial state (out->state) is the Multiboot "machine state" (Multiboot
 * 0.6.96 §3.2; Multiboot2 §3.3; PVH: Xen docs/misc/pvh.pandoc): 32-bit
 * protected mode (CR0 = PE|ET, paging off), CS a flat 4 GiB execute/read
 * segment, DS/ES/FS/GS/SS flat read/write, EFLAGS = 0x2 (IF=0), GDTR pointing
 * at the boot area's GDT, IDTR 0/0, TR a 32-bit busy TSS with base 0 and
 * limit 0x67, EAX = the protocol magic, EBX = out->info. ESP (undefined by
 * the protocols) is BOOT_AREA_LOW when the page below it is free RAM, else 0.
 */
int boot_load(const struct gmem *m, const struct boot_request *req, struct boot_result *out,
              char err[KS_ERR_LEN]);

/* "Multiboot1", "Multiboot2", "PVH", "flat", "auto". */
const char *boot_format_name(enum boot_format f);

/*
 * Iterate over a QEMU -initrd module list: "file args,file2 args" where ",,"
 * stands for a literal comma (QEMU's get_opt_value). On each call stores the
 * next entry's whole text ("file args") in (cmdline) and its file name (up
 * to the first space) in (path), and advances (*cursor). Returns 1 when an
 * entry was produced, 0 at the end of the list, -EINVAL for an empty entry
 * or file name, -ENAMETOOLONG when a buffer is too small.
 */
int boot_module_list_next(const char **cursor, char *cmdline, size_t cmdline_len, char *path,
                          size_t path_len);

#endif
