/*
 * lib/boot against images crafted here: each protocol's valid form (what
 * lands in guest memory, the boot information and the machine state), then
 * every malformed case with its own error message, then random corruption
 * of valid images, which must be rejected or loaded but never crash.
 */
#include "harness.h"

#include "ks/boot.h"

#include <errno.h>

#define LOW_SIZE  0xA0000u
#define HIGH_BASE 0x100000u
#define HIGH_SIZE (7u << 20) /* RAM ends at 8 MiB */

static uint8_t low_ram[LOW_SIZE], high_ram[HIGH_SIZE];
static uint8_t img[0x10000];
static size_t img_len;
static struct gmem mem;
static struct boot_result res;
static char err[KS_ERR_LEN];

static void ram_reset(void)
{
    gmem_init(&mem);
    memset(low_ram, 0xcc, sizeof(low_ram));
    memset(high_ram, 0xcc, sizeof(high_ram));
    gmem_add(&mem, 0, LOW_SIZE, low_ram, true);
    gmem_add(&mem, HIGH_BASE, HIGH_SIZE, high_ram, true);
}

static void put16(size_t o, uint16_t v)
{
    img[o] = (uint8_t)v;
    img[o + 1] = (uint8_t)(v >> 8);
}
static void put32(size_t o, uint32_t v)
{
    put16(o, (uint16_t)v);
    put16(o + 2, (uint16_t)(v >> 16));
}
static void put64(size_t o, uint64_t v)
{
    put32(o, (uint32_t)v);
    put32(o + 4, (uint32_t)(v >> 32));
}

static uint32_t rd32(gpa_t a)
{
    uint32_t v = 0xdeadbeef;
    if (gmem_read(&mem, a, &v, 4))
        printf("  rd32(0x%llx) unbacked\n", (unsigned long long)a);
    return v;
}
static uint64_t rd64(gpa_t a)
{
    return rd32(a) | (uint64_t)rd32(a + 4) << 32;
}
/* A guest C string, at most 127 bytes (so a missing NUL cannot flood the output). */
static const char *rdstr(gpa_t a)
{
    static char buf[128];

    for (size_t i = 0; i < sizeof(buf); i++) {
        if (gmem_read(&mem, a + i, &buf[i], 1))
            return "(unbacked)";
        if (!buf[i])
            return buf;
    }
    buf[sizeof(buf) - 1] = '\0';
    return buf;
}

struct ph {
    uint32_t type;
    uint64_t off, vaddr, paddr, filesz, memsz, align;
};

/* ELF header + program headers at the start of img[]. */
static void elf(unsigned bits, uint64_t entry, const struct ph *ph, unsigned n)
{
    size_t eh = bits == 32 ? 52 : 64, pe = bits == 32 ? 32 : 56;

    memset(img, 0, eh + n * pe);
    memcpy(img, "\177ELF", 4);
    img[4] = bits == 32 ? 1 : 2;
    img[5] = 1;
    img[6] = 1;
    put16(16, 2);
    put16(18, bits == 32 ? 3 : 62);
    put32(20, 1);
    if (bits == 32) {
        put32(24, (uint32_t)entry);
        put32(28, (uint32_t)eh);
        put16(40, (uint16_t)eh);
        put16(42, (uint16_t)pe);
        put16(44, (uint16_t)n);
    } else {
        put64(24, entry);
        put64(32, eh);
        put16(52, (uint16_t)eh);
        put16(54, (uint16_t)pe);
        put16(56, (uint16_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        size_t o = eh + i * pe;
        put32(o, ph[i].type);
        if (bits == 32) {
            put32(o + 4, (uint32_t)ph[i].off);
            put32(o + 8, (uint32_t)ph[i].vaddr);
            put32(o + 12, (uint32_t)ph[i].paddr);
            put32(o + 16, (uint32_t)ph[i].filesz);
            put32(o + 20, (uint32_t)ph[i].memsz);
            put32(o + 28, (uint32_t)ph[i].align);
        } else {
            put64(o + 8, ph[i].off);
            put64(o + 16, ph[i].vaddr);
            put64(o + 24, ph[i].paddr);
            put64(o + 32, ph[i].filesz);
            put64(o + 40, ph[i].memsz);
            put64(o + 48, ph[i].align);
        }
    }
}

static void mb1_header(size_t off, uint32_t flags)
{
    put32(off, BOOT_MB1_HEADER_MAGIC);
    put32(off + 4, flags);
    put32(off + 8, (uint32_t) - (BOOT_MB1_HEADER_MAGIC + flags));
}

/* MB2 header at (off) with the given tag bytes (each already 8-padded) + end tag. */
static void mb2_header(size_t off, const uint8_t *tags, size_t tlen)
{
    uint32_t len = (uint32_t)(16 + tlen + 8);

    put32(off, BOOT_MB2_HEADER_MAGIC);
    put32(off + 4, 0);
    put32(off + 8, len);
    put32(off + 12, (uint32_t) - (BOOT_MB2_HEADER_MAGIC + len));
    if (tlen)
        memcpy(img + off + 16, tags, tlen);
    put16(off + 16 + tlen, 0);
    put16(off + 18 + tlen, 0);
    put32(off + 20 + tlen, 8);
}

/* The standard test kernel: one PT_LOAD of 0x100 file bytes + bss at 1 MiB, code at +0x40. */
static const struct ph seg1 = {1, 0x1000, 0x100000, 0x100000, 0x100, 0x3000, 0x1000};

static void std_image(unsigned bits)
{
    memset(img, 0, sizeof(img));
    elf(bits, 0x100040, &seg1, 1);
    for (unsigned i = 0x40; i < 0x100; i++)
        img[0x1000 + i] = (uint8_t)i;
    img_len = 0x1100;
}

static int load(struct boot_request *r)
{
    ram_reset();
    memset(&res, 0, sizeof(res));
    r->image = img;
    r->image_size = img_len;
    return boot_load(&mem, r, &res, err);
}

static int load_simple(void)
{
    struct boot_request r = {0};
    return load(&r);
}

static const uint8_t mod_a[] = "first module\n", mod_b[] = "second";
static const struct boot_module two_mods[] = {
    {mod_a, sizeof(mod_a) - 1, "m1 a b"},
    {mod_b, sizeof(mod_b) - 1, "m2"},
};

static void check_state(uint32_t magic)
{
    const struct x86_state *s = &res.state;

    EXPECT_EQ(s->gpr[X86_RAX], magic);
    EXPECT_EQ(s->gpr[X86_RBX], res.info);
    EXPECT_EQ(s->rip, res.entry);
    EXPECT_EQ(s->cr0, 0x11);
    EXPECT_EQ(s->cr4, 0);
    EXPECT_EQ(s->efer, 0);
    EXPECT_EQ(s->rflags, 2);
    EXPECT_EQ(s->gpr[X86_RSP], BOOT_AREA_LOW);
    EXPECT_EQ(s->seg[X86_SEG_CS].selector, BOOT_CS_SELECTOR);
    EXPECT_EQ(s->seg[X86_SEG_CS].type, 0xb);
    EXPECT_EQ(s->seg[X86_SEG_CS].db, 1);
    EXPECT_EQ(s->seg[X86_SEG_CS].limit, 0xffffffffu);
    EXPECT_EQ(s->seg[X86_SEG_SS].selector, BOOT_DS_SELECTOR);
    EXPECT_EQ(s->seg[X86_SEG_DS].type, 0x3);
    EXPECT_EQ(s->seg[X86_SEG_TR].type, 0xb);
    EXPECT_EQ(s->seg[X86_SEG_TR].limit, 0x67);
    /* The GDT in guest memory matches the hidden state. */
    EXPECT_EQ(s->gdt.limit, 23);
    EXPECT_EQ(rd64(s->gdt.base + 8), 0x00cf9b000000ffffULL);
    EXPECT_EQ(rd64(s->gdt.base + 16), 0x00cf93000000ffffULL);
}

static void check_kernel_loaded(bool no_modules)
{
    EXPECT_EQ(high_ram[0xf0], 0xf0);
    EXPECT_EQ(high_ram[0xff], 0xff);
    EXPECT_EQ(high_ram[0x100], 0); /* bss zeroed */
    EXPECT_EQ(high_ram[0x2fff], 0);
    if (no_modules)
        EXPECT_EQ(high_ram[0x3000], 0xcc); /* nothing beyond memsz */
}

static void mb1_elf32(void)
{
    struct boot_request r = {
        .cmdline = "a b", .kernel_name = "kern", .modules = two_mods, .nmodules = 2};
    gpa_t mbi, mods, mmap;

    std_image(32);
    mb1_header(0x1000, 0x3);
    EXPECT_EQ(load(&r), 0);
    EXPECT_EQ(res.format, BOOT_MULTIBOOT1);
    EXPECT_EQ(res.entry, 0x100040);
    EXPECT_EQ(res.image_start, 0x100000);
    EXPECT_EQ(res.image_end, 0x103000);
    EXPECT_EQ(res.info, 0x9500); /* where QEMU puts it */
    EXPECT_CONTAINS(res.desc, "Multiboot1 ELF32");
    check_state(BOOT_MB1_BOOT_MAGIC);
    check_kernel_loaded(false);
    mbi = res.info;
    EXPECT_EQ(rd32(mbi), 0x24d);
    EXPECT_EQ(rd32(mbi + 4), 640);
    EXPECT_EQ(rd32(mbi + 8), (HIGH_SIZE) / 1024);
    EXPECT_STR(rdstr(rd32(mbi + 16)), "kern a b");
    EXPECT_EQ(rd32(mbi + 20), 2);
    mods = rd32(mbi + 24);
    EXPECT_EQ(rd32(mods), 0x103000); /* page-aligned after the kernel */
    EXPECT_EQ(rd32(mods + 4), 0x103000 + sizeof(mod_a) - 1);
    EXPECT_STR(rdstr(rd32(mods + 8)), "m1 a b");
    EXPECT_EQ(rd32(mods + 16), 0x104000);
    EXPECT_EQ(rd32(mods + 20), 0x104000 + 6);
    EXPECT_STR(rdstr(rd32(mods + 24)), "m2");
    EXPECT(!memcmp(high_ram + 0x3000, mod_a, sizeof(mod_a) - 1));
    EXPECT(!memcmp(high_ram + 0x4000, mod_b, 6));
    EXPECT_EQ(res.modules_end, 0x104006);
    /* mmap: low RAM, the hole reserved, high RAM; size field excludes itself. */
    EXPECT_EQ(rd32(mbi + 44), 3 * 24);
    mmap = rd32(mbi + 48);
    EXPECT_EQ(mmap, 0x9000);
    EXPECT_EQ(rd32(mmap), 20);
    EXPECT_EQ(rd64(mmap + 4), 0);
    EXPECT_EQ(rd64(mmap + 12), LOW_SIZE);
    EXPECT_EQ(rd32(mmap + 20), 1);
    EXPECT_EQ(rd64(mmap + 24 + 4), 0xA0000);
    EXPECT_EQ(rd64(mmap + 24 + 12), 0x60000);
    EXPECT_EQ(rd32(mmap + 24 + 20), 2);
    EXPECT_EQ(rd64(mmap + 48 + 4), HIGH_BASE);
    EXPECT_EQ(rd64(mmap + 48 + 12), HIGH_SIZE);
    EXPECT_EQ(rd32(mmap + 48 + 20), 1);
    EXPECT_STR(rdstr(rd32(mbi + 64)), "kvmscope");
}

/* kvm-unit-tests dereference mbi->cmdline unconditionally: always a valid string. */
static void mb1_empty_cmdline(void)
{
    std_image(32);
    mb1_header(0x1000, 0);
    EXPECT_EQ(load_simple(), 0);
    EXPECT_STR(rdstr(rd32(res.info + 16)), "");
    EXPECT_EQ(rd32(res.info + 20), 0);
}

/* ELF64 Multiboot1 (QEMU refuses it; we load it by paddr like any other). */
static void mb1_elf64(void)
{
    std_image(64);
    mb1_header(0x1000, 0);
    EXPECT_EQ(load_simple(), 0);
    EXPECT_CONTAINS(res.desc, "ELF64");
    check_kernel_loaded(true);
}

/* e_entry is virtual; a kernel linked high and loaded low starts at the physical alias. */
static void mb1_entry_translation(void)
{
    struct ph p = seg1;

    std_image(32);
    p.vaddr = 0xc0100000;
    elf(32, 0xc0100040, &p, 1);
    mb1_header(0x1000, 0);
    EXPECT_EQ(load_simple(), 0);
    EXPECT_EQ(res.entry, 0x100040);
}

static void mb1_aout_kludge(void)
{
    memset(img, 0, sizeof(img));
    /* File offset 0 loads at 0x200000; the header sits at file offset 0x40. */
    mb1_header(0x40, 0x10000);
    put32(0x4c, 0x200040); /* header_addr */
    put32(0x50, 0x200000); /* load_addr */
    put32(0x54, 0x200100); /* load_end_addr */
    put32(0x58, 0x202000); /* bss_end_addr */
    put32(0x5c, 0x200080); /* entry_addr */
    for (unsigned i = 0x80; i < 0x200; i++)
        img[i] = 0x90;
    img_len = 0x200;
    EXPECT_EQ(load_simple(), 0);
    EXPECT_CONTAINS(res.desc, "a.out kludge");
    EXPECT_EQ(res.entry, 0x200080);
    EXPECT_EQ(res.image_end, 0x202000);
    EXPECT_EQ(high_ram[0x100000 + 0x80], 0x90);
    EXPECT_EQ(high_ram[0x100000 + 0x100], 0); /* past load_end: bss, not file bytes */
    EXPECT_EQ(high_ram[0x102000], 0xcc);
    /* load_end_addr 0 means "to the end of the file". */
    put32(0x54, 0);
    mb1_header(0x40, 0x10000);
    EXPECT_EQ(load_simple(), 0);
    EXPECT_EQ(high_ram[0x100000 + 0x1ff], 0x90);
}

/* Walk the MBI; returns the payload address of tag (type) number (nth), 0 if absent. */
static gpa_t mbi_tag(gpa_t mbi, uint32_t type, unsigned nth)
{
    gpa_t at = mbi + 8, end = mbi + rd32(mbi);

    while (at < end) {
        uint32_t t = rd32(at), sz = rd32(at + 4);
        if (sz < 8 || at % 8)
            return 0;
        if (t == type && nth-- == 0)
            return at + 8;
        if (t == 0)
            return 0;
        at += (sz + 7) & ~7u;
    }
    return 0;
}

static void mb2_elf64(void)
{
    /* An optional framebuffer request, a required request for 1/3/6, optional EFI entry. */
    uint8_t tags[] = {1, 0, 1, 0, 12, 0, 0, 0, 8,  0, 0, 0, 0, 0, 0, 0, /* optional: want 8 */
                      1, 0, 0, 0, 20, 0, 0, 0, 1,  0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0,
                      0, 0, 0, 0, 9,  0, 1, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    struct boot_request r = {
        .cmdline = "console=ttyS0", .kernel_name = "ignored", .modules = two_mods, .nmodules = 2};
    gpa_t mbi, p;

    std_image(64);
    mb2_header(0x1008, tags, sizeof(tags));
    EXPECT_EQ(load(&r), 0);
    EXPECT_STR(err, "");
    EXPECT_EQ(res.format, BOOT_MULTIBOOT2);
    EXPECT_CONTAINS(res.desc, "Multiboot2 ELF64");
    check_state(BOOT_MB2_BOOT_MAGIC);
    check_kernel_loaded(false);
    mbi = res.info;
    EXPECT_EQ(mbi % 8, 0);
    EXPECT_EQ(rd32(mbi + 4), 0);
    EXPECT_STR(rdstr(mbi_tag(mbi, 1, 0)), "console=ttyS0");
    EXPECT_STR(rdstr(mbi_tag(mbi, 2, 0)), "kvmscope");
    p = mbi_tag(mbi, 3, 0);
    EXPECT_EQ(rd32(p), 0x103000);
    EXPECT_EQ(rd32(p + 4), 0x103000 + sizeof(mod_a) - 1);
    EXPECT_STR(rdstr(p + 8), "m1 a b");
    p = mbi_tag(mbi, 3, 1);
    EXPECT_STR(rdstr(p + 8), "m2");
    p = mbi_tag(mbi, 4, 0);
    EXPECT_EQ(rd32(p), 640);
    EXPECT_EQ(rd32(p + 4), HIGH_SIZE / 1024);
    p = mbi_tag(mbi, 6, 0);
    EXPECT_EQ(rd32(p), 24);
    EXPECT_EQ(rd32(p - 4), 16 + 3 * 24);
    EXPECT_EQ(rd64(p + 8 + 24), 0xA0000);
    EXPECT_EQ(rd32(p + 8 + 24 + 16), 2);
    EXPECT(mbi_tag(mbi, 0, 0) != 0);
    EXPECT(mbi_tag(mbi, 0, 0) - 8 + 8 == mbi + rd32(mbi));
}

static void mb2_elf32_entry_tag(void)
{
    uint8_t tags[] = {3, 0, 0, 0, 12, 0, 0, 0, 0x80, 0, 0x10, 0, 0, 0, 0, 0};

    std_image(32);
    mb2_header(0x1000, tags, sizeof(tags));
    EXPECT_EQ(load_simple(), 0);
    EXPECT_EQ(res.entry, 0x100080); /* the tag wins over e_entry */
    EXPECT_CONTAINS(res.desc, "ELF32");
}

static void mb2_address_tag(void)
{
    uint8_t tags[40] = {2, 0, 0, 0, 24, 0, 0, 0};

    memset(img, 0, sizeof(img));
    put32(8, 0x300000); /* placeholder, overwritten below */
    memcpy(tags + 8, (uint32_t[]){0x300000, 0xffffffffu, 0, 0x304000}, 16);
    memcpy(tags + 24, (uint8_t[]){3, 0, 0, 0, 12, 0, 0, 0, 0x40, 0x01, 0x30, 0}, 12);
    mb2_header(0, tags, 40);
    memset(img + 0x100, 0xf4, 0x100);
    img_len = 0x200;
    EXPECT_EQ(load_simple(), 0);
    EXPECT_CONTAINS(res.desc, "address tag");
    EXPECT_EQ(res.entry, 0x300140);
    EXPECT_EQ(res.image_end, 0x304000);
    EXPECT_EQ(high_ram[0x200000 + 0x140], 0xf4);
    EXPECT_EQ(high_ram[0x200000 + 0x200], 0);
}

/* A PT_NOTE with an unrelated note first, then Xen's PHYS32_ENTRY. */
static void pvh_image(unsigned descsz)
{
    struct ph p[2] = {seg1, {4, 0x800, 0, 0, 0, 0, 4}};
    size_t n = 0x800;

    std_image(64);
    put32(n, 4), put32(n + 4, 4), put32(n + 8, 1), memcpy(img + n + 12, "GNU", 4);
    put32(n + 16, 0x1234);
    n += 20;
    put32(n, 4), put32(n + 4, descsz), put32(n + 8, 18), memcpy(img + n + 12, "Xen", 4);
    put64(n + 16, 0x100080);
    p[1].filesz = 20 + 16 + descsz;
    elf(64, 0xffffffff80100040ULL, p, 2);
}

static void pvh_elf64(void)
{
    struct boot_request r = {.cmdline = "root=/dev/x", .modules = two_mods, .nmodules = 2};
    gpa_t si, mods, mm;

    pvh_image(4);
    EXPECT_EQ(load(&r), 0);
    EXPECT_EQ(res.format, BOOT_PVH);
    EXPECT_EQ(res.entry, 0x100080);
    check_state(0);
    check_kernel_loaded(false);
    si = res.info;
    EXPECT_EQ(rd32(si), BOOT_PVH_START_MAGIC);
    EXPECT_EQ(rd32(si + 4), 1);
    EXPECT_EQ(rd32(si + 12), 2);
    EXPECT_STR(rdstr(rd64(si + 24)), "root=/dev/x");
    EXPECT_EQ(rd64(si + 32), 0);
    mods = rd64(si + 16);
    EXPECT_EQ(rd64(mods), 0x103000);
    EXPECT_EQ(rd64(mods + 8), sizeof(mod_a) - 1);
    EXPECT_STR(rdstr(rd64(mods + 16)), "m1 a b");
    EXPECT_EQ(rd64(mods + 32), 0x104000);
    EXPECT_EQ(rd32(si + 48), 3);
    mm = rd64(si + 40);
    EXPECT_EQ(rd64(mm + 24), 0xA0000);
    EXPECT_EQ(rd64(mm + 32), 0x60000);
    EXPECT_EQ(rd32(mm + 40), 2);
    EXPECT_EQ(rd64(mm + 48), HIGH_BASE);
    /* Linux before 2024 emitted an 8-byte descriptor in ELF64 files. */
    pvh_image(8);
    EXPECT_EQ(load_simple(), 0);
    EXPECT_EQ(res.entry, 0x100080);
    EXPECT_EQ(rd32(res.info + 12), 0);
    EXPECT_EQ(rd64(res.info + 16), 0);
    EXPECT_STR(rdstr(rd64(res.info + 24)), "");
}

static void flat_binary(void)
{
    struct boot_request r = {.format = BOOT_FLAT, .flat_load = 0x200000, .flat_entry = 0x200010};

    memset(img, 0x90, 0x100);
    img_len = 0x100;
    EXPECT_EQ(load(&r), 0);
    EXPECT_EQ(res.format, BOOT_FLAT);
    EXPECT_EQ(res.info, 0);
    EXPECT_EQ(res.state.gpr[X86_RBX], 0);
    EXPECT_EQ(res.state.rip, 0x200010);
    EXPECT_EQ(high_ram[0x100000], 0x90);
    EXPECT_EQ(high_ram[0x100100], 0xcc);
}

/* A kernel that occupies the low boot area pushes the area after the modules. */
static void area_moves_high(void)
{
    struct boot_request r = {.format = BOOT_FLAT, .flat_load = 0x8000, .flat_entry = 0x8000};

    memset(img, 0x90, 0x100);
    img_len = 0x100;
    EXPECT_EQ(load(&r), 0);
    EXPECT_EQ(res.area, 0x9000); /* the first free page after the kernel */
    EXPECT_EQ(res.state.gdt.base, res.area);
    EXPECT_EQ(rd64(res.area + 8), 0x00cf9b000000ffffULL);
    EXPECT_EQ(low_ram[0x8000], 0x90);
    EXPECT_EQ(res.state.gpr[X86_RSP], BOOT_AREA_LOW); /* the page below is still free */
    /* A kernel right below 0x8000 takes that stack page away. */
    r.flat_load = r.flat_entry = 0x7f00;
    EXPECT_EQ(load(&r), 0);
    EXPECT_EQ(res.state.gpr[X86_RSP], 0);
}

/* One region spanning the hole (a gmem like a QEMU dump): still reported reserved. */
static void mmap_single_region(void)
{
    static uint8_t big[0x400000];
    struct boot_request r = {0};

    std_image(32);
    mb1_header(0x1000, 0);
    gmem_init(&mem);
    gmem_add(&mem, 0, sizeof(big), big, true);
    r.image = img;
    r.image_size = img_len;
    EXPECT_EQ(boot_load(&mem, &r, &res, err), 0);
    EXPECT_EQ(rd32(res.info + 44), 72);
    EXPECT_EQ(rd64(0x9000 + 12), 0xA0000);
    EXPECT_EQ(rd32(0x9000 + 24 + 20), 2);
    EXPECT_EQ(rd64(0x9000 + 48 + 4), 0x100000);
    EXPECT_EQ(rd64(0x9000 + 48 + 12), 0x300000);
    EXPECT_EQ(rd32(res.info + 8), 3 * 1024);
}

static void module_list(void)
{
    const char *cur = "m1 a b,m2,odd,,name x";
    char cl[64], path[16];

    EXPECT_EQ(boot_module_list_next(&cur, cl, sizeof(cl), path, sizeof(path)), 1);
    EXPECT_STR(cl, "m1 a b");
    EXPECT_STR(path, "m1");
    EXPECT_EQ(boot_module_list_next(&cur, cl, sizeof(cl), path, sizeof(path)), 1);
    EXPECT_STR(cl, "m2");
    EXPECT_EQ(boot_module_list_next(&cur, cl, sizeof(cl), path, sizeof(path)), 1);
    EXPECT_STR(cl, "odd,name x");
    EXPECT_STR(path, "odd,name");
    EXPECT_EQ(boot_module_list_next(&cur, cl, sizeof(cl), path, sizeof(path)), 0);
    cur = "a,,b";
    EXPECT_EQ(boot_module_list_next(&cur, cl, 3, path, sizeof(path)), -ENAMETOOLONG);
    cur = " args";
    EXPECT_EQ(boot_module_list_next(&cur, cl, sizeof(cl), path, sizeof(path)), -EINVAL);
    EXPECT_STR(boot_format_name(BOOT_MULTIBOOT2), "Multiboot2");
}

/* ---- malformed images: each rejected with its own reason ---- */

#define REJECT(rc_want, needle)                                                                    \
    do {                                                                                           \
        int rc_ = load_simple();                                                                   \
        EXPECT_EQ(rc_, (uint64_t)(int64_t)(rc_want));                                              \
        EXPECT_CONTAINS(err, needle);                                                              \
    } while (0)

static void bad_elf_headers(void)
{
    std_image(32);
    mb1_header(0x1000, 0);
    img_len = 40;
    REJECT(-EINVAL, "truncated ELF32 header (40 bytes, need 52)");
    std_image(32);
    mb1_header(0x1000, 0);
    img[4] = 3;
    REJECT(-EINVAL, "ELF class 3");
    std_image(32);
    mb1_header(0x1000, 0);
    put16(16, 3);
    REJECT(-EINVAL, "ELF type 3 is not an executable");
    std_image(64);
    mb1_header(0x1000, 0);
    put16(18, 3);
    REJECT(-EINVAL, "ELF64 machine 3 is not x86-64");
    std_image(32);
    mb1_header(0x1000, 0);
    put16(44, 5000);
    REJECT(-EINVAL, "e_phnum 5000 is absurd (limit 128)");
    std_image(32);
    mb1_header(0x1000, 0);
    put32(28, 0x10f0);
    REJECT(-EINVAL, "program header table 0x10f0+0x20 beyond end of image (0x1100)");
    std_image(32);
    mb1_header(0x1000, 0);
    put16(44, 0);
    REJECT(-EINVAL, "no program headers");
}

static void bad_segments(void)
{
    struct ph p[2] = {seg1, seg1};

    std_image(32);
    p[0].filesz = 0x200;
    elf(32, 0x100040, p, 1);
    mb1_header(0x1000, 0);
    REJECT(-EINVAL, "phdr[0]: file range 0x1000+0x200 beyond end of image (0x1100)");
    p[0] = seg1;
    p[0].filesz = 0x4000;
    elf(32, 0x100040, p, 1);
    REJECT(-EINVAL, "phdr[0]: filesz 0x4000 exceeds memsz 0x3000");
    p[0] = seg1;
    p[1].paddr = 0x102000;
    elf(32, 0x100040, p, 2);
    REJECT(-EINVAL, "phdr[1] (0x102000-0x105000) overlaps phdr[0] (0x100000-0x103000)");
    p[1].paddr = 0x9f000;
    elf(32, 0x100040, p, 2);
    REJECT(-EINVAL, "phdr[1]: 0x9f000-0xa2000 overlaps the VGA/BIOS hole");
    p[1].paddr = 0x7ff000;
    elf(32, 0x100040, p, 2);
    REJECT(-ENOSPC, "phdr[1]: 0x7ff000-0x802000 is outside guest RAM");
    p[1].paddr = 0x200000;
    p[1].memsz = 0x40000000;
    elf(32, 0x100040, p, 2);
    REJECT(-EINVAL, "phdr[1]: memsz 0x40000000 exceeds guest RAM (0x7a0000)");
    std_image(64);
    p[1] = seg1;
    p[1].paddr = 0xfffff000;
    elf(64, 0x100040, p, 2);
    mb1_header(0x1000, 0);
    REJECT(-EINVAL, "phdr[1]: 0xfffff000+0x3000 extends beyond 4 GiB");
}

static void bad_entry(void)
{
    std_image(32);
    put32(24, 0x200000);
    mb1_header(0x1000, 0);
    REJECT(-EINVAL, "ELF entry 0x200000 is outside every loadable segment");
    put32(24, 0x100800);
    REJECT(-EINVAL, "entry point 0x100800 lies in the zero-filled (bss) part of phdr[0]");
    /* a.out kludge entry outside the loaded range */
    memset(img, 0, sizeof(img));
    mb1_header(0x40, 0x10000);
    put32(0x4c, 0x200040);
    put32(0x50, 0x200000);
    put32(0x5c, 0x300000);
    img_len = 0x200;
    REJECT(-EINVAL, "entry point 0x300000 is outside the loaded kernel (0x200000-0x200200)");
}

static void bad_multiboot1(void)
{
    std_image(32);
    mb1_header(0x1000, 0);
    put32(0x1008, 0x12345678);
    REJECT(-EINVAL, "Multiboot1 header at 0x1000: bad checksum");
    mb1_header(0x1000, 0x10);
    REJECT(-EINVAL, "flags 0x10 require unknown features (bits 0x10)");
    /* Beyond the first 8192 bytes: not found. */
    std_image(32);
    mb1_header(0x2000, 0);
    img_len = 0x2100;
    REJECT(-EINVAL, "ELF32 file without a Multiboot1/Multiboot2 header or a PVH");
    /* a.out kludge with inconsistent address fields */
    memset(img, 0, sizeof(img));
    mb1_header(0x40, 0x10000);
    put32(0x4c, 0x200040);
    put32(0x50, 0x200080);
    put32(0x5c, 0x200080);
    img_len = 0x200;
    REJECT(-EINVAL, "load_addr 0x200080 is above header_addr 0x200040");
    put32(0x50, 0x1ff000);
    REJECT(-EINVAL, "puts the load start before the beginning of the file");
    put32(0x50, 0x200000);
    put32(0x54, 0x200400);
    REJECT(-EINVAL, "a.out kludge: file range 0x0+0x400 beyond end of image (0x200)");
    put32(0x54, 0x200100);
    put32(0x58, 0x2000f0);
    REJECT(-EINVAL, "bss_end_addr 0x2000f0 is below the end of the loaded text 0x200100");
    put32(0x58, 0);
    put32(0x54, 0x1ff000);
    REJECT(-EINVAL, "load_end_addr 0x1ff000 is below load_addr 0x200000");
    /* Header fields cut off by the end of the file. */
    memset(img, 0, sizeof(img));
    mb1_header(0x10, 0x10000);
    img_len = 0x20;
    REJECT(-EINVAL, "a.out kludge fields end beyond the first 0x20 bytes");
    /* Neither ELF nor kludge. */
    memset(img, 0, sizeof(img));
    mb1_header(0x10, 0);
    img_len = 0x100;
    REJECT(-EINVAL, "Multiboot1 kernel is not an ELF file and has no load address fields");
}

static void bad_multiboot2(void)
{
    uint8_t fb[] = {5, 0, 0, 0, 20, 0, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0};
    uint8_t efi[] = {7, 0, 0, 0, 8, 0, 0, 0};
    uint8_t req8[] = {1, 0, 0, 0, 12, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0};
    uint8_t badsz[] = {3, 0, 0, 0, 0xf0, 0, 0, 0};
    uint8_t addr_only[] = {2, 0, 0,    0, 24, 0, 0, 0, 0, 0, 0x10, 0,
                           0, 0, 0x10, 0, 0,  0, 0, 0, 0, 0, 0,    0};

    std_image(64);
    mb2_header(0x1000, NULL, 0);
    put32(0x100c, 0);
    REJECT(-EINVAL, "Multiboot2 header at 0x1000: bad checksum");
    mb2_header(0x1000, NULL, 0);
    put32(0x1004, 4);
    put32(0x100c, (uint32_t) - (BOOT_MB2_HEADER_MAGIC + 4 + 24));
    REJECT(-EINVAL, "architecture 4 is not i386");
    std_image(64);
    mb2_header(0x1000, fb, sizeof(fb));
    REJECT(-EINVAL, "required tag 5 (framebuffer) is not supported");
    fb[2] = 1; /* optional: fine */
    mb2_header(0x1000, fb, sizeof(fb));
    EXPECT_EQ(load_simple(), 0);
    mb2_header(0x1000, efi, sizeof(efi));
    REJECT(-EINVAL, "required tag 7 (EFI boot services)");
    mb2_header(0x1000, req8, sizeof(req8));
    REJECT(-EINVAL, "requires information tag 8");
    mb2_header(0x1000, badsz, sizeof(badsz));
    REJECT(-EINVAL, "tag 3 at 0x1010 has size 240, outside the header");
    /* header_length past the end of the file */
    std_image(64);
    mb2_header(0x1000, NULL, 0);
    put32(0x1008, 0x1000);
    put32(0x100c, (uint32_t) - (BOOT_MB2_HEADER_MAGIC + 0x1000));
    REJECT(-EINVAL, "header_length 0x1000 does not fit");
    /* end tag missing: the header ends with a non-end tag */
    std_image(64);
    mb2_header(0x1000, NULL, 0);
    put16(0x1010, 6);
    REJECT(-EINVAL, "no end tag within header_length 0x18");
    std_image(64);
    mb2_header(0x1000, addr_only, sizeof(addr_only));
    REJECT(-EINVAL, "address tag but no entry address tag");
}

static void bad_pvh(void)
{
    pvh_image(4);
    put32(0x800 + 20 + 4, 0x1000); /* Xen note's descsz runs off the segment */
    REJECT(-EINVAL, "phdr[1]: note at +0x14 (namesz 0x4, descsz 0x1000) overflows the segment");
    pvh_image(2);
    REJECT(-EINVAL, "Xen PHYS32_ENTRY note has descsz 2");
    pvh_image(8);
    put64(0x800 + 20 + 16, 0x100000000ULL);
    REJECT(-EINVAL, "PVH entry 0x100000000 is above 4 GiB");
    pvh_image(4);
    put32(0x800 + 20 + 16, 0x500000);
    REJECT(-EINVAL, "entry point 0x500000 is outside the loaded kernel");
}

static void bad_misc(void)
{
    struct boot_request r = {.format = BOOT_FLAT, .flat_load = 0x200000, .flat_entry = 0x300000};
    static uint8_t huge_mod[1];
    struct boot_module m = {huge_mod, (size_t)1 << 30, "big"};

    memset(img, 0x90, 0x100);
    img_len = 0x100;
    REJECT(-EINVAL, "not a Multiboot1/Multiboot2/PVH kernel; for a flat binary pass --entry");
    EXPECT_EQ(load(&r), -EINVAL);
    EXPECT_CONTAINS(err, "entry point 0x300000 is outside the loaded kernel");
    r.flat_entry = 0x200000;
    r.modules = &m;
    r.nmodules = 1;
    EXPECT_EQ(load(&r), -EINVAL);
    EXPECT_CONTAINS(err, "flat binaries take no modules");
    r = (struct boot_request){.modules = &m, .nmodules = 1};
    std_image(32);
    mb1_header(0x1000, 0);
    EXPECT_EQ(load(&r), -ENOSPC);
    EXPECT_CONTAINS(err, "module 0: 0x40000000 bytes do not fit in guest RAM");
    img_len = 0;
    REJECT(-EINVAL, "empty kernel image");
    r = (struct boot_request){.format = BOOT_MULTIBOOT2};
    std_image(32);
    EXPECT_EQ(load(&r), -EINVAL);
    EXPECT_CONTAINS(err, "no Multiboot2 header");
    /* Read-only guest memory: the write fails cleanly. */
    std_image(32);
    mb1_header(0x1000, 0);
    gmem_init(&mem);
    gmem_add(&mem, 0, LOW_SIZE, low_ram, true);
    gmem_add(&mem, HIGH_BASE, HIGH_SIZE, high_ram, false);
    r = (struct boot_request){.image = img, .image_size = img_len};
    EXPECT_EQ(boot_load(&mem, &r, &res, err), -EFAULT);
    EXPECT_CONTAINS(err, "phdr[0]: cannot write guest memory 0x100000+0x100");
}

/*
 * Random corruption of valid images of every format: each run either loads
 * or fails with a message; the sanitizer build catches any out-of-bounds
 * access. Deterministic (fixed seed) so a failure reproduces.
 */
static void corrupted_images(void)
{
    uint32_t seed = 12345;
    unsigned ok = 0, rejected = 0;

    for (unsigned iter = 0; iter < 3000; iter++) {
        unsigned kind = iter % 4;

        std_image(kind == 1 ? 64 : 32);
        if (kind == 0)
            mb1_header(0x1000, 0);
        else if (kind == 1)
            mb2_header(0x1000, NULL, 0);
        else if (kind == 2)
            pvh_image(4);
        else
            mb1_header(0x1000, 0x10000), put32(0x100c, 0x101000), put32(0x1010, 0x100000),
                put32(0x101c, 0x100040);
        for (unsigned k = 0; k < 1 + iter % 6; k++) {
            seed = seed * 1103515245 + 12345;
            size_t at = (seed >> 8) % (iter & 1 ? 0x120 : img_len);
            if (at >= 0x120)
                at = 0x1000 + at % 0x40;
            seed = seed * 1103515245 + 12345;
            img[at] = (uint8_t)(seed >> 16);
        }
        seed = seed * 1103515245 + 12345;
        if (iter % 7 == 0)
            img_len = (seed >> 8) % img_len;
        err[0] = '\0';
        if (load_simple() == 0)
            ok++;
        else if (err[0])
            rejected++;
        else
            EXPECT(!"rejection without a message");
    }
    EXPECT(ok > 0);
    EXPECT(rejected > 0);
}

int main(void)
{
    RUN(mb1_elf32);
    RUN(mb1_empty_cmdline);
    RUN(mb1_elf64);
    RUN(mb1_entry_translation);
    RUN(mb1_aout_kludge);
    RUN(mb2_elf64);
    RUN(mb2_elf32_entry_tag);
    RUN(mb2_address_tag);
    RUN(pvh_elf64);
    RUN(flat_binary);
    RUN(area_moves_high);
    RUN(mmap_single_region);
    RUN(module_list);
    RUN(bad_elf_headers);
    RUN(bad_segments);
    RUN(bad_entry);
    RUN(bad_multiboot1);
    RUN(bad_multiboot2);
    RUN(bad_pvh);
    RUN(bad_misc);
    RUN(corrupted_images);
    return t_done();
}
