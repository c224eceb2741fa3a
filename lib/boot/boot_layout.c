/*
 * Where a kernel's pieces go in guest RAM (part of boot_load()): the kernel
 * segments and entry point checked against RAM and the PCI hole, modules
 * placed after the kernel, the memory map, and the boot area. Every value
 * taken from the image is validated first, each rejection with its own message.
 */
#include "boot_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Every byte of [s, s+len) is backed by some region (adjacent regions may be chained). */
static bool ram_covers(const struct gmem *m, gpa_t s, uint64_t len)
{
    gpa_t cur = s, end = s + len;

    if (end < s)
        return false;
    while (cur < end) {
        const struct gmem_region *r = NULL;

        for (unsigned i = 0; i < m->nregions; i++)
            if (cur >= m->region[i].gpa && cur - m->region[i].gpa < m->region[i].size)
                r = &m->region[i];
        if (!r)
            return false;
        cur = r->gpa + r->size;
        if (cur == 0) /* region ends at 2^64 */
            return true;
    }
    return true;
}

/* End of the RAM run that contains (s), or (s) itself when (s) is not RAM. */
static gpa_t contig_end(const struct gmem *m, gpa_t s)
{
    gpa_t cur = s;

    for (;;) {
        const struct gmem_region *r = NULL;

        for (unsigned i = 0; i < m->nregions; i++)
            if (cur >= m->region[i].gpa && cur - m->region[i].gpa < m->region[i].size)
                r = &m->region[i];
        if (!r || r->gpa + r->size == 0)
            return cur;
        cur = r->gpa + r->size;
    }
}

static bool hits_hole(gpa_t s, uint64_t len)
{
    return len && s < BOOT_HOLE_END && s + len > BOOT_HOLE_START;
}

static bool ranges_overlap(gpa_t a, uint64_t alen, gpa_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/*
 * A loaded range must be RAM, below 4 GiB (every protocol here starts in
 * 32-bit mode with 32-bit pointers), outside the legacy hole, and disjoint
 * from every other range.
 */
int boot_check_segments(struct boot_ctx *c)
{
    for (unsigned i = 0; i < c->nseg; i++) {
        const struct boot_seg *s = &c->seg[i];
        unsigned long long a = s->paddr, n = s->memsz;

        if (s->memsz > c->ram_total)
            return boot_fail(c, -EINVAL, "%s: memsz 0x%llx exceeds guest RAM (0x%llx)", s->name, n,
                             (unsigned long long)c->ram_total);
        if (s->paddr >= FOUR_GIB || s->memsz > FOUR_GIB - s->paddr)
            return boot_fail(c, -EINVAL, "%s: 0x%llx+0x%llx extends beyond 4 GiB", s->name, a, n);
        if (hits_hole(s->paddr, s->memsz))
            return boot_fail(c, -EINVAL,
                             "%s: 0x%llx-0x%llx overlaps the VGA/BIOS hole "
                             "0xa0000-0x100000",
                             s->name, a, a + n);
        if (!ram_covers(c->m, s->paddr, s->memsz))
            return boot_fail(c, -ENOSPC, "%s: 0x%llx-0x%llx is outside guest RAM", s->name, a,
                             a + n);
        for (unsigned j = 0; j < i; j++) {
            const struct boot_seg *o = &c->seg[j];

            if (ranges_overlap(s->paddr, s->memsz, o->paddr, o->memsz))
                return boot_fail(c, -EINVAL, "%s (0x%llx-0x%llx) overlaps %s (0x%llx-0x%llx)",
                                 s->name, a, a + n, o->name, (unsigned long long)o->paddr,
                                 (unsigned long long)(o->paddr + o->memsz));
        }
    }
    c->kstart = ~0ULL;
    c->kend = 0;
    for (unsigned i = 0; i < c->nseg; i++) {
        if (c->seg[i].paddr < c->kstart)
            c->kstart = c->seg[i].paddr;
        if (c->seg[i].paddr + c->seg[i].memsz > c->kend)
            c->kend = c->seg[i].paddr + c->seg[i].memsz;
    }
    return 0;
}

int boot_write_guest(struct boot_ctx *c, const char *what, gpa_t gpa, const void *src, size_t len)
{
    if (gmem_write(c->m, gpa, src, len))
        return boot_fail(c, -EFAULT, "%s: cannot write guest memory 0x%llx+0x%zx (read-only?)",
                         what, (unsigned long long)gpa, len);
    return 0;
}

int boot_load_segments(struct boot_ctx *c)
{
    static const uint8_t zeros[PAGE];

    for (unsigned i = 0; i < c->nseg; i++) {
        const struct boot_seg *s = &c->seg[i];
        uint64_t done = s->filesz;
        int rc = boot_write_guest(c, s->name, s->paddr, c->req->image + s->offset, s->filesz);

        while (!rc && done < s->memsz) {
            size_t n = s->memsz - done > PAGE ? PAGE : (size_t)(s->memsz - done);

            rc = boot_write_guest(c, s->name, s->paddr + done, zeros, n);
            done += n;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int boot_check_entry(struct boot_ctx *c, uint64_t entry, const char *what)
{
    for (unsigned i = 0; i < c->nseg; i++) {
        const struct boot_seg *s = &c->seg[i];

        if (entry < s->paddr || entry - s->paddr >= s->memsz)
            continue;
        if (entry - s->paddr >= s->filesz)
            return boot_fail(c, -EINVAL, "%s 0x%llx lies in the zero-filled (bss) part of %s", what,
                             (unsigned long long)entry, s->name);
        return 0;
    }
    return boot_fail(c, -EINVAL, "%s 0x%llx is outside the loaded kernel (0x%llx-0x%llx)", what,
                     (unsigned long long)entry, (unsigned long long)c->kstart,
                     (unsigned long long)c->kend);
}

/*
 * Multiboot address fields (MB1 §3.1.3, MB2 §3.1.5): the file is loaded from
 * offset hdr_off - (header_addr - load_addr) to load_addr, up to
 * load_end_addr (0 = end of file), then zeroed up to bss_end_addr (0 = none).
 * MB2 adds load_addr == 0xffffffff: "load from the beginning of the file".
 */
int boot_add_kludge(struct boot_ctx *c, const char *who, uint32_t hdr_off, uint32_t header_addr,
                    uint32_t load_addr, uint32_t load_end_addr, uint32_t bss_end_addr)
{
    size_t size = c->req->image_size;
    uint64_t file_off, filesz, memsz;
    struct boot_seg *s;

    if (load_addr == 0xffffffffu) {
        if (header_addr < hdr_off)
            return boot_fail(c, -EINVAL,
                             "%s: header_addr 0x%x is below the header's file "
                             "offset 0x%x",
                             who, header_addr, hdr_off);
        load_addr = header_addr - hdr_off;
    }
    if (load_addr > header_addr)
        return boot_fail(c, -EINVAL, "%s: load_addr 0x%x is above header_addr 0x%x", who, load_addr,
                         header_addr);
    if (header_addr - load_addr > hdr_off)
        return boot_fail(c, -EINVAL,
                         "%s: header_addr - load_addr = 0x%x puts the load start "
                         "before the beginning of the file (header at 0x%x)",
                         who, header_addr - load_addr, hdr_off);
    file_off = hdr_off - (header_addr - load_addr);
    if (load_end_addr == 0) {
        filesz = size - file_off;
    } else {
        if (load_end_addr < load_addr)
            return boot_fail(c, -EINVAL, "%s: load_end_addr 0x%x is below load_addr 0x%x", who,
                             load_end_addr, load_addr);
        filesz = load_end_addr - load_addr;
        if (filesz > size - file_off)
            return boot_fail(c, -EINVAL,
                             "%s: file range 0x%llx+0x%llx beyond end of image "
                             "(0x%zx)",
                             who, (unsigned long long)file_off, (unsigned long long)filesz, size);
    }
    memsz = filesz;
    if (bss_end_addr) {
        if (bss_end_addr < load_addr + filesz)
            return boot_fail(c, -EINVAL,
                             "%s: bss_end_addr 0x%x is below the end of the loaded "
                             "text 0x%llx",
                             who, bss_end_addr, (unsigned long long)(load_addr + filesz));
        memsz = bss_end_addr - load_addr;
    }
    if (memsz == 0)
        return boot_fail(c, -EINVAL, "%s: nothing to load (empty range)", who);
    s = &c->seg[c->nseg++];
    snprintf(s->name, sizeof(s->name), "%s", who);
    s->paddr = s->vaddr = load_addr;
    s->offset = file_off;
    s->filesz = filesz;
    s->memsz = memsz;
    return 0;
}

int boot_check_request(struct boot_ctx *c)
{
    const struct boot_request *r = c->req;

    if (!r->image || r->image_size == 0)
        return boot_fail(c, -EINVAL, "empty kernel image");
    if (r->nmodules > BOOT_MAX_MODULES)
        return boot_fail(c, -EINVAL, "%u modules (limit %u)", r->nmodules, BOOT_MAX_MODULES);
    if (r->nmodules && !r->modules)
        return boot_fail(c, -EINVAL, "%u modules but no module table", r->nmodules);
    if (r->cmdline && strlen(r->cmdline) > BOOT_MAX_CMDLINE)
        return boot_fail(c, -EINVAL, "command line of %zu bytes is absurd (limit %u)",
                         strlen(r->cmdline), BOOT_MAX_CMDLINE);
    if (r->kernel_name && strlen(r->kernel_name) > BOOT_MAX_CMDLINE)
        return boot_fail(c, -EINVAL, "kernel name of %zu bytes is absurd (limit %u)",
                         strlen(r->kernel_name), BOOT_MAX_CMDLINE);
    for (unsigned i = 0; i < r->nmodules; i++) {
        const struct boot_module *mod = &r->modules[i];

        if (mod->size && !mod->data)
            return boot_fail(c, -EINVAL, "module %u has a size but no data", i);
        if (mod->cmdline && strlen(mod->cmdline) > BOOT_MAX_CMDLINE)
            return boot_fail(c, -EINVAL,
                             "module %u: command line of %zu bytes is absurd "
                             "(limit %u)",
                             i, strlen(mod->cmdline), BOOT_MAX_CMDLINE);
    }
    return 0;
}

/* Next page-aligned address at or after (at) where (len) bytes avoid the hole. */
static gpa_t place_after(gpa_t at, uint64_t len)
{
    at = align_up(at, PAGE);
    if (hits_hole(at, len ? len : 1))
        at = BOOT_HOLE_END;
    return at;
}

/* Modules go page-aligned after the kernel, as QEMU's multiboot loader places them. */
int boot_place_modules(struct boot_ctx *c)
{
    gpa_t at = align_up(c->kend, PAGE);

    for (unsigned i = 0; i < c->req->nmodules; i++) {
        const struct boot_module *mod = &c->req->modules[i];
        int rc;

        if (mod->size > c->ram_total)
            return boot_fail(c, -ENOSPC,
                             "module %u: 0x%zx bytes do not fit in guest RAM "
                             "(0x%llx)",
                             i, mod->size, (unsigned long long)c->ram_total);
        at = place_after(at, mod->size);
        if (at + mod->size > FOUR_GIB)
            return boot_fail(c, -ENOSPC, "module %u: 0x%llx+0x%zx extends beyond 4 GiB", i,
                             (unsigned long long)at, mod->size);
        if (!ram_covers(c->m, at, mod->size ? mod->size : 1))
            return boot_fail(c, -ENOSPC, "module %u: 0x%llx+0x%zx is outside guest RAM", i,
                             (unsigned long long)at, mod->size);
        rc = boot_write_guest(c, "module", at, mod->data, mod->size);
        if (rc)
            return rc;
        c->mod_start[i] = at;
        c->mod_end[i] = at + mod->size;
        at += mod->size;
    }
    c->modules_end = c->req->nmodules ? c->mod_end[c->req->nmodules - 1] : align_up(c->kend, PAGE);
    return 0;
}

static int add_mmap(struct boot_ctx *c, uint64_t base, uint64_t len, uint32_t type)
{
    struct boot_e820 *last = c->nmmap ? &c->mmap[c->nmmap - 1] : NULL;

    if (!len)
        return 0;
    if (last && last->type == type && last->base + last->len == base) {
        last->len += len;
        return 0;
    }
    if (c->nmmap == BOOT_MAX_MMAP)
        return boot_fail(c, -ENOSPC, "guest RAM has more than %u ranges", BOOT_MAX_MMAP);
    c->mmap[c->nmmap++] = (struct boot_e820){base, len, type};
    return 0;
}

/*
 * The memory map: every gmem region as available RAM, except the
 * 0xa0000-0x100000 hole, which is always reported reserved (it is where a PC
 * has VGA memory and ROMs, and what kernels expect to find there).
 */
int boot_build_mmap(struct boot_ctx *c)
{
    const struct gmem *m = c->m;
    bool used[GMEM_MAX_REGIONS] = {false};
    bool hole_done = false;
    gpa_t low_end;
    int rc = 0;

    for (unsigned n = 0; n < m->nregions && !rc; n++) {
        unsigned best = m->nregions;

        for (unsigned i = 0; i < m->nregions; i++)
            if (!used[i] && (best == m->nregions || m->region[i].gpa < m->region[best].gpa))
                best = i;
        used[best] = true;
        gpa_t s = m->region[best].gpa, e = s + m->region[best].size;

        if (!hole_done && e > BOOT_HOLE_START) {
            if (s < BOOT_HOLE_START)
                rc = add_mmap(c, s, BOOT_HOLE_START - s, 1);
            if (!rc)
                rc = add_mmap(c, BOOT_HOLE_START, BOOT_HOLE_END - BOOT_HOLE_START, 2);
            hole_done = true;
            if (s < BOOT_HOLE_END)
                s = BOOT_HOLE_END;
            if (e <= s)
                continue;
        }
        if (!rc)
            rc = add_mmap(c, s, e - s, 1);
    }
    if (!rc && !hole_done)
        rc = add_mmap(c, BOOT_HOLE_START, BOOT_HOLE_END - BOOT_HOLE_START, 2);
    if (rc)
        return rc;
    low_end = contig_end(m, 0);
    if (low_end > BOOT_HOLE_START)
        low_end = BOOT_HOLE_START;
    c->mem_lower = (uint32_t)(low_end / 1024);
    uint64_t upper = (contig_end(m, BOOT_HOLE_END) - BOOT_HOLE_END) / 1024;
    c->mem_upper = upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper;
    return 0;
}

/* An upper bound of what any information writer puts into the boot area. */
static size_t area_bound(const struct boot_ctx *c)
{
    const struct boot_request *r = c->req;
    size_t n = AREA_FREE + 0x100 + BOOT_MAX_MMAP * 24 + (r->nmodules + 4) * 64;

    n += (r->cmdline ? strlen(r->cmdline) : 0) + 1;
    n += (r->kernel_name ? strlen(r->kernel_name) : 0) + 1;
    for (unsigned i = 0; i < r->nmodules; i++)
        n += (r->modules[i].cmdline ? strlen(r->modules[i].cmdline) : 0) + 1;
    return align_up(n, PAGE);
}

bool boot_area_free_at(const struct boot_ctx *c, gpa_t at, size_t len)
{
    if (!ram_covers(c->m, at, len) || hits_hole(at, len) || at + len > FOUR_GIB)
        return false;
    for (unsigned i = 0; i < c->nseg; i++)
        if (ranges_overlap(at, len, c->seg[i].paddr, c->seg[i].memsz))
            return false;
    for (unsigned i = 0; i < c->req->nmodules; i++)
        if (ranges_overlap(at, len, c->mod_start[i], c->mod_end[i] - c->mod_start[i]))
            return false;
    return true;
}

int boot_place_area(struct boot_ctx *c)
{
    size_t len = area_bound(c);
    gpa_t high = place_after(c->modules_end, len);

    if (boot_area_free_at(c, BOOT_AREA_LOW, len))
        c->area_gpa = BOOT_AREA_LOW;
    else if (boot_area_free_at(c, high, len))
        c->area_gpa = high;
    else
        return boot_fail(c, -ENOSPC,
                         "no room for the boot information (0x%zx bytes) at 0x%x "
                         "or after the modules at 0x%llx",
                         len, BOOT_AREA_LOW, (unsigned long long)high);
    c->area = calloc(1, len);
    if (!c->area)
        return boot_fail(c, -ENOMEM, "out of memory for the boot area (0x%zx bytes)", len);
    c->area_size = len;
    c->area_used = AREA_INFO;
    return 0;
}

gpa_t boot_area_alloc(struct boot_ctx *c, size_t len, size_t align)
{
    size_t at = align_up(c->area_used, align);

    /* area_bound() makes this impossible; keep the check so a bug cannot overrun. */
    if (at > c->area_size || len > c->area_size - at) {
        boot_fail(c, -ENOSPC, "boot area overflow (0x%zx + 0x%zx > 0x%zx)", at, len, c->area_size);
        return 0;
    }
    c->area_used = at + len;
    return c->area_gpa + at;
}

gpa_t boot_area_str(struct boot_ctx *c, const char *prefix, const char *s)
{
    size_t pl = prefix ? strlen(prefix) + 1 : 0, sl = s ? strlen(s) : 0;
    gpa_t at = boot_area_alloc(c, pl + sl + 1, 1);

    if (!at)
        return 0;
    if (prefix) {
        boot_area_put(c, at, prefix, pl - 1);
        boot_area_put(c, at + pl - 1, " ", 1);
    }
    boot_area_put(c, at + pl, s ? s : "", sl);
    boot_area_put(c, at + pl + sl, "", 1);
    return at;
}

void boot_area_put(struct boot_ctx *c, gpa_t gpa, const void *src, size_t len)
{
    memcpy(c->area + (gpa - c->area_gpa), src, len);
}

void boot_area_put32(struct boot_ctx *c, gpa_t gpa, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    boot_area_put(c, gpa, b, 4);
}

void boot_area_put64(struct boot_ctx *c, gpa_t gpa, uint64_t v)
{
    boot_area_put32(c, gpa, (uint32_t)v);
    boot_area_put32(c, gpa + 4, (uint32_t)(v >> 32));
}
