/*
 * KVM tracepoint text -> struct kt_event: line heads and the file loop.
 *
 * The line head is trace-cmd's (tracecmd/trace-read.c) or the kernel's
 * tracefs `trace` format (formats.md §6.1); ktrace_events.c reads the
 * payloads.
 */
#include "ks/ktrace.h"

#include "ktrace_internal.h"
#include "textscan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char err[KS_ERR_LEN], unsigned lineno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char err[KS_ERR_LEN], unsigned lineno, const char *fmt, ...)
{
    char msg[KS_ERR_LEN - 24];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, KS_ERR_LEN, "line %u: %s", lineno, msg);
    return -EINVAL;
}

void kt_init(struct kt_trace *t)
{
    memset(t, 0, sizeof(*t));
}

void kt_free(struct kt_trace *t)
{
    free(t->ev);
    kt_init(t);
}

/* ---------------------------------------------------------------------------------------------
 * Line heads
 */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Find " TS: NAME: " where TS is digits[.digits]: the first such spot is the
 * boundary between the head (task, CPU, flags) and the event.
 */
static bool find_ts(const char *s, const char *end, const char **ts, const char **name,
                    const char **payload)
{
    for (const char *p = s + 1; p < end; p++) {
        const char *q = p, *n;
        if (p[-1] != ' ' || *p < '0' || *p > '9')
            continue;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q < end && *q == '.') {
            q++;
            while (q < end && *q >= '0' && *q <= '9')
                q++;
        }
        if (end - q < 3 || q[0] != ':' || q[1] != ' ')
            continue;
        n = q + 2;
        while (n < end && *n == ' ')
            n++;
        q = n;
        while (q < end && name_char(*q))
            q++;
        if (q == n || q >= end || *q != ':')
            continue;
        /* `perf script` prefixes the system: "kvm:kvm_exit:". */
        {
            const char *r = q + 1;
            while (r < end && name_char(*r))
                r++;
            if (r > q + 1 && r < end && *r == ':') {
                n = q + 1;
                q = r;
            }
        }
        *ts = p;
        *name = n;
        *payload = q + 1;
        return true;
    }
    return false;
}

static uint64_t ts_to_ns(const char *p, const char *end)
{
    uint64_t sec = 0, frac = 0;
    unsigned digits = 0;

    while (p < end && *p >= '0' && *p <= '9' && sec < UINT64_MAX / 20)
        sec = sec * 10 + (uint64_t)(*p++ - '0');
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 9) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                digits++;
            }
            p++;
        }
    } else {
        return sec; /* a raw counter clock */
    }
    while (digits++ < 9)
        frac *= 10;
    return sec * 1000000000ULL + frac;
}

/*
 * Head forms: "comm-pid [cpu] flags" (tracefs, trace-cmd default with or
 * without flags), "comm-pid (tgid) [cpu] ...", "comm-pid cpuFLAGS" (-l),
 * "comm pid [cpu]" (perf script).
 */
static int parse_head(const char *s, const char *end, struct kt_event *ev)
{
    const char *br = NULL, *dash = NULL, *task_end;
    uint64_t v;

    while (s < end && *s == ' ')
        s++;
    while (end > s && end[-1] == ' ')
        end--;
    for (const char *p = s; p < end; p++)
        if (*p == '[') {
            br = p;
            break;
        }
    if (br) {
        struct cur c = {br + 1, end};
        if (!cur_dec(&c, &v) || !cur_lit(&c, "]") || v > 65535)
            return -1;
        ev->cpu = (int)v;
        task_end = br;
    } else {
        /* -l: the last token is the CPU number glued to the latency flags. */
        const char *tok = end;
        struct cur c;
        while (tok > s && tok[-1] != ' ')
            tok--;
        c = (struct cur){tok, end};
        if (tok == s || !cur_dec(&c, &v) || v > 65535)
            return -1;
        ev->cpu = (int)v;
        task_end = tok;
    }
    while (task_end > s && task_end[-1] == ' ')
        task_end--;
    /* Drop a "(tgid)" column. */
    if (task_end > s && task_end[-1] == ')') {
        const char *p = task_end - 1;
        while (p > s && *p != '(')
            p--;
        if (*p != '(')
            return -1;
        task_end = p;
        while (task_end > s && task_end[-1] == ' ')
            task_end--;
    }
    /* `perf script` separates the pid with a space: "qemu-system-x86 12629". */
    {
        const char *p = task_end;
        while (p > s && p[-1] >= '0' && p[-1] <= '9')
            p--;
        if (p < task_end && p > s && p[-1] == ' ')
            dash = p - 1;
    }
    for (const char *p = task_end - 1; !dash && p >= s; p--)
        if (*p == '-') {
            dash = p;
            break;
        }
    if (!dash) {
        ev->pid = -1;
        copy_trim(ev->comm, sizeof(ev->comm), s, task_end);
        return 0;
    }
    {
        struct cur c = {dash + 1, task_end};
        if (!cur_dec(&c, &v) || !cur_eof(&c) || v > 0x7fffffff)
            return -1;
        ev->pid = (int)v;
    }
    copy_trim(ev->comm, sizeof(ev->comm), s, dash);
    return 0;
}

static bool starts(const char *s, size_t n, const char *pfx)
{
    size_t k = strlen(pfx);
    return n >= k && !memcmp(s, pfx, k);
}

int kt_parse_line(const char *line, size_t len, unsigned lineno, struct kt_event *ev,
                  char err[KS_ERR_LEN])
{
    const char *end = line + len, *ts, *name, *payload, *p;
    const struct kt_payload *pl;
    size_t nlen;

    memset(ev, 0, sizeof(*ev));
    ev->line = lineno;
    while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\n'))
        end--;
    len = (size_t)(end - line);
    p = line;
    while (p < end && *p == ' ')
        p++;
    if (p == end || *p == '#' || starts(p, (size_t)(end - p), "cpus=") ||
        starts(p, (size_t)(end - p), "CPU ") || starts(p, (size_t)(end - p), "CPU:") ||
        starts(p, (size_t)(end - p), "version"))
        return 0;
    if (!find_ts(line, end, &ts, &name, &payload))
        return bad(err, lineno, "not a trace event line (no ' TIMESTAMP: EVENT:'): truncated?");
    nlen = (size_t)(payload - 1 - name);
    if (nlen >= sizeof(ev->name))
        return bad(err, lineno, "event name too long");
    memcpy(ev->name, name, nlen);
    ev->name[nlen] = 0;
    if (parse_head(line, ts, ev))
        return bad(err, lineno, "cannot read the task-pid/CPU columns before the timestamp");
    ev->ts_ns = ts_to_ns(ts, payload);
    while (payload < end && *payload == ' ')
        payload++;
    /* perf's libtraceevent prints raw fields after this marker when it cannot render. */
    if (end - payload >= 18 && !memcmp(payload, "[FAILED TO PARSE] ", 18))
        payload += 18;
    ev->type = KT_OTHER;
    pl = kt_payload_find(ev->name);
    if (pl) {
        ev->type = pl->type;
        if (pl->parse(payload, end, ev))
            return bad(err, lineno, "%s: cannot parse '%.*s' (expected '%s')", ev->name,
                       (int)(end - payload < 60 ? end - payload : 60), payload, pl->want);
    }
    return 1;
}

/* "CPU:%d [%lld EVENTS DROPPED]" (trace-cmd) or "CPU:%d [LOST %lu EVENTS]" (tracefs). */
static uint64_t dropped_count(const char *s, size_t n)
{
    struct cur c = {s, s + n};
    uint64_t v;

    while (c.p < c.end && *c.p == ' ')
        c.p++;
    if (!cur_lit(&c, "CPU:") || !cur_dec(&c, &v) || !cur_lit(&c, " ["))
        return 0;
    if (cur_lit(&c, "LOST "))
        return cur_dec(&c, &v) ? v : 0;
    return cur_dec(&c, &v) && cur_lit(&c, " EVENTS DROPPED") ? v : 0;
}

static int push(struct kt_trace *t, const struct kt_event *ev)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct kt_event *ne;
        if (cap > SIZE_MAX / sizeof(*ne))
            return -ENOMEM;
        ne = realloc(t->ev, cap * sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        t->ev = ne;
        t->cap = cap;
    }
    t->ev[t->n++] = *ev;
    if (ev->type == KT_OTHER)
        t->other_events++;
    return 0;
}

int kt_parse_text(const char *text, size_t len, struct kt_trace *t, char err[KS_ERR_LEN])
{
    size_t pos = 0;
    unsigned lineno = 0;

    kt_init(t);
    err[0] = 0;
    t->source = KT_SRC_TEXT;
    while (pos < len) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        struct kt_event ev;
        int rc;

        pos += n + (nl ? 1 : 0);
        lineno++;
        if (memchr(s, 0, n))
            return bad(err, lineno, "NUL byte: not a text trace");
        rc = kt_parse_line(s, n, lineno, &ev, err);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            t->dropped_events += dropped_count(s, n);
            continue;
        }
        if (push(t, &ev))
            return -ENOMEM;
    }
    t->lines = lineno;
    if (!t->n) {
        snprintf(err, KS_ERR_LEN, "no trace events in %u lines", lineno);
        return -ENOENT;
    }
    return 0;
}
