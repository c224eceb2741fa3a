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

    if (!core || !snap)
        goto out;
    if (elfcore_parse(data, size, core, err) != 0)
        goto out;
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
