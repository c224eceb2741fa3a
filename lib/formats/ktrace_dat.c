/*
 * trace.dat through libtracecmd/libtraceevent (formats.md §6.3).
 *
 * Plugins are not loaded (TRACECMD_FL_LOAD_NO_PLUGINS), so each record is
 * rendered with the kernel's own print fmt from the file's embedded event
 * formats; that rendering is then read by the same payload parsers as text
 * traces. The kernel format of kvm_emulate_insn prints exactly `len` bytes,
 * so the plugin's stale-byte trap (paging.md §5.4) cannot occur here.
 * Built only when mk/formats.mk finds the libraries (KS_HAVE_TRACECMD).
 */
#include "ks/ktrace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KS_HAVE_TRACECMD
#include <sched.h>
#include <trace-cmd.h>

struct dat_ctx {
    struct kt_trace *t;
    struct trace_seq seq;
    char *err;
    int rc;
    unsigned records;
};

static int on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
    struct dat_ctx *d = data;
    struct tep_handle *tep = tracecmd_get_tep(h);
    struct tep_event *e = tep_find_event_by_record(tep, rec);
    char line[1024];
    struct kt_event ev;
    const char *comm;
    int pid, n, rc;

    d->records++;
    if (!e)
        return 0;
    pid = tep_data_pid(tep, rec);
    comm = tep_data_comm_from_pid(tep, pid);
    trace_seq_reset(&d->seq);
    tep_print_event(tep, &d->seq, rec, "%s", TEP_PRINT_INFO);
    trace_seq_terminate(&d->seq);
    n = snprintf(line, sizeof(line), "%s-%d [%03d] %llu.%09llu: %s: %s", comm ? comm : "<...>", pid,
                 cpu, (unsigned long long)(rec->ts / 1000000000ULL),
                 (unsigned long long)(rec->ts % 1000000000ULL), e->name,
                 d->seq.buffer ? d->seq.buffer : "");
    if (n < 0 || (size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    rc = kt_parse_line(line, (size_t)n, 0, &ev, d->err);
    if (rc < 0) {
        char why[KS_ERR_LEN];
        /* kt_parse_line says "line 0: ..."; a record has no line number, so drop that. */
        size_t skip = strncmp(d->err, "line 0: ", 8) ? 0 : 8;

        snprintf(why, sizeof(why), "%s", d->err + skip);
        snprintf(d->err, KS_ERR_LEN, "record %u (%.40s): %.180s", d->records, e->name, why);
        d->rc = rc;
        return 1;
    }
    if (rc == 0)
        return 0;
    if (d->t->n == d->t->cap) {
        size_t cap = d->t->cap ? d->t->cap * 2 : 256;
        struct kt_event *ne = realloc(d->t->ev, cap * sizeof(*ne));
        if (!ne) {
            d->rc = -ENOMEM;
            return 1;
        }
        d->t->ev = ne;
        d->t->cap = cap;
    }
    if (ev.type == KT_OTHER)
        d->t->other_events++;
    d->t->ev[d->t->n++] = ev;
    if (rec->missed_events > 0)
        d->t->dropped_events += (uint64_t)rec->missed_events;
    return 0;
}

bool kt_dat_supported(void)
{
    return true;
}

int kt_read_dat(const char *path, struct kt_trace *t, char err[KS_ERR_LEN])
{
    struct dat_ctx d = {.t = t, .err = err};
    struct tracecmd_input *h;

    kt_init(t);
    t->source = KT_SRC_DAT;
    err[0] = 0;
    h = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
    if (!h) {
        snprintf(err, KS_ERR_LEN, "%.120s: libtracecmd cannot open it as a trace.dat", path);
        return -EINVAL;
    }
    trace_seq_init(&d.seq);
    tracecmd_iterate_events(h, NULL, 0, on_record, &d);
    trace_seq_destroy(&d.seq);
    tracecmd_close(h);
    if (d.rc)
        return d.rc;
    if (!t->n) {
        snprintf(err, KS_ERR_LEN, "%.120s: no events in the trace.dat", path);
        return -ENOENT;
    }
    return 0;
}

#else

bool kt_dat_supported(void)
{
    return false;
}

int kt_read_dat(const char *path, struct kt_trace *t, char err[KS_ERR_LEN])
{
    kt_init(t);
    snprintf(err, KS_ERR_LEN,
             "%.120s: this kvmscope was built without libtracecmd; convert it with "
             "'trace-cmd report -N FILE > FILE.txt' and pass the text",
             path);
    return -ENOTSUP;
}

#endif
