/* QEMU register-dump text parser (lib/formats/qemu_regs.c) on real captures and broken input. */
#include "harness.h"

#include "formats_fixture.h"
#include "ks/formats.h"
#include "ks/paging.h"

#include <errno.h>

static struct snapshot snap;
static struct qemu_dump_info info;
static char err[KS_ERR_LEN];

static int parse_str(const char *s)
{
    return qemu_regs_parse(s, strlen(s), &snap, &info, err);
}

static int parse_fixture(const char *name)
{
    size_t len;
    char *t = fixture_read(name, &len);
    int rc;

    if (!t)
        return -999;
    rc = qemu_regs_parse(t, len, &snap, &info, err);
    free(t);
    return rc;
}

static void info_registers_64bit_tcg(void)
{
    EXPECT_EQ(parse_fixture("qemu72_info_registers_64bit_tcg.txt"), 0);
    EXPECT_EQ(info.cpu_index, 0);
    EXPECT(info.is_64bit_gprs);
    EXPECT(info.lma_form);
    EXPECT(info.fpu_lines);
    EXPECT(info.tcg_flags); /* FS 00cf9300 keeps limit[19:16] */
    EXPECT_EQ(snap.s.gpr[X86_RAX], 0x1111111111111111ULL);
    EXPECT_EQ(snap.s.gpr[X86_RBX], 0x2222222222222222ULL);
    EXPECT_EQ(snap.s.gpr[X86_RCX], 0xc0000080);
    EXPECT_EQ(snap.s.gpr[X86_RSP], 0x107000);
    EXPECT_EQ(snap.s.gpr[X86_R8], 0x8888);
    EXPECT_EQ(snap.s.gpr[X86_R15], 0xf00dfeed);
    EXPECT_EQ(snap.s.rip, 0x1000e5);
    EXPECT_EQ(snap.s.rflags, 0x86);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].selector, 8);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].l, 1);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].type, 0xa);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].present, 1);
    EXPECT_EQ(snap.s.seg[X86_SEG_FS].limit, 0xffffffff);
    EXPECT_EQ(snap.s.seg[X86_SEG_FS].g, 1);
    EXPECT_EQ(snap.s.seg[X86_SEG_TR].type, 0xb);
    EXPECT_EQ(snap.s.gdt.base, 0x1000f0);
    EXPECT_EQ(snap.s.gdt.limit, 0x17);
    EXPECT_EQ(snap.s.idt.limit, 0x3ff);
    EXPECT_EQ(snap.s.cr0, 0x80000011);
    EXPECT_EQ(snap.s.cr3, 0x101000);
    EXPECT_EQ(snap.s.cr4, 0x20);
    EXPECT_EQ(snap.s.dr[6], 0xffff0ff0);
    EXPECT_EQ(snap.s.dr[7], 0x400);
    EXPECT_EQ(snap.s.efer, 0x500);
    EXPECT(snap.have & SNAP_HAVE_EFER);
    EXPECT(!(snap.have & SNAP_EFER_INFERRED));
    EXPECT(snap.have & SNAP_HAVE_DRS);
    EXPECT(snap.have & SNAP_HAVE_CPL);
    EXPECT_EQ(snap.cpl, 0);
    EXPECT_EQ(snap.event, SNAP_EV_NONE);
    EXPECT(!info.has_code);
}

static void info_registers_32bit(void)
{
    EXPECT_EQ(parse_fixture("qemu72_info_registers_32bit_multiboot_entry.txt"), 0);
    EXPECT(!info.is_64bit_gprs);
    EXPECT(!info.lma_form);
    EXPECT_EQ(snap.s.gpr[X86_RAX], 0x2badb002);
    EXPECT_EQ(snap.s.gpr[X86_RBX], 0x9500);
    EXPECT_EQ(snap.s.gpr[X86_RSP], 0x107000);
    EXPECT_EQ(snap.s.rip, 0x100023);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].db, 1);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].l, 0);
    EXPECT_EQ(snap.s.gdt.base, 0xcb2b8);
    EXPECT_EQ(snap.s.cr0, 0x11);
    EXPECT_EQ(snap.s.efer, 0);
    EXPECT(!(snap.have & SNAP_EFER_INFERRED));
}

static void kvm_internal_error(void)
{
    EXPECT_EQ(parse_fixture("qemu72_kvm_internal_error_emulation_failure.txt"), 0);
    EXPECT_EQ(snap.event, SNAP_EV_INTERNAL_ERROR);
    EXPECT_EQ(snap.internal_suberror, 1);
    EXPECT_EQ(snap.n_internal_data, 6);
    EXPECT_EQ(snap.internal_data[0], 0);
    EXPECT_EQ(snap.internal_data[1], 0x1000);
    EXPECT(info.emulation_failure);
    EXPECT_STR(info.kvm_message, "KVM internal error. Suberror: 1");
    EXPECT(!info.tcg_flags); /* KVM-synced: 00c09300, accessed CS 00209b00 */
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].type, 0xb);
    EXPECT_EQ(snap.s.rip, 0x6000000);
    EXPECT(info.has_code);
    EXPECT_EQ(info.code.len, 50);
    EXPECT_EQ(info.code.rip_off, 20);
    EXPECT_EQ(info.code.unreadable, (1ULL << 50) - 1);
}

static void code_bytes_kept(void)
{
    const char *dump =
        "KVM internal error. Suberror: 1\n"
        "emulation failure\n"
        "RAX=0000000000000001 RBX=0000000000000002 RCX=0000000000000003 RDX=0000000000000004\n"
        "RSI=0000000000000000 RDI=0000000000000000 RBP=0000000000000000 RSP=0000000000107000\n"
        "R8 =0000000000000000 R9 =0000000000000000 R10=0000000000000000 R11=0000000000000000\n"
        "R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 R15=0000000000000000\n"
        "RIP=0000000000100010 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
        "ES =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "CS =0008 0000000000000000 00000000 00209b00 DPL=0 CS64 [-RA]\n"
        "SS =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "DS =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "FS =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "GS =0010 0000000000000000 00000000 00009300 DPL=0 DS   [-WA]\n"
        "LDT=0000 0000000000000000 0000ffff 00008200 DPL=0 LDT\n"
        "TR =0000 0000000000000000 0000ffff 00008b00 DPL=0 TSS64-busy\n"
        "GDT=     0000000000100100 00000017\n"
        "IDT=     0000000000000000 00000000\n"
        "CR0=80000011 CR2=0000000000000000 CR3=0000000000101000 CR4=00000020\n"
        "DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000 \n"
        "DR6=00000000ffff0ff0 DR7=0000000000000400\n"
        "Code=?? 90 90 <0f> 0b f4 eb fd\n";

    EXPECT_EQ(parse_str(dump), 0);
    EXPECT_EQ(snap.n_internal_data, 0);
    EXPECT(!(snap.have & SNAP_HAVE_EFER) || (snap.have & SNAP_EFER_INFERRED));
    EXPECT_EQ(snap.s.efer, X86_EFER_LMA | X86_EFER_LME);
    EXPECT(info.has_code);
    EXPECT_EQ(info.code.len, 8);
    EXPECT_EQ(info.code.rip_off, 3);
    EXPECT_EQ(info.code.bytes[3], 0x0f);
    EXPECT_EQ(info.code.bytes[4], 0x0b);
    EXPECT_EQ(info.code.unreadable, 1);
}

/* -d int: exception headers, check_exception, and partial dumps at both ends. */
static void d_int_log(void)
{
    EXPECT_EQ(parse_fixture("qemu72_d_int_pagefault_excerpt.txt"), 0);
    EXPECT_EQ(info.nexc, 2);
    EXPECT_EQ(info.exc[0].vector, 0xe);
    EXPECT_EQ(info.exc[0].error_code, 0);
    EXPECT(info.exc[0].has_cr2);
    EXPECT_EQ(info.exc[0].cr2, 0xdeadbf11220ULL);
    EXPECT_EQ(info.exc[0].cs, 8);
    EXPECT_EQ(info.exc[0].rip, 0x1000ee);
    EXPECT_EQ(info.exc[0].rsp, 0x107000);
    EXPECT_EQ(info.exc[0].check_old, -1);
    EXPECT_EQ(info.exc[1].vector, 8);
    EXPECT(info.exc[1].has_rax);
    EXPECT_EQ(info.exc[1].rax, 0x1111111111111111ULL);
    EXPECT_EQ(info.exc[1].check_old, 0xe);
    EXPECT_EQ(info.exc[1].counter, 1);
    /* The first dump is cut at the top of the excerpt, the last at the bottom. */
    EXPECT_EQ(info.ndumps, 1);
    EXPECT_EQ(info.dump_line, 9);
    EXPECT(info.has_ccop);
    EXPECT_EQ(snap.s.cr2, 0xdeadbf11220ULL);
    EXPECT_EQ(snap.s.gpr[X86_RCX], 0xdeadbeef000ULL);
    EXPECT_EQ(snap.event, SNAP_EV_EXCEPTION);
}

/* The seed's dump: compatibility mode (EAX= registers, 16-digit GDT, TSS64-busy), no EFER. */
static void seed_compat_mode(void)
{
    EXPECT_EQ(parse_fixture("seed_1gb_pages_regs.txt"), 0);
    EXPECT(!info.is_64bit_gprs);
    EXPECT(info.lma_form);
    EXPECT(snap.have & SNAP_EFER_INFERRED);
    EXPECT_EQ(snap.s.efer, X86_EFER_LMA | X86_EFER_LME);
    EXPECT_EQ(snap.s.rip, 0x133025);
    EXPECT_EQ(snap.s.rflags, 0x10086);
    EXPECT_EQ(snap.s.gpr[X86_RSP], 0x1bfa000);
    EXPECT_EQ(snap.s.cr3, 0xbf8000);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].l, 0);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].db, 1);
    EXPECT_EQ(snap.event, SNAP_EV_INTERNAL_ERROR);
    EXPECT_EQ(snap.internal_suberror, 1);
    EXPECT_EQ(snap.n_internal_data, 0);
    EXPECT(info.emulation_failure);
}

/* The monitor over a socket: CRLF, ANSI escapes, the HMP prompt and echo. */
static void monitor_crlf_ansi(void)
{
    size_t len, o = 0;
    char *t = fixture_read("qemu72_info_registers_64bit_tcg.txt", &len);
    char *buf = malloc(len * 2 + 256);
    const char *echo = "\x1b[K(qemu) info registers\x1b[D\x1b[D\r\n";

    EXPECT(t && buf);
    if (!t || !buf)
        goto out;
    memcpy(buf, echo, strlen(echo));
    o = strlen(echo);
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\n')
            buf[o++] = '\r';
        buf[o++] = t[i];
    }
    memcpy(buf + o, "(qemu) \x1b[K", 10);
    o += 10;
    EXPECT_EQ(qemu_regs_parse(buf, o, &snap, &info, err), 0);
    EXPECT_EQ(snap.s.rip, 0x1000e5);
    EXPECT_EQ(snap.s.efer, 0x500);
    EXPECT_EQ(info.cpu_index, 0);
out:
    free(t);
    free(buf);
}

static char *two_cpus(const char *first_prefix)
{
    size_t len;
    char *t = fixture_read("qemu72_info_registers_64bit_tcg.txt", &len);
    char *buf = malloc(2 * len + 512);
    char *p, *q;

    if (!t || !buf) {
        free(t);
        free(buf);
        return NULL;
    }
    /* CPU#0 as captured, then CPU#1 with another RIP. */
    sprintf(buf, "%s%s", first_prefix, t);
    p = buf + strlen(buf);
    strcpy(p, t);
    q = strstr(p, "CPU#0");
    if (q)
        q[4] = '1';
    q = strstr(p, "RIP=00000000001000e5");
    if (q)
        memcpy(q, "RIP=00000000002000e5", 20);
    free(t);
    return buf;
}

static void several_dumps(void)
{
    char *buf = two_cpus("");

    EXPECT(buf);
    if (!buf)
        return;
    EXPECT_EQ(parse_str(buf), 0);
    EXPECT_EQ(info.ndumps, 2);
    EXPECT_EQ(info.cpu_index, 1); /* the last one */
    EXPECT_EQ(snap.s.rip, 0x2000e5);
    free(buf);

    /* A KVM error before the first dump makes that one the dump to explain. */
    buf = two_cpus("KVM internal error. Suberror: 3\nextra data[0]: 0x0000000000000080\n");
    EXPECT(buf);
    if (!buf)
        return;
    EXPECT_EQ(parse_str(buf), 0);
    EXPECT_EQ(info.ndumps, 2);
    EXPECT_EQ(snap.s.rip, 0x1000e5);
    EXPECT_EQ(snap.internal_suberror, 3);
    EXPECT_EQ(snap.n_internal_data, 1);
    EXPECT_EQ(snap.internal_data[0], 0x80);
    free(buf);
}

static void real_mode_segments(void)
{
    const char *dump = "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000663\n"
                       "ESI=00000000 EDI=00000000 EBP=00000000 ESP=00000000\n"
                       "EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
                       "ES =0000 00000000 0000ffff 00009300\n"
                       "CS =f000 ffff0000 0000ffff 00009b00\n"
                       "SS =0000 00000000 0000ffff 00009300\n"
                       "DS =0000 00000000 0000ffff 00009300\n"
                       "FS =0000 00000000 0000ffff 00009300\n"
                       "GS =0000 00000000 0000ffff 00009300\n"
                       "LDT=0000 00000000 0000ffff 00008200\n"
                       "TR =0000 00000000 0000ffff 00008b00\n"
                       "GDT=     00000000 0000ffff\n"
                       "IDT=     00000000 0000ffff\n"
                       "CR0=60000010 CR2=00000000 CR3=00000000 CR4=00000000\n"
                       "Triple fault\n";

    EXPECT_EQ(parse_str(dump), 0);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].base, 0xffff0000);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].selector, 0xf000);
    EXPECT_EQ(snap.s.rip, 0xfff0);
    EXPECT_EQ(snap.s.efer, 0);
    EXPECT(snap.have & SNAP_EFER_INFERRED);
    EXPECT(!(snap.have & SNAP_HAVE_DRS));
    EXPECT(info.triple_fault);
    EXPECT_EQ(snap.event, SNAP_EV_TRIPLE_FAULT);
}

/* Replace the first (what) in a copy of the 64-bit fixture and expect a line-numbered error. */
static void expect_bad(const char *what, const char *with, const char *want_err)
{
    size_t len;
    char *t = fixture_read("qemu72_info_registers_64bit_tcg.txt", &len);
    char *buf, *p;

    if (!t)
        return;
    buf = malloc(len + strlen(with) + 1);
    p = strstr(t, what);
    EXPECT(p != NULL);
    if (p && buf) {
        size_t pre = (size_t)(p - t);
        memcpy(buf, t, pre);
        strcpy(buf + pre, with);
        strcat(buf, p + strlen(what));
        EXPECT_EQ(parse_str(buf), -EINVAL);
        EXPECT_CONTAINS(err, want_err);
        EXPECT(!strncmp(err, "line ", 5));
    }
    free(buf);
    free(t);
}

static void malformed_lines(void)
{
    expect_bad("[--S--P-]", "[--S--PC]", "disagrees with RFLAGS");
    expect_bad("RBX=2222222222222222", "RBX=22222222222z2222", "bad hex value after 'RBX='");
    expect_bad("R8 =", "R8=", "out of order (no R8 = line");
    expect_bad("CS =0008 0000000000000000 00000000 00209a00 DPL=0",
               "CS =0008 0000000000000000 00000000 00209a00 DPL=3", "DPL");
    expect_bad("CS64", "CS32", "segment kind should be CS64");
    expect_bad("TSS64-busy", "TSS99-busy", "unknown system segment type");
    expect_bad("GDT=     00000000001000f0 00000017", "GDT=     00000000001000f0", "GDT=");
    expect_bad("CPL=0", "CPL=7", "CPL=");
    expect_bad("EFER=0000000000000500", "EFER=0000000000000500 junk", "unexpected text");
    expect_bad("RSI=", "RSX=", "out of order (no RSI= line");
}

static void malformed_kvm_lines(void)
{
    EXPECT_EQ(parse_str("extra data[0]: 0x1\n"), -EINVAL);
    EXPECT_CONTAINS(err, "without a preceding");
    EXPECT_EQ(parse_str("KVM internal error. Suberror: 1\nextra data[1]: 0x1\n"), -EINVAL);
    EXPECT_CONTAINS(err, "line 2: extra data[1] out of order");
    EXPECT_EQ(parse_str("KVM internal error. Suberror: x\n"), -EINVAL);
    /* An excerpt may begin inside a dump: such leading lines are skipped. */
    EXPECT_EQ(parse_str("RIP=0000000000000000 RFL=00000002 [-------] CPL=0\n"), -ENOENT);
    /* After a dump has begun and been closed, a stray dump line is an error. */
    EXPECT_EQ(parse_str("EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000000\n"
                        "check_exception old: 0xffffffff new 0xd\n"
                        "CR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000\n"),
              -EINVAL);
    EXPECT_CONTAINS(err, "line 3: CR0= line outside a register dump");
    EXPECT_EQ(parse_str("     0: v=0e e=0000 i=0 cpl=0 IP=0008:1 pc=1\n"), -EINVAL);
    EXPECT_CONTAINS(err, "SP=");
    EXPECT_EQ(parse_str(""), -ENOENT);
    EXPECT_EQ(parse_str("hello\nworld\n"), -ENOENT);
    EXPECT_EQ(parse_str("RAX=0000000000000000 RBX=0000000000000000 RCX=0000000000000000 "
                        "RDX=0000000000000000\n"),
              -ENOENT);
    EXPECT_CONTAINS(err, "no complete QEMU register dump");
}

/* Every prefix and a byte-flipped copy of every fixture: no crash, only documented results. */
static void truncation_and_noise(void)
{
    static const char *const names[] = {
        "qemu72_info_registers_64bit_tcg.txt", "qemu72_info_registers_32bit_multiboot_entry.txt",
        "qemu72_kvm_internal_error_emulation_failure.txt", "qemu72_d_int_pagefault_excerpt.txt",
        "seed_1gb_pages_regs.txt"};
    unsigned seed = 12345;

    for (size_t f = 0; f < KS_ARRAY_SIZE(names); f++) {
        size_t len;
        char *t = fixture_read(names[f], &len);
        EXPECT(t != NULL);
        if (!t)
            continue;
        for (size_t cut = 0; cut <= len; cut += 7) {
            int rc = qemu_regs_parse(t, cut, &snap, &info, err);
            EXPECT(rc == 0 || rc == -EINVAL || rc == -ENOENT);
        }
        for (int round = 0; round < 300; round++) {
            char *c = malloc(len);
            memcpy(c, t, len);
            for (int k = 0; k < 4; k++) {
                seed = seed * 1103515245 + 12345;
                c[(seed >> 8) % len] = (char)(seed >> 20);
            }
            int rc = qemu_regs_parse(c, len, &snap, &info, err);
            EXPECT(rc == 0 || rc == -EINVAL || rc == -ENOENT);
            free(c);
        }
        free(t);
    }
}

int main(void)
{
    RUN(info_registers_64bit_tcg);
    RUN(info_registers_32bit);
    RUN(kvm_internal_error);
    RUN(code_bytes_kept);
    RUN(d_int_log);
    RUN(seed_compat_mode);
    RUN(monitor_crlf_ansi);
    RUN(several_dumps);
    RUN(real_mode_segments);
    RUN(malformed_lines);
    RUN(malformed_kvm_lines);
    RUN(truncation_and_noise);
    return t_done();
}
