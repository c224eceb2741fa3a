/* Fuzz target: kernel loading (ELF32/64, Multiboot1/2, PVH) into a small guest RAM. */
#include "fuzz_common.h"

#include "ks/boot.h"

#define RAM_LOW 0xa0000
#define RAM_HIGH (8u << 20)

static uint8_t low[RAM_LOW], high[RAM_HIGH - 0x100000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t module_bytes[] = "module payload";
    struct boot_module mod = {module_bytes, sizeof(module_bytes), "mod arg1 arg2"};
    struct boot_request req = {0};
    struct boot_result res;
    char err[KS_ERR_LEN];
    struct gmem m;

    gmem_init(&m);
    gmem_add(&m, 0, sizeof(low), low, true);
    gmem_add(&m, 0x100000, sizeof(high), high, true);
    req.image = data;
    req.image_size = size;
    req.cmdline = "console=ttyS0";
    req.modules = &mod;
    req.nmodules = 1;
    if (boot_load(&m, &req, &res, err) != 0 && !err[0])
        __builtin_trap(); /* every rejection must say why */
    return 0;
}
