/*
 * Symbol tables from ELF (.symtab/.dynsym, System V gABI "Symbol Table") or
 * nm/System.map text. The file is untrusted: section offsets and sizes,
 * sh_entsize, sh_link and st_name are all checked before use.
 */
#include "ks/elf.h"
#include "ks/formats.h"
#include "ks/symtab.h"

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distance below which an unsized symbol is taken to contain an address. */
#define UNSIZED_REACH (1u << 20)
#define MAX_NAME      512

struct symtab {
    struct ks_sym *sym;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
};

/* Names are stored as offsets during building (the arena moves), fixed up at the end. */
static int add(struct symtab *t, uint64_t addr, uint64_t size, const char *name, size_t nlen,
               bool func)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct ks_sym *ns = realloc(t->sym, cap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        t->sym = ns;
        t->cap = cap;
    }
    if (t->names_len + nlen + 1 > t->names_cap) {
        size_t cap = t->names_cap ? t->names_cap : 4096;
        char *nn;
        while (cap < t->names_len + nlen + 1)
            cap *= 2;
        nn = realloc(t->names, cap);
        if (!nn)
            return -ENOMEM;
        t->names = nn;
        t->names_cap = cap;
    }
    memcpy(t->names + t->names_len, name, nlen);
    t->names[t->names_len + nlen] = 0;
    t->sym[t->n++] = (struct ks_sym){addr, size, (const char *)(uintptr_t)t->names_len, func};
    t->names_len += nlen + 1;
    return 0;
}

/* Address order; at one address prefer functions, then sized symbols. */
static int cmp_sym(const void *a, const void *b)
{
    const struct ks_sym *x = a, *y = b;

    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->func != y->func)
        return x->func ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return (uintptr_t)x->name < (uintptr_t)y->name ? -1 : (uintptr_t)x->name > (uintptr_t)y->name;
}

static int finish(struct symtab *t, struct symtab **out, char err[KS_ERR_LEN], const char *what)
{
    if (!t->n) {
        symtab_free(t);
        snprintf(err, KS_ERR_LEN, "no symbols in %s", what);
        return -ENOENT;
    }
    qsort(t->sym, t->n, sizeof(t->sym[0]), cmp_sym);
    for (size_t i = 0; i < t->n; i++)
        t->sym[i].name = t->names + (uintptr_t)t->sym[i].name;
    *out = t;
    return 0;
}

/* The symbol table to read (.symtab when present, else .dynsym) and its string table. */
static int find_symtab(const uint8_t *b, size_t size, struct elf_shdr *sym, struct elf_shdr *str,
                       bool *elf64, char err[KS_ERR_LEN])
{
    struct elf_ehdr h;
    size_t shsz, esz;
    uint32_t symidx = 0;
    bool found = false;
    int rc = elf_read_ehdr(b, size, &h, err);

    if (rc)
        return rc;
    *elf64 = h.elf64;
    shsz = h.elf64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    esz = h.elf64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    if (!h.shoff || !h.shnum) {
        snprintf(err, KS_ERR_LEN, "no section headers (stripped?)");
        return -ENOENT;
    }
    if (h.shentsize != shsz || !elf_in_file(h.shoff, (uint64_t)h.shnum * shsz, size)) {
        snprintf(err, KS_ERR_LEN, "section headers (%u at %#llx) do not fit in the file", h.shnum,
                 (unsigned long long)h.shoff);
        return -EINVAL;
    }
    for (uint32_t pass = 0; pass < 2 && !found; pass++) {
        uint32_t type = pass ? SHT_DYNSYM : SHT_SYMTAB;
        for (uint32_t i = 0; i < h.shnum && !found; i++) {
            elf_read_shdr(b + h.shoff + (uint64_t)i * shsz, h.elf64, sym);
            found = sym->type == type;
            symidx = i;
        }
    }
    if (!found) {
        snprintf(err, KS_ERR_LEN, "no .symtab or .dynsym section (stripped kernel?)");
        return -ENOENT;
    }
    if (sym->entsize != esz || !elf_in_file(sym->offset, sym->size, size) || sym->link >= h.shnum) {
        snprintf(err, KS_ERR_LEN,
                 "symbol table section %u is malformed (entsize %llu, "
                 "offset %#llx, size %#llx, link %u)",
                 symidx, (unsigned long long)sym->entsize, (unsigned long long)sym->offset,
                 (unsigned long long)sym->size, sym->link);
        return -EINVAL;
    }
    elf_read_shdr(b + h.shoff + (uint64_t)sym->link * shsz, h.elf64, str);
    if (str->type != SHT_STRTAB || !elf_in_file(str->offset, str->size, size)) {
        snprintf(err, KS_ERR_LEN, "the symbol string table (section %u) is malformed", sym->link);
        return -EINVAL;
    }
    return 0;
}

struct elf_sym {
    uint32_t name;
    uint8_t info;
    uint16_t shndx;
    uint64_t value, size;
};

static void read_sym(const uint8_t *s, bool elf64, struct elf_sym *e)
{
    if (elf64) {
        e->name = elf_rd32(s + offsetof(Elf64_Sym, st_name));
        e->info = s[offsetof(Elf64_Sym, st_info)];
        e->shndx = elf_rd16(s + offsetof(Elf64_Sym, st_shndx));
        e->value = elf_rd64(s + offsetof(Elf64_Sym, st_value));
        e->size = elf_rd64(s + offsetof(Elf64_Sym, st_size));
    } else {
        e->name = elf_rd32(s + offsetof(Elf32_Sym, st_name));
        e->info = s[offsetof(Elf32_Sym, st_info)];
        e->shndx = elf_rd16(s + offsetof(Elf32_Sym, st_shndx));
        e->value = elf_rd32(s + offsetof(Elf32_Sym, st_value));
        e->size = elf_rd32(s + offsetof(Elf32_Sym, st_size));
    }
}

int symtab_from_elf(const void *buf, size_t size, struct symtab **out, char err[KS_ERR_LEN])
{
    const uint8_t *b = buf;
    struct elf_shdr sym, str;
    struct symtab *t;
    bool elf64;
    size_t esz;
    int rc;

    *out = NULL;
    rc = find_symtab(b, size, &sym, &str, &elf64, err);
    if (rc)
        return rc;
    esz = elf64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    /* Entry 0 is the reserved null symbol (gABI "Symbol Table"). */
    for (uint64_t i = 1; i < sym.size / esz; i++) {
        struct elf_sym e;
        const char *nm;
        size_t nlen;
        int type;

        read_sym(b + sym.offset + i * esz, elf64, &e);
        /* ELF32_ST_TYPE and ELF64_ST_TYPE are the same low nibble. */
        type = ELF64_ST_TYPE(e.info);
        if (e.shndx == SHN_UNDEF || !e.name || e.name >= str.size)
            continue;
        if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
            continue;
        nm = (const char *)b + str.offset + e.name;
        nlen = strnlen(nm, str.size - e.name);
        if (nlen == str.size - e.name || !nlen || nlen > MAX_NAME)
            continue; /* unterminated or absurd */
        rc = add(t, e.value, e.size, nm, nlen, type == STT_FUNC);
        if (rc) {
            symtab_free(t);
            return rc;
        }
    }
    return finish(t, out, err, "the ELF symbol table");
}

int symtab_from_nm(const char *text, size_t len, struct symtab **out, char err[KS_ERR_LEN])
{
    struct symtab *t = calloc(1, sizeof(*t));
    size_t pos = 0;
    unsigned lineno = 0;

    *out = NULL;
    if (!t)
        return -ENOMEM;
    while (pos < len) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos, i = 0, start;
        uint64_t addr = 0;
        unsigned digits = 0;
        char type;
        int rc;

        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n && s[n - 1] == '\r')
            n--;
        if (!n)
            continue;
        /* Undefined symbols ("         U name") have no address: skip them. */
        if (s[0] == ' ')
            continue;
        for (; i < n && s[i] != ' '; i++, digits++) {
            int v = (s[i] >= '0' && s[i] <= '9')   ? s[i] - '0'
                    : (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10
                    : (s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 10
                                                   : -1;
            if (v < 0 || digits == 16)
                goto bad;
            addr = addr << 4 | (uint64_t)v;
        }
        if (!digits || i + 3 > n || s[i] != ' ' || s[i + 2] != ' ')
            goto bad;
        type = s[i + 1];
        start = i + 3;
        if (start >= n || n - start > MAX_NAME)
            goto bad;
        if (type == 'U' || type == 'u' || type == 'a' || type == 'A')
            continue;
        {
            size_t end = start;
            while (end < n && s[end] != ' ' && s[end] != '\t')
                end++;
            rc = add(t, addr, 0, s + start, end - start,
                     type == 't' || type == 'T' || type == 'w' || type == 'W');
        }
        if (rc) {
            symtab_free(t);
            return rc;
        }
        continue;
    bad:
        symtab_free(t);
        snprintf(err, KS_ERR_LEN, "line %u: expected 'ADDRESS TYPE NAME' (nm / System.map)",
                 lineno);
        return -EINVAL;
    }
    return finish(t, out, err, "the nm listing");
}

int symtab_open(const char *path, struct symtab **out, char err[KS_ERR_LEN])
{
    struct mapped_file mf;
    char why[KS_ERR_LEN];
    int rc = mapped_file_open(path, &mf, err);

    *out = NULL;
    if (rc)
        return rc;
    if (mf.size >= 4 && !memcmp(mf.data, ELFMAG, SELFMAG))
        rc = symtab_from_elf(mf.data, mf.size, out, why);
    else if (artifact_detect(mf.data, mf.size) == ARTIFACT_TEXT)
        rc = symtab_from_nm((const char *)mf.data, mf.size, out, why);
    else {
        snprintf(why, sizeof(why), "neither ELF nor an nm/System.map listing");
        rc = -EINVAL;
    }
    if (rc)
        snprintf(err, KS_ERR_LEN, "%.96s: %.150s", path, why);
    mapped_file_close(&mf);
    return rc;
}

void symtab_free(struct symtab *t)
{
    if (!t)
        return;
    free(t->sym);
    free(t->names);
    free(t);
}

unsigned symtab_count(const struct symtab *t)
{
    return t ? (unsigned)t->n : 0;
}

const struct ks_sym *symtab_lookup(const struct symtab *t, uint64_t addr, uint64_t *off)
{
    size_t lo = 0, hi;
    const struct ks_sym *s;

    if (!t || !t->n || addr < t->sym[0].addr)
        return NULL;
    hi = t->n;
    /* Last symbol with sym.addr <= addr. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->sym[mid].addr <= addr)
            lo = mid;
        else
            hi = mid;
    }
    /* The preferred symbol at that address sorts first among equals. */
    while (lo > 0 && t->sym[lo - 1].addr == t->sym[lo].addr)
        lo--;
    s = &t->sym[lo];
    if (s->size ? addr - s->addr >= s->size : addr - s->addr >= UNSIZED_REACH)
        return NULL;
    if (off)
        *off = addr - s->addr;
    return s;
}

int symtab_find(const struct symtab *t, const char *name, uint64_t *addr)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (!strcmp(t->sym[i].name, name)) {
            *addr = t->sym[i].addr;
            return 0;
        }
    return -ENOENT;
}

int symtab_format(const struct symtab *t, uint64_t addr, char *buf, size_t len)
{
    uint64_t off;
    const struct ks_sym *s = symtab_lookup(t, addr, &off);

    if (!s)
        return snprintf(buf, len, "%s", "");
    if (!off)
        return snprintf(buf, len, "%s", s->name);
    return snprintf(buf, len, "%s+%#llx", s->name, (unsigned long long)off);
}
