/* Fuzz target: the strict number parsers used for every CLI flag. */
#include "ks/parse.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    uint64_t v, w;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    /* A parse that succeeds must be stable: same input, same value. */
    if (parse_u64(s, &v) == 0 && (parse_u64(s, &w) != 0 || v != w))
        __builtin_trap();
    (void)parse_hex_u64(s, &v);
    (void)parse_size(s, &v);
    free(s);
    return 0;
}
