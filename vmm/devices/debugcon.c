/* Bochs/QEMU debug console port (QEMU hw/char/debugcon.c). */
#include "../vmm_int.h"

#include "ks/vmm_dev.h"

#include <errno.h>
#include <stdlib.h>

struct debugcon {
    FILE *out;
};

static int debugcon_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                       uint64_t *code)
{
    struct debugcon *d = opaque;

    (void)addr;
    (void)code;
    if (write) {
        /* QEMU writes the low byte of any access. */
        if (d->out)
            fputc(data[0], d->out);
    } else {
        /* Reading returns 0xe9 so guests can detect the port (QEMU's readback value). */
        for (unsigned i = 0; i < size; i++)
            data[i] = i ? 0 : 0xe9;
    }
    return VMM_IO_OK;
}

int debugcon_attach(struct vmm *vm, uint16_t port, FILE *out)
{
    struct debugcon *d = calloc(1, sizeof(*d));
    int rc;

    if (!d)
        return -ENOMEM;
    d->out = out;
    rc = vmm_register_pio(vm, port, 1, debugcon_io, d);
    if (!rc)
        rc = vmm_on_destroy(vm, free, d);
    if (rc)
        free(d);
    return rc;
}
