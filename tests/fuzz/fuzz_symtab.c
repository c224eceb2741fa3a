/* Fuzz target: ELF symbol tables (kernel images given with --symbols). */
#include "fuzz_common.h"

#include "ks/symtab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct symtab *t;
    char err[KS_ERR_LEN], buf[128];

    if (symtab_from_elf(data, size, &t, err) == 0) {
        symtab_format(t, 0x100000, buf, sizeof(buf));
        symtab_format(t, ~0ULL, buf, sizeof(buf));
        symtab_free(t);
    }
    if (symtab_from_nm((const char *)data, size, &t, err) == 0)
        symtab_free(t);
    return 0;
}
