/*
 * `make bench-paging`: speed of pt_walk (per walk) and pt_scan (entries/s over
 * 64 GiB mapped with 4 KiB pages, the target of the page-table-scan issue).
 */
#include "ks/paging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
    memcpy(mem + gpa, &v, 8);
}

static volatile uint64_t sink;

static int count(void *opaque, const struct pt_range *r)
{
    (void)r;
    ++*(uint64_t *)opaque;
    return 0;
}

int main(void)
{
    const uint64_t gib = 64, npt = gib * 512, pts = 0x100000, size = pts + npt * 4096;
    uint8_t *mem = calloc(1, size);
    struct gmem m;
    struct pt_ctx c = {
        .cr0 = 0x80010011, .cr4 = 0x20, .efer = 0xd00, .cr3 = 0x1000, .cpu = {.maxphyaddr = 48}};
    struct pt_walk w;
    struct pt_scan_stats st;
    uint64_t sum = 0, runs = 0;
    const int walks = 5000000;
    double t;

    if (!mem) {
        fprintf(stderr, "bench-paging: cannot allocate %llu MiB\n",
                (unsigned long long)(size >> 20));
        return 1;
    }
    gmem_init(&m);
    gmem_add(&m, 0, size, mem, false);
    put64(mem, 0x1000, 0x2003);
    for (uint64_t i = 0; i < gib; i++) {
        put64(mem, 0x2000 + 8 * i, (0x10000 + i * 0x1000) | 3);
        for (uint64_t j = 0; j < 512; j++)
            put64(mem, 0x10000 + i * 0x1000 + 8 * j, (pts + (i * 512 + j) * 0x1000) | 3);
    }
    for (uint64_t k = 0; k < npt * 512; k++)
        put64(mem, pts + 8 * k, (k << 12) | 0x63);

    t = now();
    for (int i = 0; i < walks; i++) {
        pt_walk(&m, &c, ((uint64_t)i * 0x9e3779b1ULL << 12) & ((gib << 30) - 1), PFERR_W, &w);
        sum += w.gpa;
    }
    t = now() - t;
    printf("pt_walk, 4-level, 4 KiB pages:  %.0f ns per walk\n", t / walks * 1e9);

    t = now();
    pt_scan(&m, &c, count, &runs, &st);
    t = now() - t;
    printf("pt_scan, %llu GiB of 4 KiB pages: %llu entries in %.3f s = %.0fM entries/s "
           "(%llu run)\n",
           (unsigned long long)gib, (unsigned long long)st.entries, t, st.entries / t / 1e6,
           (unsigned long long)runs);
    for (uint64_t k = 1; k < npt * 512; k += 2)
        mem[pts + 8 * k] &= (uint8_t)~PTE_W;
    runs = 0;
    t = now();
    pt_scan(&m, &c, count, &runs, &st);
    t = now() - t;
    printf("pt_scan, alternating rights:     %.0fM entries/s (%llu runs)\n", st.entries / t / 1e6,
           (unsigned long long)runs);
    free(mem);
    sink = sum; /* keep the walks */
    return 0;
}
