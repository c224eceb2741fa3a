/*
 * QEMU's isa-debug-exit (hw/misc/debugexit.c): a write stops the VM, and
 * QEMU then exits with status (value << 1) | 1. The status is computed by
 * the caller (cli/); the device only reports the value written.
 */
#include "../vmm_int.h"

#include "ks/vmm_dev.h"

#include <string.h>

static int debugexit_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                        uint64_t *code)
{
    uint64_t v = 0;

    (void)opaque;
    (void)addr;
    if (!write) {
        memset(data, 0xff, size);
        return VMM_IO_OK;
    }
    memcpy(&v, data, size < 8 ? size : 8);
    *code = v;
    return VMM_IO_STOP;
}

int debugexit_attach(struct vmm *vm, uint16_t port)
{
    return vmm_register_pio(vm, port, 1, debugexit_io, NULL);
}
