/*
 * boot_load(): format detection, the order of the loading steps, and the
 * initial machine state of Multiboot1/2, PVH and flat binaries (placement in
 * guest RAM is in boot_layout.c). Every value taken from the image is validated first; each
 * rejection has its own message in the style of Solo5's tenders/common/elf.c.
 */
#include "boot_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int boot_fail(struct boot_ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, KS_ERR_LEN, fmt, ap);
    va_end(ap);
    return rc;
}

uint16_t boot_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t boot_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t boot_le64(const uint8_t *p)
{
    return boot_le32(p) | (uint64_t)boot_le32(p + 4) << 32;
}

const char *boot_format_name(enum boot_format f)
{
    switch (f) {
    case BOOT_AUTO:
        return "auto";
    case BOOT_MULTIBOOT1:
        return "Multiboot1";
    case BOOT_MULTIBOOT2:
        return "Multiboot2";
    case BOOT_PVH:
        return "PVH";
    case BOOT_FLAT:
        return "flat";
    }
    return "unknown";
}

int boot_module_list_next(const char **cursor, char *cmdline, size_t cmdline_len, char *path,
                          size_t path_len)
{
    const char *s = *cursor;
    size_t n = 0, p = 0;

    if (!s || !*s)
        return 0;
    /* QEMU's get_opt_value(): ',' ends an entry, ",," is a literal comma. */
    for (; *s; s++) {
        if (*s == ',') {
            if (s[1] != ',')
                break;
            s++;
        }
        if (n + 1 >= cmdline_len)
            return -ENAMETOOLONG;
        cmdline[n++] = *s;
    }
    cmdline[n] = '\0';
    *cursor = *s ? s + 1 : s;
    while (cmdline[p] && cmdline[p] != ' ')
        p++;
    if (p == 0)
        return -EINVAL;
    if (p + 1 > path_len)
        return -ENAMETOOLONG;
    memcpy(path, cmdline, p);
    path[p] = '\0';
    return 1;
}

/*
 * A GDT with QEMU's selectors: 0x08 flat 32-bit code, 0x10 flat data (SDM
 * Vol. 3A §3.4.5: base 0, limit 0xfffff with G=1, D/B=1, P=1, DPL 0).
 * Multiboot says GDTR may be invalid at entry; a valid one costs nothing and
 * keeps a kernel that reloads a segment register before its own lgdt alive.
 */
static void write_gdt(struct boot_ctx *c)
{
    boot_area_put64(c, c->area_gpa + AREA_GDT + 8, 0x00cf9b000000ffffULL);
    boot_area_put64(c, c->area_gpa + AREA_GDT + 16, 0x00cf93000000ffffULL);
}

static void flat_seg(struct x86_seg *s, uint16_t sel, uint8_t type)
{
    *s = (struct x86_seg){.base = 0,
                          .limit = 0xffffffffu,
                          .selector = sel,
                          .type = type,
                          .s = 1,
                          .dpl = 0,
                          .present = 1,
                          .db = 1,
                          .g = 1};
}

/* The protocols' common machine state; see boot_load() in include/ks/boot.h. */
static void set_state(struct boot_ctx *c, struct x86_state *st, gpa_t entry, uint32_t eax,
                      uint32_t ebx)
{
    memset(st, 0, sizeof(*st));
    st->gpr[X86_RAX] = eax;
    st->gpr[X86_RBX] = ebx;
    /*
     * ESP is undefined for every protocol, but under QEMU it happens to point
     * at the option ROM's low stack, and kernels that forget to set their own
     * work there. Give them the free page below BOOT_AREA_LOW when there is one.
     */
    if (boot_area_free_at(c, BOOT_AREA_LOW - PAGE, PAGE))
        st->gpr[X86_RSP] = BOOT_AREA_LOW;
    st->rip = entry;
    st->rflags = 0x2;                                      /* bit 1 is reserved-set; IF=0, VM=0 */
    st->cr0 = 0x11;                                        /* PE | ET (SDM Vol. 3A §2.5), PG=0 */
    flat_seg(&st->seg[X86_SEG_CS], BOOT_CS_SELECTOR, 0xb); /* execute/read, accessed */
    flat_seg(&st->seg[X86_SEG_DS], BOOT_DS_SELECTOR, 0x3); /* read/write, accessed */
    st->seg[X86_SEG_ES] = st->seg[X86_SEG_FS] = st->seg[X86_SEG_GS] = st->seg[X86_SEG_DS];
    st->seg[X86_SEG_SS] = st->seg[X86_SEG_DS];
    /* TR: 32-bit busy TSS (type 11) with limit 0x67, as PVH specifies; VM entry needs one. */
    st->seg[X86_SEG_TR] = (struct x86_seg){.limit = 0x67, .type = 0xb, .present = 1};
    st->seg[X86_SEG_LDTR] = (struct x86_seg){.limit = 0xffff, .type = 0x2, .present = 1};
    st->gdt.base = c->area_gpa + AREA_GDT;
    st->gdt.limit = 3 * 8 - 1;
    st->dr[6] = 0xffff0ff0; /* reset values, SDM Vol. 3B §17.2.3/§17.2.4 */
    st->dr[7] = 0x400;
}

static int detect(struct boot_ctx *c, struct boot_mb1_header *h1, struct boot_mb2_header *h2,
                  enum boot_format *f)
{
    struct boot_elf e;
    uint32_t pvh;
    int rc;

    /* QEMU's order: Multiboot1 first; then Multiboot2 (QEMU has none); then the PVH note. */
    rc = boot_mb1_find(c, h1);
    if (rc)
        return rc < 0 ? rc : (*f = BOOT_MULTIBOOT1, 0);
    rc = boot_mb2_find(c, h2);
    if (rc)
        return rc < 0 ? rc : (*f = BOOT_MULTIBOOT2, 0);
    rc = boot_elf_header(c, &e);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        rc = boot_elf_pvh_entry(c, &e, &pvh);
        if (rc)
            return rc < 0 ? rc : (*f = BOOT_PVH, 0);
        return boot_fail(c, -EINVAL,
                         "ELF%u file without a Multiboot1/Multiboot2 header or a "
                         "PVH (Xen PHYS32_ENTRY) note",
                         e.bits);
    }
    return boot_fail(c, -EINVAL,
                     "not a Multiboot1/Multiboot2/PVH kernel; for a flat binary "
                     "pass --entry");
}

/* ELF segments and entry, for the formats that take them from the ELF file. */
static int elf_kernel(struct boot_ctx *c, const char *fmt, gpa_t *entry, unsigned *bits)
{
    struct boot_elf e;
    int rc = boot_elf_header(c, &e);

    if (rc == 0)
        return boot_fail(c, -EINVAL,
                         "%s kernel is not an ELF file and has no load address "
                         "fields",
                         fmt);
    if (rc < 0)
        return rc;
    *bits = e.bits;
    rc = boot_elf_segments(c, &e);
    if (!rc && entry)
        rc = boot_elf_entry(c, &e, entry);
    return rc;
}

static int collect(struct boot_ctx *c, enum boot_format f, const struct boot_mb1_header *h1,
                   const struct boot_mb2_header *h2, gpa_t *entry, char *kind, size_t kindlen)
{
    const struct boot_request *r = c->req;
    struct boot_elf e;
    unsigned bits = 0;
    uint32_t pvh = 0;
    int rc;

    switch (f) {
    case BOOT_MULTIBOOT1:
        if (h1->flags & BOOT_MB1_FLAG_AOUT_KLUDGE) {
            snprintf(kind, kindlen, "a.out kludge");
            *entry = h1->entry_addr;
            return boot_add_kludge(c, "a.out kludge", h1->off, h1->header_addr, h1->load_addr,
                                   h1->load_end_addr, h1->bss_end_addr);
        }
        rc = elf_kernel(c, "Multiboot1", entry, &bits);
        snprintf(kind, kindlen, "ELF%u", bits);
        return rc;
    case BOOT_MULTIBOOT2:
        if (h2->has_address) {
            if (!h2->has_entry)
                return boot_fail(c, -EINVAL,
                                 "Multiboot2 header has an address tag but no "
                                 "entry address tag");
            snprintf(kind, kindlen, "address tag");
            *entry = h2->entry_addr;
            return boot_add_kludge(c, "address tag", h2->off, h2->header_addr, h2->load_addr,
                                   h2->load_end_addr, h2->bss_end_addr);
        }
        rc = elf_kernel(c, "Multiboot2", h2->has_entry ? NULL : entry, &bits);
        if (h2->has_entry)
            *entry = h2->entry_addr;
        snprintf(kind, kindlen, "ELF%u", bits);
        return rc;
    case BOOT_PVH:
        rc = boot_elf_header(c, &e);
        if (rc == 0)
            return boot_fail(c, -EINVAL, "PVH kernel is not an ELF file");
        if (rc < 0)
            return rc;
        rc = boot_elf_pvh_entry(c, &e, &pvh);
        if (rc == 0)
            return boot_fail(c, -EINVAL, "ELF file has no Xen PHYS32_ENTRY (type 18) note");
        if (rc < 0)
            return rc;
        *entry = pvh;
        snprintf(kind, kindlen, "ELF%u", e.bits);
        return boot_elf_segments(c, &e);
    case BOOT_FLAT:
        if (r->nmodules)
            return boot_fail(c, -EINVAL, "flat binaries take no modules");
        if (r->flat_load >= FOUR_GIB || r->flat_entry >= FOUR_GIB)
            return boot_fail(c, -EINVAL,
                             "flat load address 0x%llx / entry 0x%llx must be below "
                             "4 GiB (the binary starts in 32-bit mode)",
                             (unsigned long long)r->flat_load, (unsigned long long)r->flat_entry);
        snprintf(kind, kindlen, "binary");
        c->seg[0] = (struct boot_seg){.name = "flat image",
                                      .paddr = r->flat_load,
                                      .vaddr = r->flat_load,
                                      .offset = 0,
                                      .filesz = r->image_size,
                                      .memsz = r->image_size};
        c->nseg = 1;
        *entry = r->flat_entry;
        return 0;
    case BOOT_AUTO:
        break;
    }
    return boot_fail(c, -EINVAL, "unknown boot format %d", (int)f);
}

static int write_info(struct boot_ctx *c, enum boot_format f, gpa_t *info)
{
    switch (f) {
    case BOOT_MULTIBOOT1:
        return boot_info_mb1(c, info);
    case BOOT_MULTIBOOT2:
        return boot_info_mb2(c, info);
    case BOOT_PVH:
        return boot_info_pvh(c, info);
    default:
        *info = 0;
        return 0;
    }
}

static uint32_t boot_magic(enum boot_format f)
{
    return f == BOOT_MULTIBOOT1   ? BOOT_MB1_BOOT_MAGIC
           : f == BOOT_MULTIBOOT2 ? BOOT_MB2_BOOT_MAGIC
                                  : 0;
}

static int run(struct boot_ctx *c, struct boot_result *out)
{
    struct boot_mb1_header h1 = {0};
    struct boot_mb2_header h2 = {0};
    enum boot_format f = c->req->format;
    char kind[24] = "";
    gpa_t entry = 0, info = 0;
    int rc;

    rc = boot_check_request(c);
    if (rc)
        return rc;
    if (f == BOOT_AUTO) {
        rc = detect(c, &h1, &h2, &f);
    } else if (f == BOOT_MULTIBOOT1) {
        rc = boot_mb1_find(c, &h1);
        if (rc == 0)
            rc = boot_fail(c, -EINVAL,
                           "no Multiboot1 header (magic 0x1badb002) in the first "
                           "8192 bytes");
    } else if (f == BOOT_MULTIBOOT2) {
        rc = boot_mb2_find(c, &h2);
        if (rc == 0)
            rc = boot_fail(c, -EINVAL,
                           "no Multiboot2 header (magic 0xe85250d6) in the first "
                           "32768 bytes");
    }
    if (rc < 0)
        return rc;
    rc = collect(c, f, &h1, &h2, &entry, kind, sizeof(kind));
    if (!rc)
        rc = boot_check_segments(c);
    if (!rc)
        rc = boot_check_entry(c, entry, "entry point");
    if (!rc)
        rc = boot_build_mmap(c);
    if (!rc)
        rc = boot_load_segments(c);
    if (!rc)
        rc = boot_place_modules(c);
    if (!rc)
        rc = boot_place_area(c);
    if (rc)
        return rc;
    write_gdt(c);
    rc = write_info(c, f, &info);
    if (!rc)
        rc = boot_write_guest(c, "boot area", c->area_gpa, c->area, c->area_used);
    if (rc)
        return rc;

    memset(out, 0, sizeof(*out));
    out->format = f;
    out->entry = entry;
    out->info = info;
    out->image_start = c->kstart;
    out->image_end = c->kend;
    out->area = c->area_gpa;
    out->modules_end = c->modules_end;
    out->nmodules = c->req->nmodules;
    set_state(c, &out->state, entry, boot_magic(f), (uint32_t)info);
    snprintf(out->desc, sizeof(out->desc), "%s %s, entry 0x%llx, kernel 0x%llx-0x%llx, %u module%s",
             boot_format_name(f), kind, (unsigned long long)entry, (unsigned long long)c->kstart,
             (unsigned long long)c->kend, c->req->nmodules, c->req->nmodules == 1 ? "" : "s");
    return 0;
}

int boot_load(const struct gmem *m, const struct boot_request *req, struct boot_result *out,
              char err[KS_ERR_LEN])
{
    struct boot_ctx *c = calloc(1, sizeof(*c));
    int rc;

    err[0] = '\0';
    if (!c) {
        snprintf(err, KS_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    c->m = m;
    c->req = req;
    c->err = err;
    for (unsigned i = 0; i < m->nregions; i++)
        c->ram_total += m->region[i].size;
    rc = run(c, out);
    free(c->area);
    free(c);
    return rc;
}
