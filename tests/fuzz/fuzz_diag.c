/*
 * Fuzz target: the explainer (decode, walks, exception-delivery replay) over
 * a random snapshot and random guest memory.
 */
#include "fuzz_common.h"

#include "ks/diag.h"

#define MEM_SIZE 0x20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snapshot *snap = calloc(1, sizeof(*snap));
    uint8_t *mem = calloc(1, MEM_SIZE);
    struct diag_report *r = NULL;
    struct strbuf sb;
    struct gmem m;

    if (!snap || !mem)
        goto out;
    snapshot_init(snap);
    /* The register state comes straight from the input; memory from the rest. */
    memcpy(&snap->s, data, size < sizeof(snap->s) ? size : sizeof(snap->s));
    if (size > sizeof(snap->s)) {
        data += sizeof(snap->s);
        size -= sizeof(snap->s);
    } else {
        size = 0;
    }
    /* Booleans must hold 0 or 1; the raw bytes above may not. */
    snap->s.pdptr_valid = fz_take(&data, &size, 1) & 1;
    snap->cpl = (unsigned)fz_take(&data, &size, 1) & 3;
    snap->event = (enum snap_event)(fz_take(&data, &size, 1) % (SNAP_EV_EXCEPTION + 1));
    snap->pt_cpu.maxphyaddr = 32 + (unsigned)fz_take(&data, &size, 1) % 21;
    snap->pt_cpu.gbpages = fz_take(&data, &size, 1) & 1;
    snap->s.cr3 &= MEM_SIZE - 1;
    memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);
    gmem_init(&m);
    gmem_add(&m, 0, MEM_SIZE, mem, true);
    snap->mem = &m;
    snap->have = SNAP_HAVE_GPRS | SNAP_HAVE_SREGS | SNAP_HAVE_CRS | SNAP_HAVE_EFER | SNAP_HAVE_MEM |
                 SNAP_HAVE_PT_CPU | SNAP_HAVE_CPL;
    if (diag_explain(snap, &r) == 0) {
        sb_init(&sb);
        diag_render_text(r, &sb);
        diag_render_json(r, &sb);
        sb_free(&sb);
        diag_free(r);
    }
out:
    free(snap);
    free(mem);
    return 0;
}
