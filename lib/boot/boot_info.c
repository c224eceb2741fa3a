/*
 * The boot information each protocol hands the kernel in EBX:
 *   Multiboot1 information structure (Multiboot 0.6.96 §3.3),
 *   Multiboot2 information tags (Multiboot2 2.0 §3.6),
 *   PVH hvm_start_info version 1 (Xen public/arch-x86/hvm/start_info.h).
 * Everything is staged in the boot area (boot_area_*), which boot.c sized
 * and placed beforehand and copies into guest memory afterwards.
 */
#include "boot_int.h"

#include <errno.h>
#include <string.h>

#define LOADER_NAME "kvmscope"

/* Multiboot1 info flags we fill: mem_*, cmdline, mods, mmap, boot_loader_name. */
#define MB1_INFO_MEMORY  0x001u
#define MB1_INFO_CMDLINE 0x004u
#define MB1_INFO_MODS    0x008u
#define MB1_INFO_MMAP    0x040u
#define MB1_INFO_LOADER  0x200u

static int overflow(struct boot_ctx *c)
{
    (void)c; /* c->err already says why */
    return -ENOSPC;
}

/* The memory map at +AREA_MMAP: Multiboot1 entries carry a leading size (20, excluding itself). */
static gpa_t write_mmap(struct boot_ctx *c, bool mb1_size_prefix)
{
    gpa_t at = c->area_gpa + AREA_MMAP;

    for (unsigned i = 0; i < c->nmmap; i++, at += 24) {
        const struct boot_e820 *e = &c->mmap[i];

        if (mb1_size_prefix) {
            boot_area_put32(c, at, 20);
            boot_area_put64(c, at + 4, e->base);
            boot_area_put64(c, at + 12, e->len);
            boot_area_put32(c, at + 20, e->type);
        } else {
            boot_area_put64(c, at, e->base);
            boot_area_put64(c, at + 8, e->len);
            boot_area_put32(c, at + 16, e->type);
            boot_area_put32(c, at + 20, 0);
        }
    }
    return c->area_gpa + AREA_MMAP;
}

int boot_info_mb1(struct boot_ctx *c, gpa_t *info)
{
    const struct boot_request *r = c->req;
    gpa_t mbi = boot_area_alloc(c, 0x80, 8), mods, cmdline, name;

    if (!mbi)
        return overflow(c);
    /* QEMU and GRUB legacy pass "<kernel path> <args>"; kvm-unit-tests skip argv[0]. */
    cmdline = boot_area_str(c, r->kernel_name, r->cmdline);
    name = boot_area_str(c, NULL, LOADER_NAME);
    mods = boot_area_alloc(c, 16 * (size_t)r->nmodules, 16);
    if (!cmdline || !name || !mods)
        return overflow(c);
    for (unsigned i = 0; i < r->nmodules; i++) {
        gpa_t mc = boot_area_str(c, NULL, r->modules[i].cmdline);

        if (!mc)
            return overflow(c);
        boot_area_put32(c, mods + 16 * i, (uint32_t)c->mod_start[i]);
        boot_area_put32(c, mods + 16 * i + 4, (uint32_t)c->mod_end[i]);
        boot_area_put32(c, mods + 16 * i + 8, (uint32_t)mc);
        boot_area_put32(c, mods + 16 * i + 12, 0);
    }
    boot_area_put32(c, mbi + 0,
                    MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP |
                        MB1_INFO_LOADER);
    boot_area_put32(c, mbi + 4, c->mem_lower);
    boot_area_put32(c, mbi + 8, c->mem_upper);
    boot_area_put32(c, mbi + 16, (uint32_t)cmdline);
    boot_area_put32(c, mbi + 20, r->nmodules);
    boot_area_put32(c, mbi + 24, (uint32_t)mods);
    boot_area_put32(c, mbi + 44, 24 * c->nmmap);
    boot_area_put32(c, mbi + 48, (uint32_t)write_mmap(c, true));
    boot_area_put32(c, mbi + 64, (uint32_t)name);
    *info = mbi;
    return 0;
}

static size_t tag_len(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Append one MBI tag {u32 type, u32 size, payload} at (*at); returns the payload address. */
static gpa_t put_tag(struct boot_ctx *c, gpa_t *at, uint32_t type, size_t payload)
{
    gpa_t t = *at;

    boot_area_put32(c, t, type);
    boot_area_put32(c, t + 4, (uint32_t)(8 + payload));
    *at += tag_len(8 + payload);
    return t + 8;
}

static void put_str(struct boot_ctx *c, gpa_t at, const char *prefix, const char *s)
{
    size_t pl = prefix ? strlen(prefix) : 0;

    if (prefix) {
        boot_area_put(c, at, prefix, pl);
        boot_area_put(c, at + pl++, " ", 1);
    }
    boot_area_put(c, at + pl, s ? s : "", (s ? strlen(s) : 0) + 1);
}

int boot_info_mb2(struct boot_ctx *c, gpa_t *info)
{
    const struct boot_request *r = c->req;
    size_t cl = (r->cmdline ? strlen(r->cmdline) : 0) + 1;
    size_t total = 8 + tag_len(8 + cl) + tag_len(8 + sizeof(LOADER_NAME)) + tag_len(16) +
                   tag_len(16 + 24 * (size_t)c->nmmap) + 8;
    gpa_t mbi, at, p;

    for (unsigned i = 0; i < r->nmodules; i++)
        total += tag_len(16 + (r->modules[i].cmdline ? strlen(r->modules[i].cmdline) : 0) + 1);
    mbi = boot_area_alloc(c, total, 8);
    if (!mbi)
        return overflow(c);
    boot_area_put32(c, mbi, (uint32_t)total);
    boot_area_put32(c, mbi + 4, 0);
    at = mbi + 8;
    p = put_tag(c, &at, 1, cl);
    put_str(c, p, NULL, r->cmdline);
    p = put_tag(c, &at, 2, sizeof(LOADER_NAME));
    put_str(c, p, NULL, LOADER_NAME);
    for (unsigned i = 0; i < r->nmodules; i++) {
        const char *mc = r->modules[i].cmdline;

        p = put_tag(c, &at, 3, 8 + (mc ? strlen(mc) : 0) + 1);
        boot_area_put32(c, p, (uint32_t)c->mod_start[i]);
        boot_area_put32(c, p + 4, (uint32_t)c->mod_end[i]);
        put_str(c, p + 8, NULL, mc);
    }
    p = put_tag(c, &at, 4, 8);
    boot_area_put32(c, p, c->mem_lower);
    boot_area_put32(c, p + 4, c->mem_upper);
    p = put_tag(c, &at, 6, 8 + 24 * (size_t)c->nmmap);
    boot_area_put32(c, p, 24);    /* entry_size */
    boot_area_put32(c, p + 4, 0); /* entry_version */
    for (unsigned i = 0; i < c->nmmap; i++) {
        boot_area_put64(c, p + 8 + 24 * i, c->mmap[i].base);
        boot_area_put64(c, p + 16 + 24 * i, c->mmap[i].len);
        boot_area_put32(c, p + 24 + 24 * i, c->mmap[i].type);
        boot_area_put32(c, p + 28 + 24 * i, 0);
    }
    put_tag(c, &at, 0, 0);
    *info = mbi;
    return 0;
}

int boot_info_pvh(struct boot_ctx *c, gpa_t *info)
{
    const struct boot_request *r = c->req;
    gpa_t si = boot_area_alloc(c, 56, 8), cmdline, mods = 0;

    if (!si)
        return overflow(c);
    cmdline = boot_area_str(c, NULL, r->cmdline);
    if (!cmdline)
        return overflow(c);
    if (r->nmodules) {
        mods = boot_area_alloc(c, 32 * (size_t)r->nmodules, 8);
        if (!mods)
            return overflow(c);
    }
    for (unsigned i = 0; i < r->nmodules; i++) {
        gpa_t mc = boot_area_str(c, NULL, r->modules[i].cmdline);

        if (!mc)
            return overflow(c);
        boot_area_put64(c, mods + 32 * i, c->mod_start[i]);
        boot_area_put64(c, mods + 32 * i + 8, c->mod_end[i] - c->mod_start[i]);
        boot_area_put64(c, mods + 32 * i + 16, mc);
        boot_area_put64(c, mods + 32 * i + 24, 0);
    }
    boot_area_put32(c, si + 0, BOOT_PVH_START_MAGIC);
    boot_area_put32(c, si + 4, 1); /* version 1: has the memmap fields */
    boot_area_put32(c, si + 8, 0);
    boot_area_put32(c, si + 12, r->nmodules);
    boot_area_put64(c, si + 16, mods);
    boot_area_put64(c, si + 24, cmdline);
    boot_area_put64(c, si + 32, 0); /* no ACPI RSDP */
    boot_area_put64(c, si + 40, write_mmap(c, false));
    boot_area_put32(c, si + 48, c->nmmap);
    boot_area_put32(c, si + 52, 0);
    *info = si;
    return 0;
}
