/* Fuzz target: dump-guest-memory ELF cores, then a walk and an explanation over them. */
#include "fuzz_common.h"

#include "ks/diag.h"
#include "ks/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elfcore *core = calloc(1, sizeof(*core));
    struct snapshot *snap = calloc(1, sizeof(*snap));
    struct diag_report *r = NULL;
    char err[KS_ERR_LEN];
    int rc;

    if (!core || !snap)
        goto out;
    rc = elfcore_parse(data, size, core, err);
    if (rc != 0) {
        if (rc != -EINVAL && rc != -ENOSPC && rc != -ENOTSUP && rc != -ENOMEM)
            __builtin_trap();
        goto out;
    }
    /* Every mapped byte must be readable: the regions lie inside the input. */
    for (unsigned i = 0; i < core->mem.nregions; i++) {
        const struct gmem_region *g = &core->mem.region[i];
        uint8_t b;
        if (gmem_read(&core->mem, g->gpa, &b, 1) ||
            gmem_read(&core->mem, g->gpa + g->size - 1, &b, 1))
            __builtin_trap();
    }
    snapshot_init(snap);
    if (elfcore_snapshot(core, 0, snap) == 0) {
        snap->mem = &core->mem;
        snap->have |= SNAP_HAVE_MEM;
        if (diag_explain(snap, &r) == 0)
            diag_free(r);
    }
out:
    free(core);
    free(snap);
    return 0;
}
