/* Fuzz target: dump-guest-memory ELF cores and symbol tables (lib/formats/elfcore.c, symtab.c). */
#include "ks/formats.h"
#include "ks/symtab.h"

#include <errno.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct elfcore core;
    struct symtab *syms = NULL;
    char err[KS_ERR_LEN], buf[64];
    int rc = elfcore_parse(data, size, &core, err);

    if (rc == 0) {
        /* Every mapped byte must be readable: the regions lie inside the input. */
        for (unsigned i = 0; i < core.mem.nregions; i++) {
            uint8_t b;
            const struct gmem_region *r = &core.mem.region[i];
            if (gmem_read(&core.mem, r->gpa, &b, 1) ||
                gmem_read(&core.mem, r->gpa + r->size - 1, &b, 1))
                __builtin_trap();
        }
        for (unsigned c = 0; c < core.ncpus; c++) {
            struct snapshot s;
            snapshot_init(&s);
            elfcore_snapshot(&core, c, &s);
        }
    } else if (rc != -EINVAL && rc != -ENOSPC && rc != -ENOTSUP && rc != -ENOMEM) {
        __builtin_trap();
    }
    if (symtab_from_elf(data, size, &syms, err) == 0) {
        symtab_format(syms, 0x100000, buf, sizeof(buf));
        symtab_free(syms);
    }
    return 0;
}
