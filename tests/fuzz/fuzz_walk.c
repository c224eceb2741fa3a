/*
 * Fuzz target: the page-walk model over random memory and random control
 * state. It must terminate, never read outside guest memory (ASan watches
 * the buffer), and keep its own invariants.
 */
#include "fuzz_common.h"

#include "ks/paging.h"

#define MEM_SIZE 0x10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *mem = calloc(1, MEM_SIZE);
    struct pt_ctx c = {0};
    struct pt_walk w;
    struct gmem m;
    gva_t va;
    uint32_t access;

    if (!mem)
        return 0;
    c.cr0 = fz_take(&data, &size, 8);
    c.cr3 = fz_take(&data, &size, 8) & 0xffff;
    c.cr4 = fz_take(&data, &size, 8);
    c.efer = fz_take(&data, &size, 8);
    c.rflags = fz_take(&data, &size, 8);
    c.pkru = (uint32_t)fz_take(&data, &size, 4);
    c.cpu.maxphyaddr = (unsigned)fz_take(&data, &size, 1) % 64;
    c.cpu.gbpages = fz_take(&data, &size, 1) & 1;
    c.cpu.amd = fz_take(&data, &size, 1) & 1;
    c.pdptr_valid = fz_take(&data, &size, 1) & 1;
    for (int i = 0; i < 4; i++)
        c.pdptr[i] = fz_take(&data, &size, 8);
    va = fz_take(&data, &size, 8);
    access =
        (uint32_t)fz_take(&data, &size, 4) & (PFERR_W | PFERR_U | PFERR_F | PT_ACCESS_IMPLICIT);
    memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);

    gmem_init(&m);
    gmem_add(&m, 0, MEM_SIZE, mem, true);
    if (pt_walk(&m, &c, va, access, &w) == 0) {
        char buf[256];
        if (w.nlevels > 5)
            __builtin_trap();
        for (unsigned i = 0; i < w.nlevels; i++)
            pt_level_reason(&c, &w.lv[i], buf, sizeof(buf));
        if (w.fault) {
            /* A fault never carries RSVD together with PK (spec §3.4). */
            if ((w.error_code & PFERR_RSVD) && (w.error_code & PFERR_PK))
                __builtin_trap();
            pt_perm_reason(&c, &w, buf, sizeof(buf));
            pt_pferr_str(w.error_code, buf, sizeof(buf));
        } else {
            pt_apply_ad(&m, &w);
        }
    }
    free(mem);
    return 0;
}
