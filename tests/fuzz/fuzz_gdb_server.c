/*
 * Fuzz target: bytes from a hostile GDB client into the stub's server,
 * against a small mock target (identity-mapped 4-level page tables).
 * Invariants: nothing crashes, and whatever the stub sends is well framed.
 */
#include "ks/gdb.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM 0x10000

struct fz {
    struct gmem mem;
    uint8_t ram[RAM];
    struct gdb_regs regs;
    struct gdb_server *srv;
    unsigned armed;
};

static void ctx(struct fz *f, struct pt_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->cr0 = f->regs.s.cr0;
    c->cr3 = f->regs.s.cr3;
    c->cr4 = f->regs.s.cr4;
    c->efer = f->regs.s.efer;
    c->cpu.maxphyaddr = 48;
}

static int get_regs(void *t, struct gdb_regs *r)
{
    *r = ((struct fz *)t)->regs;
    return 0;
}

static int set_regs(void *t, const struct gdb_regs *r)
{
    ((struct fz *)t)->regs = *r;
    return 0;
}

static int rd(void *t, gva_t va, void *buf, size_t len)
{
    struct fz *f = t;
    struct pt_ctx c;

    ctx(f, &c);
    return gdb_gva_rw(&f->mem, &c, va, buf, len, false) == (long)len ? 0 : -14;
}

static int wr(void *t, gva_t va, const void *buf, size_t len)
{
    struct fz *f = t;
    struct pt_ctx c;

    ctx(f, &c);
    return gdb_gva_rw(&f->mem, &c, va, (void *)(uintptr_t)buf, len, true) == (long)len ? 0 : -14;
}

static int ins(void *t, enum gdb_bp_type type, gva_t a, unsigned l)
{
    struct fz *f = t;

    (void)a;
    (void)l;
    if (type == GDB_WP_READ)
        return -95;
    if (f->armed == 4)
        return -28;
    f->armed++;
    return 0;
}

static int rem(void *t, enum gdb_bp_type type, gva_t a, unsigned l)
{
    struct fz *f = t;

    (void)type;
    (void)a;
    (void)l;
    if (!f->armed)
        __builtin_trap(); /* the server removed more than it inserted */
    f->armed--;
    return 0;
}

static int resume(void *t, bool step)
{
    struct fz *f = t;
    struct gdb_stop st = {.reason = step ? GDB_STOP_TRAP : GDB_STOP_SWBREAK};

    f->regs.s.rip++;
    return gdb_server_stopped(f->srv, &st);
}

static void interrupt(void *t)
{
    (void)t;
}

static int monitor(void *t, const char *cmd, struct strbuf *out)
{
    struct fz *f = t;
    struct snapshot snap;

    snapshot_init(&snap);
    snap.s = f->regs.s;
    snap.mem = &f->mem;
    snap.have = SNAP_HAVE_GPRS | SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_EFER | SNAP_HAVE_MEM;
    return gdb_monitor(&snap, cmd, out);
}

static void detach(void *t, bool kill)
{
    (void)t;
    (void)kill;
}

static const struct gdb_target_ops ops = {
    .get_regs = get_regs,
    .set_regs = set_regs,
    .read_mem = rd,
    .write_mem = wr,
    .insert_bp = ins,
    .remove_bp = rem,
    .resume = resume,
    .interrupt = interrupt,
    .monitor = monitor,
    .detach = detach,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz f;
    static struct rsp_decoder d;
    struct gdb_server srv;
    const uint8_t *out;
    size_t len, off = 0;
    uint64_t e;

    memset(&f, 0, sizeof(f));
    gmem_init(&f.mem);
    gmem_add(&f.mem, 0, RAM, f.ram, true);
    /* PML4 @0x1000 -> PDPT @0x2000 -> PD @0x3000: one 2 MiB page at 0. */
    e = 0x2003;
    memcpy(f.ram + 0x1000, &e, 8);
    e = 0x3003;
    memcpy(f.ram + 0x2000, &e, 8);
    e = 0x83;
    memcpy(f.ram + 0x3000, &e, 8);
    f.regs.s.cr0 = X86_CR0_PE | X86_CR0_PG;
    f.regs.s.cr3 = 0x1000;
    f.regs.s.cr4 = X86_CR4_PAE;
    f.regs.s.efer = X86_EFER_LME | X86_EFER_LMA;
    f.regs.s.seg[X86_SEG_CS].l = 1;
    gdb_server_init(&srv, &ops, &f);
    f.srv = &srv;
    gdb_server_input(&srv, data, size);
    /* Everything sent back must decode: acks, and packets with good checksums. */
    out = gdb_server_output(&srv, &len);
    rsp_decoder_init(&d);
    while (off < len) {
        struct rsp_event ev;

        off += rsp_feed(&d, out + off, len - off, &ev);
        if (ev.type == RSP_EV_BAD)
            __builtin_trap();
    }
    gdb_server_disconnect(&srv);
    if (f.armed)
        __builtin_trap(); /* a disconnect must remove every breakpoint */
    gdb_server_free(&srv);
    return 0;
}
