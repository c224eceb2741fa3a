/* pt_scan_bounded: tables that point back at themselves stop at the bound; legal tables do not. */
#include "test_paging.h"

static uint64_t nranges;

static int count(void *opaque, const struct pt_range *r)
{
    (void)opaque;
    (void)r;
    nranges++;
    return 0;
}

/* Every PML4 entry points at the PML4: 1 + 512 + 512^2 + 512^3 table reads unbounded. */
static void full_cycle_stops(void)
{
    struct pt_scan_stats st;

    for (int i = 0; i < 512; i++)
        put64(0x1000 + 8 * i, 0x1003);
    nranges = 0;
    EXPECT_EQ(pt_scan_bounded(&mem, &ctx, 1000, count, NULL, &st), -E2BIG);
    EXPECT_EQ(st.tables, 1000);
    /* The runs before the bound were reported, the one in progress was dropped. */
    EXPECT_EQ(st.ranges, nranges);
}

/* A recursive slot (PML4[0] -> PML4) is legal: 4 table reads, same result as pt_scan. */
static void recursive_slot_completes(void)
{
    struct pt_scan_stats a, b;
    uint64_t n1;

    put64(0x1000, 0x1003);
    nranges = 0;
    EXPECT_EQ(pt_scan_bounded(&mem, &ctx, 4, count, NULL, &a), 0);
    n1 = nranges;
    nranges = 0;
    EXPECT_EQ(pt_scan(&mem, &ctx, count, NULL, &b), 0);
    EXPECT_EQ(a.tables, 4);
    EXPECT_EQ(b.tables, 4);
    EXPECT_EQ(n1, nranges);
    EXPECT_EQ(a.leaves, b.leaves);
    /* One table fewer than needed: the scan says so. */
    EXPECT_EQ(pt_scan_bounded(&mem, &ctx, 3, count, NULL, &a), -E2BIG);
}

/* 0 means no bound: a cycle across two levels still terminates by depth. */
static void unbounded_depth_terminates(void)
{
    struct pt_scan_stats st;

    put64(0x1000, 0x2003);
    put64(0x2000, 0x1003); /* PDPT[0] -> the PML4, used as a PD */
    put64(0x2008, 0x2003); /* PDPT[1] -> itself */
    EXPECT_EQ(pt_scan_bounded(&mem, &ctx, 0, count, NULL, &st), 0);
    EXPECT_EQ(st.tables,
              7); /* PML4, PDPT, PML4 and 0x2000 below PDPT[0], 0x2000 and two PTs below PDPT[1] */
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
        C(unbounded_depth_terminates),
#undef C
    };
    for (size_t i = 0; i < KS_ARRAY_SIZE(cases); i++) {
        reset();
        t_run(cases[i].name, cases[i].fn);
    }
    return t_done();
}
