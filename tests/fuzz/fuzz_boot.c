/*
 * Fuzz target: boot_load() on arbitrary kernel images (format detection,
 * ELF/Multiboot/PVH parsing, placement). Guest RAM is a PC-like pair of
 * buffers; the tail of the input doubles as a module so placement runs too.
 * Invariants: a failure always says why; a success has its entry inside the
 * loaded kernel and its boot information inside RAM.
 */
#include "ks/boot.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t low[0xA0000], high[3 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gmem m;
    struct boot_module mod = {data, size < 16 ? size : 16, "fuzz mod"};
    struct boot_request req = {.image = data,
                               .image_size = size,
                               .cmdline = "fuzz",
                               .kernel_name = "k",
                               .modules = &mod,
                               .nmodules = size > 64};
    struct boot_result res;
    char err[KS_ERR_LEN];
    int rc;

    gmem_init(&m);
    gmem_add(&m, 0, sizeof(low), low, true);
    gmem_add(&m, 0x100000, sizeof(high), high, true);
    rc = boot_load(&m, &req, &res, err);
    if (rc && !err[0])
        __builtin_trap();
    if (!rc && (res.entry < res.image_start || res.entry >= res.image_end ||
                (res.info && !gmem_ptr(&m, res.info, 8))))
        __builtin_trap();
    return 0;
}
