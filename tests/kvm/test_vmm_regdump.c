/*
 * The QEMU-format register dump (cli/regdump.c) against QEMU 7.2's own
 * output (shared/samples/qemu72_info_registers_*.txt), and against a live
 * vCPU. The samples come from TCG, which keeps the limit nibble in the
 * segment flags (00cf9300) where KVM state gives 00c09300 (spec/formats.md
 * §1.4); the expected text below is the sample with that one difference.
 */
#include "harness.h"

#include "../../cli/regdump.c"

#include "ks/vmm.h"

#include <unistd.h>

static struct x86_seg seg(uint16_t sel, uint64_t base, uint32_t limit, uint8_t type, uint8_t s,
                          uint8_t l, uint8_t db, uint8_t g)
{
    return (struct x86_seg){.selector = sel,
                            .base = base,
                            .limit = limit,
                            .type = type,
                            .s = s,
                            .present = 1,
                            .l = l,
                            .db = db,
                            .g = g};
}

static void t_64bit(void)
{
    static const char want[] =
        "RAX=1111111111111111 RBX=2222222222222222 RCX=00000000c0000080 RDX=0000000000000000\n"
        "RSI=0000000000000000 RDI=0000000000001000 RBP=0000000000000000 RSP=0000000000107000\n"
        "R8 =0000000000008888 R9 =0000000000000000 R10=0000000000000000 R11=0000000000000000\n"
        "R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 R15=00000000f00dfeed\n"
        "RIP=00000000001000e5 RFL=00000086 [--S--P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\n"
        "ES =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "CS =0008 0000000000000000 00000000 00209a00 DPL=0 CS64 [-R-]\n"
        "SS =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "DS =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "FS =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
        "GS =0010 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
        "LDT=0000 0000000000000000 0000ffff 00008200 DPL=0 LDT\n"
        "TR =0000 0000000000000000 0000ffff 00008b00 DPL=0 TSS64-busy\n"
        "GDT=     00000000001000f0 00000017\n"
        "IDT=     0000000000000000 000003ff\n"
        "CR0=80000011 CR2=0000000000000000 CR3=0000000000101000 CR4=00000020\n"
        "DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 "
        "DR3=0000000000000000 \n"
        "DR6=00000000ffff0ff0 DR7=0000000000000400\n"
        "EFER=0000000000000500\n";
    struct snapshot snap;
    struct x86_state *s = &snap.s;
    struct strbuf sb;

    snapshot_init(&snap);
    s->gpr[X86_RAX] = 0x1111111111111111;
    s->gpr[X86_RBX] = 0x2222222222222222;
    s->gpr[X86_RCX] = 0xc0000080;
    s->gpr[X86_RDI] = 0x1000;
    s->gpr[X86_RSP] = 0x107000;
    s->gpr[X86_R8] = 0x8888;
    s->gpr[X86_R15] = 0xf00dfeed;
    s->rip = 0x1000e5;
    s->rflags = 0x86;
    s->seg[X86_SEG_CS] = seg(8, 0, 0, 0xa, 1, 1, 0, 0);
    s->seg[X86_SEG_ES] = s->seg[X86_SEG_SS] = s->seg[X86_SEG_DS] = seg(0x10, 0, 0, 3, 1, 0, 0, 0);
    s->seg[X86_SEG_FS] = s->seg[X86_SEG_GS] = seg(0x10, 0, 0xffffffff, 3, 1, 0, 1, 1);
    s->seg[X86_SEG_LDTR] = seg(0, 0, 0xffff, 2, 0, 0, 0, 0);
    s->seg[X86_SEG_TR] = seg(0, 0, 0xffff, 0xb, 0, 0, 0, 0);
    s->gdt = (struct x86_dtable){0x1000f0, 0x17};
    s->idt = (struct x86_dtable){0, 0x3ff};
    s->cr0 = 0x80000011;
    s->cr3 = 0x101000;
    s->cr4 = 0x20;
    s->dr[6] = 0xffff0ff0;
    s->dr[7] = 0x400;
    s->efer = 0x500;
    sb_init(&sb);
    regdump_qemu(&sb, &snap, true);
    EXPECT_STR(sb_str(&sb), want);
    sb_free(&sb);
}

static void t_32bit(void)
{
    static const char want[] = "EAX=2badb002 EBX=00009500 ECX=0010000c EDX=32323232\n"
                               "ESI=00000000 EDI=00001000 EBP=00000000 ESP=00107000\n"
                               "EIP=00100023 EFL=00000006 [-----P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\n"
                               "ES =0010 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
                               "CS =0008 00000000 ffffffff 00c09a00 DPL=0 CS32 [-R-]\n"
                               "SS =0010 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
                               "DS =0010 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
                               "FS =0010 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
                               "GS =0010 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]\n"
                               "LDT=0000 00000000 0000ffff 00008200 DPL=0 LDT\n"
                               "TR =0000 00000000 0000ffff 00008b00 DPL=0 TSS32-busy\n"
                               "GDT=     000cb2b8 00000027\n"
                               "IDT=     00000000 000003ff\n"
                               "CR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000\n"
                               "DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 "
                               "DR3=0000000000000000 \n"
                               "DR6=00000000ffff0ff0 DR7=0000000000000400\n"
                               "EFER=0000000000000000\n";
    struct snapshot snap;
    struct x86_state *s = &snap.s;
    struct strbuf sb;

    snapshot_init(&snap);
    s->gpr[X86_RAX] = 0x2badb002;
    s->gpr[X86_RBX] = 0x9500;
    s->gpr[X86_RCX] = 0x10000c;
    s->gpr[X86_RDX] = 0x32323232;
    s->gpr[X86_RDI] = 0x1000;
    s->gpr[X86_RSP] = 0x107000;
    s->rip = 0x100023;
    s->rflags = 6;
    s->seg[X86_SEG_CS] = seg(8, 0, 0xffffffff, 0xa, 1, 0, 1, 1);
    s->seg[X86_SEG_ES] = seg(0x10, 0, 0xffffffff, 3, 1, 0, 1, 1);
    s->seg[X86_SEG_SS] = s->seg[X86_SEG_DS] = s->seg[X86_SEG_FS] = s->seg[X86_SEG_GS] =
        s->seg[X86_SEG_ES];
    s->seg[X86_SEG_LDTR] = seg(0, 0, 0xffff, 2, 0, 0, 0, 0);
    s->seg[X86_SEG_TR] = seg(0, 0, 0xffff, 0xb, 0, 0, 0, 0);
    s->gdt = (struct x86_dtable){0xcb2b8, 0x27};
    s->idt = (struct x86_dtable){0, 0x3ff};
    s->cr0 = 0x11;
    s->dr[6] = 0xffff0ff0;
    s->dr[7] = 0x400;
    sb_init(&sb);
    regdump_qemu(&sb, &snap, true);
    EXPECT_STR(sb_str(&sb), want);
    sb_free(&sb);
}

/* Compatibility mode: 32-bit registers and bases, 64-bit GDT/CR lines, long-mode type names. */
static void t_compat_and_real(void)
{
    struct snapshot snap;
    struct strbuf sb;

    snapshot_init(&snap);
    snap.s.efer = 0x500;
    snap.s.cr0 = 0x80000011;
    snap.s.seg[X86_SEG_CS] = seg(8, 0x12345678, 0xffffffff, 0xb, 1, 0, 1, 1);
    snap.s.seg[X86_SEG_TR] = seg(0, 0, 0x67, 0xb, 0, 0, 0, 0);
    snap.s.seg[X86_SEG_DS] = seg(0x10, 0, 0xffff, 3, 1, 0, 0, 0);
    snap.s.seg[X86_SEG_ES].unusable = 1;
    sb_init(&sb);
    regdump_qemu(&sb, &snap, false);
    EXPECT_CONTAINS(sb_str(&sb), "EAX=00000000");
    EXPECT_CONTAINS(sb_str(&sb), "CS =0008 12345678 ffffffff 00c09b00 DPL=0 CS32 [-RA]\n");
    EXPECT_CONTAINS(sb_str(&sb), "TR =0000 00000000 00000067 00008b00 DPL=0 TSS64-busy\n");
    /* LMA=1: a data segment without B still prints "DS  ". */
    EXPECT_CONTAINS(sb_str(&sb), "DS =0010 00000000 0000ffff 00009300 DPL=0 DS   [-WA]\n");
    EXPECT_CONTAINS(sb_str(&sb), "ES =0000 00000000 00000000 00000000\n");
    EXPECT_CONTAINS(sb_str(&sb), "GDT=     0000000000000000 00000000\n");
    EXPECT_CONTAINS(sb_str(&sb), "CR0=80000011 CR2=0000000000000000");
    /* Real mode: no suffix at all; 16-bit data segments say DS16 in protected mode. */
    sb_reset(&sb);
    snap.s.efer = 0;
    snap.s.cr0 = 0x10;
    regdump_qemu(&sb, &snap, false);
    EXPECT_CONTAINS(sb_str(&sb), "DS =0010 00000000 0000ffff 00009300\n");
    sb_reset(&sb);
    snap.s.cr0 = 0x11;
    regdump_qemu(&sb, &snap, false);
    EXPECT_CONTAINS(sb_str(&sb), "DS =0010 00000000 0000ffff 00009300 DPL=0 DS16 [-WA]\n");
    EXPECT_CONTAINS(sb_str(&sb), "TR =0000 00000000 00000067 00008b00 DPL=0 TSS32-busy\n");
    sb_free(&sb);
}

static void t_code_line(void)
{
    uint8_t b[4] = {0x0f, 0x0b, 0x90, 0xcc};
    bool v[4] = {true, true, true, false};
    struct strbuf sb;

    sb_init(&sb);
    regdump_code(&sb, b, v, 4, 1);
    EXPECT_STR(sb_str(&sb), "Code=0f <0b> 90 ??\n");
    sb_free(&sb);
}

/* A live vCPU at reset: real mode, the dump has no DPL suffixes and CS base ffff0000. */
static void t_live_reset(void)
{
    struct vmm_config cfg = {.ram_size = 4 << 20};
    char err[KS_ERR_LEN];
    struct snapshot snap;
    struct strbuf sb;
    struct vmm *vm;

    if (access("/dev/kvm", R_OK | W_OK))
        SKIP("no /dev/kvm");
    if (vmm_create(&cfg, &vm, err))
        SKIP("vmm_create: %.200s", err);
    EXPECT_EQ(vmm_snapshot(vm, &snap), 0);
    sb_init(&sb);
    regdump_qemu(&sb, &snap, false);
    EXPECT_CONTAINS(sb_str(&sb), "EIP=0000fff0 EFL=00000002 [-------] CPL=0");
    EXPECT_CONTAINS(sb_str(&sb), "CS =f000 ffff0000 0000ffff 00009b00\n");
    EXPECT_CONTAINS(sb_str(&sb), "DR6=00000000ffff0ff0 DR7=0000000000000400\n");
    sb_reset(&sb);
    regdump_json(&sb, &snap);
    EXPECT_CONTAINS(sb_str(&sb), "\"rip\":\"0xfff0\"");
    EXPECT_CONTAINS(sb_str(&sb), "\"cs\":{\"selector\":\"0xf000\",\"base\":\"0xffff0000\"");
    sb_free(&sb);
    vmm_destroy(vm);
}

int main(void)
{
    t_run("regdump_qemu_64bit_sample", t_64bit);
    t_run("regdump_qemu_32bit_sample", t_32bit);
    t_run("regdump_compat_and_real_mode", t_compat_and_real);
    t_run("regdump_code_line", t_code_line);
    t_run("regdump_live_reset_state", t_live_reset);
    return t_fail ? 1 : 0;
}
