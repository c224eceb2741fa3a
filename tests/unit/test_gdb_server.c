/*
 * The GDB stub against a mock target: guest RAM with 4-level page tables,
 * a register file, a breakpoint table. Every packet the stub answers is
 * exercised, plus malformed input and abrupt disconnects.
 */
#include "harness.h"

#include "ks/gdb.h"

#include <errno.h>

#define RAM_SIZE 0x400000
#define KBASE    0xffffffff80000000ULL /* mapped to GPA 0x200000 with 4 KiB pages */

struct mock {
    struct gmem mem;
    uint8_t *ram;
    struct gdb_regs regs;
    struct gdb_server *srv;
    int inserts, removes, resumes, detaches, interrupts;
    bool running, killed;
    struct gdb_bp armed[8];
    unsigned narmed;
};

static struct mock M;
static struct gdb_server S;

static void set_ctx(struct pt_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->cr0 = M.regs.s.cr0;
    c->cr3 = M.regs.s.cr3;
    c->cr4 = M.regs.s.cr4;
    c->efer = M.regs.s.efer;
    c->cpu.maxphyaddr = 48;
}

static int m_get_regs(void *t, struct gdb_regs *r)
{
    (void)t;
    *r = M.regs;
    return 0;
}

static int m_set_regs(void *t, const struct gdb_regs *r)
{
    (void)t;
    M.regs = *r;
    return 0;
}

static int m_read(void *t, gva_t va, void *buf, size_t len)
{
    struct pt_ctx c;
    long n;

    (void)t;
    set_ctx(&c);
    n = gdb_gva_rw(&M.mem, &c, va, buf, len, false);
    return n == (long)len ? 0 : -EFAULT;
}

static int m_write(void *t, gva_t va, const void *buf, size_t len)
{
    struct pt_ctx c;
    long n;

    (void)t;
    set_ctx(&c);
    n = gdb_gva_rw(&M.mem, &c, va, (void *)(uintptr_t)buf, len, true);
    return n == (long)len ? 0 : -EFAULT;
}

static int m_insert(void *t, enum gdb_bp_type type, gva_t addr, unsigned len)
{
    (void)t;
    if (type == GDB_WP_READ)
        return -EOPNOTSUPP; /* x86 has no read-only watchpoint */
    if (M.narmed == 8)
        return -ENOSPC;
    M.armed[M.narmed++] = (struct gdb_bp){.type = type, .addr = addr, .len = len, .refs = 1};
    M.inserts++;
    return 0;
}

static int m_remove(void *t, enum gdb_bp_type type, gva_t addr, unsigned len)
{
    (void)t;
    for (unsigned i = 0; i < M.narmed; i++) {
        if (M.armed[i].type == type && M.armed[i].addr == addr && M.armed[i].len == len) {
            M.armed[i] = M.armed[--M.narmed];
            M.removes++;
            return 0;
        }
    }
    return -ENOENT;
}

/* Step: rip+1. Continue: stop at the first armed breakpoint/watchpoint, else keep running. */
static int m_resume(void *t, bool step)
{
    struct gdb_stop st = {.reason = GDB_STOP_TRAP};

    (void)t;
    M.resumes++;
    if (step) {
        M.regs.s.rip++;
        return gdb_server_stopped(M.srv, &st);
    }
    for (unsigned i = 0; i < M.narmed; i++) {
        if (M.armed[i].type == GDB_BP_SW || M.armed[i].type == GDB_BP_HW) {
            M.regs.s.rip = M.armed[i].addr;
            st.reason = M.armed[i].type == GDB_BP_SW ? GDB_STOP_SWBREAK : GDB_STOP_HWBREAK;
            return gdb_server_stopped(M.srv, &st);
        }
        st.reason = GDB_STOP_WATCH;
        st.watch_type = M.armed[i].type;
        st.addr = M.armed[i].addr;
        return gdb_server_stopped(M.srv, &st);
    }
    M.running = true;
    return 0;
}

static void m_interrupt(void *t)
{
    struct gdb_stop st = {.reason = GDB_STOP_INTERRUPT};

    (void)t;
    M.interrupts++;
    M.running = false;
    gdb_server_stopped(M.srv, &st);
}

static void snap_of_mock(struct snapshot *snap)
{
    snapshot_init(snap);
    snap->s = M.regs.s;
    snap->mem = &M.mem;
    snap->have = SNAP_HAVE_GPRS | SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_EFER | SNAP_HAVE_MEM |
                 SNAP_HAVE_PT_CPU | SNAP_HAVE_CPUID;
    snap->pt_cpu.maxphyaddr = 48;
    snap->cpuid.n = 1;
    snap->cpuid.e[0] = (struct cpuid_entry){.function = 0, .reg = {0xd, 0x68747541, 0, 0}};
}

static int m_monitor(void *t, const char *cmd, struct strbuf *out)
{
    struct snapshot snap;

    (void)t;
    snap_of_mock(&snap);
    return gdb_monitor(&snap, cmd, out);
}

static void m_detach(void *t, bool kill)
{
    (void)t;
    M.detaches++;
    M.killed = kill;
}

static const struct gdb_target_ops mock_ops = {
    .get_regs = m_get_regs,
    .set_regs = m_set_regs,
    .read_mem = m_read,
    .write_mem = m_write,
    .insert_bp = m_insert,
    .remove_bp = m_remove,
    .resume = m_resume,
    .interrupt = m_interrupt,
    .monitor = m_monitor,
    .detach = m_detach,
};

static void put64(uint64_t gpa, uint64_t v)
{
    memcpy(M.ram + gpa, &v, 8);
}

/*
 * PML4 @0x1000, PDPT @0x2000 (low) and @0x3000 (high), PD @0x4000/0x5000,
 * PT @0x6000 (identity 0-2 MiB) and @0x7000 (KBASE: GPA 0x200000.., but
 * page 1 maps GPA 0x300000 so a crossing read is not contiguous; page 3 is
 * not present).
 */
static void setup(void)
{
    static uint8_t ram[RAM_SIZE];

    memset(&M, 0, sizeof(M));
    memset(ram, 0, sizeof(ram));
    M.ram = ram;
    gmem_init(&M.mem);
    gmem_add(&M.mem, 0, RAM_SIZE, ram, true);
    put64(0x1000 + 0 * 8, 0x2000 | 3);
    put64(0x1000 + 511 * 8, 0x3000 | 3);
    put64(0x2000, 0x4000 | 3);
    put64(0x3000 + 510 * 8, 0x5000 | 3);
    put64(0x4000, 0x6000 | 3);
    put64(0x5000, 0x7000 | 3);
    for (int i = 0; i < 512; i++)
        put64(0x6000 + 8 * (uint64_t)i, ((uint64_t)i << 12) | 3);
    put64(0x7000 + 0, 0x200000 | 3);
    put64(0x7000 + 8, 0x300000 | 3);
    put64(0x7000 + 16, 0x201000 | 1); /* read-only: the debugger may still write it */
    /* A PDE with reserved bits, for monitor pt/walk: maps KBASE + 2 MiB. */
    put64(0x5000 + 8, 0x400000 | (1ULL << 51) | 0x83);

    M.regs.s.cr0 = X86_CR0_PE | X86_CR0_PG;
    M.regs.s.cr3 = 0x1000;
    M.regs.s.cr4 = X86_CR4_PAE;
    M.regs.s.efer = X86_EFER_LME | X86_EFER_LMA;
    M.regs.s.seg[X86_SEG_CS].l = 1;
    M.regs.s.seg[X86_SEG_CS].selector = 0x10;
    M.regs.s.rip = KBASE + 0x10;
    M.regs.s.rflags = 0x46;
    for (int i = 0; i < X86_NR_GPRS; i++)
        M.regs.s.gpr[i] = 0x1111111111111111ULL * (uint64_t)(i + 1);
    M.regs.fpu.mxcsr = 0x1f80;
    M.regs.fpu.xmm[1][0] = 0xaa;
    gdb_server_init(&S, &mock_ops, NULL);
    M.srv = &S;
}

/* All packets the stub sent since the last call, decoded and joined with '|'. */
static char *replies(void)
{
    static char joined[65536];
    static struct rsp_decoder d;
    size_t len, off = 0, o = 0;
    const uint8_t *out = gdb_server_output(&S, &len);

    rsp_decoder_init(&d);
    joined[0] = 0;
    while (off < len) {
        struct rsp_event ev;

        off += rsp_feed(&d, out + off, len - off, &ev);
        if (ev.type == RSP_EV_PACKET) {
            if (o)
                joined[o++] = '|';
            if (o + ev.len + 2 < sizeof(joined)) {
                memcpy(joined + o, ev.data, ev.len);
                o += ev.len;
            }
            joined[o] = 0;
        }
    }
    gdb_server_consumed(&S, len);
    return joined;
}

static void send_raw(const void *b, size_t n)
{
    EXPECT_EQ(gdb_server_input(&S, b, n), 0);
}

/* Send (payload) as a packet; return the stub's reply packets. */
static char *xchg_bin(const void *payload, size_t n, bool binary)
{
    static uint8_t frame[2 * RSP_MAX_PACKET + 8];
    long fl = rsp_frame(payload, n, binary, frame, sizeof(frame));

    EXPECT(fl > 0);
    send_raw(frame, (size_t)fl);
    return replies();
}

static char *xchg(const char *payload)
{
    return xchg_bin(payload, strlen(payload), false);
}

static void handshake(void)
{
    char xml[16384];
    size_t xl = 0;
    int regs = 0;

    setup();
    EXPECT_STR(xchg("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;xmlRegisters=i386"),
               "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;"
               "vContSupported+");
    EXPECT(S.gdb_swbreak && S.gdb_hwbreak);
    EXPECT_STR(xchg("vMustReplyEmpty"), "");
    EXPECT_STR(xchg("Hgp0.0"), "OK");
    /* The description in small chunks, reassembled. */
    for (unsigned off = 0;;) {
        char q[64];
        char *r;

        snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%x,200", off);
        r = xchg(q);
        EXPECT(r[0] == 'm' || r[0] == 'l');
        memcpy(xml + xl, r + 1, strlen(r + 1));
        xl += strlen(r + 1);
        off += (unsigned)strlen(r + 1);
        if (r[0] != 'm' || xl > sizeof(xml) - 600)
            break;
    }
    xml[xl] = 0;
    EXPECT_STR(xml, gdb_target_xml());
    EXPECT_CONTAINS(xml, "<architecture>i386:x86-64</architecture>");
    for (const char *p = xml; (p = strstr(p, "<reg ")); p++)
        regs++;
    EXPECT_EQ(regs, GDB_NUM_REGS);
    EXPECT_STR(xchg("qXfer:features:read:other.xml:0,100"), "E00");
    EXPECT_STR(xchg("qXfer:features:read:target.xml:ffffff,100"), "E16");
    EXPECT_STR(xchg("qTStatus"), "");
    EXPECT_STR(xchg("?"), "T05thread:1;");
    EXPECT_STR(xchg("qfThreadInfo"), "m1");
    EXPECT_STR(xchg("qsThreadInfo"), "l");
    EXPECT_STR(xchg("qAttached:1"), "1");
    EXPECT_STR(xchg("Hc-1"), "OK");
    EXPECT_STR(xchg("qC"), "QC1");
    EXPECT_STR(xchg("qOffsets"), "");
    EXPECT_STR(xchg("qSymbol::"), "");
    EXPECT_STR(xchg("T1"), "OK");
    EXPECT_STR(xchg("vFile:open:"), "");
    EXPECT_STR(xchg("!"), "");
    gdb_server_free(&S);
}

/* Little-endian hex of (v) in (size) bytes, for expectations. */
static const char *le(uint64_t v, unsigned size)
{
    static char buf[4][40];
    static int k;
    uint8_t b[8];

    k = (k + 1) % 4;
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    rsp_hex_encode(b, size, buf[k]);
    return buf[k];
}

static void registers(void)
{
    char g[2 * GDB_G_SIZE + 2], *r;

    setup();
    r = xchg("g");
    EXPECT_EQ(strlen(r), 2 * GDB_G_SIZE);
    snprintf(g, sizeof(g), "%s", r);
    EXPECT(!strncmp(g + 0, le(M.regs.s.gpr[X86_RAX], 8), 16));
    EXPECT(!strncmp(g + 16, le(M.regs.s.gpr[X86_RBX], 8), 16)); /* GDB order: rbx second */
    EXPECT(!strncmp(g + 2 * 56, le(M.regs.s.gpr[X86_RSP], 8), 16));
    EXPECT(!strncmp(g + 2 * 128, le(KBASE + 0x10, 8), 16));
    EXPECT(!strncmp(g + 2 * 136, le(0x46, 4), 8));
    EXPECT(!strncmp(g + 2 * 140, le(0x10, 4), 8));
    EXPECT(!strncmp(g + 2 * 532, le(0x1f80, 4), 8));
    EXPECT(!strncmp(g + 2 * 568, le(0x1000, 8), 16));            /* cr3 */
    EXPECT(!strncmp(g + 2 * 592, le(0x500, 8), 16));             /* efer */
    EXPECT_STR(xchg("p10"), le(KBASE + 0x10, 8));                /* rip */
    EXPECT_STR(xchg("p29"), "aa000000000000000000000000000000"); /* xmm1 */
    EXPECT_STR(xchg("p3d"), le(0x1000, 8));                      /* cr3 */
    EXPECT_STR(xchg("p42"), "E14");
    EXPECT_STR(xchg("pzz"), "E16");
    EXPECT_STR(xchg("P0=0500000000000000"), "OK");
    EXPECT_EQ(M.regs.s.gpr[X86_RAX], 5);
    EXPECT_STR(xchg("P0=05"), "E16");
    EXPECT_STR(xchg("P0=05000000000000zz"), "E16");
    EXPECT_STR(xchg("P11=02020000"), "OK");
    EXPECT_EQ(M.regs.s.rflags, 0x202);
    /* G round trip with one change: rcx. */
    memcpy(g + 32, "efbeadde00000000", 16);
    {
        char pkt[sizeof(g) + 2];

        snprintf(pkt, sizeof(pkt), "G%s", g);
        EXPECT_STR(xchg(pkt), "OK");
        EXPECT_EQ(M.regs.s.gpr[X86_RCX], 0xdeadbeef);
        EXPECT_EQ(M.regs.s.cr3, 0x1000);
        pkt[100] = 0;
        EXPECT_STR(xchg(pkt), "E16"); /* truncated */
    }
    EXPECT_STR(xchg("gg"), "E16");

    /* 32-bit code: GPRs and rip zero-extended, r8 reads 0, sizes unchanged. */
    M.regs.s.efer = 0;
    M.regs.s.seg[X86_SEG_CS].l = 0;
    M.regs.s.gpr[X86_RAX] = 0xffffffff00000001ULL;
    M.regs.s.rip = 0x100010;
    r = xchg("g");
    EXPECT_EQ(strlen(r), 2 * GDB_G_SIZE);
    EXPECT(!strncmp(r, le(1, 8), 16));
    EXPECT(!strncmp(r + 2 * 64, le(0, 8), 16));
    EXPECT_STR(xchg("p10"), le(0x100010, 8));
    EXPECT_STR(xchg("P0=ffffffff22222222"), "OK");
    EXPECT_EQ(M.regs.s.gpr[X86_RAX], 0xffffffff);
    EXPECT_STR(xchg("P8=0100000000000000"), "OK");
    EXPECT_EQ(M.regs.s.gpr[X86_R8], 0x9999999999999999ULL); /* ignored */
    gdb_server_free(&S);
}

static void memory(void)
{
    char q[64], *r;
    static char big[2 * 0x3000 + 64];

    setup();
    memcpy(M.ram + 0x200ffc, "\x01\x02\x03\x04", 4);
    memcpy(M.ram + 0x300000, "\x05\x06\x07\x08", 4);
    /* Identity-mapped low memory, then a read crossing into a non-contiguous page. */
    memcpy(M.ram + 0x8000, "\xde\xad", 2);
    EXPECT_STR(xchg("m8000,2"), "dead");
    snprintf(q, sizeof(q), "m%llx,8", (unsigned long long)(KBASE + 0xffc));
    EXPECT_STR(xchg(q), "0102030405060708");
    /* Partial reply when the tail is unmapped (page 3 not present), error when all is. */
    memcpy(M.ram + 0x201ffe, "\x99\x98", 2);
    snprintf(q, sizeof(q), "m%llx,4", (unsigned long long)(KBASE + 0x2ffe));
    EXPECT_STR(xchg(q), "9998");
    snprintf(q, sizeof(q), "m%llx,4", (unsigned long long)(KBASE + 0x3000));
    EXPECT_STR(xchg(q), "E0e");
    EXPECT_STR(xchg("m7fff00000000,1"), "E0e"); /* PML4E not present */
    EXPECT_STR(xchg("m800000000000,1"), "E0e"); /* non-canonical */
    /* Huge lengths are clamped to what fits a reply. */
    r = xchg("m0,ffffffffffffffff");
    EXPECT_EQ(strlen(r), RSP_MAX_PACKET);
    EXPECT_STR(xchg("m0,"), "E16");
    EXPECT_STR(xchg("mzz,1"), "E16");
    EXPECT_STR(xchg("m0,1x"), "E16");
    EXPECT_STR(xchg("m10000000000000000,1"), "E16");
    EXPECT_STR(xchg("m0,0"), "");

    /* M across the page boundary, then read back. */
    snprintf(q, sizeof(q), "M%llx,4:a1a2a3a4", (unsigned long long)(KBASE + 0xffe));
    EXPECT_STR(xchg(q), "OK");
    EXPECT_EQ(M.ram[0x200ffe], 0xa1);
    EXPECT_EQ(M.ram[0x300001], 0xa4);
    /* The debugger writes read-only pages (breakpoint bytes in text). */
    snprintf(q, sizeof(q), "M%llx,1:cc", (unsigned long long)(KBASE + 0x2000));
    EXPECT_STR(xchg(q), "OK");
    EXPECT_EQ(M.ram[0x201000], 0xcc);
    EXPECT_STR(xchg("M8000,2:aa"), "E16");
    EXPECT_STR(xchg("M8000,1:zz"), "E16");
    EXPECT_STR(xchg("M8000,1"), "E16");
    snprintf(q, sizeof(q), "M%llx,1:00", (unsigned long long)(KBASE + 0x3000));
    EXPECT_STR(xchg(q), "E0e");
    snprintf(big, sizeof(big), "M0,3000:");
    memset(big + 8, '0', 2 * 0x3000);
    big[8 + 2 * 0x3000] = 0;
    EXPECT_STR(xchg(big), "E16"); /* longer than a packet may be: decoder refuses it */
    EXPECT_STR(xchg("M0,ffffffffffffff:00"), "E16");

    /* X with bytes that need escaping on the wire. */
    {
        const char pkt[] = "X8100,4:#$}*";

        EXPECT_STR(xchg_bin(pkt, sizeof(pkt) - 1, true), "OK");
        EXPECT(!memcmp(M.ram + 0x8100, "#$}*", 4));
        EXPECT_STR(xchg("X8100,0:"), "OK");
        /* X carries up to a whole packet of data (more than an m reply can). */
        {
            static char x[RSP_MAX_PACKET];
            int hl = snprintf(x, sizeof(x), "X10000,%x:", RSP_MAX_PACKET - 16);

            memset(x + hl, 0x5a, RSP_MAX_PACKET - 16);
            EXPECT_STR(xchg_bin(x, (size_t)hl + RSP_MAX_PACKET - 16, true), "OK");
            EXPECT_EQ(M.ram[0x10000 + RSP_MAX_PACKET - 17], 0x5a);
        }
        EXPECT_STR(xchg("X8100,4:ab"), "E16");
    }
    gdb_server_free(&S);
}

static void breakpoints(void)
{
    setup();
    EXPECT_STR(xchg("Z0,ffffffff80000010,1"), "OK");
    EXPECT_STR(xchg("Z0,ffffffff80000010,1"), "OK");
    EXPECT_EQ(M.inserts, 1);
    EXPECT_STR(xchg("z0,ffffffff80000010,1"), "OK");
    EXPECT_EQ(M.removes, 0);
    EXPECT_STR(xchg("z0,ffffffff80000010,1"), "OK");
    EXPECT_EQ(M.removes, 1);
    EXPECT_STR(xchg("z0,ffffffff80000010,1"), "OK"); /* idempotent */
    EXPECT_EQ(M.removes, 1);
    EXPECT_STR(xchg("Z1,1000,1"), "OK");
    EXPECT_STR(xchg("Z2,2000,8"), "OK");
    EXPECT_STR(xchg("Z4,2008,4"), "OK");
    EXPECT_STR(xchg("Z3,2000,8"), "");    /* read watchpoints: refused by the target */
    EXPECT_STR(xchg("Z2,2001,8"), "E16"); /* misaligned */
    EXPECT_STR(xchg("Z2,2000,3"), "E16");
    EXPECT_STR(xchg("Z0,1000,2"), "E16");
    EXPECT_STR(xchg("Z5,1000,1"), "");
    EXPECT_STR(xchg("Z0,1000"), "E16");
    EXPECT_STR(xchg("Z0"), "E16");
    EXPECT_STR(xchg("Z0,1000,1;X1,0"), "OK"); /* a condition list is tolerated */
    EXPECT_EQ(M.narmed, 4);
    /* Out of target slots (mock has 8). */
    for (int i = 0; i < 4; i++) {
        char q[32];

        snprintf(q, sizeof(q), "Z1,%x,1", 0x3000 + i);
        EXPECT_STR(xchg(q), "OK");
    }
    EXPECT_STR(xchg("Z1,4000,1"), "E1c");
    EXPECT_STR(xchg("D;1"), "OK");
    EXPECT_EQ(M.narmed, 0);
    EXPECT_EQ(M.detaches, 1);
    EXPECT(!M.killed);
    EXPECT(S.done);
    gdb_server_free(&S);
}

static void execution(void)
{
    const uint8_t ctrl_c = 0x03;

    setup();
    xchg("qSupported:swbreak+;hwbreak+");
    EXPECT_STR(xchg("vCont?"), "vCont;c;C;s;S");
    EXPECT_STR(xchg("vCont;s:1"), "T05thread:1;");
    EXPECT_EQ(M.regs.s.rip, KBASE + 0x11);
    EXPECT_STR(xchg("s"), "T05thread:1;");
    EXPECT_STR(xchg("Z0,ffffffff80000040,1"), "OK");
    EXPECT_STR(xchg("vCont;c:p1.-1"), "T05swbreak:;thread:1;");
    EXPECT_EQ(M.regs.s.rip, KBASE + 0x40);
    EXPECT_STR(xchg("?"), "T05swbreak:;thread:1;");
    EXPECT_STR(xchg("z0,ffffffff80000040,1"), "OK");
    EXPECT_STR(xchg("Z1,ffffffff80000050,1"), "OK");
    EXPECT_STR(xchg("c"), "T05hwbreak:;thread:1;");
    EXPECT_STR(xchg("z1,ffffffff80000050,1"), "OK");
    EXPECT_STR(xchg("Z2,2000,8"), "OK");
    EXPECT_STR(xchg("vCont;c"), "T05watch:2000;thread:1;");
    EXPECT_STR(xchg("z2,2000,8"), "OK");
    /* Running with nothing armed: no reply until Ctrl-C; packets meanwhile are ignored. */
    EXPECT_STR(xchg("c"), "");
    EXPECT(S.running);
    EXPECT_STR(xchg("g"), "");
    send_raw(&ctrl_c, 1);
    EXPECT_EQ(M.interrupts, 1);
    EXPECT_STR(replies(), "T02thread:1;");
    /* Ctrl-C while stopped does nothing. */
    send_raw(&ctrl_c, 1);
    EXPECT_EQ(M.interrupts, 1);
    EXPECT_STR(replies(), "");
    /* A crash while running is a SIGSEGV stop; the guest leaving is W. */
    xchg("c");
    {
        struct gdb_stop st = {.reason = GDB_STOP_CRASH};

        gdb_server_stopped(&S, &st);
        EXPECT_STR(replies(), "T0bthread:1;");
        gdb_server_stopped(&S, &st); /* not running: ignored */
        EXPECT_STR(replies(), "");
        xchg("c");
        st.reason = GDB_STOP_EXITED;
        st.code = 3;
        gdb_server_stopped(&S, &st);
        EXPECT_STR(replies(), "W03");
    }
    EXPECT_STR(xchg("vCont;x"), "E16");
    EXPECT_STR(xchg("vCont;"), "E16");
    EXPECT_STR(xchg("c 1000"), "E16");
    /* Without swbreak+ from GDB, plain T05 (GDB then checks PC itself). */
    xchg("qSupported:multiprocess+");
    EXPECT_STR(xchg("Z0,ffffffff80000040,1"), "OK");
    EXPECT_STR(xchg("c"), "T05thread:1;");
    EXPECT_STR(xchg("k"), "");
    EXPECT(M.killed);
    EXPECT(S.done);
    EXPECT_EQ(M.narmed, 0);
    gdb_server_free(&S);
}

static void acks(void)
{
    const char *r;
    size_t len;

    setup();
    send_raw("$g#67", 5);
    r = (const char *)gdb_server_output(&S, &len);
    EXPECT(len > 1 && r[0] == '+' && r[1] == '$');
    replies();
    /* '-' resends the last packet verbatim. */
    send_raw("-", 1);
    EXPECT_EQ(strlen(replies()), 2 * GDB_G_SIZE);
    /* A bad checksum gets '-' and no reply. */
    send_raw("$g#00", 5);
    r = (const char *)gdb_server_output(&S, &len);
    EXPECT_EQ(len, 1);
    EXPECT_EQ(r[0], '-');
    EXPECT_EQ(S.bad_packets, 1);
    EXPECT_CONTAINS(S.err, "checksum");
    replies();
    /* Resends are bounded against a client that nacks forever. */
    for (int i = 0; i < 40; i++)
        send_raw("-", 1);
    gdb_server_output(&S, &len);
    EXPECT(len > 0 && len <= 16 * (2 * GDB_G_SIZE + 4));
    replies();
    /* No-ack mode: the OK is still acked, nothing afterwards. */
    send_raw("$QStartNoAckMode#b0", 19);
    r = (const char *)gdb_server_output(&S, &len);
    EXPECT(len > 0 && r[0] == '+');
    EXPECT_STR(replies(), "OK");
    EXPECT(S.no_ack);
    send_raw("$?#3f", 5);
    r = (const char *)gdb_server_output(&S, &len);
    EXPECT(len > 0 && r[0] == '$');
    replies();
    send_raw("$?#00", 5); /* bad checksum in no-ack mode: dropped silently */
    gdb_server_output(&S, &len);
    EXPECT_EQ(len, 0);
    gdb_server_free(&S);
}

static void malformed_and_disconnect(void)
{
    static uint8_t junk[3 * RSP_MAX_PACKET];
    size_t len;

    setup();
    /* Noise, an overlong packet, a truncated one: answered, never fatal. */
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 7 + 1) == '$' ? 'a' : (uint8_t)(i * 7 + 1);
    send_raw(junk, sizeof(junk));
    replies();
    {
        static uint8_t big[RSP_MAX_PACKET + 64], frame[sizeof(big) + 8];
        long fl;

        memset(big, 'm', sizeof(big));
        fl = rsp_frame(big, sizeof(big), false, frame, sizeof(frame));
        send_raw(frame, (size_t)fl);
        EXPECT_STR(replies(), "E16");
        EXPECT_CONTAINS(S.err, "longer than");
    }
    EXPECT_STR(xchg("Z0,1000,1"), "OK");
    EXPECT_STR(xchg("Z2,2000,4"), "OK");
    send_raw("$m1000,4#8", 10); /* cut off mid-checksum */
    gdb_server_output(&S, &len);
    EXPECT_EQ(len, 0);
    gdb_server_disconnect(&S);
    EXPECT(S.done);
    EXPECT_EQ(M.narmed, 0);
    EXPECT_EQ(M.detaches, 1);
    gdb_server_disconnect(&S); /* twice is harmless */
    EXPECT_EQ(M.detaches, 1);
    /* Input after the session ended is ignored. */
    send_raw("$g#67", 5);
    gdb_server_output(&S, &len);
    EXPECT_EQ(len, 0);
    gdb_server_free(&S);
}

/* "monitor CMD": hex in, O packets (hex text) and OK out. */
static char *monitor(const char *cmd)
{
    static char text[65536];
    char pkt[600];
    char *r, *tok;
    size_t o = 0;

    strcpy(pkt, "qRcmd,");
    rsp_hex_encode(cmd, strlen(cmd), pkt + 6);
    r = xchg(pkt);
    text[0] = 0;
    for (tok = strtok(r, "|"); tok; tok = strtok(NULL, "|")) {
        if (strcmp(tok, "OK") && tok[0] == 'O') {
            long n =
                rsp_hex_decode(tok + 1, strlen(tok + 1), (uint8_t *)text + o, sizeof(text) - o - 1);

            EXPECT(n > 0);
            o += n > 0 ? (size_t)n : 0;
            text[o] = 0;
        } else {
            EXPECT_STR(tok, "OK");
        }
    }
    return text;
}

static void monitor_commands(void)
{
    char *t;

    setup();
    t = monitor("walk 0xffffffff80001004");
    EXPECT_CONTAINS(t, "4-level");
    EXPECT_CONTAINS(t, "PML4E   [511]");
    EXPECT_CONTAINS(t, "PTE");
    EXPECT_CONTAINS(t, "GPA 0x300004");
    t = monitor("walk 0xffffffff80200000");
    EXPECT_CONTAINS(t, "  reserved: ");
    EXPECT_CONTAINS(t, "#PF error code 0x9");
    t = monitor("walk 0xffffffff80003000");
    EXPECT_CONTAINS(t, "not present");
    t = monitor("walk");
    EXPECT_CONTAINS(t, "usage");
    t = monitor("walk 12zz");
    EXPECT_CONTAINS(t, "usage");
    /* strtoull would saturate these to 0xffff... and walk a different address. */
    t = monitor("walk 0x1ffffffffffffffff");
    EXPECT_CONTAINS(t, "usage");
    t = monitor("walk -1");
    EXPECT_CONTAINS(t, "usage");
    t = monitor("pt");
    EXPECT_CONTAINS(t, "0000000000000000-0000000000200000");
    /* Virtually contiguous with equal rights is one run, as in QEMU's info mem. */
    EXPECT_CONTAINS(t, "ffffffff80000000-ffffffff80002000 0000000000002000 -> gpa 0x200000 "
                       "(not contiguous) -rwx");
    EXPECT_CONTAINS(t, "ffffffff80002000-ffffffff80003000 0000000000001000 -> gpa 0x201000 -r-x");
    EXPECT_CONTAINS(t, "ffffffff80200000-ffffffff80400000 RESERVED BITS 0x8000000000000 in PDE");
    t = monitor("regs");
    EXPECT_CONTAINS(t, "64-bit code, 4-level paging");
    EXPECT_CONTAINS(t, "cr0=0000000080000001 PG PE");
    EXPECT_CONTAINS(t, "efer=0000000000000500 LMA LME");
    EXPECT_CONTAINS(t, "cs   sel=0010");
    EXPECT_CONTAINS(t, "idt  base=");
    t = monitor("cpuid");
    EXPECT_CONTAINS(t, "00000000     0  0000000d 68747541");
    t = monitor("frobnicate");
    EXPECT_CONTAINS(t, "unknown monitor command 'frobnicate'");
    t = monitor("help");
    EXPECT_CONTAINS(t, "walk ADDR");
    EXPECT_STR(xchg("qRcmd,zz"), "E16");
    /* Paging off: pt says so and walk maps 1:1. */
    M.regs.s.cr0 = X86_CR0_PE;
    M.regs.s.efer = 0;
    t = monitor("pt");
    EXPECT_CONTAINS(t, "paging is off");
    t = monitor("walk 0x1234");
    EXPECT_CONTAINS(t, "GPA 0x1234");
    gdb_server_free(&S);
}

static void put32(uint64_t gpa, uint32_t v)
{
    memcpy(M.ram + gpa, &v, 4);
}

/* monitor pt and walk in the legacy modes a Multiboot kernel starts in. */
static void monitor_legacy_paging(void)
{
    char *t;

    setup();
    /* 32-bit paging with PSE: PD @0x10000, PT @0x11000. */
    put32(0x10000, 0x11000 | 3);
    put32(0x11000 + 4, 0x5000 | 3);            /* va 0x1000 -> 0x5000 */
    put32(0x10000 + 4, 0x00400083);            /* va 4M -> 4M page */
    put32(0x10000 + 8, 0x00800083 | 1u << 21); /* bit 21 of a 4 MiB PDE is reserved */
    M.regs.s.cr0 = X86_CR0_PE | X86_CR0_PG;
    M.regs.s.cr3 = 0x10000;
    M.regs.s.cr4 = X86_CR4_PSE;
    M.regs.s.efer = 0;
    M.regs.s.seg[X86_SEG_CS].l = 0;
    t = monitor("pt");
    EXPECT_CONTAINS(t, "32-bit paging, CR3=0x10000");
    EXPECT_CONTAINS(t, "0000000000001000-0000000000002000 0000000000001000 -> gpa 0x5000 -rw");
    EXPECT_CONTAINS(t, "0000000000400000-0000000000800000 0000000000400000 -> gpa 0x400000 -rw");
    EXPECT_CONTAINS(t, "0000000000800000-0000000000c00000 RESERVED BITS 0x200000 in PDE 0x");
    t = monitor("walk 0x1004");
    EXPECT_CONTAINS(t, "GPA 0x5004");
    EXPECT_STR(xchg("m1004,2"), "0000");
    memcpy(M.ram + 0x5004, "\x12\x34", 2);
    EXPECT_STR(xchg("m1004,2"), "1234");

    /* PAE: PDPTEs @0x12000, PD @0x13000 (a 2 MiB page and a PT @0x14000). */
    put64(0x12000, 0x13000 | 1);
    put64(0x13000, 0x14000 | 3);
    put64(0x13008, 0x200000 | 0x83);
    put64(0x14000 + 3 * 8, 0x7000 | 1);
    M.regs.s.cr3 = 0x12000;
    M.regs.s.cr4 = X86_CR4_PAE;
    t = monitor("walk 0x3008");
    EXPECT_CONTAINS(t, "GPA 0x7008");
    t = monitor("pt");
    EXPECT_CONTAINS(t, "PAE paging, CR3=0x12000");
    EXPECT_CONTAINS(t, "0000000000003000-0000000000004000 0000000000001000 -> gpa 0x7000 -r-");
    EXPECT_CONTAINS(t, "0000000000200000-0000000000400000 0000000000200000 -> gpa 0x200000 -rw");
    put64(0x12008, 0x15000 | 3); /* R/W is reserved in a PAE PDPTE (SDM Table 4-8) */
    t = monitor("pt");
    EXPECT_CONTAINS(t, "no scan: the PAE PDPTEs at CR3 are unbacked or have reserved bits");
    t = monitor("walk 0x3008");
    EXPECT_CONTAINS(t, "loading CR3 would #GP");
    gdb_server_free(&S);
}

static void fpu_tags(void)
{
    struct gdb_fpu f;
    uint8_t(*st)[10] = f.st;

    memset(&f, 0, sizeof(f));
    /* ST(0) = 1.0 (exponent 0x3fff, integer bit set), ST(1) = 0, ST(2) = infinity. */
    st[0][7] = 0x80;
    st[0][8] = 0xff;
    st[0][9] = 0x3f;
    st[2][7] = 0x80;
    st[2][8] = 0xff;
    st[2][9] = 0x7f;
    /* FINIT: everything empty. */
    EXPECT_EQ(gdb_ftag_full(0, 0, &f), 0xffff);
    /* TOP = 5: ST(0) is physical 5, ST(1) physical 6, ST(2) physical 7. */
    /* phys 0-4 empty (11), 5 valid (00), 6 zero (01), 7 special (10). */
    EXPECT_EQ(gdb_ftag_full(0xe0, 5 << 11, &f), 0x93ff);
    /* An empty register is empty whatever it holds. */
    EXPECT_EQ(gdb_ftag_full(0x20, 5 << 11, &f), 0xf3ff);
    EXPECT_EQ(gdb_ftag_abridged(0x93ff), 0xe0);
    EXPECT_EQ(gdb_ftag_abridged(0xffff), 0);
    EXPECT_EQ(gdb_ftag_abridged(0), 0xff);
}

int main(void)
{
    RUN(handshake);
    RUN(registers);
    RUN(memory);
    RUN(breakpoints);
    RUN(execution);
    RUN(acks);
    RUN(malformed_and_disconnect);
    RUN(monitor_commands);
    RUN(monitor_legacy_paging);
    RUN(fpu_tags);
    return t_done();
}
