#include "ks/gmem.h"

#include <errno.h>
#include <string.h>

void gmem_init(struct gmem *m)
{
    memset(m, 0, sizeof(*m));
}

int gmem_add(struct gmem *m, gpa_t gpa, uint64_t size, void *hva, bool writable)
{
    if (!size || !hva || gpa + size < gpa)
        return -EINVAL;
    for (unsigned i = 0; i < m->nregions; i++) {
        const struct gmem_region *r = &m->region[i];
        if (gpa < r->gpa + r->size && r->gpa < gpa + size)
            return -EINVAL;
    }
    if (m->nregions == GMEM_MAX_REGIONS)
        return -ENOSPC;
    m->region[m->nregions++] = (struct gmem_region){gpa, size, hva, writable};
    return 0;
}

static const struct gmem_region *find(const struct gmem *m, gpa_t gpa)
{
    for (unsigned i = 0; i < m->nregions; i++) {
        const struct gmem_region *r = &m->region[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size)
            return r;
    }
    return NULL;
}

void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len)
{
    const struct gmem_region *r = find(m, gpa);
    uint64_t off;

    if (!r)
        return NULL;
    if (!len)
        len = 1;
    off = gpa - r->gpa;
    if (len > r->size - off)
        return NULL;
    return r->hva + off;
}

/* Walk the range region by region so that copies may span adjacent regions. */
static int copy(const struct gmem *m, gpa_t gpa, uint8_t *host, size_t len, bool to_guest)
{
    while (len) {
        const struct gmem_region *r = find(m, gpa);
        uint64_t off, n;

        if (!r || (to_guest && !r->writable))
            return -EFAULT;
        off = gpa - r->gpa;
        n = r->size - off;
        if (n > len)
            n = len;
        if (to_guest)
            memcpy(r->hva + off, host, n);
        else
            memcpy(host, r->hva + off, n);
        host += n;
        len -= n;
        gpa += n;
        if (len && gpa == 0)
            return -EFAULT;
    }
    return 0;
}

int gmem_read(const struct gmem *m, gpa_t gpa, void *buf, size_t len)
{
    return copy(m, gpa, buf, len, false);
}

int gmem_write(const struct gmem *m, gpa_t gpa, const void *buf, size_t len)
{
    return copy(m, gpa, (uint8_t *)(uintptr_t)buf, len, true);
}

int gmem_cmpxchg(const struct gmem *m, gpa_t gpa, uint64_t old, uint64_t new_val, unsigned size)
{
    const struct gmem_region *r = find(m, gpa);
    uint8_t *p;

    if (size != 4 && size != 8)
        return -EINVAL;
    if (gpa & (size - 1))
        return -EINVAL;
    p = gmem_ptr(m, gpa, size);
    if (!p || !r->writable)
        return -EFAULT;
    /* The guest may run on another thread; use a real atomic as KVM does. */
    if (size == 4) {
        uint32_t o = (uint32_t)old;
        return __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)new_val, false,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
                   ? 0
                   : -EAGAIN;
    }
    return __atomic_compare_exchange_n((uint64_t *)p, &old, new_val, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST)
               ? 0
               : -EAGAIN;
}

gpa_t gmem_end(const struct gmem *m)
{
    gpa_t end = 0;

    for (unsigned i = 0; i < m->nregions; i++)
        if (m->region[i].gpa + m->region[i].size > end)
            end = m->region[i].gpa + m->region[i].size;
    return end;
}
