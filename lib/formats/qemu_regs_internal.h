/*
 * Private interface of the QEMU register-dump parser: the line groups of a
 * dump (qemu_regs.c) and the log lines around it (qemu_log.c: -d int
 * exception headers, KVM error messages).
 */
#ifndef KS_FORMATS_QEMU_REGS_INTERNAL_H
#define KS_FORMATS_QEMU_REGS_INTERNAL_H

#include "ks/formats.h"

#include "textscan.h"

/* Which lines of a dump were seen. */
enum dump_part {
    P_GPR1 = 1u << 0, /* RAX.. / EAX.. */
    P_GPR2 = 1u << 1, /* RSI.. / ESI.. */
    P_GPR3 = 1u << 2, /* R8.. (64-bit form only) */
    P_GPR4 = 1u << 3, /* R12.. */
    P_RIP = 1u << 4,
    P_SEGS = 1u << 5, /* all eight */
    P_GDT = 1u << 6,
    P_IDT = 1u << 7,
    P_CR = 1u << 8,
    P_DR03 = 1u << 9,
    P_DR67 = 1u << 10,
    P_EFER = 1u << 11,
};

struct dump {
    unsigned line;
    bool is64;
    bool lma_form;
    bool tcg_flags;
    bool has_ccop;
    uint32_t parts;
    uint8_t segs_seen;
    unsigned cpl;
    struct x86_state s;
    int cpu_index;
    /* The KVM error that preceded this dump. */
    bool has_error;
    enum snap_event event;
    uint32_t suberror;
    unsigned ndata;
    uint64_t data[16];
    bool has_code;
    struct qemu_code code;
};

struct parser {
    unsigned lineno;
    char *err;
    struct dump cur, best;
    bool in_dump, have_best, best_has_error;
    bool started; /* a dump has begun somewhere above */
    /* Pending KVM error state, attached to the next dump. */
    bool pend_error;
    enum snap_event pend_event;
    uint32_t pend_suberror;
    unsigned pend_ndata;
    uint64_t pend_data[16];
    int pend_cpu;
    int check_old;
    struct qemu_dump_info *info;
};

/* Record "line N: <message>" in the error buffer; returns -EINVAL. */
int qr_fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Only spaces may remain on the line. */
int qr_expect_end(struct parser *ps, struct cur *c, const char *what);
/* Close the dump being read (it becomes the chosen one if complete, see qemu_regs_parse). */
void qr_dump_end(struct parser *ps);
bool qr_starts(const char *s, size_t n, const char *pfx);

/* A -d int header ("     0: v=0e e=0000 ..."): the test and the parser (formats.md §1.8). */
bool qr_is_exception_header(const char *s, size_t n);
int qr_exception_header(struct parser *ps, struct cur *c);
/*
 * The KVM error messages of accel/kvm/kvm-all.c (formats.md §1.7); sets
 * (*handled) when (line) was one of them.
 */
int qr_kvm_line(struct parser *ps, struct cur *c, const char *line, bool *handled);

/*
 * A segment register from QEMU's SegmentCache: its flags mirror the
 * descriptor's high dword (SDM Vol. 3A §3.4.5), in the `info registers` text
 * and in dump-guest-memory's QEMUCPUSegment alike (formats.md §1.4, §2.3).
 * A segment that is not present is taken as unusable.
 */
void qr_seg_from_flags(struct x86_seg *sg, uint16_t sel, uint64_t base, uint32_t limit,
                       uint32_t flags);

#endif
