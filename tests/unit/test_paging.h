/* Shared fixture of the paging unit tests: 16 MiB of guest RAM at GPA 0 and a context. */
#ifndef KS_TEST_PAGING_H
#define KS_TEST_PAGING_H

#include "harness.h"

#include "ks/paging.h"

#include <errno.h>

#define RAM_SIZE (16u << 20)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct gmem mem;
static struct pt_ctx ctx;
static struct pt_walk w;

/* The defaults of spec §7: 4-level, WP, NXE=0, Intel, MAXPHYADDR 36, no 1 GiB pages. */
static inline void reset(void)
{
    memset(ram, 0, 0x10000); /* tests only write low tables, except the seed's PDPT */
    memset(ram + 0xbf9000, 0, 0x1000);
    gmem_init(&mem);
    gmem_add(&mem, 0, RAM_SIZE, ram, true);
    memset(&ctx, 0, sizeof(ctx));
    ctx.cr0 = X86_CR0_PG | X86_CR0_WP | X86_CR0_PE;
    ctx.cr4 = X86_CR4_PAE;
    ctx.efer = X86_EFER_LME | X86_EFER_LMA;
    ctx.cr3 = 0x1000;
    ctx.cpu.maxphyaddr = 36;
    memset(&w, 0xa5, sizeof(w));
}

static inline void put64(gpa_t gpa, uint64_t v)
{
    memcpy(ram + gpa, &v, 8);
}

static inline void put32(gpa_t gpa, uint32_t v)
{
    memcpy(ram + gpa, &v, 4);
}

static inline uint64_t get64(gpa_t gpa)
{
    uint64_t v;
    memcpy(&v, ram + gpa, 8);
    return v;
}

static inline uint32_t get32(gpa_t gpa)
{
    uint32_t v;
    memcpy(&v, ram + gpa, 4);
    return v;
}

/* The "4K chain" of spec §7 for GVA 0x133025, upper entries (flags) | next table. */
static inline void chain4k(uint64_t upper, uint64_t pte)
{
    put64(0x1000, 0x2000 | upper);
    put64(0x2000, 0x3000 | upper);
    put64(0x3000, 0x4000 | upper);
    put64(0x4998, pte);
}

static inline void set_pae(void)
{
    ctx.efer = 0;
    ctx.cr4 = X86_CR4_PAE;
}

static inline void set_32bit(bool pse)
{
    ctx.efer = 0;
    ctx.cr4 = pse ? X86_CR4_PSE : 0;
}

static inline void walk(gva_t va, uint32_t access)
{
    int ret = pt_walk(&mem, &ctx, va, access, &w);

    if (ret) {
        printf("  pt_walk(0x%llx) returned %d\n", (unsigned long long)va, ret);
        t_case_failed = 1;
    }
}

#define expect_fault(code, level)                                                                  \
    do {                                                                                           \
        EXPECT(w.fault);                                                                           \
        EXPECT_EQ(w.error_code, (code));                                                           \
        EXPECT_EQ(w.fault_level, (level));                                                         \
        EXPECT_EQ(w.n_ad, 0);                                                                      \
    } while (0)

#define expect_gpa(want)                                                                           \
    do {                                                                                           \
        EXPECT(!w.fault);                                                                          \
        EXPECT_EQ(w.gpa, (want));                                                                  \
    } while (0)

#endif
