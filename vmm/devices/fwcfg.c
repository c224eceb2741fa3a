/*
 * QEMU fw_cfg, legacy port interface (QEMU docs/specs/fw_cfg.rst,
 * hw/nvram/fw_cfg.c): write a 16-bit key to the selector port, then read
 * the item byte by byte from the data port; reads past the end return 0.
 */
#include "../vmm_int.h"

#include "ks/vmm_dev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    FW_CFG_SIGNATURE = 0x00,
    FW_CFG_ID = 0x01,
    FW_CFG_RAM_SIZE = 0x03,
    FW_CFG_NB_CPUS = 0x05,
    FW_CFG_MAX_CPUS = 0x0f,
    FW_CFG_MAX_RAM = 0x11,
    FW_CFG_FILE_DIR = 0x19,
};

struct fw_item {
    uint16_t key;
    uint8_t len;
    uint8_t data[8];
};

struct fwcfg {
    struct fw_item items[7];
    unsigned nitems;
    const struct fw_item *cur; /* NULL: unknown key, reads 0 */
    uint32_t offset;
};

static void add_le(struct fwcfg *f, uint16_t key, uint64_t v, uint8_t len)
{
    struct fw_item *it = &f->items[f->nitems++];

    it->key = key;
    it->len = len;
    for (unsigned i = 0; i < len; i++)
        it->data[i] = (uint8_t)(v >> (8 * i));
}

static void select_key(struct fwcfg *f, uint16_t key)
{
    f->cur = NULL;
    f->offset = 0;
    for (unsigned i = 0; i < f->nitems; i++)
        if (f->items[i].key == key)
            f->cur = &f->items[i];
}

static int fwcfg_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                    uint64_t *code)
{
    struct fwcfg *f = opaque;

    (void)code;
    if (addr == FW_CFG_PORT) {
        if (write) {
            uint16_t key = data[0];

            if (size > 1)
                key |= (uint16_t)(data[1] << 8);
            select_key(f, key);
        } else {
            memset(data, 0, size);
        }
        return VMM_IO_OK;
    }
    /* Data port: byte-wide; wider reads return consecutive bytes, writes are ignored. */
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = 0;

        if (f->cur && f->offset < f->cur->len)
            b = f->cur->data[f->offset];
        if (f->offset < UINT32_MAX)
            f->offset++;
        if (!write)
            data[i] = b;
    }
    return VMM_IO_OK;
}

int fwcfg_attach(struct vmm *vm)
{
    struct fwcfg *f = calloc(1, sizeof(*f));
    int rc;

    if (!f)
        return -ENOMEM;
    add_le(f, FW_CFG_SIGNATURE, 0x554d4551 /* "QEMU" */, 4);
    add_le(f, FW_CFG_ID, 1, 4); /* bit 0: traditional interface; no DMA */
    add_le(f, FW_CFG_RAM_SIZE, vmm_ram_size(vm), 8);
    add_le(f, FW_CFG_NB_CPUS, 1, 2);
    add_le(f, FW_CFG_MAX_CPUS, 1, 2);
    add_le(f, FW_CFG_MAX_RAM, gmem_end(vmm_gmem(vm)), 8);
    add_le(f, FW_CFG_FILE_DIR, 0, 4); /* big-endian count of files: zero */
    rc = vmm_register_pio(vm, FW_CFG_PORT, 2, fwcfg_io, f);
    if (!rc)
        rc = vmm_on_destroy(vm, free, f);
    if (rc)
        free(f);
    return rc;
}
