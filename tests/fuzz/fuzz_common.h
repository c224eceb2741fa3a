/* Shared pieces of the libFuzzer targets. */
#ifndef KS_FUZZ_COMMON_H
#define KS_FUZZ_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Consume a little-endian value from the front of the input (zeros when short). */
static inline uint64_t fz_take(const uint8_t **data, size_t *size, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        if (*size) {
            v |= (uint64_t) * *data << (8 * i);
            (*data)++;
            (*size)--;
        }
    }
    return v;
}

#endif
