/* Fuzz target: QEMU register-dump text (info registers, KVM errors, -d int logs). */
#include "fuzz_common.h"

#include "ks/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snapshot snap;
    struct qemu_dump_info info;
    char err[KS_ERR_LEN];

    snapshot_init(&snap);
    if (qemu_regs_parse((const char *)data, size, &snap, &info, err) == -EINVAL && !err[0])
        __builtin_trap();
    return 0;
}
