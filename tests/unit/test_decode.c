/*
 * The decoder against the Zydis 4.0 probe results in
 * shared/samples/zydis400_ea_results.txt (register values: RCX=0xdeadbeef000,
 * R8=0x8888, RBX=0x1000, RSI=0x3000, RDI=0x4000, RSP=0x8000, RAX=0x2000,
 * RIP-relative at 0x1000ee) and the seed instruction of
 * shared/seed/kvm-1gb-pages.txt, plus fetches through hand-built page tables.
 */
#include "harness.h"

#include "ks/decode.h"

#include <errno.h>

static void flat64(struct x86_state *s)
{
    memset(s, 0, sizeof(*s));
    s->cr0 = 0x80000011;
    s->cr4 = 0x20;
    s->efer = 0x500;
    s->seg[X86_SEG_CS].l = 1;
    s->seg[X86_SEG_CS].present = 1;
    s->gpr[X86_RCX] = 0xdeadbeef000ull;
    s->gpr[X86_R8] = 0x8888;
    s->gpr[X86_RBX] = 0x1000;
    s->gpr[X86_RSI] = 0x3000;
    s->gpr[X86_RDI] = 0x4000;
    s->gpr[X86_RSP] = 0x8000;
    s->gpr[X86_RAX] = 0x2000;
    s->rip = 0x1000ee;
}

static void flat32(struct x86_state *s)
{
    flat64(s);
    s->efer = 0;
    s->cr0 = 0x11;
    s->seg[X86_SEG_CS].l = 0;
    s->seg[X86_SEG_CS].db = 1;
    s->seg[X86_SEG_SS].db = 1;
}

#define DECODE(s, in, ...)                                                                         \
    ({                                                                                             \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        x86_decode(b_, sizeof(b_), (s), (in));                                                     \
    })

static void test_sib_index(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    EXPECT_EQ(DECODE(&s, &in, 0x4a, 0x8b, 0x14, 0x81), 0);
    EXPECT_EQ(in.len, 4);
    EXPECT_STR(in.intel, "mov rdx, [rcx+r8*4]");
    EXPECT_EQ(in.n_acc, 1);
    EXPECT_EQ(in.acc[0].linear, 0xdeadbf11220ull); /* = CR2 of the real TCG #PF */
    EXPECT_EQ(in.acc[0].size, 8);
    EXPECT(in.acc[0].read && !in.acc[0].write);
    EXPECT_EQ(in.acc[0].seg, X86_SEG_DS);
}

static void test_rip_relative(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    EXPECT_EQ(DECODE(&s, &in, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00), 0);
    EXPECT_EQ(in.len, 6);
    EXPECT_EQ(in.acc[0].linear, 0x100104);
    EXPECT_EQ(in.acc[0].size, 4);
}

static void test_fs_segment(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    EXPECT_EQ(DECODE(&s, &in, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0), 0);
    EXPECT_EQ(in.len, 9);
    EXPECT_EQ(in.acc[0].ea, 0x28);
    EXPECT_EQ(in.acc[0].linear, 0x28);
    EXPECT_EQ(in.acc[0].seg, X86_SEG_FS);
    /* The FS base (from the MSR) is added; a DS base is not in 64-bit mode. */
    s.seg[X86_SEG_FS].base = 0x7f0000000000ull;
    s.seg[X86_SEG_DS].base = 0x5000;
    EXPECT_EQ(DECODE(&s, &in, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0), 0);
    EXPECT_EQ(in.acc[0].linear, 0x7f0000000028ull);
    EXPECT_EQ(DECODE(&s, &in, 0x4a, 0x8b, 0x14, 0x81), 0);
    EXPECT_EQ(in.acc[0].linear, 0xdeadbf11220ull);
}

static void test_addr32_wrap(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    s.gpr[X86_RCX] = 0xffffffff0beef000ull; /* only ECX counts */
    EXPECT_EQ(DECODE(&s, &in, 0x67, 0x8b, 0x01), 0);
    EXPECT_EQ(in.address_width, 32);
    EXPECT_EQ(in.acc[0].linear, 0xbeef000);
    /* 0xffffff00 + 0x200 wraps to 0x100 with a 32-bit address size. */
    s.gpr[X86_RCX] = 0xffffffffffffff00ull;
    EXPECT_EQ(DECODE(&s, &in, 0x67, 0x8b, 0x81, 0x00, 0x02, 0x00, 0x00), 0);
    EXPECT_EQ(in.acc[0].linear, 0x100);
}

static void test_rmw_and_strings(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    EXPECT_EQ(DECODE(&s, &in, 0x01, 0x43, 0x08), 0);
    EXPECT_EQ(in.acc[0].linear, 0x1008);
    EXPECT(in.acc[0].read && in.acc[0].write);
    EXPECT_EQ(in.acc[0].size, 4);

    EXPECT_EQ(DECODE(&s, &in, 0xa4), 0);
    EXPECT_EQ(in.n_acc, 2);
    EXPECT_EQ(in.acc[0].linear, 0x4000);
    EXPECT(in.acc[0].write && !in.acc[0].read);
    EXPECT_EQ(in.acc[0].seg, X86_SEG_ES);
    EXPECT_EQ(in.acc[1].linear, 0x3000);
    EXPECT(in.acc[1].read && !in.acc[1].write);
}

static void test_stack(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    /* push rax: Zydis says ss:[rsp]; the slot written is RSP-8. */
    EXPECT_EQ(DECODE(&s, &in, 0x50), 0);
    EXPECT_EQ(in.n_acc, 1);
    EXPECT_EQ(in.acc[0].kind, X86_ACC_STACK);
    EXPECT_EQ(in.acc[0].linear, 0x7ff8);
    EXPECT_EQ(in.acc[0].size, 8);
    EXPECT(in.acc[0].write);
    /* pop rax reads at RSP. */
    EXPECT_EQ(DECODE(&s, &in, 0x58), 0);
    EXPECT_EQ(in.acc[0].linear, 0x8000);
    EXPECT(in.acc[0].read && !in.acc[0].write);
    /* call rel32 pushes the return address. */
    EXPECT_EQ(DECODE(&s, &in, 0xe8, 0, 0, 0, 0), 0);
    EXPECT_EQ(in.acc[0].linear, 0x7ff8);
    EXPECT(in.acc[0].write);
    /* ret reads; iretq reads five slots. */
    EXPECT_EQ(DECODE(&s, &in, 0xc3), 0);
    EXPECT_EQ(in.acc[0].linear, 0x8000);
    EXPECT_EQ(DECODE(&s, &in, 0x48, 0xcf), 0);
    EXPECT_EQ(in.acc[0].size, 40);
    EXPECT(in.far_transfer);
    /* retfq (REX.W CB) is a far transfer; a near ret is not. */
    EXPECT_EQ(DECODE(&s, &in, 0x48, 0xcb), 0);
    EXPECT(in.far_transfer);
    EXPECT_EQ(in.operand_width, 64);
    EXPECT_EQ(DECODE(&s, &in, 0xc3), 0);
    EXPECT(!in.far_transfer);
    /* push [rax]: a read of the operand and a write of the stack. */
    EXPECT_EQ(DECODE(&s, &in, 0xff, 0x30), 0);
    EXPECT_EQ(in.n_acc, 2);
    EXPECT_EQ(in.acc[0].linear, 0x2000);
    EXPECT_EQ(in.acc[1].linear, 0x7ff8);
    /* leave pops at RBP. */
    s.gpr[X86_RBP] = 0x9000;
    EXPECT_EQ(DECODE(&s, &in, 0xc9), 0);
    EXPECT_EQ(in.acc[0].linear, 0x9000);
    EXPECT_EQ(in.acc[0].kind, X86_ACC_STACK);
    /* enter pushes RBP below RSP. */
    EXPECT_EQ(DECODE(&s, &in, 0xc8, 0x10, 0, 0), 0);
    EXPECT_EQ(in.acc[0].linear, 0x7ff8);
    /* 32-bit push wraps at the 32-bit stack: ESP 0 writes at 0xfffffffc. */
    flat32(&s);
    s.gpr[X86_RSP] = 0;
    EXPECT_EQ(DECODE(&s, &in, 0x50), 0);
    EXPECT_EQ(in.acc[0].linear, 0xfffffffcull);
    EXPECT_EQ(in.acc[0].size, 4);
}

static void test_avx_and_lea(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    EXPECT_EQ(DECODE(&s, &in, 0xc5, 0xfe, 0x6f, 0x00), 0);
    EXPECT_EQ(in.acc[0].linear, 0x2000);
    EXPECT_EQ(in.acc[0].size, 32);
    /* LEA computes an address but touches no memory. */
    EXPECT_EQ(DECODE(&s, &in, 0x48, 0x8d, 0x44, 0x4b, 0x05), 0);
    EXPECT_STR(in.mnemonic, "lea");
    EXPECT_EQ(in.n_acc, 0);
}

static void test_system(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    s.idt.base = 0x10000;
    s.gdt.base = 0x20000;
    EXPECT_EQ(DECODE(&s, &in, 0xcd, 0x80), 0);
    EXPECT(in.is_int);
    EXPECT_EQ(in.int_vector, 0x80);
    EXPECT_EQ(in.n_acc, 1);
    EXPECT_EQ(in.acc[0].kind, X86_ACC_SYSTEM);
    EXPECT_EQ(in.acc[0].linear, 0x10800);
    EXPECT_EQ(in.acc[0].size, 16);
    EXPECT_EQ(x86_access_bits(&in.acc[0], 3), PT_ACCESS_IMPLICIT);
    /* lgdt [rax]: a 10-byte pseudo-descriptor read. */
    EXPECT_EQ(DECODE(&s, &in, 0x0f, 0x01, 0x10), 0);
    EXPECT(in.privileged);
    EXPECT_EQ(in.acc[0].size, 10);
    EXPECT_EQ(in.acc[0].linear, 0x2000);
    EXPECT_CONTAINS(in.acc[0].what, "GDT pseudo-descriptor");
    /* mov ds, ax reads GDT entry 0x10. */
    s.gpr[X86_RAX] = 0x13;
    EXPECT_EQ(DECODE(&s, &in, 0x8e, 0xd8), 0);
    EXPECT_EQ(in.n_acc, 1);
    EXPECT_EQ(in.acc[0].linear, 0x20010);
    /* ltr ax / lldt ax in IA-32e mode read a 16-byte system descriptor (SDM Vol. 3A §3.5.2). */
    s.gpr[X86_RAX] = 0x40;
    EXPECT_EQ(DECODE(&s, &in, 0x0f, 0x00, 0xd8), 0);
    EXPECT_EQ(in.n_acc, 1);
    EXPECT_EQ(in.acc[0].linear, 0x20040);
    EXPECT_EQ(in.acc[0].size, 16);
    EXPECT_EQ(DECODE(&s, &in, 0x0f, 0x00, 0xd0), 0);
    EXPECT_EQ(in.n_acc, 1);
    EXPECT_EQ(in.acc[0].linear, 0x20040);
    EXPECT_EQ(in.acc[0].size, 16);
    EXPECT_CONTAINS(in.acc[0].what, "LDT");
    /* Their selectors always index the GDT: TI=1 is a #GP, not an LDT read (§3.5.2 LLDT/LTR). */
    s.seg[X86_SEG_LDTR].base = 0x30000;
    s.gpr[X86_RAX] = 0x44;
    EXPECT_EQ(DECODE(&s, &in, 0x0f, 0x00, 0xd0), 0);
    EXPECT_EQ(in.n_acc, 0);
    /* A far jump with an immediate pointer (32-bit mode) reads its CS descriptor. */
    flat32(&s);
    s.gdt.base = 0x20000;
    EXPECT_EQ(DECODE(&s, &in, 0xea, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00), 0);
    EXPECT(in.far_transfer);
    EXPECT_EQ(in.acc[0].linear, 0x20008);
    EXPECT_EQ(in.acc[0].kind, X86_ACC_SYSTEM);
}

/* The seed's instruction: RIP-relative in 64-bit mode, absolute in 32-bit code. */
static void test_seed_instruction(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    s.rip = 0x133025;
    EXPECT_EQ(DECODE(&s, &in, 0x66, 0xc7, 0x05, 0x00, 0x80, 0x0b, 0x00, 0x48, 0x02), 0);
    EXPECT_EQ(in.len, 9);
    EXPECT_STR(in.att, "movw $0x248, 0xb8000(%rip)");
    EXPECT_EQ(in.acc[0].linear, 0x133025 + 9 + 0xb8000);
    EXPECT_EQ(in.acc[0].size, 2);
    EXPECT(in.acc[0].write && !in.acc[0].read);
    /* The seed's CS is CS32 with EFER.LMA=1: compatibility mode, absolute address. */
    s.seg[X86_SEG_CS].l = 0;
    s.seg[X86_SEG_CS].db = 1;
    EXPECT_EQ(x86_cpu_mode_of(&s), X86_MODE_COMPAT32);
    EXPECT_EQ(DECODE(&s, &in, 0x66, 0xc7, 0x05, 0x00, 0x80, 0x0b, 0x00, 0x48, 0x02), 0);
    EXPECT_EQ(in.acc[0].linear, 0xb8000);
}

static void test_bad_bytes(void)
{
    struct x86_state s;
    struct x86_insn in;

    flat64(&s);
    EXPECT_EQ(DECODE(&s, &in, 0x66, 0xc7, 0x05), -ENODATA);
    /* 0x06 (push es) does not exist in 64-bit mode: #UD. */
    EXPECT_EQ(DECODE(&s, &in, 0x06), -EILSEQ);
    /* 15 prefixes and no opcode is too long. */
    EXPECT_EQ(DECODE(&s, &in, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                     0x66, 0x66, 0x66, 0x66, 0x90),
              -EILSEQ);
}

/* --- fetching through page tables ---------------------------------------------------------- */

static uint8_t ram[0x20000] __attribute__((aligned(4096)));

static void put64(gpa_t gpa, uint64_t v)
{
    memcpy(ram + gpa, &v, 8);
}

/* CR3 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000; code page 0x5000 at GVA 0x400000. */
static void build_tables(struct gmem *m, struct pt_ctx *c)
{
    memset(ram, 0, sizeof(ram));
    put64(0x1000, 0x2003);
    put64(0x2000, 0x3003);
    put64(0x3000 + 2 * 8, 0x4003);
    put64(0x4000, 0x5003); /* GVA 0x400000 -> 0x5000 */
    put64(0x4008, 0x6003); /* GVA 0x401000 -> 0x6000 */
    gmem_init(m);
    gmem_add(m, 0, sizeof(ram), ram, true);
    memset(c, 0, sizeof(*c));
    c->cr0 = 0x80010011;
    c->cr3 = 0x1000;
    c->cr4 = 0x20;
    c->efer = 0x500;
    c->cpu.maxphyaddr = 36;
}

static void test_fetch_cross_page(void)
{
    struct gmem m;
    struct pt_ctx c;
    struct x86_state s;
    struct x86_fetch f;
    struct x86_insn in;
    static const uint8_t insn[] = {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}; /* movabs rax, imm64 */

    build_tables(&m, &c);
    flat64(&s);
    s.rip = 0x400ffc;
    memcpy(ram + 0x5ffc, insn, 4);
    memcpy(ram + 0x6000, insn + 4, 6);
    EXPECT_EQ(x86_fetch_decode(&m, &c, &s, 0, &f, &in), 0);
    EXPECT_EQ(in.len, 10);
    EXPECT_STR(in.mnemonic, "mov");
    EXPECT(!f.fault);

    /* Unmap the second page: the fault address is the page boundary, access F. */
    put64(0x4008, 0);
    EXPECT_EQ(x86_fetch_decode(&m, &c, &s, 0, &f, &in), 1);
    EXPECT(f.fault);
    EXPECT_EQ(f.walk.gva, 0x401000);
    EXPECT_EQ(f.walk.error_code, 0);
    EXPECT_EQ(f.walk.access, PFERR_F);
    EXPECT_EQ(f.len, 4);

    /* An instruction ending at the page end never touches the next page. */
    s.rip = 0x400ff6;
    memcpy(ram + 0x5ff6, insn, 10);
    EXPECT_EQ(x86_fetch_decode(&m, &c, &s, 0, &f, &in), 0);
    EXPECT_EQ(in.len, 10);
}

static void test_fetch_fault_first_page(void)
{
    struct gmem m;
    struct pt_ctx c;
    struct x86_state s;
    struct x86_fetch f;
    struct x86_insn in;

    build_tables(&m, &c);
    flat64(&s);
    s.rip = 0x400000;
    put64(0x2000, 0x83); /* 1 GiB page without GBPAGES: the seed */
    EXPECT_EQ(x86_fetch_decode(&m, &c, &s, 0, &f, &in), 1);
    EXPECT(f.fault);
    EXPECT_EQ(f.walk.error_code, PFERR_P | PFERR_RSVD);
    EXPECT_EQ(f.walk.fault_level, 3);
    /* At CPL 3 the fetch is a user fetch. */
    EXPECT_EQ(x86_fetch_decode(&m, &c, &s, 3, &f, &in), 1);
    EXPECT_EQ(f.walk.access, PFERR_F | PFERR_U);
    EXPECT_EQ(f.walk.error_code, PFERR_P | PFERR_RSVD | PFERR_U);
}

static void test_fetch_unbacked(void)
{
    struct gmem m;
    struct pt_ctx c;
    struct x86_state s;
    struct x86_fetch f;
    struct x86_insn in;

    build_tables(&m, &c);
    flat64(&s);
    s.rip = 0x400000;
    put64(0x4000, 0x800000003ull); /* maps to GPA 0x800000000: no RAM there */
    EXPECT_EQ(x86_fetch_decode(&m, &c, &s, 0, &f, &in), 1);
    EXPECT(!f.fault);
    EXPECT(f.unbacked);
    EXPECT_EQ(f.unbacked_gpa, 0x800000000ull);
}

int main(void)
{
    RUN(test_sib_index);
    RUN(test_rip_relative);
    RUN(test_fs_segment);
    RUN(test_addr32_wrap);
    RUN(test_rmw_and_strings);
    RUN(test_stack);
    RUN(test_avx_and_lea);
    RUN(test_system);
    RUN(test_seed_instruction);
    RUN(test_bad_bytes);
    RUN(test_fetch_cross_page);
    RUN(test_fetch_fault_first_page);
    RUN(test_fetch_unbacked);
    return t_done();
}
