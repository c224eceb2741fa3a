/*
 * QEMU dump-guest-memory ELF cores (shared/spec/formats.md §2; QEMU
 * dump/dump.c, target/i386/arch_dump.c).
 *
 * The file is never trusted: every offset and size is checked against the
 * buffer with overflow-safe arithmetic before anything is read, and all
 * multi-byte fields are read with memcpy (the file may be unaligned).
 */
#include "qemu_regs_internal.h"

#include "ks/elf.h"
#include "ks/formats.h"
#include "ks/paging.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most PT_LOAD pieces kept while clipping overlaps (each piece is 24 bytes). */
#define MAX_PIECES 65536

/* QEMUCPUState layout (target/i386/arch_dump.c, formats.md §2.3). */
#define QCS_MIN_SIZE 432
#define QCS_KGS_SIZE 440
#define QCS_SEGS     152
#define QCS_SEG_SIZE 24
#define QCS_CR       392

/* NT_PRSTATUS descriptor sizes (x86-64 and i386 struct elf_prstatus). */
#define PRSTATUS64_SIZE 336
#define PRSTATUS32_SIZE 144

static int einval(char err[KS_ERR_LEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int einval(char err[KS_ERR_LEN], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, KS_ERR_LEN, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

struct piece {
    gpa_t gpa;
    uint64_t size;
    uint64_t off; /* file offset */
};

struct loads {
    struct piece *p;
    size_t n, cap;
};

static int piece_push(struct loads *l, gpa_t gpa, uint64_t size, uint64_t off)
{
    if (!size)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct piece *np;
        if (cap > MAX_PIECES)
            return -ENOSPC;
        np = realloc(l->p, cap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        l->p = np;
        l->cap = cap;
    }
    l->p[l->n++] = (struct piece){gpa, size, off};
    return 0;
}

/*
 * Add [gpa, gpa+size) minus everything already accepted: the earlier
 * segment keeps a GPA that two PT_LOADs claim (a `-p` dump maps one frame
 * once per virtual alias). Returns 1 if anything was clipped.
 */
static int add_clipped(struct loads *acc, gpa_t gpa, uint64_t size, uint64_t off)
{
    struct loads todo = {0};
    int clipped = 0, rc;

    rc = piece_push(&todo, gpa, size, off);
    for (size_t i = 0; !rc && i < acc->n; i++) {
        const struct piece *a = &acc->p[i];
        struct loads next = {0};
        for (size_t k = 0; !rc && k < todo.n; k++) {
            struct piece t = todo.p[k];
            uint64_t t_end = t.gpa + t.size, a_end = a->gpa + a->size;
            if (t_end <= a->gpa || a_end <= t.gpa) {
                rc = piece_push(&next, t.gpa, t.size, t.off);
                continue;
            }
            clipped = 1;
            if (t.gpa < a->gpa)
                rc = piece_push(&next, t.gpa, a->gpa - t.gpa, t.off);
            if (!rc && t_end > a_end)
                rc = piece_push(&next, a_end, t_end - a_end, t.off + (a_end - t.gpa));
        }
        free(todo.p);
        todo = next;
    }
    for (size_t k = 0; !rc && k < todo.n; k++)
        rc = piece_push(acc, todo.p[k].gpa, todo.p[k].size, todo.p[k].off);
    free(todo.p);
    return rc ? rc : clipped;
}

static int cmp_piece(const void *a, const void *b)
{
    const struct piece *x = a, *y = b;
    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* Sort, merge pieces contiguous both in GPA and in the file, and map them. */
static int map_loads(struct loads *acc, const uint8_t *base, struct elfcore *core,
                     char err[KS_ERR_LEN])
{
    size_t n = 0;

    if (!acc->n)
        return 0;
    qsort(acc->p, acc->n, sizeof(acc->p[0]), cmp_piece);
    for (size_t i = 0; i < acc->n; i++) {
        if (n && acc->p[n - 1].gpa + acc->p[n - 1].size == acc->p[i].gpa &&
            acc->p[n - 1].off + acc->p[n - 1].size == acc->p[i].off)
            acc->p[n - 1].size += acc->p[i].size;
        else
            acc->p[n++] = acc->p[i];
    }
    for (size_t i = 0; i < n; i++) {
        int rc = gmem_add(&core->mem, acc->p[i].gpa, acc->p[i].size,
                          (void *)(uintptr_t)(base + acc->p[i].off), false);
        if (rc == -ENOSPC) {
            snprintf(err, KS_ERR_LEN,
                     "the core has %zu discontiguous memory ranges; at most %d are supported", n,
                     GMEM_MAX_REGIONS);
            return rc;
        }
        if (rc)
            return einval(err, "PT_LOAD at GPA %#llx: cannot map (%d)",
                          (unsigned long long)acc->p[i].gpa, rc);
    }
    return 0;
}

static struct elfcore_cpu *cpu_slot(struct elfcore *core, unsigned idx)
{
    if (idx >= ELFCORE_MAX_CPUS)
        return NULL;
    if (idx >= core->ncpus)
        core->ncpus = idx + 1;
    return &core->cpu[idx];
}

static int note_prstatus(struct elfcore *core, unsigned idx, const uint8_t *d, uint32_t sz,
                         char err[KS_ERR_LEN])
{
    struct elfcore_cpu *c;

    if (sz != PRSTATUS64_SIZE && sz != PRSTATUS32_SIZE)
        return einval(err, "NT_PRSTATUS note %u has %u bytes (x86-64 has %d, i386 %d)", idx, sz,
                      PRSTATUS64_SIZE, PRSTATUS32_SIZE);
    c = cpu_slot(core, idx);
    if (!c)
        return 0;
    c->have_prstatus = true;
    if (sz == PRSTATUS64_SIZE) {
        /* struct user_regs_struct order (arch/x86/include/asm/user_64.h). */
        static const int order[] = {X86_R15, X86_R14, X86_R13, X86_R12, X86_RBP,
                                    X86_RBX, X86_R11, X86_R10, X86_R9,  X86_R8,
                                    X86_RAX, X86_RCX, X86_RDX, X86_RSI, X86_RDI};
        const uint8_t *r = d + 112;
        c->pid = elf_rd32(d + 32);
        for (size_t i = 0; i < KS_ARRAY_SIZE(order); i++)
            c->s.gpr[order[i]] = elf_rd64(r + 8 * i);
        c->s.rip = elf_rd64(r + 8 * 16);
        c->s.seg[X86_SEG_CS].selector = (uint16_t)elf_rd64(r + 8 * 17);
        c->s.rflags = elf_rd64(r + 8 * 18);
        c->s.gpr[X86_RSP] = elf_rd64(r + 8 * 19);
        c->s.seg[X86_SEG_SS].selector = (uint16_t)elf_rd64(r + 8 * 20);
        c->s.seg[X86_SEG_FS].base = elf_rd64(r + 8 * 21);
        c->s.seg[X86_SEG_GS].base = elf_rd64(r + 8 * 22);
        c->s.seg[X86_SEG_DS].selector = (uint16_t)elf_rd64(r + 8 * 23);
        c->s.seg[X86_SEG_ES].selector = (uint16_t)elf_rd64(r + 8 * 24);
        c->s.seg[X86_SEG_FS].selector = (uint16_t)elf_rd64(r + 8 * 25);
        c->s.seg[X86_SEG_GS].selector = (uint16_t)elf_rd64(r + 8 * 26);
    } else {
        /* struct user_regs_struct (i386): ebx ecx edx esi edi ebp eax ds es fs gs orig eip cs
         * eflags esp ss. */
        static const int order[] = {X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI, X86_RBP, X86_RAX};
        const uint8_t *r = d + 72;
        c->pid = elf_rd32(d + 24);
        for (size_t i = 0; i < KS_ARRAY_SIZE(order); i++)
            c->s.gpr[order[i]] = elf_rd32(r + 4 * i);
        c->s.seg[X86_SEG_DS].selector = elf_rd16(r + 28);
        c->s.seg[X86_SEG_ES].selector = elf_rd16(r + 32);
        c->s.seg[X86_SEG_FS].selector = elf_rd16(r + 36);
        c->s.seg[X86_SEG_GS].selector = elf_rd16(r + 40);
        c->s.rip = elf_rd32(r + 48);
        c->s.seg[X86_SEG_CS].selector = elf_rd16(r + 52);
        c->s.rflags = elf_rd32(r + 56);
        c->s.gpr[X86_RSP] = elf_rd32(r + 60);
        c->s.seg[X86_SEG_SS].selector = elf_rd16(r + 64);
    }
    return 0;
}

static int note_qemu(struct elfcore *core, unsigned idx, const uint8_t *d, uint32_t sz,
                     char err[KS_ERR_LEN])
{
    static const int gpr[8] = {X86_RAX, X86_RBX, X86_RCX, X86_RDX,
                               X86_RSI, X86_RDI, X86_RSP, X86_RBP};
    /* Segment order in the note: cs, ds, es, fs, gs, ss, ldt, tr (then gdt, idt). */
    static const int segs[8] = {X86_SEG_CS, X86_SEG_DS, X86_SEG_ES,   X86_SEG_FS,
                                X86_SEG_GS, X86_SEG_SS, X86_SEG_LDTR, X86_SEG_TR};
    struct elfcore_cpu *c;
    uint32_t version, size;

    if (sz < 8)
        return einval(err, "QEMU note %u is %u bytes, too small for a header", idx, sz);
    version = elf_rd32(d);
    size = elf_rd32(d + 4);
    if (version != 1)
        return einval(err, "QEMU note %u has version %u (only 1 exists)", idx, version);
    /* Fields are appended without a version bump; trust (size) within the descriptor. */
    if (size < QCS_MIN_SIZE || size > sz)
        return einval(err, "QEMU note %u declares %u bytes (needs %d..%u)", idx, size, QCS_MIN_SIZE,
                      sz);
    c = cpu_slot(core, idx);
    if (!c)
        return 0;
    c->have_qemu = true;
    c->qemu_size = size;
    for (int i = 0; i < 8; i++)
        c->s.gpr[gpr[i]] = elf_rd64(d + 8 + 8 * i);
    for (int i = 0; i < 8; i++)
        c->s.gpr[X86_R8 + i] = elf_rd64(d + 72 + 8 * i);
    c->s.rip = elf_rd64(d + 136);
    c->s.rflags = elf_rd64(d + 144);
    for (int i = 0; i < 10; i++) {
        const uint8_t *s = d + QCS_SEGS + QCS_SEG_SIZE * i;
        uint32_t sel = elf_rd32(s), limit = elf_rd32(s + 4), flags = elf_rd32(s + 8);
        uint64_t base = elf_rd64(s + 16);
        if (i < 8) {
            qr_seg_from_flags(&c->s.seg[segs[i]], (uint16_t)sel, base, limit, flags);
        } else {
            struct x86_dtable *t = i == 8 ? &c->s.gdt : &c->s.idt;
            t->base = base;
            t->limit = limit;
        }
    }
    c->s.cr0 = elf_rd64(d + QCS_CR);
    c->s.cr2 = elf_rd64(d + QCS_CR + 16);
    c->s.cr3 = elf_rd64(d + QCS_CR + 24);
    c->s.cr4 = elf_rd64(d + QCS_CR + 32);
    if (size >= QCS_KGS_SIZE)
        c->s.kernel_gs_base = elf_rd64(d + QCS_MIN_SIZE);
    return 0;
}

/* Walk the notes of one PT_NOTE segment: Elf_Nhdr, name and descriptor padded to 4. */
static int parse_notes(struct elfcore *core, const uint8_t *p, uint64_t len, unsigned *ncore,
                       unsigned *nqemu, char err[KS_ERR_LEN])
{
    uint64_t pos = 0;

    while (pos < len) {
        uint32_t namesz, descsz, type;
        uint64_t name_pad, desc_pad;
        const uint8_t *name, *desc;
        int rc = 0;

        if (len - pos < 12)
            return einval(err, "note header at PT_NOTE offset %llu is truncated",
                          (unsigned long long)pos);
        namesz = elf_rd32(p + pos);
        descsz = elf_rd32(p + pos + 4);
        type = elf_rd32(p + pos + 8);
        name_pad = ((uint64_t)namesz + 3) & ~3ULL;
        desc_pad = ((uint64_t)descsz + 3) & ~3ULL;
        if (name_pad > len - pos - 12 || desc_pad > len - pos - 12 - name_pad) {
            /* The last descriptor may lack its padding. */
            if (!(name_pad <= len - pos - 12 && descsz <= len - pos - 12 - name_pad))
                return einval(err,
                              "note at PT_NOTE offset %llu (namesz %u, descsz %u) "
                              "runs past the segment",
                              (unsigned long long)pos, namesz, descsz);
        }
        name = p + pos + 12;
        desc = name + name_pad;
        if (namesz == 5 && !memcmp(name, "CORE", 5) && type == NT_PRSTATUS)
            rc = note_prstatus(core, (*ncore)++, desc, descsz, err);
        else if (namesz == 5 && !memcmp(name, "QEMU", 5) && type == 0)
            rc = note_qemu(core, (*nqemu)++, desc, descsz, err);
        if (rc)
            return rc;
        pos += 12 + name_pad + desc_pad;
    }
    return 0;
}

/* Formats QEMU can write that are not ELF (formats.md §2.4). */
static int not_elf(const uint8_t *b, size_t size, char err[KS_ERR_LEN])
{
    switch (artifact_detect(b, size)) {
    case ARTIFACT_KDUMP_FLAT:
        snprintf(err, KS_ERR_LEN,
                 "this is a kdump-compressed dump in makedumpfile's flattened "
                 "format: convert it with 'makedumpfile -R out < file' and open "
                 "it with crash, or re-dump without -z/-l/-s");
        return -ENOTSUP;
    case ARTIFACT_KDUMP:
        snprintf(err, KS_ERR_LEN,
                 "this is a kdump-compressed dump: open it with crash, or "
                 "re-dump with plain 'dump-guest-memory FILE' (ELF)");
        return -ENOTSUP;
    case ARTIFACT_WIN_DMP:
        snprintf(err, KS_ERR_LEN,
                 "this is a Windows crash dump (dump-guest-memory -w): use "
                 "WinDbg, or re-dump as ELF");
        return -ENOTSUP;
    default:
        return einval(err, "not an ELF file (no \\x7fELF magic)");
    }
}

static int read_ehdr(const uint8_t *b, size_t size, struct elf_ehdr *h, char err[KS_ERR_LEN])
{
    if (!elf_has_magic(b, size))
        return not_elf(b, size, err);
    return elf_read_ehdr(b, size, h, err);
}

/* PN_XNUM: the real count is in section 0's sh_info (gABI "Extended Program Header Numbering"). */
static int xnum(const uint8_t *b, size_t size, struct elf_ehdr *h, char err[KS_ERR_LEN])
{
    size_t shsz = h->elf64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    struct elf_shdr sh0;

    if (!h->shoff || h->shentsize != shsz || !elf_in_file(h->shoff, shsz, size))
        return einval(err,
                      "e_phnum is PN_XNUM but section 0 (e_shoff %#llx) is missing or "
                      "outside the file",
                      (unsigned long long)h->shoff);
    elf_read_shdr(b + h->shoff, h->elf64, &sh0);
    h->phnum = sh0.info;
    return 0;
}

/* One program header of a core: register notes are parsed, memory is queued in (acc). */
static int load_phdr(struct elfcore *core, const uint8_t *b, size_t size, uint32_t i,
                     const struct elf_phdr *ph, struct loads *acc, unsigned *ncore, unsigned *nqemu,
                     char err[KS_ERR_LEN])
{
    int rc;

    if (ph->type == PT_NOTE) {
        if (!elf_in_file(ph->offset, ph->filesz, size))
            return einval(err,
                          "PT_NOTE (program header %u) at offset %#llx size %#llx lies "
                          "beyond the end of the %zu-byte file: truncated core?",
                          i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz, size);
        return parse_notes(core, b + ph->offset, ph->filesz, ncore, nqemu, err);
    }
    if (ph->type != PT_LOAD)
        return 0;
    core->nload++;
    if (ph->filesz > ph->memsz)
        return einval(err, "PT_LOAD %u has p_filesz %#llx > p_memsz %#llx", i,
                      (unsigned long long)ph->filesz, (unsigned long long)ph->memsz);
    if (!elf_in_file(ph->offset, ph->filesz, size))
        return einval(err,
                      "PT_LOAD %u (GPA %#llx, %#llx bytes at file offset %#llx) lies "
                      "beyond the end of the %zu-byte file: truncated core?",
                      i, (unsigned long long)ph->paddr, (unsigned long long)ph->filesz,
                      (unsigned long long)ph->offset, size);
    if (ph->paddr + ph->filesz < ph->paddr)
        return einval(err, "PT_LOAD %u wraps around the physical address space", i);
    /* Only p_filesz bytes exist; the rest of p_memsz stays unbacked (§2.2). */
    rc = add_clipped(acc, ph->paddr, ph->filesz, ph->offset);
    if (rc == -ENOSPC)
        snprintf(err, KS_ERR_LEN, "too many overlapping PT_LOAD pieces");
    if (rc < 0)
        return rc;
    core->nclipped += (unsigned)rc;
    return 0;
}

int elfcore_parse(const void *buf, size_t size, struct elfcore *core, char err[KS_ERR_LEN])
{
    const uint8_t *b = buf;
    struct loads acc = {0};
    unsigned ncore = 0, nqemu = 0;
    struct elf_ehdr h = {0};
    size_t phsz;
    int rc;

    memset(core, 0, sizeof(*core));
    gmem_init(&core->mem);
    err[0] = 0;
    if (!b)
        size = 0;
    rc = read_ehdr(b, size, &h, err);
    if (rc)
        return rc;
    if (h.type != ET_CORE)
        return einval(
            err, "ELF type %u is not ET_CORE: this is %s, not a dump-guest-memory core", h.type,
            h.type == ET_EXEC ? "an executable (a kernel? use it for symbols)" : "not a core");
    if (h.machine != EM_X86_64 && h.machine != EM_386)
        return einval(err, "e_machine %u is not x86 (EM_X86_64 62 or EM_386 3)", h.machine);
    core->elf64 = h.elf64;
    core->machine = h.machine;
    phsz = h.elf64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (h.phnum == PN_XNUM && (rc = xnum(b, size, &h, err)))
        return rc;
    if (!h.phnum)
        return einval(err, "the core has no program headers");
    if (h.phentsize != phsz)
        return einval(err, "e_phentsize %u (expected %zu)", h.phentsize, phsz);
    /* 64-bit product: phnum <= 2^32 and phsz <= 56 cannot overflow. */
    if (!elf_in_file(h.phoff, (uint64_t)h.phnum * phsz, size))
        return einval(err, "%u program headers at e_phoff %#llx do not fit in the %zu-byte file",
                      h.phnum, (unsigned long long)h.phoff, size);
    core->nphdr = h.phnum;
    for (uint32_t i = 0; i < h.phnum && !rc; i++) {
        struct elf_phdr ph;

        elf_read_phdr(b + h.phoff + (uint64_t)i * phsz, h.elf64, &ph);
        rc = load_phdr(core, b, size, i, &ph, &acc, &ncore, &nqemu, err);
    }
    if (rc)
        goto out;
    rc = map_loads(&acc, b, core, err);
    if (!rc && !core->nload && !core->ncpus)
        rc = einval(err, "the core has neither memory (PT_LOAD) nor register notes");
out:
    free(acc.p);
    return rc;
}

int elfcore_open(const char *path, struct elfcore *core, char err[KS_ERR_LEN])
{
    struct mapped_file mf;
    char why[KS_ERR_LEN];
    int rc = mapped_file_open(path, &mf, err);

    if (rc) {
        memset(core, 0, sizeof(*core));
        return rc;
    }
    rc = elfcore_parse(mf.data, mf.size, core, why);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "%.96s: %.150s", path, why);
        mapped_file_close(&mf);
        return rc;
    }
    core->file = mf;
    return 0;
}

void elfcore_close(struct elfcore *core)
{
    mapped_file_close(&core->file);
    memset(core, 0, sizeof(*core));
}

int elfcore_snapshot(const struct elfcore *core, unsigned cpu, struct snapshot *snap)
{
    const struct elfcore_cpu *c;
    const struct x86_seg *cs;

    if (cpu >= core->ncpus)
        return -ENOENT;
    c = &core->cpu[cpu];
    if (!c->have_prstatus && !c->have_qemu)
        return -ENOENT;
    snap->s = c->s;
    snap->have |= SNAP_HAVE_GPRS;
    snprintf(snap->source, sizeof(snap->source), "dump-guest-memory core (CPU %u)", cpu);
    if (!c->have_qemu)
        return 0;
    snap->have |=
        SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_CPL | SNAP_HAVE_EFER | SNAP_EFER_INFERRED;
    cs = &c->s.seg[X86_SEG_CS];
    /*
     * No EFER in the notes (§2.3). QEMU writes EM_X86_64 when CPU 0 has
     * EFER.LMA (arch_dump.c cpu_get_dump_info); any CPU with CS.L=1 runs
     * 64-bit code, which needs LMA (SDM Vol. 3A §5.2.1). LME goes with LMA.
     */
    if (cs->l || (cpu == 0 && core->machine == EM_X86_64))
        snap->s.efer = X86_EFER_LMA | X86_EFER_LME;
    else
        snap->s.efer = 0;
    /* CPL is SS.DPL once protected mode is on (SDM Vol. 3A §5.5); 0 in real mode. */
    snap->cpl = (c->s.cr0 & X86_CR0_PE) ? c->s.seg[X86_SEG_SS].dpl : 0;
    return 0;
}
