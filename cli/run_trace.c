/*
 * Trace writers for `kvmscope run`. The JSON follows the Chrome/Perfetto
 * trace-event format (spec/formats.md §7): the object form, ts in
 * microseconds with 3 decimals (ns precision), one X slice per exit whose
 * dur is the time the VMM spent before re-entering, and "guest" X slices
 * between entries, all on one vCPU track so that they nest trivially.
 */
#include "run_trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REASONS    64
#define MAX_MMIO_PAGES 64
#define TRACE_PID      1
#define TRACE_TID      1
#define TRACE_PID_S    "1"
#define TRACE_TID_S    "1"

struct mmio_page {
    uint64_t page, reads, writes;
};

struct run_trace {
    struct run_trace_opts o;
    struct strbuf sb;
    uint64_t t0;        /* first exit */
    uint64_t last_end;  /* previous exit's re-entry time (0: none) */
    uint64_t last_exit; /* time of the latest exit */
    uint64_t nrec;
    bool json_first;
    /* --stats */
    uint64_t by_reason[MAX_REASONS + 1]; /* last slot: reasons beyond the table */
    uint64_t (*by_port)[2];              /* [port][0=in,1=out], 64 Ki entries */
    struct mmio_page mmio[MAX_MMIO_PAGES];
    unsigned nmmio;
    uint64_t mmio_other, unhandled, string_elems;
};

struct run_trace *run_trace_new(const struct run_trace_opts *o)
{
    struct run_trace *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->o = *o;
    sb_init(&t->sb);
    t->json_first = true;
    if (o->stats) {
        t->by_port = calloc(0x10000, sizeof(*t->by_port));
        if (!t->by_port) {
            free(t);
            return NULL;
        }
    }
    if (o->json)
        fprintf(o->json,
                "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"tool\":\"kvmscope run\"},"
                "\"traceEvents\":[\n"
                "{\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"name\":\"process_name\","
                "\"args\":{\"name\":\"guest vm0\"}},\n"
                "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\","
                "\"args\":{\"name\":\"vCPU 0\"}}",
                TRACE_PID, TRACE_PID, TRACE_TID);
    return t;
}

/*
 * Hand-rolled formatting: --trace writes one line per exit, and printf's
 * format parsing would cost more than the exit itself is allowed to
 * (docs/run.md, Performance). Each record is built in a stack buffer and
 * written with one fwrite.
 */
#define REC_MAX 640 /* longest record: JSON with a guest slice and 15 instruction bytes */

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_hex(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;

    do {
        tmp[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v);
    *p++ = '0';
    *p++ = 'x';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_dec(char *p, uint64_t v, int width)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (width-- > n)
        *p++ = ' ';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* ns as microseconds with exactly 3 decimals: "1234.567" */
static char *put_us(char *p, uint64_t ns, int width)
{
    p = put_dec(p, ns / 1000, width);
    *p++ = '.';
    *p++ = (char)('0' + ns % 1000 / 100);
    *p++ = (char)('0' + ns % 100 / 10);
    *p++ = (char)('0' + ns % 10);
    return p;
}

static char *put_bytes(char *p, const uint8_t *b, unsigned n)
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned i = 0; i < n; i++) {
        if (i)
            *p++ = ' ';
        *p++ = digits[b[i] >> 4];
        *p++ = digits[b[i] & 0xf];
    }
    return p;
}

static char *put_padded(char *p, const char *s, int width)
{
    char *start = p;

    p = put_str(p, s);
    while (p - start < width)
        *p++ = ' ';
    return p;
}

static const char *dir_name(const struct vmm_trace_rec *r)
{
    if (r->flags & VMM_TR_IO)
        return (r->flags & VMM_TR_WRITE) ? "out" : "in";
    return (r->flags & VMM_TR_WRITE) ? "write" : "read";
}

static char *text_line(char *p, const struct vmm_trace_rec *r, uint64_t t0)
{
    p = put_us(p, r->t_ns >= t0 ? r->t_ns - t0 : 0, 10);
    p = put_str(p, " us  ");
    p = put_padded(p, vmm_exit_reason_name(r->reason), 15);
    p = put_str(p, " rip=");
    p = put_hex(p, r->rip);
    if (r->flags & (VMM_TR_IO | VMM_TR_MMIO)) {
        p = put_str(p, (r->flags & VMM_TR_IO) ? " port=" : " gpa=");
        p = put_hex(p, r->addr);
        *p++ = ' ';
        p = put_str(p, dir_name(r));
        p = put_str(p, " size=");
        p = put_dec(p, r->size, 0);
        p = put_str(p, " data=");
        p = put_hex(p, r->data);
    }
    if (r->flags & VMM_TR_STRING) {
        p = put_str(p, " count=");
        p = put_dec(p, r->count, 0);
    }
    if (r->flags & VMM_TR_UNHANDLED)
        p = put_str(p, " UNHANDLED");
    if (r->insn_len) {
        p = put_str(p, " insn=");
        p = put_bytes(p, r->insn, r->insn_len < 8 ? r->insn_len : 8);
    }
    return p;
}

void run_trace_line(struct strbuf *sb, const struct vmm_trace_rec *r, uint64_t t0)
{
    char buf[REC_MAX];

    *text_line(buf, r, t0) = '\0';
    sb_puts(sb, buf);
}

/* The I/O members shared by both JSON shapes: "port":"0x3f8","dir":"out",... */
static char *json_io(char *p, const struct vmm_trace_rec *r)
{
    if (!(r->flags & (VMM_TR_IO | VMM_TR_MMIO)))
        return p;
    p = put_str(p, (r->flags & VMM_TR_IO) ? ",\"port\":\"" : ",\"gpa\":\"");
    p = put_hex(p, r->addr);
    p = put_str(p, "\",\"dir\":\"");
    p = put_str(p, (r->flags & VMM_TR_WRITE) ? "out" : "in");
    p = put_str(p, "\",\"size\":");
    p = put_dec(p, r->size, 0);
    p = put_str(p, ",\"data\":\"");
    p = put_hex(p, r->data);
    *p++ = '"';
    if (r->flags & VMM_TR_STRING) {
        p = put_str(p, ",\"count\":");
        p = put_dec(p, r->count, 0);
    }
    if (r->flags & VMM_TR_UNHANDLED)
        p = put_str(p, ",\"unhandled\":true");
    return p;
}

void run_trace_json_rec(struct strbuf *sb, const struct vmm_trace_rec *r, uint64_t t0)
{
    char buf[REC_MAX], *p = buf;

    p = put_str(p, "{\"t_ns\":");
    p = put_dec(p, r->t_ns >= t0 ? r->t_ns - t0 : 0, 0);
    p = put_str(p, ",\"reason\":\"");
    p = put_str(p, vmm_exit_reason_name(r->reason));
    p = put_str(p, "\",\"rip\":\"");
    p = put_hex(p, r->rip);
    *p++ = '"';
    p = json_io(p, r);
    p = put_str(p, ",\"insn\":\"");
    p = put_bytes(p, r->insn, r->insn_len);
    p = put_str(p, "\"}");
    *p = '\0';
    sb_puts(sb, buf);
}

static char *event_head(char *p, uint64_t ts_ns)
{
    p = put_str(p, ",\n{\"ph\":\"X\",\"pid\":" TRACE_PID_S ",\"tid\":" TRACE_TID_S ",\"ts\":");
    return put_us(p, ts_ns, 0);
}

/* The guest slice since the previous re-entry, then the exit's own slice. */
static char *json_event(struct run_trace *t, char *p, const struct vmm_trace_rec *r)
{
    if (t->last_end && r->t_ns > t->last_end) {
        p = event_head(p, t->last_end - t->t0);
        p = put_str(p, ",\"dur\":");
        p = put_us(p, r->t_ns - t->last_end, 0);
        p = put_str(p, ",\"name\":\"guest\",\"cat\":\"run\"}");
    }
    p = event_head(p, r->t_ns - t->t0);
    p = put_str(p, ",\"dur\":");
    p = put_us(p, r->handle_ns, 0);
    p = put_str(p, ",\"name\":\"");
    p = put_str(p, vmm_exit_reason_name(r->reason));
    p = put_str(p, "\",\"cat\":\"exit\",\"args\":{\"rip\":\"");
    p = put_hex(p, r->rip);
    *p++ = '"';
    p = json_io(p, r);
    if (r->insn_len) {
        p = put_str(p, ",\"insn\":\"");
        p = put_bytes(p, r->insn, r->insn_len);
        *p++ = '"';
    }
    p = put_str(p, "}}");
    t->last_end = r->handle_ns ? r->t_ns + r->handle_ns : 0;
    t->last_exit = r->t_ns;
    return p;
}

static void count(struct run_trace *t, const struct vmm_trace_rec *r)
{
    t->by_reason[r->reason < MAX_REASONS ? r->reason : MAX_REASONS]++;
    if (r->flags & VMM_TR_UNHANDLED)
        t->unhandled++;
    if (r->flags & VMM_TR_IO) {
        t->by_port[r->addr & 0xffff][(r->flags & VMM_TR_WRITE) ? 1 : 0]++;
        if (r->flags & VMM_TR_STRING)
            t->string_elems += r->count;
    } else if (r->flags & VMM_TR_MMIO) {
        uint64_t page = r->addr & ~0xfffull;
        unsigned i = 0;

        while (i < t->nmmio && t->mmio[i].page != page)
            i++;
        if (i == t->nmmio) {
            if (t->nmmio == MAX_MMIO_PAGES) {
                t->mmio_other++;
                return;
            }
            t->mmio[t->nmmio++].page = page;
        }
        if (r->flags & VMM_TR_WRITE)
            t->mmio[i].writes++;
        else
            t->mmio[i].reads++;
    }
}

void run_trace_sink(void *opaque, const struct vmm_trace_rec *recs, unsigned n)
{
    struct run_trace *t = opaque;
    char buf[REC_MAX];

    for (unsigned i = 0; i < n; i++) {
        const struct vmm_trace_rec *r = &recs[i];
        char *p;

        if (!t->nrec++)
            t->t0 = r->t_ns;
        if (t->o.stats)
            count(t, r);
        if (t->o.text) {
            p = text_line(buf, r, t->t0);
            *p++ = '\n';
            fwrite(buf, 1, (size_t)(p - buf), t->o.text);
        }
        if (t->o.json) {
            p = json_event(t, buf, r);
            fwrite(buf, 1, (size_t)(p - buf), t->o.json);
        }
    }
}

void run_trace_finish(struct run_trace *t, const char *outcome)
{
    if (t->o.json) {
        char ts[32];

        sb_reset(&t->sb);
        uint64_t end = t->last_end > t->last_exit ? t->last_end : t->last_exit;

        /* The outcome is marked where the last exit happened (or where it was handled). */
        *put_us(ts, end > t->t0 ? end - t->t0 : 0, 0) = '\0';
        sb_printf(&t->sb, ",\n{\"ph\":\"i\",\"pid\":%d,\"tid\":%d,\"s\":\"t\",\"ts\":%s", TRACE_PID,
                  TRACE_TID, ts);
        sb_puts(&t->sb, ",\"name\":");
        sb_json_str(&t->sb, outcome);
        sb_puts(&t->sb, ",\"cat\":\"outcome\"}\n]}\n");
        fputs(sb_str(&t->sb), t->o.json);
        fflush(t->o.json);
    }
    if (t->o.text)
        fflush(t->o.text);
}

/* Ports sorted by total count, most first; returns how many are non-zero (at most max). */
static unsigned top_ports(const struct run_trace *t, unsigned *out, unsigned max)
{
    unsigned n = 0;

    for (unsigned p = 0; p < 0x10000; p++) {
        uint64_t c = t->by_port[p][0] + t->by_port[p][1];
        unsigned i;

        if (!c)
            continue;
        if (n < max)
            n++;
        else if (c <= t->by_port[out[n - 1]][0] + t->by_port[out[n - 1]][1])
            continue;
        for (i = n - 1; i > 0; i--) {
            unsigned q = out[i - 1];

            if (t->by_port[q][0] + t->by_port[q][1] >= c)
                break;
            out[i] = q;
        }
        out[i] = p;
    }
    return n;
}

void run_trace_stats_text(const struct run_trace *t, struct strbuf *sb)
{
    unsigned ports[32], np;

    sb_printf(sb, "exits: %" PRIu64 "\n", t->nrec);
    for (unsigned r = 0; r <= MAX_REASONS; r++)
        if (t->by_reason[r])
            sb_printf(sb, "  %-16s %10" PRIu64 "\n",
                      r < MAX_REASONS ? vmm_exit_reason_name(r) : "OTHER", t->by_reason[r]);
    if (!t->by_port)
        return;
    np = top_ports(t, ports, 32);
    if (np)
        sb_puts(sb, "port I/O exits by port:\n");
    for (unsigned i = 0; i < np; i++)
        sb_printf(sb, "  0x%04x  in %10" PRIu64 "  out %10" PRIu64 "\n", ports[i],
                  t->by_port[ports[i]][0], t->by_port[ports[i]][1]);
    if (t->string_elems)
        sb_printf(sb, "string I/O elements: %" PRIu64 "\n", t->string_elems);
    if (t->nmmio)
        sb_puts(sb, "MMIO exits by page:\n");
    for (unsigned i = 0; i < t->nmmio; i++)
        sb_printf(sb, "  0x%08" PRIx64 "  read %10" PRIu64 "  write %10" PRIu64 "\n",
                  t->mmio[i].page, t->mmio[i].reads, t->mmio[i].writes);
    if (t->mmio_other)
        sb_printf(sb, "  (other pages) %" PRIu64 "\n", t->mmio_other);
    if (t->unhandled)
        sb_printf(sb, "unhandled accesses: %" PRIu64 "\n", t->unhandled);
}

void run_trace_stats_json(const struct run_trace *t, struct strbuf *sb)
{
    unsigned ports[256], np;
    bool first = true;

    sb_printf(sb, "{\"exits\":%" PRIu64 ",\"unhandled\":%" PRIu64 ",\"by_reason\":{", t->nrec,
              t->unhandled);
    for (unsigned r = 0; r <= MAX_REASONS; r++) {
        if (!t->by_reason[r])
            continue;
        sb_printf(sb, "%s\"%s\":%" PRIu64, first ? "" : ",",
                  r < MAX_REASONS ? vmm_exit_reason_name(r) : "OTHER", t->by_reason[r]);
        first = false;
    }
    sb_puts(sb, "},\"by_port\":[");
    np = t->by_port ? top_ports(t, ports, 256) : 0;
    for (unsigned i = 0; i < np; i++)
        sb_printf(sb, "%s{\"port\":\"0x%x\",\"in\":%" PRIu64 ",\"out\":%" PRIu64 "}", i ? "," : "",
                  ports[i], t->by_port[ports[i]][0], t->by_port[ports[i]][1]);
    sb_puts(sb, "],\"by_mmio_page\":[");
    for (unsigned i = 0; i < t->nmmio; i++)
        sb_printf(sb, "%s{\"page\":\"0x%" PRIx64 "\",\"read\":%" PRIu64 ",\"write\":%" PRIu64 "}",
                  i ? "," : "", t->mmio[i].page, t->mmio[i].reads, t->mmio[i].writes);
    sb_puts(sb, "]}");
}

void run_trace_free(struct run_trace *t)
{
    if (!t)
        return;
    sb_free(&t->sb);
    free(t->by_port);
    free(t);
}
