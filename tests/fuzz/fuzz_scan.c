/*
 * Fuzz target: the page-table scan and lint over random memory and control
 * state. It must terminate quickly (tables that point back at themselves end
 * in -ELOOP), never read outside guest memory (ASan watches the buffer), and
 * report runs in ascending, non-overlapping order whose OK runs agree with a
 * walk of their first address (entries, level, rights and GPA).
 */
#include "fuzz_common.h"

#include "ks/paging.h"

#define MEM_SIZE 0x10000

struct fz_scan {
    const struct gmem *m;
    const struct pt_ctx *c;
    bool have;
    gva_t next; /* end of the previous run (0 after a run that ends at the top) */
    bool wrapped;
};

static int check_run(void *opaque, const struct pt_range *r)
{
    struct fz_scan *f = opaque;
    struct pt_walk w;
    char buf[512];

    if (!r->size || f->wrapped || (f->have && r->va < f->next))
        __builtin_trap(); /* empty, or not in ascending order */
    f->have = true;
    f->next = r->va + r->size;
    f->wrapped = f->next == 0;
    pt_lint(f->c, r, buf, sizeof(buf));
    /* Same entries, same verdict and rights (a walk may still fault on permissions: SMAP). */
    if (r->verdict == PT_OK && r->level > 0 && pt_walk(f->m, f->c, r->va, 0, &w) == 0 &&
        ((w.fault && w.lv[w.nlevels - 1].verdict != PT_OK) || w.user != r->user ||
         w.writable != r->writable || w.executable != r->executable ||
         w.lv[w.nlevels - 1].level != r->level || (!w.fault && w.gpa != r->gpa)))
        __builtin_trap();
    /* Reserved and unbacked runs: the walk stops at the same level for the same reason. */
    if (r->verdict != PT_OK && pt_walk(f->m, f->c, r->va, 0, &w) == 0 &&
        (!w.fault || w.fault_level != r->level ||
         w.lv[w.nlevels - 1].verdict != (r->verdict == PT_RESERVED ? PT_RESERVED : PT_UNBACKED)))
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *mem = calloc(1, MEM_SIZE);
    struct pt_ctx c = {0};
    struct gmem m;
    struct fz_scan f = {&m, &c, false, 0, false};
    struct pt_scan_stats st;

    if (!mem)
        return 0;
    c.cr0 = fz_take(&data, &size, 8);
    c.cr3 = fz_take(&data, &size, 8) & 0xffff;
    c.cr4 = fz_take(&data, &size, 8);
    c.efer = fz_take(&data, &size, 8);
    c.cpu.maxphyaddr = (unsigned)fz_take(&data, &size, 1) % 64;
    c.cpu.gbpages = fz_take(&data, &size, 1) & 1;
    c.cpu.amd = fz_take(&data, &size, 1) & 1;
    c.pdptr_valid = fz_take(&data, &size, 1) & 1;
    for (int i = 0; i < 4; i++)
        c.pdptr[i] = fz_take(&data, &size, 8);
    memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);

    gmem_init(&m);
    gmem_add(&m, 0, MEM_SIZE, mem, false);
    pt_scan(&m, &c, check_run, &f, &st);
    /* The loop bound: at most 4 x 16 pages + 64 tables, plus the one that tripped it. */
    if (st.tables > 4 * (MEM_SIZE / 4096) + 64 + 1)
        __builtin_trap();
    free(mem);
    return 0;
}
