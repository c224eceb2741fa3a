/* The shared ELF header readers (lib/base/elf.c) on edge-case headers. */
#include "harness.h"

#include "ks/elf.h"

#include <elf.h>
#include <errno.h>

static char err[KS_ERR_LEN];

static void in_file_bounds(void)
{
    EXPECT(elf_in_file(0, 16, 16));
    EXPECT(elf_in_file(16, 0, 16));
    EXPECT(!elf_in_file(17, 0, 16));
    EXPECT(!elf_in_file(8, 9, 16));
    /* off + len wraps: a naive `off + len <= size` would accept these. */
    EXPECT(!elf_in_file(UINT64_MAX, 2, 16));
    EXPECT(!elf_in_file(1, UINT64_MAX, 16));
}

static void ehdr_rejects(void)
{
    uint8_t b[sizeof(Elf64_Ehdr)] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT};
    struct elf_ehdr h;

    EXPECT(!elf_has_magic(NULL, 0));
    EXPECT(!elf_has_magic(b, 3));
    EXPECT_EQ(elf_read_ehdr(b, 3, &h, err), -EINVAL);
    EXPECT_CONTAINS(err, "no \\x7fELF magic");
    /* The magic but not even e_ident: truncated, not "not ELF". */
    EXPECT_EQ(elf_read_ehdr(b, 8, &h, err), -EINVAL);
    EXPECT_CONTAINS(err, "ends inside the ELF header (8 bytes)");
    EXPECT_EQ(elf_read_ehdr(b, sizeof(Elf32_Ehdr), &h, err), -EINVAL);
    EXPECT_CONTAINS(err, "ends inside the ELF header");
    b[EI_DATA] = ELFDATA2MSB;
    EXPECT_EQ(elf_read_ehdr(b, sizeof(b), &h, err), -EINVAL);
    EXPECT_CONTAINS(err, "big-endian");
    b[EI_DATA] = ELFDATA2LSB;
    b[EI_CLASS] = 3;
    EXPECT_EQ(elf_read_ehdr(b, sizeof(b), &h, err), -EINVAL);
    EXPECT_CONTAINS(err, "class 3");
}

static void ehdr_fields_both_classes(void)
{
    Elf64_Ehdr e64 = {.e_ident = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB},
                      .e_type = ET_EXEC,
                      .e_machine = EM_X86_64,
                      .e_entry = 0xffffffff81000000ull,
                      .e_phoff = 64,
                      .e_shoff = 0x123456789ull,
                      .e_phentsize = sizeof(Elf64_Phdr),
                      .e_phnum = PN_XNUM,
                      .e_shentsize = sizeof(Elf64_Shdr),
                      .e_shnum = 7};
    Elf32_Ehdr e32 = {.e_ident = {0x7f, 'E', 'L', 'F', ELFCLASS32, ELFDATA2LSB},
                      .e_type = ET_CORE,
                      .e_machine = EM_386,
                      .e_entry = 0x100000,
                      .e_phoff = 52,
                      .e_phentsize = sizeof(Elf32_Phdr),
                      .e_phnum = 3};
    struct elf_ehdr h;

    EXPECT_EQ(elf_read_ehdr(&e64, sizeof(e64), &h, err), 0);
    EXPECT(h.elf64);
    EXPECT_EQ(h.entry, 0xffffffff81000000ull);
    EXPECT_EQ(h.shoff, 0x123456789ull);
    EXPECT_EQ(h.phnum, PN_XNUM);
    EXPECT_EQ(h.shnum, 7);
    EXPECT_EQ(elf_read_ehdr(&e32, sizeof(e32), &h, err), 0);
    EXPECT(!h.elf64);
    EXPECT_EQ(h.type, ET_CORE);
    EXPECT_EQ(h.machine, EM_386);
    EXPECT_EQ(h.entry, 0x100000);
    EXPECT_EQ(h.phentsize, sizeof(Elf32_Phdr));
    EXPECT_EQ(h.phnum, 3);
}

static void phdr_and_shdr(void)
{
    Elf32_Phdr p32 = {PT_LOAD, 0x1000, 0xc0100000, 0x100000, 0x200, 0x300, PF_R, 0x1000};
    Elf64_Shdr s64 = {.sh_type = SHT_SYMTAB,
                      .sh_offset = 0x5000,
                      .sh_size = 0x180,
                      .sh_link = 9,
                      .sh_info = 70000,
                      .sh_entsize = sizeof(Elf64_Sym)};
    struct elf_phdr p;
    struct elf_shdr s;

    elf_read_phdr((const uint8_t *)&p32, false, &p);
    EXPECT_EQ(p.type, PT_LOAD);
    EXPECT_EQ(p.offset, 0x1000);
    EXPECT_EQ(p.vaddr, 0xc0100000);
    EXPECT_EQ(p.paddr, 0x100000);
    EXPECT_EQ(p.filesz, 0x200);
    EXPECT_EQ(p.memsz, 0x300);
    EXPECT_EQ(p.align, 0x1000);
    elf_read_shdr((const uint8_t *)&s64, true, &s);
    EXPECT_EQ(s.type, SHT_SYMTAB);
    EXPECT_EQ(s.offset, 0x5000);
    EXPECT_EQ(s.size, 0x180);
    EXPECT_EQ(s.link, 9);
    EXPECT_EQ(s.info, 70000); /* PN_XNUM's real program-header count lives here */
    EXPECT_EQ(s.entsize, sizeof(Elf64_Sym));
}

int main(void)
{
    RUN(in_file_bounds);
    RUN(ehdr_rejects);
    RUN(ehdr_fields_both_classes);
    RUN(phdr_and_shdr);
    return t_done();
}
