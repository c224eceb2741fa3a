/*
 * ELF header decoding shared by lib/formats (cores, symbols) and lib/boot
 * (kernels). Field offsets come from <elf.h> so the two classes cannot drift.
 */
#include "ks/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

uint16_t elf_rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

uint32_t elf_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

uint64_t elf_rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

bool elf_in_file(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

bool elf_has_magic(const void *buf, size_t size)
{
    return buf && size >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

void elf_ehdr_fields(const uint8_t *b, bool elf64, struct elf_ehdr *h)
{
    h->elf64 = elf64;
    if (elf64) {
        h->type = elf_rd16(b + offsetof(Elf64_Ehdr, e_type));
        h->machine = elf_rd16(b + offsetof(Elf64_Ehdr, e_machine));
        h->entry = elf_rd64(b + offsetof(Elf64_Ehdr, e_entry));
        h->phoff = elf_rd64(b + offsetof(Elf64_Ehdr, e_phoff));
        h->shoff = elf_rd64(b + offsetof(Elf64_Ehdr, e_shoff));
        h->phentsize = elf_rd16(b + offsetof(Elf64_Ehdr, e_phentsize));
        h->phnum = elf_rd16(b + offsetof(Elf64_Ehdr, e_phnum));
        h->shentsize = elf_rd16(b + offsetof(Elf64_Ehdr, e_shentsize));
        h->shnum = elf_rd16(b + offsetof(Elf64_Ehdr, e_shnum));
    } else {
        h->type = elf_rd16(b + offsetof(Elf32_Ehdr, e_type));
        h->machine = elf_rd16(b + offsetof(Elf32_Ehdr, e_machine));
        h->entry = elf_rd32(b + offsetof(Elf32_Ehdr, e_entry));
        h->phoff = elf_rd32(b + offsetof(Elf32_Ehdr, e_phoff));
        h->shoff = elf_rd32(b + offsetof(Elf32_Ehdr, e_shoff));
        h->phentsize = elf_rd16(b + offsetof(Elf32_Ehdr, e_phentsize));
        h->phnum = elf_rd16(b + offsetof(Elf32_Ehdr, e_phnum));
        h->shentsize = elf_rd16(b + offsetof(Elf32_Ehdr, e_shentsize));
        h->shnum = elf_rd16(b + offsetof(Elf32_Ehdr, e_shnum));
    }
}

int elf_read_ehdr(const void *buf, size_t size, struct elf_ehdr *h, char err[KS_ERR_LEN])
{
    const uint8_t *b = buf;
    bool elf64;

    if (!elf_has_magic(buf, size)) {
        snprintf(err, KS_ERR_LEN, "not an ELF file (no \\x7fELF magic)");
        return -EINVAL;
    }
    if (size < EI_NIDENT) {
        snprintf(err, KS_ERR_LEN, "file ends inside the ELF header (%zu bytes)", size);
        return -EINVAL;
    }
    if (b[EI_CLASS] != ELFCLASS64 && b[EI_CLASS] != ELFCLASS32) {
        snprintf(err, KS_ERR_LEN, "unknown ELF class %u", b[EI_CLASS]);
        return -EINVAL;
    }
    if (b[EI_DATA] != ELFDATA2LSB) {
        snprintf(err, KS_ERR_LEN, "big-endian ELF: x86 files are little-endian");
        return -EINVAL;
    }
    elf64 = b[EI_CLASS] == ELFCLASS64;
    if (size < (elf64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
        snprintf(err, KS_ERR_LEN, "file ends inside the ELF header (%zu bytes)", size);
        return -EINVAL;
    }
    elf_ehdr_fields(b, elf64, h);
    return 0;
}

void elf_read_phdr(const uint8_t *ph, bool elf64, struct elf_phdr *p)
{
    if (elf64) {
        p->type = elf_rd32(ph + offsetof(Elf64_Phdr, p_type));
        p->offset = elf_rd64(ph + offsetof(Elf64_Phdr, p_offset));
        p->vaddr = elf_rd64(ph + offsetof(Elf64_Phdr, p_vaddr));
        p->paddr = elf_rd64(ph + offsetof(Elf64_Phdr, p_paddr));
        p->filesz = elf_rd64(ph + offsetof(Elf64_Phdr, p_filesz));
        p->memsz = elf_rd64(ph + offsetof(Elf64_Phdr, p_memsz));
        p->align = elf_rd64(ph + offsetof(Elf64_Phdr, p_align));
    } else {
        p->type = elf_rd32(ph + offsetof(Elf32_Phdr, p_type));
        p->offset = elf_rd32(ph + offsetof(Elf32_Phdr, p_offset));
        p->vaddr = elf_rd32(ph + offsetof(Elf32_Phdr, p_vaddr));
        p->paddr = elf_rd32(ph + offsetof(Elf32_Phdr, p_paddr));
        p->filesz = elf_rd32(ph + offsetof(Elf32_Phdr, p_filesz));
        p->memsz = elf_rd32(ph + offsetof(Elf32_Phdr, p_memsz));
        p->align = elf_rd32(ph + offsetof(Elf32_Phdr, p_align));
    }
}

void elf_read_shdr(const uint8_t *sh, bool elf64, struct elf_shdr *s)
{
    if (elf64) {
        s->type = elf_rd32(sh + offsetof(Elf64_Shdr, sh_type));
        s->link = elf_rd32(sh + offsetof(Elf64_Shdr, sh_link));
        s->info = elf_rd32(sh + offsetof(Elf64_Shdr, sh_info));
        s->offset = elf_rd64(sh + offsetof(Elf64_Shdr, sh_offset));
        s->size = elf_rd64(sh + offsetof(Elf64_Shdr, sh_size));
        s->entsize = elf_rd64(sh + offsetof(Elf64_Shdr, sh_entsize));
    } else {
        s->type = elf_rd32(sh + offsetof(Elf32_Shdr, sh_type));
        s->link = elf_rd32(sh + offsetof(Elf32_Shdr, sh_link));
        s->info = elf_rd32(sh + offsetof(Elf32_Shdr, sh_info));
        s->offset = elf_rd32(sh + offsetof(Elf32_Shdr, sh_offset));
        s->size = elf_rd32(sh + offsetof(Elf32_Shdr, sh_size));
        s->entsize = elf_rd32(sh + offsetof(Elf32_Shdr, sh_entsize));
    }
}
