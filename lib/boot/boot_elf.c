/*
 * ELF32/ELF64 executables as kernel images: header, program headers, entry
 * and the Xen PVH entry note. The image is hostile: every offset and size is
 * checked against the file before it is used, with overflow-safe arithmetic.
 * Layouts: System V ABI (gABI) ch. 4 "ELF Header" and ch. 5 "Program Header";
 * notes: gABI "Note Section"; the PVH note: Xen public/elfnote.h.
 */
#include "boot_int.h"
#include "ks/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int boot_elf_header(struct boot_ctx *c, struct boot_elf *e)
{
    const uint8_t *img = c->req->image;
    size_t size = c->req->image_size;
    size_t ehsize;
    uint16_t type, machine;
    struct elf_ehdr h;

    if (size < 4 || memcmp(img, "\177ELF", 4))
        return 0;
    if (size < 6)
        return boot_fail(c, -EINVAL, "truncated ELF header (%zu bytes)", size);
    if (img[EI_CLASS] != 1 && img[EI_CLASS] != 2)
        return boot_fail(c, -EINVAL, "ELF class %u is neither ELF32 (1) nor ELF64 (2)",
                         img[EI_CLASS]);
    e->bits = img[EI_CLASS] == 1 ? 32 : 64;
    ehsize = e->bits == 32 ? 52 : 64;
    if (size < ehsize)
        return boot_fail(c, -EINVAL, "truncated ELF%u header (%zu bytes, need %zu)", e->bits, size,
                         ehsize);
    if (img[EI_DATA] != 1)
        return boot_fail(c, -EINVAL, "ELF data encoding %u is not little-endian (1)", img[EI_DATA]);
    if (img[EI_VERSION] != 1)
        return boot_fail(c, -EINVAL, "ELF version %u is not 1", img[EI_VERSION]);
    elf_ehdr_fields(img, e->bits == 64, &h);
    type = h.type;
    machine = h.machine;
    if (type != ET_EXEC)
        return boot_fail(c, -EINVAL, "ELF type %u is not an executable (ET_EXEC = 2)", type);
    if (e->bits == 32 && machine != EM_386)
        return boot_fail(c, -EINVAL, "ELF32 machine %u is not i386 (3)", machine);
    if (e->bits == 64 && machine != EM_X86_64)
        return boot_fail(c, -EINVAL, "ELF64 machine %u is not x86-64 (62)", machine);
    e->entry = h.entry;
    e->phoff = h.phoff;
    e->phentsize = h.phentsize;
    e->phnum = h.phnum;
    if (e->phentsize != (e->bits == 32 ? 32u : 56u))
        return boot_fail(c, -EINVAL, "e_phentsize %u is not the ELF%u size (%u)", e->phentsize,
                         e->bits, e->bits == 32 ? 32 : 56);
    if (e->phnum == 0)
        return boot_fail(c, -EINVAL, "ELF has no program headers (e_phnum 0)");
    if (e->phnum == PN_XNUM || e->phnum > BOOT_MAX_PHDRS)
        return boot_fail(c, -EINVAL, "e_phnum %u is absurd (limit %u)", e->phnum, BOOT_MAX_PHDRS);
    /* phnum <= 128 and phentsize <= 56, so the product cannot overflow. */
    if (e->phoff > size || (uint64_t)e->phnum * e->phentsize > size - e->phoff)
        return boot_fail(c, -EINVAL, "program header table 0x%llx+0x%x beyond end of image (0x%zx)",
                         (unsigned long long)e->phoff, e->phnum * e->phentsize, size);
    return 1;
}

static void read_phdr(const struct boot_ctx *c, const struct boot_elf *e, unsigned i,
                      struct elf_phdr *p)
{
    elf_read_phdr(c->req->image + e->phoff + (uint64_t)i * e->phentsize, e->bits == 64, p);
}

/* The file range [offset, offset+filesz) of phdr[i] must lie inside the image. */
static int check_file_range(struct boot_ctx *c, unsigned i, const struct elf_phdr *p)
{
    size_t size = c->req->image_size;

    if (p->offset > size || p->filesz > size - p->offset)
        return boot_fail(c, -EINVAL,
                         "phdr[%u]: file range 0x%llx+0x%llx beyond end of image "
                         "(0x%zx)",
                         i, (unsigned long long)p->offset, (unsigned long long)p->filesz, size);
    return 0;
}

int boot_elf_segments(struct boot_ctx *c, const struct boot_elf *e)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        struct elf_phdr p;
        struct boot_seg *s;
        int rc;

        read_phdr(c, e, i, &p);
        if (p.type != PT_LOAD)
            continue;
        if (p.filesz > p.memsz)
            return boot_fail(c, -EINVAL, "phdr[%u]: filesz 0x%llx exceeds memsz 0x%llx", i,
                             (unsigned long long)p.filesz, (unsigned long long)p.memsz);
        rc = check_file_range(c, i, &p);
        if (rc)
            return rc;
        if (p.memsz == 0)
            continue;
        if (c->nseg == BOOT_MAX_SEGS)
            return boot_fail(c, -EINVAL, "more than %u non-empty PT_LOAD segments", BOOT_MAX_SEGS);
        s = &c->seg[c->nseg++];
        snprintf(s->name, sizeof(s->name), "phdr[%u]", i);
        s->paddr = p.paddr;
        s->vaddr = p.vaddr;
        s->offset = p.offset;
        s->filesz = p.filesz;
        s->memsz = p.memsz;
    }
    if (c->nseg == 0)
        return boot_fail(c, -EINVAL, "ELF has no loadable (PT_LOAD) segment with memsz > 0");
    return 0;
}

/*
 * e_entry is a virtual address. Loaders that put segments at p_paddr (GRUB's
 * multiboot ELF loader, QEMU) translate it through the segment that contains
 * it, so a kernel linked high with low load addresses still starts where it
 * was loaded.
 */
int boot_elf_entry(struct boot_ctx *c, const struct boot_elf *e, gpa_t *entry)
{
    for (unsigned i = 0; i < c->nseg; i++) {
        const struct boot_seg *s = &c->seg[i];

        if (e->entry >= s->vaddr && e->entry - s->vaddr < s->memsz) {
            *entry = s->paddr + (e->entry - s->vaddr);
            return 0;
        }
    }
    return boot_fail(c, -EINVAL, "ELF entry 0x%llx is outside every loadable segment",
                     (unsigned long long)e->entry);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Scan one PT_NOTE segment for the Xen PHYS32_ENTRY note. */
static int scan_notes(struct boot_ctx *c, unsigned i, const struct elf_phdr *p, uint32_t *entry)
{
    const uint8_t *seg = c->req->image + p->offset;
    uint64_t pos = 0, end = p->filesz;
    uint64_t al = p->align == 8 ? 8 : 4; /* 64-bit GNU notes pad to 8 */

    while (end - pos >= 12) {
        uint32_t namesz = boot_le32(seg + pos), descsz = boot_le32(seg + pos + 4);
        uint32_t type = boot_le32(seg + pos + 8);
        uint64_t name = pos + 12, desc = name + align_up(namesz, al);
        uint64_t next = desc + align_up(descsz, al);

        if (desc > end || desc + descsz > end)
            return boot_fail(c, -EINVAL,
                             "phdr[%u]: note at +0x%llx (namesz 0x%x, descsz 0x%x) "
                             "overflows the segment (0x%llx bytes)",
                             i, (unsigned long long)pos, namesz, descsz, (unsigned long long)end);
        if (namesz == 4 && !memcmp(seg + name, "Xen", 4) && type == BOOT_XEN_ELFNOTE_PHYS32_ENTRY) {
            uint64_t v;

            /* Xen documents a .long; Linux emitted a pointer-sized value until 2024. */
            if (descsz == 4) {
                v = boot_le32(seg + desc);
            } else if (descsz == 8) {
                v = boot_le64(seg + desc);
            } else {
                return boot_fail(c, -EINVAL,
                                 "phdr[%u]: Xen PHYS32_ENTRY note has descsz %u "
                                 "(want 4 or 8)",
                                 i, descsz);
            }
            if (v > UINT32_MAX)
                return boot_fail(c, -EINVAL, "PVH entry 0x%llx is above 4 GiB",
                                 (unsigned long long)v);
            *entry = (uint32_t)v;
            return 1;
        }
        if (next > end)
            break;
        pos = next;
    }
    return 0;
}

int boot_elf_pvh_entry(struct boot_ctx *c, const struct boot_elf *e, uint32_t *entry)
{
    for (unsigned i = 0; i < e->phnum; i++) {
        struct elf_phdr p;
        int rc;

        read_phdr(c, e, i, &p);
        if (p.type != PT_NOTE)
            continue;
        rc = check_file_range(c, i, &p);
        if (rc)
            return rc;
        rc = scan_notes(c, i, &p, entry);
        if (rc)
            return rc;
    }
    return 0;
}
