/*
 * Basic types shared by every kvmscope module.
 *
 * Guest address spaces get their own typedefs so that a guest-virtual
 * address passed where a guest-physical one is expected stands out in review.
 */
#ifndef KS_TYPES_H
#define KS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t gva_t; /* guest linear (virtual) address */
typedef uint64_t gpa_t; /* guest physical address */

#define KS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KS_BIT(n)        (1ULL << (n))
/* Mask of bits lo..hi inclusive; empty when hi < lo (the R(a,b) of spec/paging.md). */
#define KS_BITS(lo, hi) ((hi) < (lo) ? 0ULL : ((~0ULL >> (63 - (hi))) & (~0ULL << (lo))))

/* Size of the error-text buffers that parsers of untrusted input fill. */
#define KS_ERR_LEN 256

#define ks_likely(x)   __builtin_expect(!!(x), 1)
#define ks_unlikely(x) __builtin_expect(!!(x), 0)

#endif
