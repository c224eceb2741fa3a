/*
 * Guest-physical memory: a table of regions, each mapping a GPA range to
 * host memory (live guest RAM, an mmap'ed dump, or a test buffer).
 *
 * Every access is bounds-checked with overflow checks. A GPA that is not
 * backed is not an error of the program: functions return -EFAULT and the
 * caller turns that into a result (the page walker reports it the way KVM
 * does, as a not-present entry).
 */
#ifndef KS_GMEM_H
#define KS_GMEM_H

#include "ks/types.h"

#define GMEM_MAX_REGIONS 32

struct gmem_region {
    gpa_t gpa;
    uint64_t size;
    uint8_t *hva;
    bool writable;
};

struct gmem {
    struct gmem_region region[GMEM_MAX_REGIONS];
    unsigned nregions;
};

/* Empty the table. */
void gmem_init(struct gmem *m);

/*
 * Map [gpa, gpa+size) to (hva). Regions must not overlap and must not wrap.
 * Returns 0, -EINVAL (empty, wrapping or overlapping range) or -ENOSPC.
 */
int gmem_add(struct gmem *m, gpa_t gpa, uint64_t size, void *hva, bool writable);

/*
 * Host pointer for the whole range [gpa, gpa+len), which must lie inside one
 * region; NULL otherwise. (len) 0 is treated as 1.
 */
void *gmem_ptr(const struct gmem *m, gpa_t gpa, uint64_t len);

/*
 * Copy (len) bytes at (gpa) into (buf). The range may span adjacent regions.
 * Returns 0 or -EFAULT when any byte is not backed (then (buf) is undefined).
 */
int gmem_read(const struct gmem *m, gpa_t gpa, void *buf, size_t len);

/* As gmem_read, the other way. -EFAULT also for read-only regions. */
int gmem_write(const struct gmem *m, gpa_t gpa, const void *buf, size_t len);

/*
 * Compare-and-exchange of a naturally aligned 4- or 8-byte guest value, as
 * KVM does when it sets A/D bits. Returns 0 on success, -EAGAIN if the value
 * was not (old), -EFAULT if unbacked or read-only, -EINVAL for a bad size.
 */
int gmem_cmpxchg(const struct gmem *m, gpa_t gpa, uint64_t old, uint64_t new_val, unsigned size);

/* Highest backed GPA + 1 (0 for an empty table). */
gpa_t gmem_end(const struct gmem *m);

#endif
