/*
 * The GDB remote-protocol server: packet dispatch over gdb_target_ops
 * (spec/formats.md §3.2). One thread ("1") per session: the VMM has one
 * vCPU. Unknown packets get the empty reply the protocol requires.
 */
#include "ks/gdb.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ULL
/* Largest m/M/X transfer: a hex reply of it must fit in PacketSize. */
#define MAX_MEM (RSP_MAX_PACKET / 2)
/* Largest write: an X packet's binary data fills a whole packet (GDB sizes them so). */
#define MAX_WRITE   RSP_MAX_PACKET
#define MAX_RESENDS 16

void gdb_server_init(struct gdb_server *s, const struct gdb_target_ops *ops, void *target)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->target = target;
    rsp_decoder_init(&s->dec);
    s->last_stop.reason = GDB_STOP_TRAP;
}

void gdb_server_free(struct gdb_server *s)
{
    free(s->out);
    free(s->last);
    s->out = s->last = NULL;
    s->out_len = s->out_cap = s->last_len = 0;
}

static int queue(struct gdb_server *s, const void *data, size_t n)
{
    if (s->out_len + n > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 4096;
        uint8_t *p;

        while (cap < s->out_len + n)
            cap *= 2;
        p = realloc(s->out, cap);
        if (!p)
            return -ENOMEM;
        s->out = p;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, data, n);
    s->out_len += n;
    return 0;
}

const uint8_t *gdb_server_output(const struct gdb_server *s, size_t *len)
{
    *len = s->out_len;
    return s->out;
}

void gdb_server_consumed(struct gdb_server *s, size_t n)
{
    if (n >= s->out_len) {
        s->out_len = 0;
        return;
    }
    memmove(s->out, s->out + n, s->out_len - n);
    s->out_len -= n;
}

/* Frame and queue one packet, remembering it for a '-' resend. */
static int send_bin(struct gdb_server *s, const void *payload, size_t len, bool binary)
{
    size_t cap = 2 * len + 4;
    uint8_t *frame = malloc(cap);
    long n;
    int rc;

    if (!frame)
        return -ENOMEM;
    n = rsp_frame(payload, len, binary, frame, cap);
    if (n < 0) {
        free(frame);
        return (int)n;
    }
    rc = queue(s, frame, (size_t)n);
    free(s->last);
    s->last = frame;
    s->last_len = (size_t)n;
    s->nack_run = 0;
    return rc;
}

static int send_str(struct gdb_server *s, const char *str)
{
    return send_bin(s, str, strlen(str), false);
}

static int send_err(struct gdb_server *s, int err)
{
    char buf[8];

    snprintf(buf, sizeof(buf), "E%02x", (unsigned)(err < 0 ? -err : err) & 0xff);
    return send_str(s, buf);
}

static int send_stop(struct gdb_server *s)
{
    const struct gdb_stop *st = &s->last_stop;
    char buf[96];

    switch (st->reason) {
    case GDB_STOP_SWBREAK:
        snprintf(buf, sizeof(buf), "T05%sthread:1;", s->gdb_swbreak ? "swbreak:;" : "");
        break;
    case GDB_STOP_HWBREAK:
        snprintf(buf, sizeof(buf), "T05%sthread:1;", s->gdb_hwbreak ? "hwbreak:;" : "");
        break;
    case GDB_STOP_WATCH:
        snprintf(buf, sizeof(buf), "T05%s:%llx;thread:1;",
                 st->watch_type == GDB_WP_ACCESS ? "awatch"
                 : st->watch_type == GDB_WP_READ ? "rwatch"
                                                 : "watch",
                 (unsigned long long)st->addr);
        break;
    case GDB_STOP_INTERRUPT:
        snprintf(buf, sizeof(buf), "T02thread:1;");
        break;
    case GDB_STOP_CRASH:
        snprintf(buf, sizeof(buf), "T0bthread:1;");
        break;
    case GDB_STOP_EXITED:
        snprintf(buf, sizeof(buf), "W%02x", st->code & 0xff);
        break;
    default:
        snprintf(buf, sizeof(buf), "T05thread:1;");
        break;
    }
    return send_str(s, buf);
}

int gdb_server_stopped(struct gdb_server *s, const struct gdb_stop *st)
{
    if (!s->running)
        return 0;
    s->running = false;
    s->last_stop = *st;
    return send_stop(s);
}

/* ---- breakpoints: reference-counted so GDB's remove/re-insert dance is harmless ---- */

static struct gdb_bp *bp_find(struct gdb_server *s, enum gdb_bp_type t, gva_t a, unsigned len)
{
    for (unsigned i = 0; i < s->nbps; i++)
        if (s->bps[i].type == t && s->bps[i].addr == a && s->bps[i].len == len)
            return &s->bps[i];
    return NULL;
}

static int bp_insert(struct gdb_server *s, enum gdb_bp_type t, gva_t a, unsigned len)
{
    struct gdb_bp *b = bp_find(s, t, a, len);
    int rc;

    if (b) {
        b->refs++;
        return 0;
    }
    if (s->nbps == GDB_MAX_BPS)
        return -ENOSPC;
    rc = s->ops->insert_bp(s->target, t, a, len);
    if (rc < 0)
        return rc;
    s->bps[s->nbps++] = (struct gdb_bp){.type = t, .addr = a, .len = len, .refs = 1};
    return 0;
}

static int bp_remove(struct gdb_server *s, enum gdb_bp_type t, gva_t a, unsigned len)
{
    struct gdb_bp *b = bp_find(s, t, a, len);
    int rc;

    if (!b)
        return 0; /* removing what is not there is a no-op (idempotent) */
    if (--b->refs)
        return 0;
    rc = s->ops->remove_bp(s->target, t, a, len);
    *b = s->bps[--s->nbps];
    return rc;
}

static void bp_remove_all(struct gdb_server *s)
{
    while (s->nbps) {
        struct gdb_bp b = s->bps[--s->nbps];

        s->ops->remove_bp(s->target, b.type, b.addr, b.len);
    }
}

/* ---- packet handlers; (p, end) is the payload after the command letter(s) ---- */

static bool starts(const char *p, const char *end, const char *prefix)
{
    size_t n = strlen(prefix);

    return (size_t)(end - p) >= n && !memcmp(p, prefix, n);
}

/* Parse "ADDR,LEN" and advance; LEN is bounded by the caller. */
static int parse_addr_len(const char **p, const char *end, uint64_t *addr, uint64_t *len)
{
    if (rsp_parse_hex(p, end, addr) < 0 || *p >= end || **p != ',')
        return -EINVAL;
    (*p)++;
    return rsp_parse_hex(p, end, len);
}

static int handle_qsupported(struct gdb_server *s, const char *p, const char *end)
{
    s->gdb_swbreak = false;
    s->gdb_hwbreak = false;
    /* GDB's feature list is ';'-separated after the ':'. */
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *e = semi ? semi : end;

        if (e - p == 8 && !memcmp(p, "swbreak+", 8))
            s->gdb_swbreak = true;
        if (e - p == 8 && !memcmp(p, "hwbreak+", 8))
            s->gdb_hwbreak = true;
        p = e + (semi ? 1 : 0);
    }
    return send_str(s, "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;"
                       "QStartNoAckMode+;vContSupported+");
}

static int handle_qxfer(struct gdb_server *s, const char *p, const char *end)
{
    const char *xml = gdb_target_xml();
    size_t total = strlen(xml);
    uint64_t off, len;
    uint8_t *reply;
    int rc;

    if (!starts(p, end, "target.xml:"))
        return send_str(s, "E00"); /* unknown annex (manual: E00 for a bad annex) */
    p += strlen("target.xml:");
    if (parse_addr_len(&p, end, &off, &len) < 0 || p != end)
        return send_err(s, EINVAL);
    if (off > total)
        return send_err(s, EINVAL);
    /* Escaping may double each byte: keep the frame inside PacketSize. */
    if (len > RSP_MAX_PACKET / 2 - 1)
        len = RSP_MAX_PACKET / 2 - 1;
    if (len > total - off)
        len = total - off;
    reply = malloc(len + 1);
    if (!reply)
        return -ENOMEM;
    reply[0] = off + len < total ? 'm' : 'l';
    memcpy(reply + 1, xml + off, len);
    rc = send_bin(s, reply, len + 1, true);
    free(reply);
    return rc;
}

static int read_regs(struct gdb_server *s, struct gdb_regs *r)
{
    memset(r, 0, sizeof(*r));
    return s->ops->get_regs(s->target, r);
}

static int handle_g(struct gdb_server *s)
{
    struct gdb_regs r;
    uint8_t raw[GDB_G_SIZE];
    char hex[2 * GDB_G_SIZE + 1];
    size_t off = 0;
    bool l64;
    int rc = read_regs(s, &r);

    if (rc < 0)
        return send_err(s, rc);
    l64 = gdb_long64(&r.s);
    for (unsigned i = 0; i < GDB_NUM_REGS; i++)
        off += (size_t)gdb_reg_get(&r, i, l64, raw + off);
    rsp_hex_encode(raw, off, hex);
    return send_str(s, hex);
}

static int handle_G(struct gdb_server *s, const char *p, const char *end)
{
    struct gdb_regs r;
    uint8_t raw[GDB_G_SIZE];
    size_t off = 0;
    bool l64;
    int rc;

    if ((size_t)(end - p) != 2 * GDB_G_SIZE ||
        rsp_hex_decode(p, (size_t)(end - p), raw, sizeof(raw)) != GDB_G_SIZE)
        return send_err(s, EINVAL);
    rc = read_regs(s, &r);
    if (rc < 0)
        return send_err(s, rc);
    l64 = gdb_long64(&r.s);
    for (unsigned i = 0; i < GDB_NUM_REGS; i++)
        off += (size_t)gdb_reg_set(&r, i, l64, raw + off);
    rc = s->ops->set_regs(s->target, &r);
    return rc < 0 ? send_err(s, rc) : send_str(s, "OK");
}

static int handle_p(struct gdb_server *s, const char *p, const char *end)
{
    struct gdb_regs r;
    uint8_t raw[16];
    char hex[33];
    uint64_t regno;
    int rc, n;

    if (rsp_parse_hex(&p, end, &regno) < 0 || p != end)
        return send_err(s, EINVAL);
    if (regno >= GDB_NUM_REGS)
        return send_err(s, 0x14); /* QEMU's answer for an unknown register */
    rc = read_regs(s, &r);
    if (rc < 0)
        return send_err(s, rc);
    n = gdb_reg_get(&r, (unsigned)regno, gdb_long64(&r.s), raw);
    rsp_hex_encode(raw, (size_t)n, hex);
    return send_str(s, hex);
}

static int handle_P(struct gdb_server *s, const char *p, const char *end)
{
    struct gdb_regs r;
    uint8_t raw[16], probe[16];
    uint64_t regno;
    int rc, n;

    if (rsp_parse_hex(&p, end, &regno) < 0 || p >= end || *p != '=')
        return send_err(s, EINVAL);
    p++;
    if (regno >= GDB_NUM_REGS)
        return send_err(s, 0x14);
    rc = read_regs(s, &r);
    if (rc < 0)
        return send_err(s, rc);
    n = gdb_reg_get(&r, (unsigned)regno, true, probe); /* the register's size */
    if (end - p != 2 * n || rsp_hex_decode(p, (size_t)(end - p), raw, sizeof(raw)) != n)
        return send_err(s, EINVAL);
    gdb_reg_set(&r, (unsigned)regno, gdb_long64(&r.s), raw);
    rc = s->ops->set_regs(s->target, &r);
    return rc < 0 ? send_err(s, rc) : send_str(s, "OK");
}

/* Read or write guest-virtual memory page by page; returns bytes done or -errno. */
static long mem_rw(struct gdb_server *s, gva_t addr, uint8_t *buf, size_t len, bool write)
{
    size_t done = 0;

    while (done < len) {
        gva_t cur = addr + done;
        size_t chunk = (size_t)(PAGE - (cur & (PAGE - 1)));
        int rc;

        if (cur < addr) /* wrapped past 2^64 */
            break;
        if (chunk > len - done)
            chunk = len - done;
        rc = write ? s->ops->write_mem(s->target, cur, buf + done, chunk)
                   : s->ops->read_mem(s->target, cur, buf + done, chunk);
        if (rc < 0)
            return done ? (long)done : rc;
        done += chunk;
    }
    return (long)done;
}

static int handle_m(struct gdb_server *s, const char *p, const char *end)
{
    uint64_t addr, len;
    uint8_t *buf;
    char *hex;
    long n;
    int rc;

    if (parse_addr_len(&p, end, &addr, &len) < 0 || p != end)
        return send_err(s, EINVAL);
    /* A reply may carry fewer bytes than asked (manual, 'm' packet). */
    if (len > MAX_MEM)
        len = MAX_MEM;
    if (len == 0)
        return send_str(s, "");
    buf = malloc(len);
    hex = malloc(2 * len + 1);
    if (!buf || !hex) {
        free(buf);
        free(hex);
        return -ENOMEM;
    }
    n = mem_rw(s, addr, buf, len, false);
    if (n < 0) {
        rc = send_err(s, (int)n);
    } else {
        rsp_hex_encode(buf, (size_t)n, hex);
        rc = send_str(s, hex);
    }
    free(buf);
    free(hex);
    return rc;
}

/* M addr,len:hex and X addr,len:binary (the decoder already removed the escapes). */
static int handle_write(struct gdb_server *s, const char *p, const char *end, bool binary)
{
    static_assert(MAX_WRITE <= RSP_MAX_PACKET, "the decoder bounds every payload");
    uint8_t *buf;
    uint64_t addr, len;
    long n;

    if (parse_addr_len(&p, end, &addr, &len) < 0 || p >= end || *p != ':')
        return send_err(s, EINVAL);
    p++;
    if (len > MAX_WRITE)
        return send_err(s, EINVAL);
    if (len == 0)
        return send_str(s, (end - p) == 0 ? "OK" : "E16"); /* "X addr,0:" probes for X */
    buf = malloc(len);
    if (!buf)
        return -ENOMEM;
    if (binary ? (uint64_t)(end - p) != len
               : ((uint64_t)(end - p) != 2 * len ||
                  rsp_hex_decode(p, (size_t)(end - p), buf, len) != (long)len)) {
        free(buf);
        return send_err(s, EINVAL);
    }
    if (binary)
        memcpy(buf, p, len);
    n = mem_rw(s, addr, buf, len, true);
    free(buf);
    if (n < 0 || (uint64_t)n != len)
        return send_err(s, n < 0 ? (int)n : EFAULT);
    return send_str(s, "OK");
}

static int handle_z(struct gdb_server *s, const char *p, const char *end, bool insert)
{
    uint64_t type, addr, kind;
    int rc;

    if (rsp_parse_hex(&p, end, &type) < 0 || p >= end || *p != ',')
        return send_err(s, EINVAL);
    p++;
    if (parse_addr_len(&p, end, &addr, &kind) < 0)
        return send_err(s, EINVAL);
    /* Conditions (";X...") are target-side evaluation GDB only sends if we advertise it. */
    if (p != end && *p != ';')
        return send_err(s, EINVAL);
    if (type > GDB_WP_ACCESS)
        return send_str(s, ""); /* unsupported type: empty reply */
    if (type >= GDB_WP_WRITE) {
        /* x86 watches 1, 2, 4 or 8 naturally aligned bytes (SDM Vol. 3B §17.2.5). */
        if ((kind != 1 && kind != 2 && kind != 4 && kind != 8) || (addr & (kind - 1)))
            return send_err(s, EINVAL);
    } else if (kind != 1) {
        return send_err(s, EINVAL); /* x86 breakpoint kind is the int3 length, 1 */
    }
    rc = insert ? bp_insert(s, (enum gdb_bp_type)type, addr, (unsigned)kind)
                : bp_remove(s, (enum gdb_bp_type)type, addr, (unsigned)kind);
    if (rc == -EOPNOTSUPP)
        return send_str(s, "");
    return rc < 0 ? send_err(s, rc) : send_str(s, "OK");
}

static int resume(struct gdb_server *s, bool step)
{
    int rc;

    s->running = true;
    rc = s->ops->resume(s->target, step);
    if (rc < 0 && s->running) {
        s->running = false;
        return send_err(s, rc);
    }
    return 0;
}

/* vCont;ACTION[:tid][;ACTION[:tid]]... with one thread: the first s/S wins, else c/C. */
static int handle_vcont(struct gdb_server *s, const char *p, const char *end)
{
    bool step = false, any = false;

    while (p < end && *p == ';') {
        p++;
        if (p >= end)
            return send_err(s, EINVAL);
        switch (*p) {
        case 's':
        case 'S':
            step = true;
            any = true;
            break;
        case 'c':
        case 'C':
            any = true;
            break;
        case 't':
            break; /* stop: we are stopped already */
        default:
            return send_err(s, EINVAL);
        }
        while (p < end && *p != ';')
            p++;
    }
    if (p != end || !any)
        return send_err(s, EINVAL);
    return resume(s, step);
}

static int handle_rcmd(struct gdb_server *s, const char *p, const char *end)
{
    char cmd[512];
    struct strbuf sb;
    long n;
    int rc;

    n = rsp_hex_decode(p, (size_t)(end - p), (uint8_t *)cmd, sizeof(cmd) - 1);
    if (n < 0)
        return send_err(s, EINVAL);
    cmd[n] = 0;
    if (!s->ops->monitor)
        return send_str(s, "");
    sb_init(&sb);
    rc = s->ops->monitor(s->target, cmd, &sb);
    if (sb.oom) {
        sb_free(&sb);
        return send_err(s, ENOMEM);
    }
    /* Output as O packets, each within PacketSize. */
    for (size_t off = 0; off < sb.len && rc >= -EINVAL; off += 0x1000) {
        size_t chunk = sb.len - off < 0x1000 ? sb.len - off : 0x1000;
        char hex[1 + 2 * 0x1000 + 1];

        hex[0] = 'O';
        rsp_hex_encode(sb.buf + off, chunk, hex + 1);
        if (send_str(s, hex) < 0)
            break;
    }
    sb_free(&sb);
    if (rc == -EINVAL)
        return send_str(s, "OK"); /* the message is in the output */
    return rc < 0 ? send_err(s, rc) : send_str(s, "OK");
}

static int finish_session(struct gdb_server *s, bool kill)
{
    bp_remove_all(s);
    s->done = true;
    s->ops->detach(s->target, kill);
    return 0;
}

static int dispatch(struct gdb_server *s, const char *pkt, size_t len)
{
    const char *end = pkt + len, *p = pkt + 1;

    if (s->running) {
        /* All-stop: only Ctrl-C means anything while the guest runs. */
        return 0;
    }
    switch (pkt[0]) {
    case '?':
        return send_stop(s);
    case 'g':
        return len == 1 ? handle_g(s) : send_err(s, EINVAL);
    case 'G':
        return handle_G(s, p, end);
    case 'p':
        return handle_p(s, p, end);
    case 'P':
        return handle_P(s, p, end);
    case 'm':
        return handle_m(s, p, end);
    case 'M':
        return handle_write(s, p, end, false);
    case 'X':
        return handle_write(s, p, end, true);
    case 'c':
    case 's':
        /* "c ADDR" / "s ADDR" resume elsewhere; GDB no longer sends it. */
        if (len > 1)
            return send_err(s, EINVAL);
        return resume(s, pkt[0] == 's');
    case 'Z':
        return handle_z(s, p, end, true);
    case 'z':
        return handle_z(s, p, end, false);
    case 'H':
        return send_str(s, "OK");
    case 'T':
        return send_str(s, starts(p, end, "1") || starts(p, end, "p1") ? "OK" : "E01");
    case 'k':
        return finish_session(s, true);
    case 'D':
        finish_session(s, false);
        return send_str(s, "OK");
    case 'v':
        if (starts(pkt, end, "vCont?"))
            return send_str(s, "vCont;c;C;s;S");
        if (starts(pkt, end, "vCont;"))
            return handle_vcont(s, pkt + 5, end);
        return send_str(s, ""); /* includes vMustReplyEmpty */
    case 'q':
        if (starts(pkt, end, "qSupported"))
            return handle_qsupported(s, pkt + 10 + (len > 10 && pkt[10] == ':'), end);
        if (starts(pkt, end, "qXfer:features:read:"))
            return handle_qxfer(s, pkt + 20, end);
        if (starts(pkt, end, "qAttached"))
            return send_str(s, "1");
        if (len == 2 && pkt[1] == 'C')
            return send_str(s, "QC1");
        if (starts(pkt, end, "qfThreadInfo"))
            return send_str(s, "m1");
        if (starts(pkt, end, "qsThreadInfo"))
            return send_str(s, "l");
        if (starts(pkt, end, "qRcmd,"))
            return handle_rcmd(s, pkt + 6, end);
        return send_str(s, "");
    case 'Q':
        if (len == 15 && starts(pkt, end, "QStartNoAckMode")) {
            int rc = send_str(s, "OK");

            s->no_ack = true; /* our OK still gets GDB's ack; nothing after does */
            return rc;
        }
        return send_str(s, "");
    default:
        return send_str(s, "");
    }
}

int gdb_server_input(struct gdb_server *s, const uint8_t *buf, size_t n)
{
    size_t off = 0;

    while (off < n && !s->done) {
        struct rsp_event ev;
        int rc = 0;

        off += rsp_feed(&s->dec, buf + off, n - off, &ev);
        switch (ev.type) {
        case RSP_EV_PACKET:
            if (!s->no_ack)
                rc = queue(s, "+", 1);
            if (rc == 0)
                rc = dispatch(s, (const char *)ev.data, ev.len);
            break;
        case RSP_EV_BAD:
            s->bad_packets++;
            snprintf(s->err, sizeof(s->err), "%s", s->dec.err);
            if (ev.bad_checksum) {
                if (!s->no_ack)
                    rc = queue(s, "-", 1); /* GDB resends */
            } else {
                /* Framed correctly but unusable (too long, bad RLE): refuse it. */
                if (!s->no_ack)
                    rc = queue(s, "+", 1);
                if (rc == 0 && !s->running)
                    rc = send_err(s, EINVAL);
            }
            break;
        case RSP_EV_NACK:
            if (s->last && s->nack_run < MAX_RESENDS) {
                s->nack_run++;
                rc = queue(s, s->last, s->last_len);
            }
            break;
        case RSP_EV_INTERRUPT:
            if (s->running)
                s->ops->interrupt(s->target);
            break;
        default:
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

void gdb_server_disconnect(struct gdb_server *s)
{
    if (s->done)
        return;
    bp_remove_all(s);
    s->done = true;
    s->ops->detach(s->target, false);
}
