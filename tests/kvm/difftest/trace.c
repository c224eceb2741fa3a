/*
 * kvmmmu tracepoints for the difftest (see trace.h). Uses a private tracefs
 * instance limited to this process (spec/host.md: trace-cmd cannot enable
 * ftrace here, instances work). The harness's own walks are dropped by event
 * filters: its walks have addresses below (min_addr) and its entries have
 * fixed values (run.c build_home()).
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dt_trace {
    char dir[224];
    int pipe_fd;
    pthread_t reader;
    bool reader_started;
    atomic_bool stop;       /* the walks are read only after the reader is joined */
    struct dt_twalk *walks; /* open addressing on addr; addr 0 = empty */
    unsigned cap;
    struct dt_twalk *cur; /* the walk the following element lines belong to */
    uint64_t unparsed;
    char line[512];
    size_t line_len;
};

static int write_file(const char *dir, const char *name, const char *val)
{
    char path[512];
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, val, strlen(val)) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static struct dt_twalk *slot(struct dt_trace *t, gva_t addr, bool *fresh)
{
    unsigned i = (unsigned)((addr * 0x9e3779b97f4a7c15ULL) >> 40) & (t->cap - 1);

    for (unsigned n = 0; n < t->cap; n++, i = (i + 1) & (t->cap - 1)) {
        if (t->walks[i].addr == addr) {
            *fresh = false;
            return &t->walks[i];
        }
        if (!t->walks[i].addr) {
            *fresh = true;
            return &t->walks[i];
        }
    }
    return NULL;
}

static void parse_line(struct dt_trace *t, const char *l)
{
    unsigned long long a;
    unsigned x;
    const char *p;

    if ((p = strstr(l, "kvm_mmu_pagetable_walk: addr "))) {
        bool fresh;
        struct dt_twalk *w;
        if (sscanf(p + 29, "%llx pferr %x", &a, &x) != 2 || !a) {
            t->unparsed++;
            return;
        }
        w = slot(t, a, &fresh);
        t->cur = w && fresh ? w : NULL; /* only the first walk of an address */
        if (t->cur) {
            memset(w, 0, sizeof(*w));
            w->addr = a;
            w->access = x;
        }
    } else if ((p = strstr(l, "kvm_mmu_paging_element: pte "))) {
        if (sscanf(p + 28, "%llx level %u", &a, &x) != 2) {
            t->unparsed++;
        } else if (t->cur && t->cur->n < DT_TRACE_MAX_LEVELS) {
            t->cur->pte[t->cur->n] = a;
            t->cur->level[t->cur->n++] = x;
        }
    } else if ((p = strstr(l, "kvm_mmu_walker_error: pferr "))) {
        if (sscanf(p + 28, "%x", &x) != 1) {
            t->unparsed++;
        } else if (t->cur) {
            t->cur->failed = true;
            t->cur->error = x;
        }
    } else if ((p = strstr(l, "kvm_mmu_set_accessed_bit: gpa ")) ||
               (p = strstr(l, "kvm_mmu_set_dirty_bit: gpa "))) {
        bool dirty = strstr(l, "set_dirty_bit") != NULL;
        if (sscanf(strstr(p, "gpa ") + 4, "%llx", &a) != 1) {
            t->unparsed++;
        } else if (t->cur && t->cur->n_ad < DT_TRACE_MAX_AD) {
            t->cur->ad_gpa[t->cur->n_ad] = a;
            t->cur->ad_dirty[t->cur->n_ad++] = dirty;
        }
    } else if (l[0] && l[0] != '#') {
        t->unparsed++;
    }
}

static void consume(struct dt_trace *t, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            t->line[t->line_len] = '\0';
            parse_line(t, t->line);
            t->line_len = 0;
        } else if (t->line_len < sizeof(t->line) - 1) {
            t->line[t->line_len++] = buf[i];
        }
    }
}

static void *reader(void *opaque)
{
    struct dt_trace *t = opaque;
    char buf[65536];

    for (;;) {
        struct pollfd pfd = {.fd = t->pipe_fd, .events = POLLIN};
        ssize_t n;
        bool stopping = atomic_load(&t->stop);

        if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
            break;
        n = read(t->pipe_fd, buf, sizeof(buf));
        if (n > 0) {
            consume(t, buf, (size_t)n);
            continue;
        }
        if (stopping) /* drained after the stop request */
            break;
    }
    return NULL;
}

int dt_trace_start(struct dt_trace **out, gva_t min_addr, unsigned max_walks, char err[KS_ERR_LEN])
{
    static const char *const events[] = {"kvm_mmu_pagetable_walk", "kvm_mmu_paging_element",
                                         "kvm_mmu_walker_error", "kvm_mmu_set_accessed_bit",
                                         "kvm_mmu_set_dirty_bit"};
    const char *roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
    char path[256], val[512];
    struct dt_trace *t = calloc(1, sizeof(*t));
    int rc = -ENOENT;

    *out = NULL;
    if (!t)
        return -ENOMEM;
    t->pipe_fd = -1;
    for (t->cap = 64; t->cap < 2 * max_walks; t->cap *= 2)
        ;
    t->walks = calloc(t->cap, sizeof(*t->walks));
    if (!t->walks) {
        free(t);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < KS_ARRAY_SIZE(roots); i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/instances", roots[i]);
        if (!stat(path, &st)) {
            snprintf(t->dir, sizeof(t->dir), "%.180s/kvmscope-difftest-%d", path, (int)getpid());
            rc = mkdir(t->dir, 0700) ? -errno : 0;
            break;
        }
    }
    if (rc) {
        snprintf(err, KS_ERR_LEN, "no tracefs instance (%s): mount tracefs and run as root",
                 rc == -ENOENT ? "tracefs not mounted" : strerror(-rc));
        t->dir[0] = '\0';
        dt_trace_free(t);
        return rc;
    }
    snprintf(val, sizeof(val), "%d", (int)getpid());
    rc = write_file(t->dir, "buffer_size_kb", "16384");
    rc = rc ? rc : write_file(t->dir, "set_event_pid", val);
    snprintf(val, sizeof(val), "addr >= 0x%" PRIx64, min_addr);
    rc = rc ? rc : write_file(t->dir, "events/kvmmmu/kvm_mmu_pagetable_walk/filter", val);
    /* The harness's entries (run.c build_home): its PML4E/PDPTE/PDE, the
     * 2 MiB pages over the table pool, and its 4 KiB pages below 2 MiB. */
    rc = rc ? rc
            : write_file(t->dir, "events/kvmmmu/kvm_mmu_paging_element/filter",
                         "pte != 0x201027 && pte != 0x202027 && pte != 0x203027 && "
                         "pte != 0x4000e3 && pte != 0x6000e3 && !(level == 1 && pte < 0x200000)");
    for (unsigned i = 0; !rc && i < KS_ARRAY_SIZE(events); i++) {
        snprintf(path, sizeof(path), "events/kvmmmu/%s/enable", events[i]);
        rc = write_file(t->dir, path, "1");
    }
    if (!rc) {
        snprintf(path, sizeof(path), "%.224s/trace_pipe", t->dir);
        t->pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        rc = t->pipe_fd < 0 ? -errno : 0;
    }
    rc = rc ? rc : write_file(t->dir, "tracing_on", "1");
    if (!rc) {
        rc = -pthread_create(&t->reader, NULL, reader, t);
        t->reader_started = !rc;
    }
    if (rc) {
        snprintf(err, KS_ERR_LEN, "tracefs instance %.150s: %.64s", t->dir, strerror(-rc));
        dt_trace_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void dt_trace_stop(struct dt_trace *t)
{
    if (!t || !t->reader_started)
        return;
    write_file(t->dir, "tracing_on", "0");
    atomic_store(&t->stop, true);
    pthread_join(t->reader, NULL);
    t->reader_started = false;
}

const struct dt_twalk *dt_trace_find(const struct dt_trace *t, gva_t addr)
{
    bool fresh;
    const struct dt_twalk *w = addr ? slot((struct dt_trace *)t, addr, &fresh) : NULL;

    return w && !fresh ? w : NULL;
}

uint64_t dt_trace_unparsed(const struct dt_trace *t)
{
    return t->unparsed;
}

void dt_trace_free(struct dt_trace *t)
{
    if (!t)
        return;
    dt_trace_stop(t);
    if (t->pipe_fd >= 0)
        close(t->pipe_fd);
    if (t->dir[0] && rmdir(t->dir))
        fprintf(stderr, "difftest: could not remove %s: %s\n", t->dir, strerror(errno));
    free(t->walks);
    free(t);
}
