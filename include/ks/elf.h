/*
 * Bounds-checked reading of little-endian ELF32/ELF64 headers, shared by the
 * dump-guest-memory core parser, the symbol loader and the kernel loader.
 * Layouts: System V gABI ch. 4 "ELF Header" / "Sections", ch. 5 "Program
 * Header". Every reader copies fields with memcpy because files are mapped
 * unaligned; none of them checks bounds, which is the caller's job (with
 * elf_in_file) before it hands a pointer in.
 */
#ifndef KS_ELF_H
#define KS_ELF_H

#include "ks/types.h"

#include <stdbool.h>
#include <stddef.h>

/* The ELF header fields the readers need, widened to 64 bits for both classes. */
struct elf_ehdr {
    bool elf64;
    uint16_t type, machine;
    uint64_t entry, phoff, shoff;
    uint16_t phentsize, shentsize, shnum;
    uint32_t phnum; /* wide enough for the PN_XNUM escape (section 0's sh_info) */
};

struct elf_phdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf_shdr {
    uint32_t type, link, info;
    uint64_t offset, size, entsize;
};

/* Unaligned little-endian loads (x86 hosts only, as the rest of kvmscope). */
uint16_t elf_rd16(const uint8_t *p);
uint32_t elf_rd32(const uint8_t *p);
uint64_t elf_rd64(const uint8_t *p);

/* Whether [off, off+len) lies inside a buffer of (size) bytes, without overflow. */
bool elf_in_file(uint64_t off, uint64_t len, size_t size);

/* Whether (buf) starts with the \x7fELF magic (NULL or short buffers do not). */
bool elf_has_magic(const void *buf, size_t size);

/*
 * Validate the identification bytes (magic, class 32/64, little-endian) and
 * that the whole header fits, then fill (h). Returns 0, or -EINVAL with a
 * one-line reason in (err). Type, machine and table sizes are left to the
 * caller, whose rules differ (a core wants ET_CORE, a kernel ET_EXEC).
 */
int elf_read_ehdr(const void *buf, size_t size, struct elf_ehdr *h, char err[KS_ERR_LEN]);

/* Fill (h) from a header already known to fit: (b) holds at least the Elf32/64_Ehdr. */
void elf_ehdr_fields(const uint8_t *b, bool elf64, struct elf_ehdr *h);

/* Decode one program header / section header entry that the caller bounds-checked. */
void elf_read_phdr(const uint8_t *ph, bool elf64, struct elf_phdr *p);
void elf_read_shdr(const uint8_t *sh, bool elf64, struct elf_shdr *s);

#endif
