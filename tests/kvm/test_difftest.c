/*
 * Differential test of the page-walk model (lib/paging) against this host's
 * real KVM (docs/difftest.md). The generator tests need no KVM; the KVM
 * cases SKIP without /dev/kvm.
 *
 * Environment: DIFFTEST_N (cases per CPU and guest, default 300), DIFFTEST_SEED
 * (default: a fixed seed; "random" = from the clock), DIFFTEST_FIRST (first
 * case index, to replay one case), DIFFTEST_CPUS (';'-separated -cpu specs),
 * DIFFTEST_SUMMARY=1 (print the per-outcome table), DIFFTEST_GUEST, DIFFTEST_SLOT256=1
 * (also put CPL3 accesses in PML4 slot 256, to show the PVM divergence).
 */
#include "harness.h"

#include "difftest/abi.h"
#include "difftest/gen.h"
#include "difftest/run.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SEED 0x6b766d73636f7065ULL /* "kvmscope" */

static uint64_t g_seed, g_first, g_n;
static bool g_summary, g_slot256;

static const struct dt_gen_cfg test_cfg = {
    .cpu = {.maxphyaddr = 48, .gbpages = false, .amd = true},
    .cr0_base = X86_CR0_PE | X86_CR0_PG,
    .efer_base = X86_EFER_LME | X86_EFER_LMA,
    .nx = true,
    .cr4_extra = X86_CR4_SMEP | X86_CR4_SMAP,
};

static const struct dt_gen_cfg legacy_cfg = {
    .cpu = {.maxphyaddr = 40, .gbpages = false, .amd = false},
    .cr0_base = X86_CR0_PE | X86_CR0_PG,
    .nx = true,
    .cr4_extra = X86_CR4_SMEP | X86_CR4_SMAP,
    .legacy = true,
};

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    char *end;
    uint64_t x;

    if (!v || !*v)
        return dflt;
    errno = 0;
    x = strtoull(v, &end, 0);
    if (errno || *end) {
        fprintf(stderr, "test_difftest: bad %s=%s (want a number)\n", name, v);
        exit(2);
    }
    return x;
}

static uint64_t run_seed(void)
{
    const char *v = getenv("DIFFTEST_SEED");

    if (v && !strcmp(v, "random"))
        return (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    return env_u64("DIFFTEST_SEED", DEFAULT_SEED);
}

static void gen_is_deterministic(void)
{
    struct dt_case a, b, c;

    dt_gen_case(&test_cfg, 42, 7, &a);
    dt_gen_case(&test_cfg, 42, 7, &b);
    dt_gen_case(&test_cfg, 42, 8, &c);
    EXPECT(!memcmp(&a, &b, sizeof(a)));
    EXPECT(memcmp(&a.ent, &c.ent, sizeof(a.ent)) || a.gva != c.gva);
}

/* Every case stays inside the contract the guest and the harness mapping rely on. */
static void gen_respects_layout(void)
{
    for (uint64_t i = 0; i < 20000; i++) {
        struct dt_case c;
        dt_gen_case(&test_cfg, DEFAULT_SEED, i, &c);
        gva_t top = c.gva >> 47;
        bool ok = (top == 0 || top == 0x1ffff) && ((c.gva >> 39) & 511) != 0 && !(c.gva & 7);
        ok &= (c.cr3 & ~0x18ULL) >= DT_PML4_POOL && (c.cr3 & ~0x18ULL) < DT_TABLE_POOL;
        ok &= (c.cr4 & ~(X86_CR4_PAE | test_cfg.cr4_extra)) == 0 && (c.cr4 & X86_CR4_PAE);
        ok &= (c.efer & ~(test_cfg.efer_base | X86_EFER_NXE)) == 0;
        ok &= c.kind <= DT_FETCH && c.mode == PT_MODE_4LEVEL && c.nent == 4 && c.esize == 8;
        for (unsigned l = 0; l < 4; l++) {
            ok &= c.ent[l].level == 4 - (int)l;
            ok &= l == 0 ? c.ent[l].gpa >= DT_PML4_POOL && c.ent[l].gpa < DT_TABLE_POOL
                         : c.ent[l].gpa >= DT_TABLE_POOL && c.ent[l].gpa < DT_TABLE_POOL_END;
        }
        if (!ok) {
            EXPECT(ok);
            printf("  case %" PRIu64 " gva 0x%" PRIx64 " cr3 0x%" PRIx64 "\n", i, c.gva, c.cr3);
            return;
        }
    }
}

static void pattern_encodes_gpa(void)
{
    uint64_t p = dt_pattern(0x12345678a8ULL);

    EXPECT_EQ(p & 0xff, 0xb8);                       /* mov eax, imm32 */
    EXPECT_EQ((p >> 8) & 0xffffffffULL, 0x345678a8); /* imm32 = GPA[31:0] */
    EXPECT_EQ((p >> 40) & 0xff, 0xc3);               /* ret */
    EXPECT_EQ((p >> 48) & 0xff, 0x12);
    EXPECT(dt_pattern(0x800000) != dt_pattern(0x800008));
}

/* The legacy cases: 32-bit addresses and tables, harness slots left alone. */
static void gen_legacy_respects_layout(void)
{
    unsigned pae = 0;

    for (uint64_t i = 0; i < 20000; i++) {
        struct dt_case c;
        dt_gen_case(&legacy_cfg, DEFAULT_SEED, i, &c);
        bool ok = c.gva < KS_BIT(32) && !(c.gva & 7) && !(c.efer & ~X86_EFER_NXE);
        if (c.mode == PT_MODE_PAE) {
            pae++;
            ok &= c.nent == 6 && c.esize == 8 && (c.cr4 & X86_CR4_PAE);
            ok &= (c.ent[0].val & ~0xe18ULL) >= DT_PDPAE_POOL &&
                  (c.ent[0].val & ~0xe18ULL) < DT_TABLE_POOL;
            ok &= (c.ent[0].val & PTE_P) && c.gva >= 0x200000; /* PDE 0 of PDPTE 0 is the harness */
        } else {
            ok &= c.mode == PT_MODE_32 && c.nent == 2 && c.esize == 4 && !(c.cr4 & X86_CR4_PAE);
            ok &= c.gva >= 0x400000 && c.ent[0].val < KS_BIT(32) && c.ent[1].val < KS_BIT(32);
            ok &= (c.cr3 & ~0x18ULL) >= DT_PD32_POOL && (c.cr3 & ~0x18ULL) < DT_PDPAE_POOL;
        }
        if (!ok) {
            EXPECT(ok);
            printf("  case %" PRIu64 " gva 0x%" PRIx64 " cr3 0x%" PRIx64 "\n", i, c.gva, c.cr3);
            return;
        }
    }
    EXPECT(pae > 8000 && pae < 12000);
}

struct coverage {
    unsigned np[5], rsvd[5], rsvd_why, perm_why, unbacked, leaf[3], ad, pdpte_bad;
};

/* Walk (n) generated cases with the model on a private copy of their entries. */
static int model_coverage(const struct dt_gen_cfg *cfg, unsigned n, struct coverage *cv)
{
    static uint8_t ram[DT_TABLE_POOL_END];
    struct gmem m;

    memset(cv, 0, sizeof(*cv));
    gmem_init(&m);
    if (gmem_add(&m, 0, sizeof(ram), ram, true))
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        struct dt_case c;
        struct pt_ctx ctx;
        struct pt_walk w;
        uint64_t pdptr[4];

        dt_gen_case(cfg, DEFAULT_SEED, i, &c);
        for (unsigned l = 0; l < c.nent; l++)
            memcpy(ram + c.ent[l].gpa, &c.ent[l].val, c.esize);
        dt_case_ctx(&c, &cfg->cpu, &ctx);
        if (c.mode == PT_MODE_PAE && pt_load_pdptrs(&m, &ctx, pdptr) == -EINVAL) {
            cv->pdpte_bad++;
            continue;
        }
        if (pt_walk(&m, &ctx, c.gva, dt_case_access(&c), &w))
            return -1;
        for (unsigned l = 0; l < w.nlevels; l++) {
            if (w.lv[l].verdict == PT_RESERVED)
                cv->rsvd_why |= w.lv[l].rsvd_why;
            cv->unbacked += w.lv[l].verdict == PT_UNBACKED;
        }
        if (!w.fault) {
            cv->leaf[w.page_size == 0x1000 ? 0 : w.page_size == 0x200000 ? 1 : 2]++;
            cv->ad += w.n_ad != 0;
        } else if (w.error_code & PFERR_RSVD) {
            cv->rsvd[w.fault_level]++;
        } else if (w.error_code & PFERR_P) {
            cv->perm_why |= w.perm_why;
        } else if (w.fault_level >= 1 && w.fault_level <= 4) {
            cv->np[w.fault_level]++;
        }
    }
    return 0;
}

/*
 * The generated 4-level cases, walked by the model, reach every outcome the
 * difftest is meant to cover: both leaf sizes, A/D updates, not-present and
 * reserved at every level, each reserved-bit reason and each permission rule.
 */
static void gen_covers_model_outcomes(void)
{
    const unsigned want_rsvd = PT_RSVD_MAXPHYADDR | PT_RSVD_NX | PT_RSVD_GBPAGES | PT_RSVD_PS_TOP |
                               PT_RSVD_LARGE_PAGE | PT_RSVD_AMD_BIT8;
    const unsigned want_perm =
        PT_PERM_WRITE | PT_PERM_USER | PT_PERM_NX | PT_PERM_SMEP | PT_PERM_SMAP;
    struct coverage cv;

    EXPECT_EQ(model_coverage(&test_cfg, 20000, &cv), 0);
    EXPECT(cv.leaf[0] > 500 && cv.leaf[1] > 500 && cv.ad > 500);
    for (int l = 1; l <= 4; l++) {
        EXPECT(cv.np[l] > 20);
        EXPECT(cv.rsvd[l] > 20);
    }
    EXPECT(cv.unbacked > 20);
    EXPECT_EQ(cv.rsvd_why & want_rsvd, want_rsvd);
    EXPECT_EQ(cv.perm_why & want_perm, want_perm);
}

/* Same for the legacy modes: 4 KiB/2 MiB/4 MiB leaves, PAE-only and PSE-36 reserved bits. */
static void gen_legacy_covers_model_outcomes(void)
{
    /* In PAE, address bits >= MAXPHYADDR count as PT_RSVD_PAE_HIGH (bits 62:M). */
    const unsigned want_rsvd = PT_RSVD_NX | PT_RSVD_LARGE_PAGE | PT_RSVD_PAE_HIGH | PT_RSVD_PSE36;
    const unsigned want_perm =
        PT_PERM_WRITE | PT_PERM_USER | PT_PERM_NX | PT_PERM_SMEP | PT_PERM_SMAP;
    struct coverage cv;

    EXPECT_EQ(model_coverage(&legacy_cfg, 20000, &cv), 0);
    EXPECT(cv.leaf[0] > 500 && cv.leaf[1] > 200 && cv.leaf[2] > 200 && cv.ad > 500);
    EXPECT(cv.pdpte_bad > 100);
    for (int l = 1; l <= 2; l++) {
        EXPECT(cv.np[l] > 20);
        EXPECT(cv.rsvd[l] > 20);
    }
    EXPECT(cv.np[3] > 20); /* not-present PDPTE */
    EXPECT(cv.unbacked > 20);
    EXPECT_EQ(cv.rsvd_why & want_rsvd, want_rsvd);
    EXPECT_EQ(cv.perm_why & want_perm, want_perm);
}

static void run_one_cpu(const char *cpu, bool legacy, uint64_t seed, uint64_t first, uint64_t n,
                        bool summary)
{
    char guest[512], err[KS_ERR_LEN] = "";
    const char *g = getenv("DIFFTEST_GUEST");
    const char *bdir = getenv("BUILD");
    struct dt_stats st;
    struct dt_run_cfg cfg = {.seed = seed,
                             .first = first,
                             .count = n,
                             .cpu = cpu,
                             .max_dumps = 10,
                             .out = stdout,
                             .user_slot256 = g_slot256,
                             .legacy = legacy};
    int rc;

    if (access("/dev/kvm", R_OK | W_OK))
        SKIP("no usable /dev/kvm");
    snprintf(guest, sizeof(guest), "%s/guests/difftest/difftest%s.bin", bdir ? bdir : "build",
             legacy ? "32" : "");
    cfg.guest = g && !legacy ? g : guest;
    printf("  difftest: SEED=0x%" PRIx64 " cases %" PRIu64 "..%" PRIu64 " cpu %s, %s\n", seed,
           first, first + n - 1, cpu ? cpu : "(default)", legacy ? "PAE + 32-bit" : "4-level");
    rc = dt_run(&cfg, &st, err);
    if (rc == -ENODEV || rc == -EOPNOTSUPP)
        SKIP("%s", err);
    if (rc)
        printf("  difftest: %s\n", err);
    EXPECT_EQ(rc, 0);
    if (summary || st.disagree)
        dt_print_stats(stdout, &st);
    EXPECT_EQ(st.cases, n);
    EXPECT_EQ(st.disagree, 0);
}

static void run_cpus(bool legacy)
{
    const char *cpus = getenv("DIFFTEST_CPUS");
    char buf[512], *save = NULL;

    if (!cpus || !*cpus) {
        run_one_cpu(NULL, legacy, g_seed, g_first, g_n, g_summary);
        return;
    }
    snprintf(buf, sizeof(buf), "%s", cpus);
    for (char *cpu = strtok_r(buf, ";", &save); cpu; cpu = strtok_r(NULL, ";", &save)) {
        run_one_cpu(cpu, legacy, g_seed, g_first, g_n, g_summary);
        if (t_case_skipped)
            return;
    }
}

static void kvm_agrees_with_model_4level(void)
{
    run_cpus(false);
}

static void kvm_agrees_with_model_legacy(void)
{
    run_cpus(true);
}

int main(void)
{
    g_seed = run_seed();
    g_first = env_u64("DIFFTEST_FIRST", 0);
    g_n = env_u64("DIFFTEST_N", 300);
    g_summary = env_u64("DIFFTEST_SUMMARY", 0) != 0;
    g_slot256 = env_u64("DIFFTEST_SLOT256", 0) != 0;
    RUN(gen_is_deterministic);
    RUN(gen_respects_layout);
    RUN(pattern_encodes_gpa);
    RUN(gen_legacy_respects_layout);
    RUN(gen_covers_model_outcomes);
    RUN(gen_legacy_covers_model_outcomes);
    RUN(kvm_agrees_with_model_4level);
    RUN(kvm_agrees_with_model_legacy);
    return t_done();
}
