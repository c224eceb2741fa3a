/*
 * Fuzz target: the GDB stub (framing, every packet handler) against a target
 * with random guest memory and registers. Bytes go in as GDB would send them.
 */
#include "fuzz_common.h"

#include "ks/gdb.h"

#define MEM_SIZE 0x4000

struct fz_target {
    struct gdb_regs regs;
    uint8_t mem[MEM_SIZE];
};

static int get_regs(void *t, struct gdb_regs *r)
{
    *r = ((struct fz_target *)t)->regs;
    return 0;
}

static int set_regs(void *t, const struct gdb_regs *r)
{
    ((struct fz_target *)t)->regs = *r;
    return 0;
}

static int read_mem(void *t, gva_t va, void *buf, size_t len)
{
    struct fz_target *ft = t;

    if (va >= MEM_SIZE || len > MEM_SIZE - va)
        return -EFAULT;
    memcpy(buf, ft->mem + va, len);
    return 0;
}

static int write_mem(void *t, gva_t va, const void *buf, size_t len)
{
    struct fz_target *ft = t;

    if (va >= MEM_SIZE || len > MEM_SIZE - va)
        return -EFAULT;
    memcpy(ft->mem + va, buf, len);
    return 0;
}

static int insert_bp(void *t, enum gdb_bp_type type, gva_t addr, unsigned len)
{
    (void)t;
    (void)addr;
    (void)len;
    return type == GDB_WP_READ ? -EOPNOTSUPP : 0;
}

static int remove_bp(void *t, enum gdb_bp_type type, gva_t addr, unsigned len)
{
    (void)t;
    (void)type;
    (void)addr;
    (void)len;
    return 0;
}

static struct gdb_server *current;

static int resume(void *t, bool step)
{
    struct gdb_stop st = {0};

    (void)t;
    st.reason = step ? GDB_STOP_TRAP : GDB_STOP_INTERRUPT;
    return gdb_server_stopped(current, &st);
}

static void interrupt(void *t)
{
    (void)t;
}

static int monitor(void *t, const char *cmd, struct strbuf *out)
{
    (void)t;
    sb_printf(out, "monitor: %s\n", cmd);
    return 0;
}

static void detach(void *t, bool kill)
{
    (void)t;
    (void)kill;
}

static const struct gdb_target_ops ops = {get_regs, set_regs, read_mem,  write_mem, insert_bp,
                                          remove_bp, resume,  interrupt, monitor,   detach};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_target *t = calloc(1, sizeof(*t));
    struct gdb_server *s = calloc(1, sizeof(*s));
    size_t out_len;

    if (!t || !s)
        goto out;
    memcpy(t->mem, data, size < MEM_SIZE ? size : MEM_SIZE);
    current = s;
    gdb_server_init(s, &ops, t);
    /* Feed in uneven chunks so that packets split across reads are exercised. */
    while (size && !s->done) {
        size_t n = 1 + (data[0] % 64);
        if (n > size)
            n = size;
        gdb_server_input(s, data, n);
        gdb_server_output(s, &out_len);
        gdb_server_consumed(s, out_len);
        data += n;
        size -= n;
    }
    gdb_server_free(s);
out:
    free(t);
    free(s);
    return 0;
}
