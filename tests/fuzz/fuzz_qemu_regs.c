/* Fuzz target: QEMU register-dump text (info registers, KVM errors, -d int logs). */
#include "fuzz_common.h"

#include "ks/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snapshot snap;
    struct qemu_dump_info info;
    char err[KS_ERR_LEN];
    int rc;

    snapshot_init(&snap);
    rc = qemu_regs_parse((const char *)data, size, &snap, &info, err);
    /* Documented results only, an error always with its reason, and sane fields on success. */
    if (rc != 0 && rc != -EINVAL && rc != -ENOENT)
        __builtin_trap();
    if (rc && !err[0])
        __builtin_trap();
    if (!rc && (info.code.len > 64 || info.nexc > QEMU_MAX_EXCEPTIONS || snap.cpl > 3))
        __builtin_trap();
    return 0;
}
