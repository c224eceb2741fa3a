/*
 * Kernel symbols: an ELF's .symtab (or .dynsym) or an `nm`/System.map text
 * listing, as a table sorted by address, so that an address can be printed
 * as "func+0x12".
 *
 * Built from untrusted files: section offsets, sizes, entry sizes, string
 * indices and counts are all checked against the file (ELF spec, "Symbol
 * Table" and "String Table" in the System V gABI).
 */
#ifndef KS_SYMTAB_H
#define KS_SYMTAB_H

#include "ks/types.h"

struct symtab;

struct ks_sym {
    uint64_t addr;
    uint64_t size; /* 0 when unknown */
    const char *name;
    bool func; /* STT_FUNC or nm type t/T */
};

/*
 * Build a table from an ELF32 or ELF64 file image (buf, size): .symtab if
 * present, else .dynsym. Keeps STT_FUNC, STT_OBJECT and STT_NOTYPE symbols
 * that have a name and a section (not SHN_UNDEF/SHN_ABS-less garbage).
 * Names are copied, so (buf) may be released afterwards.
 * Returns 0, -ENOENT (no symbol table) or -EINVAL/-ENOMEM with (err).
 */
int symtab_from_elf(const void *buf, size_t size, struct symtab **out, char err[KS_ERR_LEN]);

/*
 * Build a table from `nm` / System.map text: "ADDR TYPE NAME" per line.
 * Returns 0, -ENOENT (no symbol lines) or -EINVAL with "line N: ..." in (err).
 */
int symtab_from_nm(const char *text, size_t len, struct symtab **out, char err[KS_ERR_LEN]);

/* Read (path) and build the table from ELF or nm text, whichever it is. */
int symtab_open(const char *path, struct symtab **out, char err[KS_ERR_LEN]);

void symtab_free(struct symtab *t);
unsigned symtab_count(const struct symtab *t);

/*
 * The symbol containing (addr): the highest symbol <= addr, limited to its
 * size when the size is known (else any distance below 1 MiB counts).
 * Sets (*off) to addr - sym->addr. NULL when none.
 */
const struct ks_sym *symtab_lookup(const struct symtab *t, uint64_t addr, uint64_t *off);

/* Address of symbol (name); -ENOENT if absent. */
int symtab_find(const struct symtab *t, const char *name, uint64_t *addr);

/*
 * "name+0x12" (or "name" at offset 0) into (buf); "" when (t) is NULL or
 * nothing matches. Returns the length written (snprintf semantics).
 */
int symtab_format(const struct symtab *t, uint64_t addr, char *buf, size_t len);

#endif
