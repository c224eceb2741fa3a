/*
 * The lint's view of pt_scan's loop bound (4 table visits per page of memory
 * + 64, then -ELOOP): a full cycle stops there with every run before it
 * reported, a recursive slot and cross-level cycles finish by depth.
 */
#include "test_paging.h"

static uint64_t nranges;

static int count(void *opaque, const struct pt_range *r)
{
    (void)opaque;
    (void)r;
    nranges++;
    return 0;
}

/* Every PML4 entry points at the PML4: 1 + 512 + 512^2 + 512^3 table visits unbounded. */
static void full_cycle_stops(void)
{
    struct pt_scan_stats st;

    for (int i = 0; i < 512; i++)
        put64(0x1000 + 8 * i, 0x1003);
    nranges = 0;
    EXPECT_EQ(pt_scan(&mem, &ctx, count, NULL, &st), -ELOOP);
    /* 16 MiB of RAM: 4096 pages, so 4 * 4096 + 64 visits are allowed. */
    EXPECT_EQ(st.tables, 4 * 4096 + 64 + 1);
    EXPECT_EQ(st.ranges, nranges);
    EXPECT(nranges > 0);
}

/* A recursive slot (PML4[0] -> PML4) is legal: 4 visits, one W+X page (the PML4 itself). */
static void recursive_slot_completes(void)
{
    struct pt_scan_stats st;

    put64(0x1000, 0x1003);
    nranges = 0;
    EXPECT_EQ(pt_scan(&mem, &ctx, count, NULL, &st), 0);
    EXPECT_EQ(st.tables, 4);
    EXPECT_EQ(st.leaves, 1);
    EXPECT_EQ(nranges, 1);
}

/* Cycles across levels end by depth long before the bound. */
static void cross_level_cycle_terminates(void)
{
    struct pt_scan_stats st;

    put64(0x1000, 0x2003);
    put64(0x2000, 0x1003); /* PDPT[0] -> the PML4, used as a PD */
    put64(0x2008, 0x2003); /* PDPT[1] -> itself */
    EXPECT_EQ(pt_scan(&mem, &ctx, count, NULL, &st), 0);
    /* PML4, PDPT; below PDPT[0]: PML4 as PD, 0x2000 as PT; below PDPT[1]: 0x2000 as PD, 2 PTs. */
    EXPECT_EQ(st.tables, 7);
}

int main(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
#define C(n) {#n, n}
        C(full_cycle_stops),
        C(recursive_slot_completes),
        C(cross_level_cycle_terminates),
#undef C
    };
    for (size_t i = 0; i < KS_ARRAY_SIZE(cases); i++) {
        reset();
        t_run(cases[i].name, cases[i].fn);
    }
    return t_done();
}
