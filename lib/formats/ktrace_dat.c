/*
 * trace.dat through libtracecmd/libtraceevent (formats.md §6.3).
 *
 * Plugins are not loaded (TRACECMD_FL_LOAD_NO_PLUGINS), so each record is
 * rendered with the kernel's own print fmt from the file's embedded event
 * formats; that rendering is then read by the same payload parsers as text
 * traces. The kernel format of kvm_emulate_insn prints exactly `len` bytes,
 * so the plugin's stale-byte trap (paging.md §5.4) cannot occur here.
 * Built only when mk/formats.mk finds the development files (KS_HAVE_TRACECMD).
 *
 * The libraries are loaded with dlopen() when a trace.dat is actually read:
 * linking them pulls three more shared objects into every kvmscope command,
 * and the dynamic loader then costs about 0.5 ms of each `kvmscope run`
 * (docs/performance.md). The function table lives on the caller's stack.
 */
#include "ks/ktrace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KS_HAVE_TRACECMD
#include <dlfcn.h>
#include <sched.h>
#include <trace-cmd.h>

/* The libtracecmd/libtraceevent entry points used here, resolved by name. */
struct dat_lib {
    void *handle;
    struct tracecmd_input *(*open)(const char *file, int flags);
    void (*close)(struct tracecmd_input *h);
    int (*iterate)(struct tracecmd_input *h, cpu_set_t *cpus, int cpu_size,
                   int (*cb)(struct tracecmd_input *, struct tep_record *, int, void *),
                   void *data);
    struct tep_handle *(*get_tep)(struct tracecmd_input *h);
    struct tep_event *(*find_event)(struct tep_handle *tep, struct tep_record *rec);
    int (*data_pid)(struct tep_handle *tep, struct tep_record *rec);
    const char *(*comm_from_pid)(struct tep_handle *tep, int pid);
    void (*print_event)(struct tep_handle *tep, struct trace_seq *s, struct tep_record *rec,
                        const char *fmt, ...);
    void (*seq_init)(struct trace_seq *s);
    void (*seq_reset)(struct trace_seq *s);
    void (*seq_destroy)(struct trace_seq *s);
    int (*seq_terminate)(struct trace_seq *s);
};

static bool sym(struct dat_lib *l, void *slot, const char *name)
{
    void *p = dlsym(l->handle, name);

    memcpy(slot, &p, sizeof(p));
    return p != NULL;
}

static int dat_lib_open(struct dat_lib *l, char err[KS_ERR_LEN])
{
    memset(l, 0, sizeof(*l));
    /* NODELETE: the library leaks a few bytes by design, and LeakSanitizer can only
     * attribute (and suppress) them while it stays mapped. */
    l->handle = dlopen("libtracecmd.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!l->handle) {
        snprintf(err, KS_ERR_LEN,
                 "cannot load libtracecmd.so.1 (%.120s): install libtracecmd1, or convert the "
                 "file with 'trace-cmd report -N FILE > FILE.txt'",
                 dlerror());
        return -ENOTSUP;
    }
    if (!sym(l, &l->open, "tracecmd_open") || !sym(l, &l->close, "tracecmd_close") ||
        !sym(l, &l->iterate, "tracecmd_iterate_events") ||
        !sym(l, &l->get_tep, "tracecmd_get_tep") ||
        !sym(l, &l->find_event, "tep_find_event_by_record") ||
        !sym(l, &l->data_pid, "tep_data_pid") ||
        !sym(l, &l->comm_from_pid, "tep_data_comm_from_pid") ||
        !sym(l, &l->print_event, "tep_print_event") || !sym(l, &l->seq_init, "trace_seq_init") ||
        !sym(l, &l->seq_reset, "trace_seq_reset") ||
        !sym(l, &l->seq_destroy, "trace_seq_destroy") ||
        !sym(l, &l->seq_terminate, "trace_seq_terminate")) {
        snprintf(err, KS_ERR_LEN, "libtracecmd.so.1 lacks a function kvmscope needs (%.120s)",
                 dlerror());
        dlclose(l->handle);
        return -ENOTSUP;
    }
    return 0;
}

struct dat_ctx {
    const struct dat_lib *lib;
    struct kt_trace *t;
    struct trace_seq seq;
    char *err;
    int rc;
    unsigned records;
};

static int on_record(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data)
{
    struct dat_ctx *d = data;
    const struct dat_lib *l = d->lib;
    struct tep_handle *tep = l->get_tep(h);
    struct tep_event *e = l->find_event(tep, rec);
    char line[1024];
    struct kt_event ev;
    const char *comm;
    int pid, n, rc;

    d->records++;
    if (!e)
        return 0;
    pid = l->data_pid(tep, rec);
    comm = l->comm_from_pid(tep, pid);
    l->seq_reset(&d->seq);
    l->print_event(tep, &d->seq, rec, "%s", TEP_PRINT_INFO);
    l->seq_terminate(&d->seq);
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
    struct dat_lib lib;
    struct dat_ctx d = {.lib = &lib, .t = t, .err = err};
    struct tracecmd_input *h;
    int rc;

    kt_init(t);
    t->source = KT_SRC_DAT;
    err[0] = 0;
    rc = dat_lib_open(&lib, err);
    if (rc)
        return rc;
    h = lib.open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
    if (!h) {
        snprintf(err, KS_ERR_LEN, "%.120s: libtracecmd cannot open it as a trace.dat", path);
        dlclose(lib.handle);
        return -EINVAL;
    }
    lib.seq_init(&d.seq);
    lib.iterate(h, NULL, 0, on_record, &d);
    lib.seq_destroy(&d.seq);
    lib.close(h);
    dlclose(lib.handle);
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
