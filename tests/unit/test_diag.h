/*
 * Canned snapshots for the explainer tests: 16 MiB of guest RAM with
 * hand-built 4-level tables, a GDT, an IDT and a stack, so that each test
 * breaks exactly one thing.
 *
 * Layout (GVA == GPA below 2 MiB, 4 KiB pages through the PT at 0x4000):
 *   0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 PT (first 2 MiB)
 *   0x8000 GDT: 0x08 64-bit code, 0x10 data, 0x18 32-bit code, 0x20 TSS
 *   0x9000 IDT: 256 gates to 0x11000 through selector 0x08
 *   0xa000 TSS (RSP0 = IST1 = 0x30000)
 *   0x10000 code (RIP), 0x11000 handler, 0x1f000 stack page (RSP 0x20000),
 *   0x50000 data page
 */
#ifndef KS_TEST_DIAG_H
#define KS_TEST_DIAG_H

#include "harness.h"

#include "ks/diag.h"

#define RAM_SIZE (16u << 20)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct gmem mem;
static struct snapshot snap;
static struct diag_report *rep;
static struct strbuf text, json;

static inline void put64(gpa_t gpa, uint64_t v)
{
    memcpy(ram + gpa, &v, 8);
}

static inline uint64_t get64(gpa_t gpa)
{
    uint64_t v;
    memcpy(&v, ram + gpa, 8);
    return v;
}

static inline void put_code(gpa_t gpa, const uint8_t *b, size_t n)
{
    memcpy(ram + gpa, b, n);
}

#define CODE(...)                                                                                  \
    do {                                                                                           \
        static const uint8_t c_[] = {__VA_ARGS__};                                                 \
        put_code(0x10000, c_, sizeof(c_));                                                         \
    } while (0)

/* A 64-bit interrupt gate: P, DPL (dpl), type 0xE, selector (sel), handler (off). */
static inline void set_gate(unsigned v, uint64_t off, unsigned sel, unsigned dpl, bool present)
{
    uint64_t lo = (off & 0xffff) | ((uint64_t)sel << 16) | (0xeull << 40) | ((uint64_t)dpl << 45) |
                  ((present ? 1ull : 0) << 47) | ((off >> 16 & 0xffff) << 48);
    put64(0x9000 + v * 16, lo);
    put64(0x9000 + v * 16 + 8, off >> 32);
}

static inline void fixture(void)
{
    struct x86_state *s = &snap.s;

    memset(ram, 0, 0x60000);
    memset(ram + 0xbf8000, 0, 0x2000);
    gmem_init(&mem);
    gmem_add(&mem, 0, RAM_SIZE, ram, true);

    put64(0x1000, 0x2003);
    put64(0x2000, 0x3003);
    put64(0x3000, 0x4003);
    for (unsigned i = 0; i < 512; i++)
        put64(0x4000 + i * 8, (i * 0x1000ull) | 0x3);
    put64(0x8008, 0x00af9a000000ffffull); /* 64-bit code */
    put64(0x8010, 0x00cf92000000ffffull); /* data */
    put64(0x8018, 0x00cf9a000000ffffull); /* 32-bit code */
    put64(0x8020, 0x00008900a0000067ull); /* 64-bit TSS at 0xa000, limit 0x67 */
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, 0x11000, 0x08, 0, true);
    put64(0xa000 + 4, 0x30000);    /* RSP0 */
    put64(0xa000 + 0x24, 0x30000); /* IST1 */
    ram[0x11000] = 0xf4;           /* hlt */
    ram[0x10000] = 0x90;           /* nop */

    snapshot_init(&snap);
    snap.have = SNAP_HAVE_GPRS | SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_EFER | SNAP_HAVE_MEM |
                SNAP_HAVE_CPL | SNAP_HAVE_PT_CPU;
    snap.mem = &mem;
    snap.event = SNAP_EV_TRIPLE_FAULT;
    snap.pt_cpu.maxphyaddr = 36;
    snprintf(snap.source, sizeof(snap.source), "canned");
    s->cr0 = X86_CR0_PG | X86_CR0_WP | X86_CR0_PE | 0x10;
    s->cr3 = 0x1000;
    s->cr4 = X86_CR4_PAE;
    s->efer = X86_EFER_LME | X86_EFER_LMA;
    s->rip = 0x10000;
    s->rflags = 0x2;
    s->gpr[X86_RSP] = 0x20000;
    s->seg[X86_SEG_CS] = (struct x86_seg){
        .selector = 0x08, .type = 0xb, .s = 1, .present = 1, .l = 1, .limit = 0xffffffff, .g = 1};
    for (unsigned i = 0; i < X86_NR_SREGS; i++)
        if (i != X86_SEG_CS && i != X86_SEG_LDTR && i != X86_SEG_TR)
            s->seg[i] = (struct x86_seg){.selector = 0x10,
                                         .type = 0x3,
                                         .s = 1,
                                         .present = 1,
                                         .db = 1,
                                         .limit = 0xffffffff,
                                         .g = 1};
    s->seg[X86_SEG_TR] = (struct x86_seg){
        .selector = 0x20, .type = 0xb, .present = 1, .base = 0xa000, .limit = 0x67};
    s->seg[X86_SEG_LDTR] = (struct x86_seg){.unusable = 1};
    s->gdt = (struct x86_dtable){.base = 0x8000, .limit = 0x27};
    s->idt = (struct x86_dtable){.base = 0x9000, .limit = 0xfff};
    snap.cpl = 0;
    diag_free(rep);
    rep = NULL;
}

/* Make every entry on the way to the first 2 MiB user-accessible. */
static inline void all_user(void)
{
    put64(0x1000, 0x2007);
    put64(0x2000, 0x3007);
    put64(0x3000, 0x4007);
    for (unsigned i = 0; i < 512; i++)
        put64(0x4000 + i * 8, (i * 0x1000ull) | 0x7);
}

static inline void explain(void)
{
    diag_free(rep);
    rep = NULL;
    if (diag_explain(&snap, &rep) != 0 || !rep) {
        printf("  diag_explain failed\n");
        t_case_failed = 1;
        return;
    }
    sb_reset(&text);
    sb_reset(&json);
    diag_render_text(rep, &text);
    diag_render_json(rep, &json);
    if (getenv("DIAG_SHOW"))
        printf("%s\n%s\n", sb_str(&text), sb_str(&json));
}

/* Exception (i) of the chain is (vector) with error code (ec) (-1: none). */
static inline bool exc_is(unsigned i, unsigned vector, long ec)
{
    struct diag_exc_info e;

    if (diag_exception_at(rep, i, &e) < 0)
        return false;
    if (e.vector != vector)
        return false;
    if (ec < 0)
        return !e.has_error_code;
    return e.has_error_code && e.error_code == (uint32_t)ec;
}

static inline uint64_t exc_cr2(unsigned i)
{
    struct diag_exc_info e;

    if (diag_exception_at(rep, i, &e) < 0 || !e.has_cr2)
        return ~0ull;
    return e.cr2;
}

#define EXPECT_CAUSE(id) EXPECT_STR(diag_cause_id(rep), id)

#endif
