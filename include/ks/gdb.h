/*
 * The GDB stub: a remote-protocol server over a target vtable.
 *
 * The server is pure: bytes from GDB go in (gdb_server_input), bytes for
 * GDB come out (gdb_server_output), and everything the target must do goes
 * through struct gdb_target_ops. The live vCPU (vmm/gdb_kvm.c) and the mock
 * in tests/unit/test_gdb_server.c implement it. All state lives in
 * struct gdb_server; one server is one GDB connection.
 *
 * Register layout (fixed for the whole session, whatever the guest mode;
 * spec/formats.md §3.3-3.4): GDB's standard amd64 order, i.e. the features
 * org.gnu.gdb.i386.core (rax..gs, st0..fop), org.gnu.gdb.i386.sse
 * (xmm0..15, mxcsr) and org.gnu.gdb.i386.segments (fs_base, gs_base),
 * then a private feature org.kvmscope.x86.sys with cr0, cr2, cr3, cr4,
 * cr8, efer and k_gs_base: 66 registers, 608 bytes in a 'g' reply.
 * Outside 64-bit code (CS.L=0 or EFER.LMA=0) GPRs and rip read as their
 * low 32 bits zero-extended and r8-r15 as 0 (as QEMU does); writes there
 * keep the low 32 bits and ignore r8-r15.
 */
#ifndef KS_GDB_H
#define KS_GDB_H

#include "ks/gmem.h"
#include "ks/paging.h"
#include "ks/rsp.h"
#include "ks/snapshot.h"
#include "ks/strbuf.h"
#include "ks/vmm.h"
#include "ks/x86.h"

#define GDB_NUM_REGS 66
#define GDB_G_SIZE   608
#define GDB_MAX_BPS  64

/* x87/SSE state in the layout the 'g' packet wants (KVM_GET_FPU has it all). */
struct gdb_fpu {
    uint8_t st[8][10];
    uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
    uint8_t xmm[16][16];
    uint32_t mxcsr;
};

struct gdb_regs {
    struct x86_state s;
    struct gdb_fpu fpu;
};

/* Z/z types, numbered as in the packets. */
enum gdb_bp_type {
    GDB_BP_SW = 0,
    GDB_BP_HW = 1,
    GDB_WP_WRITE = 2,
    GDB_WP_READ = 3,
    GDB_WP_ACCESS = 4,
};

enum gdb_stop_reason {
    GDB_STOP_TRAP,      /* single-step done, or the initial stop (SIGTRAP) */
    GDB_STOP_SWBREAK,   /* at a Z0 breakpoint; PC is the breakpoint address */
    GDB_STOP_HWBREAK,   /* at a Z1 breakpoint */
    GDB_STOP_WATCH,     /* a Z2/Z4 watchpoint; (addr) is the watched address */
    GDB_STOP_INTERRUPT, /* Ctrl-C (SIGINT) */
    GDB_STOP_CRASH,     /* triple fault, internal error, failed entry (SIGSEGV) */
    GDB_STOP_EXITED,    /* the guest is gone (W packet, exit code in (code)) */
};

struct gdb_stop {
    enum gdb_stop_reason reason;
    enum gdb_bp_type watch_type; /* GDB_STOP_WATCH: write or access */
    gva_t addr;
    unsigned code;
};

/*
 * What the stub needs from a target. (t) is the target's opaque pointer.
 * Functions return 0 or -errno unless stated otherwise.
 */
struct gdb_target_ops {
    int (*get_regs)(void *t, struct gdb_regs *r);
    int (*set_regs)(void *t, const struct gdb_regs *r);
    /*
     * Guest-virtual memory in the vCPU's current paging mode, at most one
     * page (the server splits at 4 KiB boundaries). -EFAULT when unmapped.
     */
    int (*read_mem)(void *t, gva_t va, void *buf, size_t len);
    int (*write_mem)(void *t, gva_t va, const void *buf, size_t len);
    /*
     * Arm or disarm one breakpoint/watchpoint. The server reference-counts,
     * so the target sees each (type, addr, len) armed once. -ENOSPC when out
     * of slots, -EOPNOTSUPP for a type the target cannot do.
     */
    int (*insert_bp)(void *t, enum gdb_bp_type type, gva_t addr, unsigned len);
    int (*remove_bp)(void *t, enum gdb_bp_type type, gva_t addr, unsigned len);
    /*
     * Let the guest run (or execute one instruction). The target reports the
     * stop later with gdb_server_stopped(), possibly from inside this call.
     */
    int (*resume)(void *t, bool step);
    /* Ctrl-C while running: stop soon and report GDB_STOP_INTERRUPT. */
    void (*interrupt)(void *t);
    /* "monitor CMD": append the output text to (out). NULL = unsupported. */
    int (*monitor)(void *t, const char *cmd, struct strbuf *out);
    /* GDB detached ('D') or was killed ('k'): the server already removed its breakpoints. */
    void (*detach)(void *t, bool kill);
};

struct gdb_bp {
    enum gdb_bp_type type;
    gva_t addr;
    unsigned len;
    unsigned refs;
};

struct gdb_server {
    const struct gdb_target_ops *ops;
    void *target;
    struct rsp_decoder dec;

    bool no_ack;      /* QStartNoAckMode accepted */
    bool gdb_swbreak; /* GDB said swbreak+ / hwbreak+ in qSupported */
    bool gdb_hwbreak;
    bool running;
    bool done; /* detached or killed: the session is over */
    struct gdb_stop last_stop;

    struct gdb_bp bps[GDB_MAX_BPS];
    unsigned nbps;

    uint8_t *out; /* bytes waiting for the socket */
    size_t out_len, out_cap;
    uint8_t *last; /* the last framed packet, for '-' */
    size_t last_len;
    unsigned nack_run; /* consecutive resends of (last) */

    unsigned bad_packets;
    char err[KS_ERR_LEN]; /* the last protocol error, for the log */
};

/* Start a session in the stopped state (GDB's first '?' gets S05-style T05). */
void gdb_server_init(struct gdb_server *s, const struct gdb_target_ops *ops, void *target);
/* Free buffers. Does not touch the target. */
void gdb_server_free(struct gdb_server *s);

/*
 * Process bytes received from GDB: acks, packets (answered into the output
 * queue, calling the target as needed), Ctrl-C. Malformed packets are
 * answered ('-' or an error reply) and counted, never fatal.
 * Returns 0, or -ENOMEM when the output queue cannot grow.
 */
int gdb_server_input(struct gdb_server *s, const uint8_t *buf, size_t n);

/* The target stopped after resume(): queue the stop reply. No-op unless running. */
int gdb_server_stopped(struct gdb_server *s, const struct gdb_stop *st);

/* Bytes to send, and how many of them were sent. */
const uint8_t *gdb_server_output(const struct gdb_server *s, size_t *len);
void gdb_server_consumed(struct gdb_server *s, size_t n);

/*
 * The connection dropped (or the client misbehaved past recovery): remove
 * every breakpoint from the target and mark the session done.
 */
void gdb_server_disconnect(struct gdb_server *s);

/* The fixed target description served as qXfer:features:read:target.xml. */
const char *gdb_target_xml(void);

/*
 * Encode register (regno) of (r) into (buf) in target-byte order; returns
 * its size in bytes, or -EINVAL for an unknown register. (long64) is
 * whether the vCPU executes 64-bit code (see the header comment).
 */
int gdb_reg_get(const struct gdb_regs *r, unsigned regno, bool long64, uint8_t *buf);
/* The reverse; (buf) holds the register's full size. Returns the size or -EINVAL. */
int gdb_reg_set(struct gdb_regs *r, unsigned regno, bool long64, const uint8_t *buf);
/*
 * x87 tag words. FXSAVE (and KVM_GET_FPU) keep an abridged byte, one bit
 * per physical register (1 = not empty); GDB's ftag is the full FSAVE word,
 * two bits per physical register: 00 valid, 01 zero, 10 special, 11 empty
 * (SDM Vol. 1 §8.1.7 and Vol. 2A FXSAVE, Table 3-48). gdb_ftag_full()
 * classifies each non-empty register from its contents; (f->st) is in ST(i)
 * order and (fsw) gives TOP (bits 13:11), which maps ST(i) to physical
 * register (TOP + i) mod 8.
 */
uint16_t gdb_ftag_full(uint8_t abridged, uint16_t fsw, const struct gdb_fpu *f);
uint8_t gdb_ftag_abridged(uint16_t full);

/* Whether (s) executes 64-bit code: EFER.LMA and CS.L (SDM Vol. 3A §5.2.1). */
bool gdb_long64(const struct x86_state *s);

/*
 * Guest-virtual access for targets: translate with pt_walk in the paging
 * mode (c) selects, page by page, as a debugger (permissions are not
 * checked: a debugger may read supervisor pages and write read-only text;
 * A/D bits are not set). Returns the number of bytes done (less than (len)
 * when a later page is unmapped) or -EFAULT if the first byte is.
 */
long gdb_gva_rw(const struct gmem *m, const struct pt_ctx *c, gva_t va, void *buf, size_t len,
                bool write);

/*
 * Monitor commands over a snapshot (the stopped vCPU): "walk ADDR",
 * "explain", "pt", "cpuid", "regs", "help". Appends text to (out).
 * Returns 0, or -EINVAL for an unknown command or bad argument (with a
 * message in (out)).
 */
int gdb_monitor(const struct snapshot *snap, const char *cmd, struct strbuf *out);

/*
 * The live target (vmm/gdb_kvm.c): `kvmscope run --gdb`.
 */

/*
 * Listen on "[HOST:]PORT" (HOST defaults to 127.0.0.1; PORT 0 picks a free
 * one). Returns 0 with the socket in (*fd) and the bound port in (*port),
 * or -errno with (err) filled.
 */
int gdb_kvm_listen(const char *spec, int *fd, unsigned *port, char err[KS_ERR_LEN]);

struct gdb_kvm_opts {
    int listen_fd;       /* from gdb_kvm_listen() */
    bool wait;           /* -S: wait for GDB before the first instruction */
    unsigned timeout_ms; /* guest run time while no GDB is attached; 0 = none */
};

struct gdb_kvm_result {
    struct vmm_exit exit; /* how the guest ended; VMM_OUT_TIMEOUT, or VMM_OUT_INTERRUPTED when
                             GDB killed a guest that could still run */
    bool killed;          /* GDB sent 'k' */
    bool attached;        /* a GDB was attached at some point */
};

/*
 * Run the guest with the stub: GDB may attach at any time (or, with
 * (o->wait), before the first instruction); Ctrl-C stops the guest; a
 * crash (triple fault, internal error, failed entry) stops it with
 * SIGSEGV (T0b) and the state stays inspectable. A detach or a dropped
 * connection removes every breakpoint and lets the guest run on.
 * Returns 0 when the guest ended, GDB killed it or the timeout passed
 * (see (res)), or -errno on a host failure with (err) filled.
 */
int gdb_kvm_run(struct vmm *vm, const struct gdb_kvm_opts *o, struct gdb_kvm_result *res,
                char err[KS_ERR_LEN]);

#endif
