/* Fuzz target: QEMU register-dump text (lib/formats/qemu_regs.c). */
#include "ks/formats.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct snapshot snap;
    static struct qemu_dump_info info;
    char err[KS_ERR_LEN];
    int rc = qemu_regs_parse((const char *)data, size, &snap, &info, err);

    /* Documented results only; an error always comes with a reason. */
    if (rc != 0 && rc != -EINVAL && rc != -ENOENT)
        __builtin_trap();
    if (rc && !err[0])
        __builtin_trap();
    if (!rc && (info.code.len > 64 || info.nexc > QEMU_MAX_EXCEPTIONS || snap.cpl > 3))
        __builtin_trap();
    return 0;
}
