/*
 * dump-guest-memory ELF cores, raw images and artifact detection
 * (lib/formats/elfcore.c, rawmem.c), on cores synthesised here with the
 * layouts of formats.md §2, and on damaged copies of them.
 */
#include "harness.h"

#include "ks/formats.h"
#include "ks/paging.h"

#include <elf.h>
#include <errno.h>
#include <unistd.h>

static char err[KS_ERR_LEN];

struct load {
    uint64_t paddr, filesz, memsz;
    uint8_t fill;
};

struct core_opts {
    bool elf64;
    bool sections_first; /* QEMU >= 7.2: section headers at 64, phdrs at 192 */
    bool xnum;           /* e_phnum = PN_XNUM, count in section 0's sh_info */
    unsigned ncpus;
    bool qemu_notes;
    uint32_t qemu_size; /* 432 or 440 */
    unsigned nloads;
    const struct load *loads;
};

struct buf {
    uint8_t *p;
    size_t len;
};

static void put(struct buf *b, size_t off, const void *src, size_t n)
{
    memcpy(b->p + off, src, n);
}

static void put32(struct buf *b, size_t off, uint32_t v)
{
    put(b, off, &v, 4);
}

static void put64(struct buf *b, size_t off, uint64_t v)
{
    put(b, off, &v, 8);
}

/* CPU i's register values are derived from i so that mixing CPUs up is visible. */
static uint64_t reg_val(unsigned cpu, unsigned r)
{
    return 0x1000000000ULL * (cpu + 1) + r;
}

static size_t note_size(const struct core_opts *o)
{
    size_t pr = o->elf64 ? 336 : 144;
    size_t n = o->ncpus * (12 + 8 + pr);
    if (o->qemu_notes)
        n += o->ncpus * (12 + 8 + ((o->qemu_size + 3) & ~3u));
    return n;
}

static size_t write_notes(const struct core_opts *o, struct buf *b, size_t off)
{
    for (unsigned c = 0; c < o->ncpus; c++) {
        uint32_t pr = o->elf64 ? 336 : 144;
        put32(b, off, 5);
        put32(b, off + 4, pr);
        put32(b, off + 8, NT_PRSTATUS);
        put(b, off + 12, "CORE\0\0\0", 8);
        off += 20;
        if (o->elf64) {
            put32(b, off + 32, c + 1);
            for (unsigned r = 0; r < 27; r++)
                put64(b, off + 112 + 8 * r, reg_val(c, r));
        } else {
            put32(b, off + 24, c + 1);
            for (unsigned r = 0; r < 17; r++)
                put32(b, off + 72 + 4 * r, (uint32_t)reg_val(c, r));
        }
        off += pr;
    }
    for (unsigned c = 0; o->qemu_notes && c < o->ncpus; c++) {
        put32(b, off, 5);
        put32(b, off + 4, o->qemu_size);
        put32(b, off + 8, 0);
        put(b, off + 12, "QEMU\0\0\0", 8);
        off += 20;
        put32(b, off, 1);
        put32(b, off + 4, o->qemu_size);
        for (unsigned r = 0; r < 18; r++) /* 16 GPRs, rip, rflags */
            put64(b, off + 8 + 8 * r, reg_val(c, 100 + r));
        /* cs: 64-bit code, DPL 0; ss: data, DPL 0 (cpu 1 gets DPL 3 for its CPL). */
        put32(b, off + 152, 0x08);
        put32(b, off + 152 + 4, 0xffffffff);
        put32(b, off + 152 + 8, 0x00a09b00);
        put32(b, off + 152 + 5 * 24, c ? 0x2b : 0x10);
        put32(b, off + 152 + 5 * 24 + 8, c ? 0x00c0f300 : 0x00c09300);
        put64(b, off + 152 + 3 * 24 + 16, 0xfeed0000 + c); /* fs base */
        put64(b, off + 152 + 8 * 24 + 16, 0x100100);       /* gdt */
        put32(b, off + 152 + 8 * 24 + 4, 0x17);
        put64(b, off + 392, 0x80000011);      /* cr0 */
        put64(b, off + 392 + 16, 0xdead0000); /* cr2 */
        put64(b, off + 392 + 24, 0x101000);   /* cr3 */
        put64(b, off + 392 + 32, 0x20);       /* cr4 */
        if (o->qemu_size >= 440)
            put64(b, off + 432, 0x4b5);
        off += (o->qemu_size + 3) & ~3u;
    }
    return off;
}

static struct buf build_core(const struct core_opts *o)
{
    size_t ehsz = o->elf64 ? 64 : 52, phsz = o->elf64 ? 56 : 32, shsz = o->elf64 ? 64 : 40;
    unsigned nph = 1 + o->nloads;
    bool sh = o->sections_first || o->xnum;
    size_t phoff = sh ? ehsz + 2 * shsz : ehsz;
    size_t notes = phoff + nph * phsz, data = notes + note_size(o), total = data;
    struct buf b;

    for (unsigned i = 0; i < o->nloads; i++)
        total += o->loads[i].filesz;
    b.len = total;
    b.p = calloc(1, total);
    memcpy(b.p, ELFMAG, SELFMAG);
    b.p[EI_CLASS] = o->elf64 ? ELFCLASS64 : ELFCLASS32;
    b.p[EI_DATA] = ELFDATA2LSB;
    b.p[EI_VERSION] = EV_CURRENT;
    if (o->elf64) {
        Elf64_Ehdr h = {0};
        memcpy(&h, b.p, EI_NIDENT);
        h.e_type = ET_CORE;
        h.e_machine = EM_X86_64;
        h.e_version = EV_CURRENT;
        h.e_phoff = phoff;
        h.e_shoff = sh ? ehsz : 0;
        h.e_ehsize = (uint16_t)ehsz;
        h.e_phentsize = (uint16_t)phsz;
        h.e_phnum = o->xnum ? PN_XNUM : (uint16_t)nph;
        h.e_shentsize = (uint16_t)shsz;
        h.e_shnum = sh ? 2 : 0;
        h.e_shstrndx = sh ? 1 : 0;
        memcpy(b.p, &h, sizeof(h));
        if (sh) {
            Elf64_Shdr s0 = {0};
            s0.sh_info = nph;
            memcpy(b.p + ehsz, &s0, sizeof(s0));
        }
    } else {
        Elf32_Ehdr h = {0};
        memcpy(&h, b.p, EI_NIDENT);
        h.e_type = ET_CORE;
        h.e_machine = EM_386;
        h.e_version = EV_CURRENT;
        h.e_phoff = (uint32_t)phoff;
        h.e_shoff = sh ? (uint32_t)ehsz : 0;
        h.e_ehsize = (uint16_t)ehsz;
        h.e_phentsize = (uint16_t)phsz;
        h.e_phnum = o->xnum ? PN_XNUM : (uint16_t)nph;
        h.e_shentsize = (uint16_t)shsz;
        h.e_shnum = sh ? 2 : 0;
        memcpy(b.p, &h, sizeof(h));
        if (sh) {
            Elf32_Shdr s0 = {0};
            s0.sh_info = nph;
            memcpy(b.p + ehsz, &s0, sizeof(s0));
        }
    }
    write_notes(o, &b, notes);
    for (unsigned i = 0; i < nph; i++) {
        uint64_t off = i ? data : notes, filesz = i ? o->loads[i - 1].filesz : note_size(o);
        uint64_t memsz = i ? o->loads[i - 1].memsz : filesz, paddr = i ? o->loads[i - 1].paddr : 0;
        uint32_t type = i ? PT_LOAD : PT_NOTE;
        if (i) {
            memset(b.p + data, o->loads[i - 1].fill, filesz);
            data += filesz;
        }
        if (o->elf64) {
            Elf64_Phdr p = {type, 0, off, paddr, paddr, filesz, memsz, 0};
            memcpy(b.p + phoff + i * phsz, &p, sizeof(p));
        } else {
            Elf32_Phdr p = {type,
                            (uint32_t)off,
                            (uint32_t)paddr,
                            (uint32_t)paddr,
                            (uint32_t)filesz,
                            (uint32_t)memsz,
                            0,
                            0};
            memcpy(b.p + phoff + i * phsz, &p, sizeof(p));
        }
    }
    return b;
}

static const struct load two_loads[] = {
    {0, 0xa0000, 0xa0000, 0x11},
    {0x100000, 0x10000, 0x20000, 0x22}, /* the second half has no RAM in the dump */
};

static void check_qemu72_layout(bool sections_first, bool xnum)
{
    struct core_opts o = {true, sections_first, xnum, 2, true, 440, 2, two_loads};
    struct buf b = build_core(&o);
    struct elfcore core;
    struct snapshot snap;
    uint8_t v;

    EXPECT_EQ(elfcore_parse(b.p, b.len, &core, err), 0);
    EXPECT_STR(err, "");
    EXPECT(core.elf64);
    EXPECT_EQ(core.machine, EM_X86_64);
    EXPECT_EQ(core.nphdr, 3);
    EXPECT_EQ(core.nload, 2);
    EXPECT_EQ(core.ncpus, 2);
    EXPECT_EQ(core.mem.nregions, 2);
    EXPECT_EQ(gmem_read(&core.mem, 0x9ffff, &v, 1), 0);
    EXPECT_EQ(v, 0x11);
    EXPECT_EQ(gmem_read(&core.mem, 0x10ffff, &v, 1), 0);
    EXPECT_EQ(v, 0x22);
    EXPECT_EQ(gmem_read(&core.mem, 0x110000, &v, 1), -EFAULT); /* p_memsz beyond p_filesz */
    EXPECT_EQ(gmem_read(&core.mem, 0xa0000, &v, 1), -EFAULT);
    for (unsigned c = 0; c < 2; c++) {
        const struct elfcore_cpu *cpu = &core.cpu[c];
        EXPECT(cpu->have_prstatus && cpu->have_qemu);
        EXPECT_EQ(cpu->pid, c + 1);
        EXPECT_EQ(cpu->qemu_size, 440);
        /* The QEMU note wins: rax..rbp order with rsp before rbp. */
        EXPECT_EQ(cpu->s.gpr[X86_RAX], reg_val(c, 100));
        EXPECT_EQ(cpu->s.gpr[X86_RSP], reg_val(c, 106));
        EXPECT_EQ(cpu->s.gpr[X86_RBP], reg_val(c, 107));
        EXPECT_EQ(cpu->s.gpr[X86_R15], reg_val(c, 115));
        EXPECT_EQ(cpu->s.rip, reg_val(c, 116));
        EXPECT_EQ(cpu->s.seg[X86_SEG_CS].l, 1);
        EXPECT_EQ(cpu->s.seg[X86_SEG_FS].base, 0xfeed0000 + c);
        EXPECT_EQ(cpu->s.gdt.base, 0x100100);
        EXPECT_EQ(cpu->s.gdt.limit, 0x17);
        EXPECT_EQ(cpu->s.cr2, 0xdead0000);
        EXPECT_EQ(cpu->s.cr3, 0x101000);
        EXPECT_EQ(cpu->s.kernel_gs_base, 0x4b5);
    }
    snapshot_init(&snap);
    EXPECT_EQ(elfcore_snapshot(&core, 1, &snap), 0);
    EXPECT(snap.have & SNAP_EFER_INFERRED);
    EXPECT_EQ(snap.s.efer, X86_EFER_LMA | X86_EFER_LME);
    EXPECT_EQ(snap.cpl, 3);
    EXPECT_EQ(elfcore_snapshot(&core, 2, &snap), -ENOENT);
    free(b.p);
}

static void core64_qemu72(void)
{
    check_qemu72_layout(true, false);
}

static void core64_old_layout(void)
{
    check_qemu72_layout(false, false);
}

static void core64_pn_xnum(void)
{
    check_qemu72_layout(true, true);
}

static void core64_prstatus_only(void)
{
    struct core_opts o = {true, true, false, 1, false, 0, 2, two_loads};
    struct buf b = build_core(&o);
    struct elfcore core;
    struct snapshot snap;

    EXPECT_EQ(elfcore_parse(b.p, b.len, &core, err), 0);
    EXPECT(core.cpu[0].have_prstatus && !core.cpu[0].have_qemu);
    /* user_regs_struct: r15 first, rax 11th, rip 17th, rsp 20th, fs_base 22nd. */
    EXPECT_EQ(core.cpu[0].s.gpr[X86_R15], reg_val(0, 0));
    EXPECT_EQ(core.cpu[0].s.gpr[X86_RAX], reg_val(0, 10));
    EXPECT_EQ(core.cpu[0].s.rip, reg_val(0, 16));
    EXPECT_EQ(core.cpu[0].s.gpr[X86_RSP], reg_val(0, 19));
    EXPECT_EQ(core.cpu[0].s.seg[X86_SEG_FS].base, reg_val(0, 21));
    snapshot_init(&snap);
    EXPECT_EQ(elfcore_snapshot(&core, 0, &snap), 0);
    EXPECT(snap.have & SNAP_HAVE_GPRS);
    EXPECT(!(snap.have & SNAP_HAVE_CRS));
    free(b.p);
}

static void core32_i386(void)
{
    static const struct load l[] = {{0, 0x1000, 0x1000, 0x33}};
    struct core_opts o = {false, false, false, 1, true, 432, 1, l};
    struct buf b = build_core(&o);
    struct elfcore core;
    struct snapshot snap;
    uint8_t v;

    EXPECT_EQ(elfcore_parse(b.p, b.len, &core, err), 0);
    EXPECT(!core.elf64);
    EXPECT_EQ(core.machine, EM_386);
    EXPECT_EQ(core.cpu[0].pid, 1);
    EXPECT_EQ(core.cpu[0].qemu_size, 432);
    EXPECT_EQ(core.cpu[0].s.kernel_gs_base, 0);
    EXPECT_EQ(gmem_read(&core.mem, 0xfff, &v, 1), 0);
    EXPECT_EQ(v, 0x33);
    snapshot_init(&snap);
    EXPECT_EQ(elfcore_snapshot(&core, 0, &snap), 0);
    /* EM_386 core, but the synthetic CS has L=1: 64-bit code implies LMA. */
    EXPECT_EQ(snap.s.efer, X86_EFER_LMA | X86_EFER_LME);
    free(b.p);

    /* i386 PRSTATUS without a QEMU note: ebx first, eip 13th. */
    o.qemu_notes = false;
    b = build_core(&o);
    EXPECT_EQ(elfcore_parse(b.p, b.len, &core, err), 0);
    EXPECT_EQ(core.cpu[0].s.gpr[X86_RBX], (uint32_t)reg_val(0, 0));
    EXPECT_EQ(core.cpu[0].s.gpr[X86_RAX], (uint32_t)reg_val(0, 6));
    EXPECT_EQ(core.cpu[0].s.rip, (uint32_t)reg_val(0, 12));
    EXPECT_EQ(core.cpu[0].s.gpr[X86_RSP], (uint32_t)reg_val(0, 15));
    free(b.p);
}

static void overlapping_loads_clipped(void)
{
    static const struct load l[] = {
        {0x1000, 0x3000, 0x3000, 0xaa},
        {0x2000, 0x4000, 0x4000, 0xbb}, /* 0x2000-0x4000 already taken */
        {0x0, 0x1000, 0x1000, 0xcc},
    };
    struct core_opts o = {true, true, false, 1, true, 440, 3, l};
    struct buf b = build_core(&o);
    struct elfcore core;
    uint8_t v;

    EXPECT_EQ(elfcore_parse(b.p, b.len, &core, err), 0);
    EXPECT_EQ(core.nclipped, 1);
    EXPECT_EQ(gmem_read(&core.mem, 0x3fff, &v, 1), 0);
    EXPECT_EQ(v, 0xaa);
    EXPECT_EQ(gmem_read(&core.mem, 0x4000, &v, 1), 0);
    EXPECT_EQ(v, 0xbb);
    EXPECT_EQ(gmem_read(&core.mem, 0x5fff, &v, 1), 0);
    EXPECT_EQ(v, 0xbb);
    EXPECT_EQ(gmem_read(&core.mem, 0x0, &v, 1), 0);
    EXPECT_EQ(v, 0xcc);
    free(b.p);
}

/* Phdr field offsets in the ELF64 test core (sections first: phdrs at 192). */
#define PH0      192
#define PH_LOAD1 (192 + 56)

static void hostile_headers(void)
{
    struct core_opts o = {true, true, false, 1, true, 440, 2, two_loads};
    struct buf b = build_core(&o);
    uint8_t *c = malloc(b.len);
    struct elfcore core;
    uint64_t v64;

#define RESET() memcpy(c, b.p, b.len)
    RESET();
    v64 = b.len; /* PT_LOAD offset at the end of the file */
    memcpy(c + PH_LOAD1 + offsetof(Elf64_Phdr, p_offset), &v64, 8);
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "beyond the end of the");

    RESET();
    v64 = ~0ULL - 8; /* offset + size overflows */
    memcpy(c + PH_LOAD1 + offsetof(Elf64_Phdr, p_offset), &v64, 8);
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);

    RESET();
    v64 = 0xb0000; /* filesz > memsz */
    memcpy(c + PH_LOAD1 + offsetof(Elf64_Phdr, p_filesz), &v64, 8);
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "p_filesz");

    RESET();
    c[offsetof(Elf64_Ehdr, e_phnum)] = 0xff; /* PN_XNUM whose sh_info is 0 */
    c[offsetof(Elf64_Ehdr, e_phnum) + 1] = 0xff;
    memset(c + 64 + offsetof(Elf64_Shdr, sh_info), 0, 4);
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);

    RESET();
    memset(c + 64 + offsetof(Elf64_Shdr, sh_info), 0xff, 4); /* huge count via PN_XNUM */
    c[offsetof(Elf64_Ehdr, e_phnum)] = 0xff;
    c[offsetof(Elf64_Ehdr, e_phnum) + 1] = 0xff;
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "do not fit");

    RESET();
    c[offsetof(Elf64_Ehdr, e_phentsize)] = 32;
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "e_phentsize");

    RESET(); /* PRSTATUS of a wrong size */
    {
        size_t notes = PH0 + 3 * 56;
        uint32_t bad = 300;
        memcpy(c + notes + 4, &bad, 4);
        EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
        /* either the size is refused or the following note no longer lines up */
        EXPECT(strstr(err, "NT_PRSTATUS") || strstr(err, "note"));
        RESET();
        bad = 0xfffffff0; /* descsz runs past the segment */
        memcpy(c + notes + 4, &bad, 4);
        EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
        EXPECT_CONTAINS(err, "runs past the segment");
        RESET();
        /* QEMU note version 2 */
        bad = 2;
        memcpy(c + notes + 20 + 336 + 20, &bad, 4);
        EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
        EXPECT_CONTAINS(err, "version 2");
        RESET();
        bad = 100; /* QEMU note size field too small */
        memcpy(c + notes + 20 + 336 + 24, &bad, 4);
        EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
        EXPECT_CONTAINS(err, "declares 100 bytes");
    }

    RESET();
    c[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "big-endian");

    RESET();
    c[offsetof(Elf64_Ehdr, e_type)] = ET_EXEC;
    EXPECT_EQ(elfcore_parse(c, b.len, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "not ET_CORE");
#undef RESET
    free(c);
    free(b.p);
}

/* Every truncation and random corruption: only 0 or a documented error, never a crash. */
static void truncations_and_flips(void)
{
    struct core_opts o = {true, true, false, 2, true, 440, 2, two_loads};
    struct buf b = build_core(&o);
    uint8_t *c = malloc(b.len);
    struct elfcore core;
    unsigned seed = 7, ok = 0;
    size_t head = 192 + 3 * 56 + note_size(&o);

    for (size_t cut = 0; cut < head + 16; cut++) {
        int rc = elfcore_parse(b.p, cut, &core, err);
        EXPECT(rc == -EINVAL || rc == -ENOTSUP);
        EXPECT(err[0] != 0);
    }
    EXPECT_EQ(elfcore_parse(b.p, b.len - 1, &core, err), -EINVAL); /* last PT_LOAD short */
    EXPECT_CONTAINS(err, "truncated core?");
    for (int round = 0; round < 3000; round++) {
        memcpy(c, b.p, head);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245 + 12345;
            c[(seed >> 8) % head] = (uint8_t)(seed >> 20);
        }
        int rc = elfcore_parse(c, head, &core, err);
        EXPECT(rc == 0 || rc == -EINVAL || rc == -ENOSPC || rc == -ENOTSUP);
        ok += rc == 0;
        if (rc == 0) {
            struct snapshot s;
            uint8_t v;
            for (unsigned i = 0; i < core.mem.nregions; i++)
                EXPECT(gmem_read(&core.mem, core.mem.region[i].gpa + core.mem.region[i].size - 1,
                                 &v, 1) == 0);
            snapshot_init(&s);
            elfcore_snapshot(&core, 0, &s);
        }
    }
    (void)ok;
    free(c);
    free(b.p);
}

static void other_dump_formats(void)
{
    static const uint8_t flat[32] = "makedumpfile\0\0\0\0\0\0\0\1\0\0\0\1";
    static const uint8_t kdump[32] = "KDUMP   \x06\0\0\0";
    static const uint8_t win[32] = "PAGEDU64";
    struct elfcore core;

    EXPECT_EQ(artifact_detect(flat, sizeof(flat)), ARTIFACT_KDUMP_FLAT);
    EXPECT_EQ(elfcore_parse(flat, sizeof(flat), &core, err), -ENOTSUP);
    EXPECT_CONTAINS(err, "makedumpfile -R");
    EXPECT_EQ(elfcore_parse(kdump, sizeof(kdump), &core, err), -ENOTSUP);
    EXPECT_CONTAINS(err, "crash");
    EXPECT_EQ(elfcore_parse(win, sizeof(win), &core, err), -ENOTSUP);
    EXPECT_CONTAINS(err, "Windows");
    EXPECT_EQ(elfcore_parse("hello", 5, &core, err), -EINVAL);
    EXPECT_CONTAINS(err, "not an ELF");
    EXPECT_EQ(artifact_detect("RAX=0\n", 6), ARTIFACT_TEXT);
    EXPECT_EQ(artifact_detect("\x17\x08\x44tracing6", 11), ARTIFACT_TRACE_DAT);
    EXPECT_EQ(artifact_detect("\x00\x01\x02", 3), ARTIFACT_RAW);
    EXPECT_EQ(artifact_detect("", 0), ARTIFACT_UNKNOWN);
}

static void raw_images(void)
{
    char path[] = "/tmp/kvmscope-rawmem-XXXXXX", p2[64];
    uint8_t img[0x2000], v;
    struct mapped_file mf;
    struct gmem m;
    gpa_t base;
    int fd = mkstemp(path);

    EXPECT(fd >= 0);
    if (fd < 0)
        return;
    for (size_t i = 0; i < sizeof(img); i++)
        img[i] = (uint8_t)(i * 7);
    EXPECT_EQ(write(fd, img, sizeof(img)), (ssize_t)sizeof(img));
    close(fd);
    EXPECT_EQ(mapped_file_open(path, &mf, err), 0);
    EXPECT_EQ(mf.size, sizeof(img));
    gmem_init(&m);
    EXPECT_EQ(rawmem_map(&mf, 0x100000, &m, err), 0);
    EXPECT_EQ(gmem_read(&m, 0x101234, &v, 1), 0);
    EXPECT_EQ(v, (uint8_t)(0x1234 * 7));
    EXPECT_EQ(gmem_read(&m, 0x102000, &v, 1), -EFAULT);
    EXPECT_EQ(gmem_write(&m, 0x100000, &v, 1), -EFAULT); /* read-only */
    EXPECT_EQ(rawmem_map(&mf, ~0ULL - 0x1000, &m, err), -EINVAL);
    EXPECT_CONTAINS(err, "wrap");
    mapped_file_close(&mf);
    unlink(path);
    EXPECT_EQ(mapped_file_open(path, &mf, err), -ENOENT);
    EXPECT_CONTAINS(err, "No such file");

    EXPECT_EQ(rawmem_parse_spec("ram.bin@0x100000", p2, sizeof(p2), &base, err), 0);
    EXPECT_STR(p2, "ram.bin");
    EXPECT_EQ(base, 0x100000);
    EXPECT_EQ(rawmem_parse_spec("ram.bin", p2, sizeof(p2), &base, err), 0);
    EXPECT_EQ(base, 0);
    EXPECT_EQ(rawmem_parse_spec("ram.bin@zz", p2, sizeof(p2), &base, err), -EINVAL);
    EXPECT_EQ(rawmem_parse_spec("@0x1000", p2, sizeof(p2), &base, err), -EINVAL);
}

int main(void)
{
    RUN(core64_qemu72);
    RUN(core64_old_layout);
    RUN(core64_pn_xnum);
    RUN(core64_prstatus_only);
    RUN(core32_i386);
    RUN(overlapping_loads_clipped);
    RUN(hostile_headers);
    RUN(truncations_and_flips);
    RUN(other_dump_formats);
    RUN(raw_images);
    return t_done();
}
