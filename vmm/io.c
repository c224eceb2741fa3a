/*
 * Port and MMIO handler registry: a sorted array of non-overlapping ranges,
 * searched by binary search on every exit (a handful of devices, so the
 * table stays in one or two cache lines).
 */
#include "vmm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int io_table_add(struct io_table *t, uint64_t base, uint64_t len, vmm_io_fn fn, void *opaque)
{
    unsigned pos = 0;

    if (!len || !fn || base + len < base)
        return -EINVAL;
    while (pos < t->n && t->r[pos].base < base)
        pos++;
    if (pos > 0 && t->r[pos - 1].base + t->r[pos - 1].len > base)
        return -EINVAL;
    if (pos < t->n && base + len > t->r[pos].base)
        return -EINVAL;
    if (t->n == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 8;
        struct io_range *r = realloc(t->r, cap * sizeof(*r));

        if (!r)
            return -ENOMEM;
        t->r = r;
        t->cap = cap;
    }
    memmove(&t->r[pos + 1], &t->r[pos], (t->n - pos) * sizeof(*t->r));
    t->r[pos] = (struct io_range){base, len, fn, opaque};
    t->n++;
    return 0;
}

const struct io_range *io_table_find(const struct io_table *t, uint64_t addr)
{
    unsigned lo = 0, hi = t->n;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct io_range *r = &t->r[mid];

        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

void io_table_free(struct io_table *t)
{
    free(t->r);
    memset(t, 0, sizeof(*t));
}

int vmm_register_pio(struct vmm *vm, uint16_t base, uint16_t len, vmm_io_fn fn, void *opaque)
{
    if ((uint32_t)base + len > 0x10000)
        return -EINVAL;
    return io_table_add(&vm->pio, base, len, fn, opaque);
}

int vmm_register_mmio(struct vmm *vm, gpa_t base, uint64_t len, vmm_io_fn fn, void *opaque)
{
    /* A range that overlaps RAM would never exit: refuse it rather than never call it. */
    for (unsigned i = 0; i < vm->gmem.nregions; i++) {
        const struct gmem_region *r = &vm->gmem.region[i];

        if (base < r->gpa + r->size && r->gpa < base + len)
            return -EINVAL;
    }
    return io_table_add(&vm->mmio, base, len, fn, opaque);
}
