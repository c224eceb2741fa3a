/*
 * QEMU x86 register-dump text -> struct snapshot.
 *
 * The grammar is x86_cpu_dump_state()/cpu_x86_dump_seg_cache() of QEMU's
 * target/i386/cpu-dump.c, summarised in shared/spec/formats.md §1. Lines are
 * recognised by their prefix and each group is parsed on its own, because
 * the GPR/segment width follows CS.L while the GDT/CR width follows
 * EFER.LMA, and compatibility mode mixes the two (§1.1).
 */
#include "ks/formats.h"
#include "ks/paging.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 1024

#include "qemu_regs_internal.h"

bool qr_starts(const char *s, size_t n, const char *pfx)
{
    size_t k = strlen(pfx);
    return n >= k && !memcmp(s, pfx, k);
}

int qr_fail(struct parser *ps, const char *fmt, ...)
{
    char msg[KS_ERR_LEN - 24];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ps->err, KS_ERR_LEN, "line %u: %s", ps->lineno, msg);
    return -EINVAL;
}

/*
 * "NAME=hex NAME=hex ..." with the exact names in (names); (ndig) receives
 * each value's digit count. Trailing spaces are allowed (the DR0 line has one).
 */
static int kv_line(struct parser *ps, struct cur *c, const char *const *names, unsigned n,
                   uint64_t *vals, unsigned *ndig)
{
    for (unsigned i = 0; i < n; i++) {
        if (i && !cur_spaces(c))
            return qr_fail(ps, "expected a space before %s", names[i]);
        if (!cur_lit(c, names[i]))
            return qr_fail(ps, "expected '%s'", names[i]);
        if (!cur_hex(c, &vals[i], ndig ? &ndig[i] : NULL) || !cur_at_sep(c))
            return qr_fail(ps, "bad hex value after '%s'", names[i]);
    }
    cur_spaces(c);
    return 0;
}

int qr_expect_end(struct parser *ps, struct cur *c, const char *what)
{
    cur_spaces(c);
    if (!cur_eof(c))
        return qr_fail(ps, "unexpected text after %s: '%.*s'", what,
                       (int)(c->end - c->p < 20 ? c->end - c->p : 20), c->p);
    return 0;
}

static void dump_begin(struct parser *ps, bool is64)
{
    qr_dump_end(ps);
    memset(&ps->cur, 0, sizeof(ps->cur));
    ps->cur.line = ps->lineno;
    ps->cur.is64 = is64;
    ps->cur.cpu_index = ps->pend_cpu;
    ps->pend_cpu = -1;
    if (ps->pend_error) {
        ps->cur.has_error = true;
        ps->cur.event = ps->pend_event;
        ps->cur.suberror = ps->pend_suberror;
        ps->cur.ndata = ps->pend_ndata;
        memcpy(ps->cur.data, ps->pend_data, sizeof(ps->cur.data));
        ps->pend_error = false;
    }
    ps->in_dump = true;
    ps->started = true;
}

static bool dump_complete(const struct dump *d)
{
    uint32_t need = P_GPR1 | P_GPR2 | P_RIP | P_SEGS | P_GDT | P_IDT | P_CR;

    if (d->is64)
        need |= P_GPR3 | P_GPR4;
    return (d->parts & need) == need;
}

/*
 * Close the current dump. The chosen one is the last complete dump that
 * follows a KVM error message, or else simply the last complete dump.
 */
void qr_dump_end(struct parser *ps)
{
    if (!ps->in_dump)
        return;
    ps->in_dump = false;
    if (!dump_complete(&ps->cur))
        return;
    ps->info->ndumps++;
    if (ps->cur.has_error || !ps->best_has_error) {
        ps->best = ps->cur;
        ps->have_best = true;
        ps->best_has_error = ps->cur.has_error;
    }
}

static int gpr_line(struct parser *ps, struct cur *c, int which)
{
    static const char *const n64[4][4] = {
        {"RAX=", "RBX=", "RCX=", "RDX="},
        {"RSI=", "RDI=", "RBP=", "RSP="},
        {"R8 =", "R9 =", "R10=", "R11="},
        {"R12=", "R13=", "R14=", "R15="},
    };
    static const char *const n32[2][4] = {
        {"EAX=", "EBX=", "ECX=", "EDX="},
        {"ESI=", "EDI=", "EBP=", "ESP="},
    };
    static const int idx[4][4] = {
        {X86_RAX, X86_RBX, X86_RCX, X86_RDX},
        {X86_RSI, X86_RDI, X86_RBP, X86_RSP},
        {X86_R8, X86_R9, X86_R10, X86_R11},
        {X86_R12, X86_R13, X86_R14, X86_R15},
    };
    bool is64 = which < 4;
    int row = is64 ? which : which - 4;
    uint64_t v[4];
    int rc;

    if (row == 0)
        dump_begin(ps, is64);
    else if (!ps->in_dump || ps->cur.is64 != is64 || (ps->cur.parts & (1u << row)) ||
             !(ps->cur.parts & (1u << (row - 1))))
        return qr_fail(ps, "register line out of order (no %s line before it)",
                       is64 ? n64[row - 1][0] : n32[row - 1][0]);
    rc = kv_line(ps, c, is64 ? n64[row] : n32[row], 4, v, NULL);
    if (rc)
        return rc;
    rc = qr_expect_end(ps, c, "the registers");
    if (rc)
        return rc;
    for (int i = 0; i < 4; i++)
        ps->cur.s.gpr[idx[row][i]] = v[i];
    ps->cur.parts |= 1u << row;
    return 0;
}

/*
 * Require that a dump is open and its register lines came first. Returns 1
 * (skip the line) before the first dump of the text: a log excerpt may start
 * in the middle of a dump.
 */
static int need_dump(struct parser *ps, const char *what)
{
    if (!ps->started)
        return 1;
    if (!ps->in_dump || !(ps->cur.parts & P_GPR1))
        return qr_fail(ps, "%s line outside a register dump", what);
    return 0;
}

/* "RIP=%016x RFL=%08x [DOSZAPC] CPL=%d II=%d A20=%d SMM=%d HLT=%d" (or EIP=/EFL=). */
static int rip_line(struct parser *ps, struct cur *c, bool is64)
{
    static const char *const n64[2] = {"RIP=", "RFL="}, *const n32[2] = {"EIP=", "EFL="};
    static const char letters[7] = {'D', 'O', 'S', 'Z', 'A', 'P', 'C'};
    static const unsigned bits[7] = {10, 11, 7, 6, 4, 2, 0};
    static const char *const tail[5] = {"CPL=", "II=", "A20=", "SMM=", "HLT="};
    uint64_t v[2], t;
    int rc = need_dump(ps, is64 ? "RIP=" : "EIP=");

    if (rc)
        return rc;
    if (ps->cur.is64 != is64)
        return qr_fail(ps, "%s in a dump whose registers have the other width",
                       is64 ? "RIP=" : "EIP=");
    rc = kv_line(ps, c, is64 ? n64 : n32, 2, v, NULL);
    if (rc)
        return rc;
    if (!cur_lit(c, "["))
        return qr_fail(ps, "expected the [DOSZAPC] flag letters");
    for (int i = 0; i < 7; i++, c->p++) {
        bool set = (v[1] >> bits[i]) & 1;
        if (cur_eof(c) || (*c->p != letters[i] && *c->p != '-'))
            return qr_fail(ps, "bad flag letter in [DOSZAPC]");
        if ((*c->p == letters[i]) != set)
            return qr_fail(ps, "flag %c in [DOSZAPC] disagrees with RFLAGS %#llx", letters[i],
                           (unsigned long long)v[1]);
    }
    if (!cur_lit(c, "]"))
        return qr_fail(ps, "expected ']' after the flag letters");
    for (int i = 0; i < 5; i++) {
        if (!cur_spaces(c) || !cur_lit(c, tail[i]) || !cur_dec(c, &t))
            return qr_fail(ps, "expected '%s' and a number", tail[i]);
        if (i == 0) {
            if (t > 3)
                return qr_fail(ps, "CPL=%llu is not 0-3", (unsigned long long)t);
            ps->cur.cpl = (unsigned)t;
        }
    }
    rc = qr_expect_end(ps, c, "HLT=");
    if (rc)
        return rc;
    ps->cur.s.rip = v[0];
    ps->cur.s.rflags = v[1];
    ps->cur.parts |= P_RIP;
    return 0;
}

/* System-segment names, QEMU's two tables (formats.md §1.4). */
static bool valid_sys_name(const char *s, size_t n)
{
    static const char *const names[] = {
        "Reserved",   "TSS16-avl", "LDT",        "TSS16-busy", "CallGate16",
        "TaskGate",   "IntGate16", "TrapGate16", "TSS32-avl",  "TSS32-busy",
        "CallGate32", "IntGate32", "TrapGate32", "TSS64-avl",  "TSS64-busy",
        "CallGate64", "IntGate64", "TrapGate64", "<hiword>",
    };
    for (size_t i = 0; i < KS_ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == n && !memcmp(names[i], s, n))
            return true;
    return false;
}

/* The " DPL=%d <type>" suffix: checked against the flags it was printed from. */
static int seg_suffix(struct parser *ps, struct cur *c, const struct x86_seg *sg, bool *lma_hint)
{
    uint64_t dpl;
    const char *start;

    if (!cur_lit(c, "DPL=") || !cur_dec(c, &dpl) || dpl != sg->dpl || !cur_spaces(c))
        return qr_fail(ps, "bad or inconsistent DPL= in a segment line");
    start = c->p;
    if (sg->s) {
        bool code = sg->type & 8;
        const char *kind = code ? (sg->l ? "CS64" : sg->db ? "CS32" : "CS16") : NULL;

        if (code) {
            if (!cur_lit(c, kind))
                return qr_fail(ps, "segment kind should be %s for these flags", kind);
        } else if (!cur_lit(c, "DS  ") && !cur_lit(c, "DS16")) {
            return qr_fail(ps, "expected DS or DS16 for a data segment");
        }
        cur_spaces(c);
        if (!cur_lit(c, "[") || c->end - c->p < 4 || c->p[3] != ']')
            return qr_fail(ps, "expected a [...] attribute group");
        c->p += 4;
        return qr_expect_end(ps, c, "the segment attributes");
    }
    while (c->p < c->end && *c->p != ' ')
        c->p++;
    if (!valid_sys_name(start, (size_t)(c->p - start)))
        return qr_fail(ps, "unknown system segment type '%.*s'", (int)(c->p - start), start);
    if (c->p - start >= 5 && !memcmp(c->p - 2, "64", 2))
        *lma_hint = true;
    if (sg->type == 0 && !memcmp(start, "<hiword>", 8))
        *lma_hint = true;
    return qr_expect_end(ps, c, "the segment type");
}

void qr_seg_from_flags(struct x86_seg *sg, uint16_t sel, uint64_t base, uint32_t limit,
                       uint32_t flags)
{
    memset(sg, 0, sizeof(*sg));
    sg->selector = sel;
    sg->base = base;
    sg->limit = limit;
    sg->type = (flags >> 8) & 0xf;
    sg->s = (flags >> 12) & 1;
    sg->dpl = (flags >> 13) & 3;
    sg->present = (flags >> 15) & 1;
    sg->avl = (flags >> 20) & 1;
    sg->l = (flags >> 21) & 1;
    sg->db = (flags >> 22) & 1;
    sg->g = (flags >> 23) & 1;
    sg->unusable = !sg->present;
}

/* "%-3s=%04x <base> %08x %08x[ DPL=%d <type>]" (formats.md §1.4). */
static int seg_line(struct parser *ps, struct cur *c, int which, const char *name)
{
    uint64_t sel, base, limit, flags;
    unsigned nd_base;
    struct x86_seg sg;
    bool lma_hint = false;
    int rc = need_dump(ps, name);

    if (rc)
        return rc;
    c->p += 4;
    if (!cur_hex(c, &sel, NULL) || sel > 0xffff || !cur_spaces(c) || !cur_hex(c, &base, &nd_base) ||
        !cur_spaces(c) || !cur_hex(c, &limit, NULL) || limit > 0xffffffffu || !cur_spaces(c) ||
        !cur_hex(c, &flags, NULL) || flags > 0xffffffffu || !cur_at_sep(c))
        return qr_fail(ps, "malformed %s line (want selector base limit flags)", name);
    qr_seg_from_flags(&sg, (uint16_t)sel, base, (uint32_t)limit, (uint32_t)flags);
    /* Under TCG the limit nibble survives in the flags; KVM-synced state has it zero (§1.4). */
    if ((flags >> 16) & 0xf)
        ps->cur.tcg_flags = true;
    cur_spaces(c);
    if (!cur_eof(c)) {
        rc = seg_suffix(ps, c, &sg, &lma_hint);
        if (rc)
            return rc;
    }
    if (nd_base > 8 && !ps->cur.is64)
        return qr_fail(ps, "16-digit segment base in a 32-bit dump");
    if (lma_hint)
        ps->cur.lma_form = true;
    ps->cur.s.seg[which] = sg;
    ps->cur.segs_seen |= (uint8_t)(1u << which);
    if (ps->cur.segs_seen == 0xff)
        ps->cur.parts |= P_SEGS;
    return 0;
}

static int dtable_line(struct parser *ps, struct cur *c, bool gdt)
{
    uint64_t base, limit;
    unsigned nd;
    int rc = need_dump(ps, gdt ? "GDT=" : "IDT=");

    if (rc)
        return rc;
    c->p += 4;
    if (!cur_spaces(c) || !cur_hex(c, &base, &nd) || !cur_spaces(c) || !cur_hex(c, &limit, NULL) ||
        limit > 0xffffffffu)
        return qr_fail(ps, "malformed %s line (want base limit)", gdt ? "GDT=" : "IDT=");
    rc = qr_expect_end(ps, c, "the limit");
    if (rc)
        return rc;
    if (nd > 8)
        ps->cur.lma_form = true; /* 16 digits: EFER.LMA=1 (§1.1) */
    if (gdt) {
        ps->cur.s.gdt.base = base;
        ps->cur.s.gdt.limit = (uint32_t)limit;
        ps->cur.parts |= P_GDT;
    } else {
        ps->cur.s.idt.base = base;
        ps->cur.s.idt.limit = (uint32_t)limit;
        ps->cur.parts |= P_IDT;
    }
    return 0;
}

static int cr_line(struct parser *ps, struct cur *c)
{
    static const char *const names[4] = {"CR0=", "CR2=", "CR3=", "CR4="};
    uint64_t v[4];
    unsigned nd[4];
    int rc = need_dump(ps, "CR0=");

    if (rc)
        return rc;
    rc = kv_line(ps, c, names, 4, v, nd);
    if (rc)
        return rc;
    rc = qr_expect_end(ps, c, "CR4=");
    if (rc)
        return rc;
    if (nd[1] > 8 || nd[2] > 8)
        ps->cur.lma_form = true;
    ps->cur.s.cr0 = v[0];
    ps->cur.s.cr2 = v[1];
    ps->cur.s.cr3 = v[2];
    ps->cur.s.cr4 = v[3];
    ps->cur.parts |= P_CR;
    return 0;
}

static int dr_line(struct parser *ps, struct cur *c, bool low)
{
    static const char *const n03[4] = {"DR0=", "DR1=", "DR2=", "DR3="}, *const n67[2] = {"DR6=",
                                                                                         "DR7="};
    uint64_t v[4];
    int rc = need_dump(ps, low ? "DR0=" : "DR6=");

    if (rc)
        return rc;
    rc = kv_line(ps, c, low ? n03 : n67, low ? 4 : 2, v, NULL);
    if (rc)
        return rc;
    rc = qr_expect_end(ps, c, "the debug registers");
    if (rc)
        return rc;
    if (low) {
        memcpy(ps->cur.s.dr, v, 4 * sizeof(v[0]));
        ps->cur.parts |= P_DR03;
    } else {
        ps->cur.s.dr[6] = v[0];
        ps->cur.s.dr[7] = v[1];
        ps->cur.parts |= P_DR67;
    }
    return 0;
}

static int efer_line(struct parser *ps, struct cur *c)
{
    static const char *const names[1] = {"EFER="};
    uint64_t v;
    int rc = need_dump(ps, "EFER=");

    if (rc)
        return rc;
    rc = kv_line(ps, c, names, 1, &v, NULL);
    if (rc)
        return rc;
    rc = qr_expect_end(ps, c, "EFER=");
    if (rc)
        return rc;
    ps->cur.s.efer = v;
    ps->cur.parts |= P_EFER;
    return 0;
}

/* "Code=xx xx <xx> xx ..." with "??" for unreadable bytes (formats.md §1.2 item 15). */
static int code_line(struct parser *ps, struct cur *c)
{
    struct qemu_code code;
    bool have_rip = false;
    int rc = need_dump(ps, "Code=");

    if (rc)
        return rc;
    memset(&code, 0, sizeof(code));
    c->p += 5;
    while (!cur_eof(c)) {
        bool at_rip = cur_lit(c, "<");
        uint64_t b;

        if (code.len == KS_ARRAY_SIZE(code.bytes))
            return qr_fail(ps, "more than %zu bytes in Code=", KS_ARRAY_SIZE(code.bytes));
        if (cur_lit(c, "??")) {
            code.unreadable |= 1ULL << code.len;
        } else {
            const char *p = c->p;
            if (!cur_hex(c, &b, NULL) || c->p - p != 2)
                return qr_fail(ps, "bad byte %u in Code=", code.len);
            code.bytes[code.len] = (uint8_t)b;
        }
        if (at_rip) {
            if (have_rip || !cur_lit(c, ">"))
                return qr_fail(ps, "bad <..> marker in Code=");
            have_rip = true;
            code.rip_off = code.len;
        }
        code.len++;
        if (!cur_spaces(c) && !cur_eof(c))
            return qr_fail(ps, "expected a space between Code= bytes");
    }
    if (!have_rip || !code.len)
        return qr_fail(ps, "Code= has no <..> byte at RIP");
    ps->cur.has_code = true;
    ps->cur.code = code;
    return 0;
}

/* The log lines around the dumps: CPU headers, TCG's exception log, resets, KVM's errors. */
static int log_line(struct parser *ps, struct cur *c, const char *s, size_t n)
{
    bool handled;
    int rc;

    if (qr_starts(s, n, "CPU#")) {
        uint64_t v;
        c->p += 4;
        if (!cur_dec(c, &v) || v > 4095 || qr_expect_end(ps, c, "CPU#n"))
            return qr_fail(ps, "malformed CPU#n header");
        qr_dump_end(ps);
        ps->pend_cpu = (int)v;
        return 0;
    }
    if (qr_starts(s, n, "check_exception old: ")) {
        uint64_t old, nw;
        c->p += 21;
        if (!cur_0xhex(c, &old) || !cur_lit(c, " new ") || !cur_0xhex(c, &nw))
            return qr_fail(ps, "malformed check_exception line");
        ps->check_old = old > 0xff ? -1 : (int)old;
        qr_dump_end(ps);
        return 0;
    }
    if (qr_is_exception_header(s, n)) {
        qr_dump_end(ps);
        return qr_exception_header(ps, c);
    }
    if (qr_starts(s, n, "Triple fault")) {
        qr_dump_end(ps);
        ps->info->triple_fault = true;
        return 0;
    }
    if (qr_starts(s, n, "CPU Reset")) {
        qr_dump_end(ps);
        ps->info->cpu_reset = true;
        return 0;
    }
    {
        char line[200];
        snprintf(line, sizeof(line), "%.*s", (int)n, s);
        rc = qr_kvm_line(ps, c, line, &handled);
        if (rc || handled)
            return rc;
    }
    return 0; /* not ours: guest output, shell noise, HMP prompt */
}

static int parse_line(struct parser *ps, const char *s, size_t n)
{
    static const char *const segnames[X86_NR_SREGS] = {
        "ES =", "CS =", "SS =", "DS =", "FS =", "GS =", "LDT=", "TR ="};
    static const char *const fpu[] = {"FCW=", "FPR", "XMM", "YMM", "ZMM", "Opmask"};
    struct cur c = {s, s + n};
    int rc;

    if (qr_starts(s, n, "RAX="))
        return gpr_line(ps, &c, 0);
    if (qr_starts(s, n, "RSI="))
        return gpr_line(ps, &c, 1);
    if (qr_starts(s, n, "R8 ="))
        return gpr_line(ps, &c, 2);
    if (qr_starts(s, n, "R12="))
        return gpr_line(ps, &c, 3);
    if (qr_starts(s, n, "EAX="))
        return gpr_line(ps, &c, 4);
    if (qr_starts(s, n, "ESI="))
        return gpr_line(ps, &c, 5);
    if (qr_starts(s, n, "R16=") || qr_starts(s, n, "R20=") || qr_starts(s, n, "R24=") ||
        qr_starts(s, n, "R28="))
        return need_dump(ps, "APX register"); /* APX R16-R31: not part of the snapshot */
    if (qr_starts(s, n, "RIP="))
        return rip_line(ps, &c, true);
    if (qr_starts(s, n, "EIP="))
        return rip_line(ps, &c, false);
    for (int i = 0; i < X86_NR_SREGS; i++)
        if (qr_starts(s, n, segnames[i]))
            return seg_line(ps, &c, i, segnames[i]);
    if (qr_starts(s, n, "GDT="))
        return dtable_line(ps, &c, true);
    if (qr_starts(s, n, "IDT="))
        return dtable_line(ps, &c, false);
    if (qr_starts(s, n, "CR0="))
        return cr_line(ps, &c);
    if (qr_starts(s, n, "DR0="))
        return dr_line(ps, &c, true);
    if (qr_starts(s, n, "DR6="))
        return dr_line(ps, &c, false);
    if (qr_starts(s, n, "CCS=")) {
        rc = need_dump(ps, "CCS=");
        if (!rc)
            ps->cur.has_ccop = true;
        return rc;
    }
    if (qr_starts(s, n, "EFER="))
        return efer_line(ps, &c);
    if (qr_starts(s, n, "Code="))
        return code_line(ps, &c);
    for (size_t i = 0; i < KS_ARRAY_SIZE(fpu); i++)
        if (qr_starts(s, n, fpu[i])) {
            ps->info->fpu_lines = true;
            return 0;
        }
    return log_line(ps, &c, s, n);
}

/* Copy one line without CR and ANSI escape sequences (monitor sockets add both, §1.5). */
static size_t clean_line(const char *s, size_t n, char *out, size_t cap, bool *too_long)
{
    size_t o = 0;

    *too_long = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0x1b) {
            /* CSI: ESC [ params final(0x40-0x7e); other escapes: ESC + one byte. */
            if (i + 1 < n && s[i + 1] == '[') {
                i += 2;
                while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
                    i++;
            } else {
                i++;
            }
            continue;
        }
        if (ch == '\r' || ch == 0)
            continue;
        if (o + 1 >= cap) {
            *too_long = true;
            break;
        }
        out[o++] = (char)ch;
    }
    out[o] = 0;
    return o;
}

static void fill_snapshot(const struct dump *d, struct snapshot *snap, struct qemu_dump_info *info)
{
    snap->s = d->s;
    snap->cpl = d->cpl;
    snap->have = SNAP_HAVE_GPRS | SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_CPL | SNAP_HAVE_EFER;
    if ((d->parts & (P_DR03 | P_DR67)) == (P_DR03 | P_DR67))
        snap->have |= SNAP_HAVE_DRS;
    if (!(d->parts & P_EFER)) {
        /*
         * Old QEMU prints no EFER. A 64-bit GPR form means CS.L with LMA; the
         * 16-digit GDT/CR form means LMA (formats.md §1.1). LME is set with LMA
         * (SDM Vol. 3A §9.8.5); NXE cannot be known and stays 0.
         */
        snap->s.efer = (d->is64 || d->lma_form) ? (X86_EFER_LMA | X86_EFER_LME) : 0;
        snap->have |= SNAP_EFER_INFERRED;
    }
    if (d->has_error) {
        snap->event = d->event;
        snap->internal_suberror = d->suberror;
        snap->n_internal_data = d->ndata;
        memcpy(snap->internal_data, d->data, sizeof(snap->internal_data));
        if (d->event == SNAP_EV_FAIL_ENTRY && d->ndata)
            snap->fail_entry_reason = d->data[0];
    } else if (info->triple_fault) {
        snap->event = SNAP_EV_TRIPLE_FAULT;
    } else if (info->nexc) {
        snap->event = SNAP_EV_EXCEPTION;
    }
    snprintf(snap->source, sizeof(snap->source), "QEMU register dump");
    info->dump_line = d->line;
    info->cpu_index = d->cpu_index;
    info->is_64bit_gprs = d->is64;
    info->lma_form = d->lma_form || d->is64;
    info->tcg_flags = d->tcg_flags;
    info->has_ccop = d->has_ccop;
    info->has_code = d->has_code;
    info->code = d->code;
}

int qemu_regs_parse(const char *text, size_t len, struct snapshot *snap,
                    struct qemu_dump_info *info, char err[KS_ERR_LEN])
{
    static struct parser zero;
    struct parser ps = zero;
    char line[LINE_MAX_LEN];
    size_t pos = 0;

    snapshot_init(snap);
    memset(info, 0, sizeof(*info));
    info->cpu_index = -1;
    err[0] = 0;
    ps.err = err;
    ps.info = info;
    ps.pend_cpu = -1;
    ps.check_old = -1;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        bool too_long;
        size_t m;
        int rc;

        pos += n + (nl ? 1 : 0);
        ps.lineno++;
        m = clean_line(s, n, line, sizeof(line), &too_long);
        if (too_long) {
            /* Only vector-register lines are long; anything else that long is not a dump. */
            if (qr_starts(line, m, "ZMM") || qr_starts(line, m, "YMM") || qr_starts(line, m, "XMM"))
                continue;
            if (qr_starts(line, m, "RAX=") || qr_starts(line, m, "EAX=") ||
                qr_starts(line, m, "RIP=") || qr_starts(line, m, "Code="))
                return qr_fail(&ps, "line longer than %d characters", LINE_MAX_LEN);
            continue;
        }
        rc = parse_line(&ps, line, m);
        if (rc < 0)
            return rc;
    }
    qr_dump_end(&ps);
    if (!ps.have_best) {
        snprintf(err, KS_ERR_LEN, "no complete QEMU register dump (RAX=/EAX= ... CR0= lines)");
        return -ENOENT;
    }
    fill_snapshot(&ps.best, snap, info);
    return 0;
}
