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

#define MAX_REASONS 64
#define MAX_MMIO_PAGES 64
#define TRACE_PID 1
#define TRACE_TID 1

struct mmio_page {
    uint64_t page, reads, writes;
};

struct run_trace {
    struct run_trace_opts o;
    struct strbuf sb;
    uint64_t t0;        /* first exit */
    uint64_t last_end;  /* previous exit's re-entry time (0: none) */
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

static void hex_bytes(struct strbuf *sb, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sb_printf(sb, "%s%02x", i ? " " : "", b[i]);
}

static void io_desc(struct strbuf *sb, const struct vmm_trace_rec *r)
{
    const char *dir = (r->flags & VMM_TR_WRITE) ? "out" : "in";

    if (r->flags & VMM_TR_IO)
        sb_printf(sb, " port=0x%" PRIx64 " %s size=%u data=0x%" PRIx64, r->addr, dir, r->size,
                  r->data);
    else if (r->flags & VMM_TR_MMIO)
        sb_printf(sb, " gpa=0x%" PRIx64 " %s size=%u data=0x%" PRIx64, r->addr,
                  (r->flags & VMM_TR_WRITE) ? "write" : "read", r->size, r->data);
    if (r->flags & VMM_TR_STRING)
        sb_printf(sb, " count=%u", r->count);
    if (r->flags & VMM_TR_UNHANDLED)
        sb_puts(sb, " UNHANDLED");
}

void run_trace_line(struct strbuf *sb, const struct vmm_trace_rec *r, uint64_t t0)
{
    uint64_t dt = r->t_ns >= t0 ? r->t_ns - t0 : 0;

    sb_printf(sb, "%10" PRIu64 ".%03" PRIu64 " us  %-15s rip=0x%" PRIx64, dt / 1000, dt % 1000,
              vmm_exit_reason_name(r->reason), r->rip);
    io_desc(sb, r);
    if (r->insn_len) {
        sb_puts(sb, " insn=");
        hex_bytes(sb, r->insn, r->insn_len < 8 ? r->insn_len : 8);
    }
}

void run_trace_json_rec(struct strbuf *sb, const struct vmm_trace_rec *r, uint64_t t0)
{
    uint64_t dt = r->t_ns >= t0 ? r->t_ns - t0 : 0;

    sb_printf(sb, "{\"t_ns\":%" PRIu64 ",\"reason\":\"%s\",\"rip\":\"0x%" PRIx64 "\"", dt,
              vmm_exit_reason_name(r->reason), r->rip);
    if (r->flags & (VMM_TR_IO | VMM_TR_MMIO)) {
        sb_printf(sb, ",\"%s\":\"0x%" PRIx64 "\",\"dir\":\"%s\",\"size\":%u,\"data\":\"0x%" PRIx64
                      "\"",
                  (r->flags & VMM_TR_IO) ? "port" : "gpa", r->addr,
                  (r->flags & VMM_TR_WRITE) ? "out" : "in", r->size, r->data);
        if (r->flags & VMM_TR_STRING)
            sb_printf(sb, ",\"count\":%u", r->count);
        if (r->flags & VMM_TR_UNHANDLED)
            sb_puts(sb, ",\"unhandled\":true");
    }
    sb_puts(sb, ",\"insn\":\"");
    hex_bytes(sb, r->insn, r->insn_len);
    sb_puts(sb, "\"}");
}

/* ns -> "us.nnn" */
static void json_us(struct strbuf *sb, uint64_t ns)
{
    sb_printf(sb, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

static void json_event(struct run_trace *t, const struct vmm_trace_rec *r)
{
    struct strbuf *sb = &t->sb;
    uint64_t ts = r->t_ns - t->t0;

    /* The guest ran from the previous re-entry up to this exit. */
    if (t->last_end && r->t_ns > t->last_end) {
        sb_printf(sb, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":", TRACE_PID, TRACE_TID);
        json_us(sb, t->last_end - t->t0);
        sb_puts(sb, ",\"dur\":");
        json_us(sb, r->t_ns - t->last_end);
        sb_puts(sb, ",\"name\":\"guest\",\"cat\":\"run\"}");
    }
    sb_printf(sb, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":", TRACE_PID, TRACE_TID);
    json_us(sb, ts);
    sb_puts(sb, ",\"dur\":");
    json_us(sb, r->handle_ns);
    sb_printf(sb, ",\"name\":\"%s\",\"cat\":\"exit\",\"args\":{\"rip\":\"0x%" PRIx64 "\"",
              vmm_exit_reason_name(r->reason), r->rip);
    if (r->flags & (VMM_TR_IO | VMM_TR_MMIO)) {
        sb_printf(sb, ",\"%s\":\"0x%" PRIx64 "\",\"size\":%u,\"dir\":\"%s\",\"data\":\"0x%" PRIx64
                      "\"",
                  (r->flags & VMM_TR_IO) ? "port" : "gpa", r->addr, r->size,
                  (r->flags & VMM_TR_WRITE) ? "out" : "in", r->data);
        if (r->flags & VMM_TR_STRING)
            sb_printf(sb, ",\"count\":%u", r->count);
        if (r->flags & VMM_TR_UNHANDLED)
            sb_puts(sb, ",\"unhandled\":true");
    }
    if (r->insn_len) {
        sb_puts(sb, ",\"insn\":\"");
        hex_bytes(sb, r->insn, r->insn_len);
        sb_putc(sb, '"');
    }
    sb_puts(sb, "}}");
    t->last_end = r->handle_ns ? r->t_ns + r->handle_ns : 0;
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

    for (unsigned i = 0; i < n; i++) {
        const struct vmm_trace_rec *r = &recs[i];

        if (!t->nrec++)
            t->t0 = r->t_ns;
        if (t->o.stats)
            count(t, r);
        if (t->o.text) {
            sb_reset(&t->sb);
            run_trace_line(&t->sb, r, t->t0);
            fprintf(t->o.text, "%s\n", sb_str(&t->sb));
        }
        if (t->o.json) {
            sb_reset(&t->sb);
            json_event(t, r);
            fputs(sb_str(&t->sb), t->o.json);
        }
    }
}

void run_trace_finish(struct run_trace *t, const char *outcome)
{
    if (t->o.json) {
        sb_reset(&t->sb);
        sb_printf(&t->sb, ",\n{\"ph\":\"i\",\"pid\":%d,\"tid\":%d,\"s\":\"t\",\"ts\":", TRACE_PID,
                  TRACE_TID);
        json_us(&t->sb, t->last_end > t->t0 ? t->last_end - t->t0 : 0);
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
        sb_printf(sb, "%s{\"port\":\"0x%x\",\"in\":%" PRIu64 ",\"out\":%" PRIu64 "}",
                  i ? "," : "", ports[i], t->by_port[ports[i]][0], t->by_port[ports[i]][1]);
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
