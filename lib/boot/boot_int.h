/*
 * Private interface of lib/boot: the loading context shared by the format
 * parsers (boot_elf.c, boot_header.c), the information-structure writers
 * (boot_info.c) and the driver (boot.c).
 */
#ifndef KS_BOOT_INT_H
#define KS_BOOT_INT_H

#include "ks/boot.h"

/* Loaded pieces of one kernel (PT_LOADs with a non-zero memsz, or one a.out/flat range). */
#define BOOT_MAX_SEGS 32

struct boot_seg {
    char name[24]; /* "phdr[3]", "a.out kludge", "flat image": the prefix of its errors */
    gpa_t paddr;
    uint64_t vaddr;
    uint64_t offset, filesz, memsz;
};

struct boot_e820 {
    uint64_t base, len;
    uint32_t type; /* 1 RAM, 2 reserved (Multiboot, PVH and e820 share the numbering) */
};

struct boot_elf {
    unsigned bits; /* 32 or 64 */
    uint64_t entry;
    uint64_t phoff;
    unsigned phnum, phentsize;
};

struct boot_ctx {
    const struct gmem *m;
    const struct boot_request *req;
    char *err;
    uint64_t ram_total;

    struct boot_seg seg[BOOT_MAX_SEGS];
    unsigned nseg;
    gpa_t kstart, kend; /* extent of the loaded kernel */

    gpa_t mod_start[BOOT_MAX_MODULES], mod_end[BOOT_MAX_MODULES];
    gpa_t modules_end;

    struct boot_e820 mmap[BOOT_MAX_MMAP];
    unsigned nmmap;
    uint32_t mem_lower, mem_upper; /* KiB, Multiboot meaning */

    /* Host staging copy of the boot area, written to guest memory at the end. */
    uint8_t *area;
    size_t area_size, area_used;
    gpa_t area_gpa;
};

/* Offsets inside the boot area (see include/ks/boot.h). */
#define AREA_GDT  0x0
#define AREA_MMAP 0x1000
#define AREA_INFO 0x1500
#define AREA_FREE 0x1600

/* snprintf (fmt) into c->err and return (rc). */
int boot_fail(struct boot_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Little-endian field access on the untrusted image; the caller checked bounds. */
uint16_t boot_le16(const uint8_t *p);
uint32_t boot_le32(const uint8_t *p);
uint64_t boot_le64(const uint8_t *p);

/* ELF: 1 = ELF header parsed into (e), 0 = not ELF at all, -errno = malformed ELF. */
int boot_elf_header(struct boot_ctx *c, struct boot_elf *e);
/* Collect the PT_LOAD segments into c->seg (bounds of each against the file). */
int boot_elf_segments(struct boot_ctx *c, const struct boot_elf *e);
/* e_entry as a physical address: translated through the segment whose vaddr range holds it. */
int boot_elf_entry(struct boot_ctx *c, const struct boot_elf *e, gpa_t *entry);
/* The XEN_ELFNOTE_PHYS32_ENTRY note: 1 found (*entry set), 0 absent, -errno malformed. */
int boot_elf_pvh_entry(struct boot_ctx *c, const struct boot_elf *e, uint32_t *entry);

/* One loaded range described by Multiboot address fields (MB1 a.out kludge, MB2 address tag). */
int boot_add_kludge(struct boot_ctx *c, const char *who, uint32_t hdr_off, uint32_t header_addr,
                    uint32_t load_addr, uint32_t load_end_addr, uint32_t bss_end_addr);
/* (entry) must lie in the file-backed part of a loaded segment. */
int boot_check_entry(struct boot_ctx *c, uint64_t entry, const char *what);

/* Multiboot headers (boot_header.c). Header flag bit 16: use the address fields (§3.1.3). */
#define BOOT_MB1_FLAG_AOUT_KLUDGE 0x10000u
struct boot_mb1_header {
    uint32_t off, flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};
struct boot_mb2_header {
    uint32_t off, length;
    bool has_address, has_entry;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};
/* 1 found, 0 absent; -EINVAL for a header that is there but broken (checksum, flags). */
int boot_mb1_find(struct boot_ctx *c, struct boot_mb1_header *h);
int boot_mb2_find(struct boot_ctx *c, struct boot_mb2_header *h);

#define PAGE     4096u
#define FOUR_GIB 0x100000000ULL

/*
 * Layout steps of boot_load() (boot_layout.c), in the order boot.c runs them;
 * each returns 0 or -errno with c->err set.
 */
int boot_check_request(struct boot_ctx *c);  /* image, modules and command-line lengths */
int boot_check_segments(struct boot_ctx *c); /* segments inside RAM, off the hole, disjoint */
int boot_build_mmap(struct boot_ctx *c);     /* the memory map and mem_lower/mem_upper */
int boot_load_segments(struct boot_ctx *c);  /* copy the segments, zero their bss */
int boot_place_modules(struct boot_ctx *c);  /* modules page-aligned after the kernel */
int boot_place_area(struct boot_ctx *c);     /* the boot area, clear of kernel and modules */
/* Copy (len) bytes to guest memory at (gpa); (what) names the piece in the error. */
int boot_write_guest(struct boot_ctx *c, const char *what, gpa_t gpa, const void *src, size_t len);
/* Whether [at, at+len) is RAM below 4 GiB and clear of the kernel and modules. */
bool boot_area_free_at(const struct boot_ctx *c, gpa_t at, size_t len);

/* Boot area staging (boot_layout.c): a guest address inside the area, or 0 with c->err set. */
gpa_t boot_area_alloc(struct boot_ctx *c, size_t len, size_t align);
gpa_t boot_area_str(struct boot_ctx *c, const char *prefix, const char *s);
void boot_area_put(struct boot_ctx *c, gpa_t gpa, const void *src, size_t len);
void boot_area_put32(struct boot_ctx *c, gpa_t gpa, uint32_t v);
void boot_area_put64(struct boot_ctx *c, gpa_t gpa, uint64_t v);

/* Information structures (boot_info.c); return the structure's guest address in (*info). */
int boot_info_mb1(struct boot_ctx *c, gpa_t *info);
int boot_info_mb2(struct boot_ctx *c, gpa_t *info);
int boot_info_pvh(struct boot_ctx *c, gpa_t *info);

#endif
