/* Symbol tables (lib/formats/symtab.c) and the offline loader (lib/formats/offline.c). */
#include "harness.h"

#include "ks/formats.h"
#include "ks/symtab.h"

#include <elf.h>
#include <errno.h>
#include <unistd.h>

static char err[KS_ERR_LEN];

/* A function whose address is looked up in this very binary's .symtab. */
__attribute__((noinline)) int symtab_probe_function(int x);
__attribute__((noinline)) int symtab_probe_function(int x)
{
    return x * 3 + 1;
}

__attribute__((noinline)) int symtab_anchor_function(void);
__attribute__((noinline)) int symtab_anchor_function(void)
{
    return 7;
}

static void own_binary(void)
{
    struct symtab *t;
    uint64_t main_addr, probe_addr, bias, off;
    const struct ks_sym *s;
    char buf[128];

    EXPECT_EQ(symtab_open("/proc/self/exe", &t, err), 0);
    if (!t)
        return;
    EXPECT(symtab_count(t) > 10);
    EXPECT_EQ(symtab_find(t, "symtab_anchor_function", &main_addr), 0);
    EXPECT_EQ(symtab_find(t, "symtab_probe_function", &probe_addr), 0);
    /* PIE: the run-time address differs from st_value by the load bias. */
    bias = (uint64_t)(uintptr_t)&symtab_anchor_function - main_addr;
    s = symtab_lookup(t, (uint64_t)(uintptr_t)&symtab_probe_function - bias + 2, &off);
    EXPECT(s != NULL);
    if (s) {
        EXPECT_STR(s->name, "symtab_probe_function");
        EXPECT_EQ(off, 2);
        EXPECT(s->func);
        EXPECT(s->size > 2);
    }
    symtab_format(t, probe_addr + 2, buf, sizeof(buf));
    EXPECT_STR(buf, "symtab_probe_function+0x2");
    symtab_format(t, probe_addr, buf, sizeof(buf));
    EXPECT_STR(buf, "symtab_probe_function");
    symtab_format(t, 1, buf, sizeof(buf));
    EXPECT_STR(buf, "");
    EXPECT_EQ(symtab_find(t, "no_such_symbol_here", &off), -ENOENT);
    EXPECT_EQ(symtab_probe_function(1) + symtab_anchor_function(), 11);
    symtab_free(t);
}

/* A minimal ELF32 with .symtab, .strtab and .shstrtab, built by hand. */
static size_t build_elf32(uint8_t *b, size_t cap)
{
    const char strtab[] = "\0start\0kmain\0data_obj\0";
    Elf32_Ehdr *h = (Elf32_Ehdr *)b;
    Elf32_Sym syms[4] = {{0}};
    Elf32_Shdr sh[3] = {{0}};
    size_t off = sizeof(*h);

    memset(b, 0, cap);
    memcpy(h->e_ident, ELFMAG, SELFMAG);
    h->e_ident[EI_CLASS] = ELFCLASS32;
    h->e_ident[EI_DATA] = ELFDATA2LSB;
    h->e_type = ET_EXEC;
    h->e_machine = EM_386;
    h->e_shentsize = sizeof(Elf32_Shdr);
    syms[1] = (Elf32_Sym){1, 0x100000, 0x20, ELF32_ST_INFO(STB_GLOBAL, STT_NOTYPE), 0, 1};
    syms[2] = (Elf32_Sym){7, 0x100020, 0x40, ELF32_ST_INFO(STB_GLOBAL, STT_FUNC), 0, 1};
    syms[3] = (Elf32_Sym){13, 0x102000, 0x10, ELF32_ST_INFO(STB_GLOBAL, STT_OBJECT), 0, 2};
    memcpy(b + off, syms, sizeof(syms));
    sh[1] =
        (Elf32_Shdr){0, SHT_SYMTAB, 0, 0, (Elf32_Off)off, sizeof(syms), 2, 1, 4, sizeof(Elf32_Sym)};
    off += sizeof(syms);
    memcpy(b + off, strtab, sizeof(strtab));
    sh[2] = (Elf32_Shdr){0, SHT_STRTAB, 0, 0, (Elf32_Off)off, sizeof(strtab), 0, 0, 1, 0};
    off += sizeof(strtab);
    off = (off + 3) & ~3u;
    h->e_shoff = (Elf32_Off)off;
    h->e_shnum = 3;
    memcpy(b + off, sh, sizeof(sh));
    return off + sizeof(sh);
}

static void elf32_symbols(void)
{
    uint8_t b[1024], c[1024];
    size_t n = build_elf32(b, sizeof(b));
    struct symtab *t;
    char buf[64];
    uint64_t off;

    EXPECT_EQ(symtab_from_elf(b, n, &t, err), 0);
    if (!t)
        return;
    EXPECT_EQ(symtab_count(t), 3);
    symtab_format(t, 0x100025, buf, sizeof(buf));
    EXPECT_STR(buf, "kmain+0x5");
    symtab_format(t, 0x100060, buf, sizeof(buf)); /* past kmain's 0x40 bytes */
    EXPECT_STR(buf, "");
    EXPECT(symtab_lookup(t, 0x102004, &off) != NULL);
    symtab_free(t);

    /* Hostile variants: bad entsize, string table link out of range, name offset out of range. */
    Elf32_Shdr *sh;
    memcpy(c, b, n);
    sh = (Elf32_Shdr *)(c + ((Elf32_Ehdr *)c)->e_shoff);
    sh[1].sh_entsize = 7;
    EXPECT_EQ(symtab_from_elf(c, n, &t, err), -EINVAL);
    EXPECT_CONTAINS(err, "malformed");
    memcpy(c, b, n);
    sh[1].sh_link = 99;
    EXPECT_EQ(symtab_from_elf(c, n, &t, err), -EINVAL);
    memcpy(c, b, n);
    sh[1].sh_size = 0x7fffffff;
    EXPECT_EQ(symtab_from_elf(c, n, &t, err), -EINVAL);
    memcpy(c, b, n);
    sh[2].sh_size = 3; /* names now run off the string table: symbols dropped */
    EXPECT_EQ(symtab_from_elf(c, n, &t, err), -ENOENT);
    memcpy(c, b, n);
    ((Elf32_Ehdr *)c)->e_shoff = 0xfffffff0;
    EXPECT_EQ(symtab_from_elf(c, n, &t, err), -EINVAL);
    for (size_t cut = 0; cut < n; cut++) {
        int rc = symtab_from_elf(b, cut, &t, err);
        EXPECT(rc == -EINVAL || rc == -ENOENT);
        EXPECT(t == NULL);
    }
}

static void nm_listing(void)
{
    const char *txt = "ffffffff81000000 T _stext\n"
                      "ffffffff81000040 t helper\r\n"
                      "                 U undefined_thing\n"
                      "ffffffff82000000 D some_data\n";
    struct symtab *t;
    char buf[64];

    EXPECT_EQ(symtab_from_nm(txt, strlen(txt), &t, err), 0);
    if (!t)
        return;
    EXPECT_EQ(symtab_count(t), 3);
    symtab_format(t, 0xffffffff81000042ULL, buf, sizeof(buf));
    EXPECT_STR(buf, "helper+0x2");
    symtab_free(t);
    EXPECT_EQ(symtab_from_nm("zzzz T x\n", 9, &t, err), -EINVAL);
    EXPECT_CONTAINS(err, "line 1");
    EXPECT_EQ(symtab_from_nm("\n\n", 2, &t, err), -ENOENT);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* Register text + raw memory + kernel symbols, as `kvmscope explain` loads them. */
static void offline_text_and_raw(void)
{
    struct offline_inputs in = {0};
    struct offline *o = malloc(sizeof(*o));
    char mem[64];
    uint8_t page[0x1000] = {0}, v, elf[1024];
    size_t n = build_elf32(elf, sizeof(elf));

    page[0x25] = 0x66;
    snprintf(mem, sizeof(mem), "/tmp/kvmscope-off-%d.bin", (int)getpid());
    write_file(mem, page, sizeof(page));
    write_file("/tmp/kvmscope-off.elf", elf, n);
    char spec[80];
    snprintf(spec, sizeof(spec), "%s@0x133000", mem);
    in.regs_path = "tests/data/seed_1gb_pages_regs.txt";
    in.mem_spec = spec;
    in.kernel_path = "/tmp/kvmscope-off.elf";
    EXPECT_EQ(offline_load(&in, o, err), 0);
    EXPECT(o->have_text);
    EXPECT(o->snap.have & SNAP_HAVE_MEM);
    EXPECT(o->snap.mem != NULL);
    if (o->snap.mem) {
        EXPECT_EQ(gmem_read(o->snap.mem, 0x133025, &v, 1), 0);
        EXPECT_EQ(v, 0x66);
    }
    EXPECT_EQ(o->snap.s.rip, 0x133025);
    EXPECT(o->snap.syms != NULL);
    EXPECT_CONTAINS(o->notes, "EFER is not in the dump");
    EXPECT_CONTAINS(o->notes, "raw RAM at GPA 0x133000");
    offline_close(o);

    in.kernel_path = NULL;
    in.core_path = "whatever";
    EXPECT_EQ(offline_load(&in, o, err), -EINVAL);
    EXPECT_CONTAINS(err, "not both");
    offline_close(o);

    in.core_path = NULL;
    in.mem_spec = NULL;
    in.regs_path = mem; /* binary, not text */
    EXPECT_EQ(offline_load(&in, o, err), -EINVAL);
    EXPECT_CONTAINS(err, "expected QEMU register-dump text");
    offline_close(o);

    in.regs_path = "tests/data/no-such-file.txt";
    EXPECT_EQ(offline_load(&in, o, err), -ENOENT);
    EXPECT_CONTAINS(err, "no-such-file.txt");
    offline_close(o);
    unlink(mem);
    unlink("/tmp/kvmscope-off.elf");
    free(o);
}

int main(void)
{
    RUN(own_binary);
    RUN(elf32_symbols);
    RUN(nm_listing);
    RUN(offline_text_and_raw);
    return t_done();
}
