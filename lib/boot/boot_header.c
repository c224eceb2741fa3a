/*
 * Multiboot1 and Multiboot2 header search and validation.
 * Multiboot 0.6.96 §3.1 (header within the first 8192 bytes, 32-bit aligned,
 * magic + flags + checksum == 0, flag bits 0-15 are requirements);
 * Multiboot2 2.0 §3.1 (within the first 32768 bytes, 64-bit aligned, tags
 * padded to 8 bytes, "optional" flag bit 0, end tag of type 0 size 8).
 */
#include "boot_int.h"

#include <errno.h>
#include <stdio.h>

#define MB1_FLAG_PAGE_ALIGN 0x1u
#define MB1_FLAG_MEMINFO    0x2u
#define MB1_FLAG_VIDEO      0x4u
#define MB1_KNOWN_REQUIRED  (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO | MB1_FLAG_VIDEO)

int boot_mb1_find(struct boot_ctx *c, struct boot_mb1_header *h)
{
    const uint8_t *img = c->req->image;
    size_t size = c->req->image_size;
    size_t limit = size < BOOT_MB1_SEARCH ? size : BOOT_MB1_SEARCH;
    long bad = -1;
    uint32_t bad_sum = 0;

    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = boot_le32(img + off), flags = boot_le32(img + off + 4);
        uint32_t sum = magic + flags + boot_le32(img + off + 8);

        if (magic != BOOT_MB1_HEADER_MAGIC)
            continue;
        if (sum != 0) {
            if (bad < 0) {
                bad = (long)off;
                bad_sum = sum;
            }
            continue;
        }
        h->off = (uint32_t)off;
        h->flags = flags;
        /* Bits 0-15 are requirements: an unknown one means "don't boot me" (§3.1.2). */
        if (flags & 0xffffu & ~MB1_KNOWN_REQUIRED)
            return boot_fail(c, -EINVAL,
                             "Multiboot1 header at 0x%zx: flags 0x%x require "
                             "unknown features (bits 0x%x)",
                             off, flags, flags & 0xffffu & ~MB1_KNOWN_REQUIRED);
        if (flags & BOOT_MB1_FLAG_AOUT_KLUDGE) {
            if (off + 32 > limit)
                return boot_fail(c, -EINVAL,
                                 "Multiboot1 header at 0x%zx: a.out kludge fields "
                                 "end beyond the first 0x%zx bytes",
                                 off, limit);
            h->header_addr = boot_le32(img + off + 12);
            h->load_addr = boot_le32(img + off + 16);
            h->load_end_addr = boot_le32(img + off + 20);
            h->bss_end_addr = boot_le32(img + off + 24);
            h->entry_addr = boot_le32(img + off + 28);
        }
        return 1;
    }
    if (bad >= 0)
        return boot_fail(c, -EINVAL,
                         "Multiboot1 header at 0x%lx: bad checksum "
                         "(magic + flags + checksum = 0x%x, must be 0)",
                         bad, bad_sum);
    return 0;
}

/* MBI tag types boot_info_mb2() writes (Multiboot2 §3.6). */
static bool mbi_tag_provided(uint32_t t)
{
    return t == 0 || t == 1 || t == 2 || t == 3 || t == 4 || t == 6;
}

static const char *header_tag_name(unsigned t)
{
    static const char *const names[] = {"end",
                                        "information request",
                                        "address",
                                        "entry address",
                                        "console flags",
                                        "framebuffer",
                                        "module alignment",
                                        "EFI boot services",
                                        "EFI i386 entry address",
                                        "EFI amd64 entry address",
                                        "relocatable"};

    return t < KS_ARRAY_SIZE(names) ? names[t] : "unknown";
}

static int mb2_tag(struct boot_ctx *c, struct boot_mb2_header *h, size_t at, uint16_t type,
                   bool optional, uint32_t size)
{
    const uint8_t *p = c->req->image + at;
    uint32_t need[] = {8, 8, 24, 12, 12, 20, 8, 8, 12, 12, 24};

    if (type < KS_ARRAY_SIZE(need) && size < need[type])
        return boot_fail(c, -EINVAL,
                         "Multiboot2 header: %s tag at 0x%zx has size %u "
                         "(need %u)",
                         header_tag_name(type), at, size, need[type]);
    switch (type) {
    case 1:
        if ((size - 8) % 4)
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header: information request tag at 0x%zx "
                             "has size %u, not 8 + 4n",
                             at, size);
        for (uint32_t o = 8; o < size; o += 4) {
            uint32_t want = boot_le32(p + o);

            if (!optional && !mbi_tag_provided(want))
                return boot_fail(c, -EINVAL,
                                 "Multiboot2 header requires information tag %u, "
                                 "which kvmscope does not provide (it gives 1-4, 6)",
                                 want);
        }
        return 0;
    case 2:
        h->has_address = true;
        h->header_addr = boot_le32(p + 8);
        h->load_addr = boot_le32(p + 12);
        h->load_end_addr = boot_le32(p + 16);
        h->bss_end_addr = boot_le32(p + 20);
        return 0;
    case 3:
        h->has_entry = true;
        h->entry_addr = boot_le32(p + 8);
        return 0;
    case 4:
        /* console_flags bit 0: "a console must be present" - we give no console info. */
        if (!optional && (boot_le32(p + 8) & 1))
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header requires a console description, "
                             "which kvmscope does not provide");
        return 0;
    case 6:  /* modules are always page-aligned */
    case 10: /* relocatable: we load at the link address, which the kernel accepts */
        return 0;
    default:
        /* framebuffer, EFI (7-9), future tags: fine only when marked optional. */
        if (!optional)
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header: required tag %u (%s) is not "
                             "supported (no firmware, no framebuffer)",
                             type, header_tag_name(type));
        return 0;
    }
}

static int mb2_tags(struct boot_ctx *c, struct boot_mb2_header *h)
{
    size_t at = h->off + 16, end = (size_t)h->off + h->length;

    while (end - at >= 8) {
        const uint8_t *p = c->req->image + at;
        uint16_t type = boot_le16(p), flags = boot_le16(p + 2);
        uint32_t size = boot_le32(p + 4);
        int rc;

        if (size < 8 || size > end - at)
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header: tag %u at 0x%zx has size %u, "
                             "outside the header (ends at 0x%zx)",
                             type, at, size, end);
        if (type == 0)
            return 0;
        rc = mb2_tag(c, h, at, type, flags & 1, size);
        if (rc)
            return rc;
        at += (size + 7) & ~7u;
        if (at > end)
            break;
    }
    return boot_fail(c, -EINVAL,
                     "Multiboot2 header at 0x%x: no end tag within header_length "
                     "0x%x",
                     h->off, h->length);
}

int boot_mb2_find(struct boot_ctx *c, struct boot_mb2_header *h)
{
    const uint8_t *img = c->req->image;
    size_t size = c->req->image_size;
    size_t limit = size < BOOT_MB2_SEARCH ? size : BOOT_MB2_SEARCH;

    for (size_t off = 0; off + 16 <= limit; off += 8) {
        uint32_t arch, len, sum;

        if (boot_le32(img + off) != BOOT_MB2_HEADER_MAGIC)
            continue;
        arch = boot_le32(img + off + 4);
        len = boot_le32(img + off + 8);
        sum = BOOT_MB2_HEADER_MAGIC + arch + len + boot_le32(img + off + 12);
        if (sum != 0)
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header at 0x%zx: bad checksum (magic + "
                             "architecture + header_length + checksum = 0x%x, must "
                             "be 0)",
                             off, sum);
        if (arch != 0)
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header at 0x%zx: architecture %u is not "
                             "i386 protected mode (0)",
                             off, arch);
        if (len < 24 || len > limit - off)
            return boot_fail(c, -EINVAL,
                             "Multiboot2 header at 0x%zx: header_length 0x%x does "
                             "not fit in the first 0x%zx bytes",
                             off, len, limit);
        *h = (struct boot_mb2_header){.off = (uint32_t)off, .length = len};
        int rc = mb2_tags(c, h);
        return rc ? rc : 1;
    }
    return 0;
}
