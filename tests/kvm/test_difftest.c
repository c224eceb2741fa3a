/*
 * Differential test of the page-walk model (lib/paging) against this host's
 * real KVM (docs/difftest.md). The generator tests need no KVM; the KVM
 * cases SKIP without /dev/kvm.
 *
 * Environment: DIFFTEST_N (cases per CPU and guest, default 300), DIFFTEST_SEED
 * (default: a fixed seed; "random" = from the clock), DIFFTEST_FIRST (first
 * case index, to replay one case), DIFFTEST_CPUS (';'-separated -cpu specs),
 * DIFFTEST_SUMMARY=1 (print the per-outcome table), DIFFTEST_GUEST, DIFFTEST_SLOT256=1
 * (also put CPL3 accesses in PML4 slot 256, to show the PVM divergence), DIFFTEST_TRACE=1
 * (also compare KVM's kvmmmu trace of each case's first walk; needs root and tracefs).
 */
#include "harness.h"

#include "difftest/abi.h"
#include "difftest/gen.h"
#include "difftest/run.h"
#include "ks/x86.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SEED 0x6b766d73636f7065ULL /* "kvmscope" */

static uint64_t g_seed, g_first, g_n;
static bool g_summary, g_slot256, g_trace;

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
    unsigned shared = 0;

    for (uint64_t i = 0; i < 20000; i++) {
        struct dt_case c;
        dt_gen_case(&test_cfg, DEFAULT_SEED, i, &c);
        gva_t top = c.gva >> 47;
        bool ok = (top == 0 || top == 0x1ffff) && ((c.gva >> 39) & 511) != 0 && !(c.gva & 7);
        ok &= (c.cr3 & ~0x18ULL) >= DT_PML4_POOL && (c.cr3 & ~0x18ULL) < DT_TABLE_POOL;
        ok &= (c.cr4 & ~(X86_CR4_PAE | test_cfg.cr4_extra)) == 0 && (c.cr4 & X86_CR4_PAE);
        ok &= (c.efer & ~(test_cfg.efer_base | X86_EFER_NXE)) == 0;
        ok &= c.kind <= DT_FETCH && c.mode == PT_MODE_4LEVEL && c.nent == 4 && c.esize == 8;
        ok &= c.ent[0].gpa >= DT_PML4_POOL && c.ent[0].gpa < DT_TABLE_POOL;
        for (unsigned l = 0; l < 4; l++) {
            gpa_t g = c.ent[l].gpa;
            ok &= c.ent[l].level == 4 - (int)l;
            /* Any pool page, but never a PML4 page's harness slot. */
            ok &= g >= DT_PML4_POOL && g < DT_TABLE_POOL_END;
            ok &= g >= DT_TABLE_POOL || (g & 0xfff) != 0;
            shared += l && g < DT_TABLE_POOL;
        }
        if (!ok) {
            EXPECT(ok);
            printf("  case %" PRIu64 " gva 0x%" PRIx64 " cr3 0x%" PRIx64 "\n", i, c.gva, c.cr3);
            return;
        }
    }
    EXPECT(shared > 100); /* lower levels in PML4 pages: self-maps */
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

/*
 * spec/paging.md §7 test vectors, moved onto the harness layout and run
 * against KVM: each must give the spec's result in the guest, and the model
 * must agree with KVM. Entries use the spec's flag bytes; tables live in the
 * pool (PDPT, PD, PT in the first three pool pages), the GVA is PML4 slot 1
 * with the spec's low bits 0x133020, data frames in the data area.
 */
#define V_PDPT    DT_TABLE_POOL
#define V_PD      (DT_TABLE_POOL + 0x1000)
#define V_PT      (DT_TABLE_POOL + 0x2000)
#define V_FRAME   (DT_DATA + 0x5000)
#define V_FRAME2M (DT_DATA + 0x200000)
#define V_GVA     (KS_BIT(39) | 0x133020)
#define V_OK      (-1)

struct spec_vector {
    const char *name;
    uint64_t l4, l3, l2, l1;
    unsigned kind;
    bool user, wp0, nxe, smep, smap, ac;
    int64_t want;       /* #PF error code, or V_OK */
    uint64_t leaf_post; /* if non-zero: the leaf entry after the access */
};

static struct spec_vector spec_vectors[DT_MAX_DIRECTED];
static unsigned n_spec_vectors;
static const char *spec_skipped[DT_MAX_DIRECTED];
static unsigned n_spec_skipped;

static void add_vector(struct spec_vector v)
{
    v.l4 = v.l4 ? v.l4 : V_PDPT | 0x27;
    v.l3 = v.l3 ? v.l3 : V_PD | 0x27;
    v.l2 = v.l2 ? v.l2 : V_PT | 0x27;
    spec_vectors[n_spec_vectors++] = v;
}

static unsigned build_spec_vectors(void *opaque, const struct pt_cpu *cpu, uint64_t cr4_extra,
                                   struct dt_case *cases, unsigned max)
{
    const uint64_t leaf = V_FRAME | 0x23, uleaf = V_FRAME | 0x25 | PTE_W,
                   rsvd = KS_BIT(cpu->maxphyaddr);
    bool smep = cr4_extra & X86_CR4_SMEP, smap = cr4_extra & X86_CR4_SMAP;

    (void)opaque;
    n_spec_vectors = n_spec_skipped = 0;
    /* V1-V3, the seed: PS in a PDPTE without 1 GiB pages, a CPL0 fetch. */
    if (!cpu->gbpages) {
        add_vector(
            (struct spec_vector){"V1 seed", .l3 = 0xa3, .l1 = leaf, .kind = DT_FETCH, .want = 0x9});
        add_vector((struct spec_vector){"V2 seed+NXE", .l3 = 0xa3, .l1 = leaf, .kind = DT_FETCH,
                                        .nxe = true, .want = 0x19});
        if (smep)
            add_vector((struct spec_vector){"V3 seed+SMEP", .l3 = 0xa3, .l1 = leaf,
                                            .kind = DT_FETCH, .smep = true, .want = 0x19});
        else
            spec_skipped[n_spec_skipped++] = "V3 (CR4.SMEP refused)";
    } else {
        spec_skipped[n_spec_skipped++] = "V1-V3 (this vCPU has 1 GiB pages)";
    }
    add_vector(
        (struct spec_vector){"V8 2M leaf", .l2 = V_FRAME2M | 0xa3, .l1 = leaf, .want = V_OK});
    add_vector((struct spec_vector){"V9 2M bit 13", .l2 = V_FRAME2M | 0x20a3, .l1 = leaf,
                                    .kind = DT_WRITE, .want = 0xb});
    add_vector(
        (struct spec_vector){"V10 PTE 0", .l1 = 0, .kind = DT_WRITE, .user = true, .want = 0x6});
    if (cpu->maxphyaddr < 52)
        add_vector((struct spec_vector){"V11a bit M", .l1 = leaf | rsvd, .want = 0x9});
    add_vector((struct spec_vector){"V12 NX, NXE=0", .l1 = leaf | PTE_NX, .want = 0x9});
    add_vector(
        (struct spec_vector){"V13a NX read", .l1 = leaf | PTE_NX, .nxe = true, .want = V_OK});
    add_vector((struct spec_vector){"V13b NX fetch", .l1 = leaf | PTE_NX, .kind = DT_FETCH,
                                    .nxe = true, .want = 0x11});
    add_vector((struct spec_vector){"V14 user->sup", .l1 = leaf, .user = true, .want = 0x5});
    add_vector((struct spec_vector){"V15 WP=0 user write RO", .l1 = V_FRAME | 0x25,
                                    .kind = DT_WRITE, .user = true, .wp0 = true, .want = 0x7});
    add_vector((struct spec_vector){"V16a WP=0 sup write RO", .l1 = V_FRAME | 0x21,
                                    .kind = DT_WRITE, .wp0 = true, .want = V_OK,
                                    .leaf_post = V_FRAME | 0x61});
    add_vector((struct spec_vector){"V16b WP=1 sup write RO", .l1 = V_FRAME | 0x21,
                                    .kind = DT_WRITE, .want = 0x3});
    if (smep)
        add_vector((struct spec_vector){"V17 SMEP", .l1 = uleaf, .kind = DT_FETCH, .smep = true,
                                        .nxe = true, .want = 0x11});
    else
        spec_skipped[n_spec_skipped++] = "V17 (CR4.SMEP refused)";
    if (smap) {
        add_vector((struct spec_vector){"V18a SMAP", .l1 = uleaf, .smap = true, .want = 0x1});
        add_vector((struct spec_vector){"V18b SMAP+AC", .l1 = uleaf, .smap = true, .ac = true,
                                        .want = V_OK});
    } else {
        spec_skipped[n_spec_skipped++] = "V18 (CR4.SMAP refused)";
    }
    add_vector((struct spec_vector){"V22 PML4E bit 8", .l4 = V_PDPT | 0x127, .l1 = leaf,
                                    .want = cpu->amd ? 0x9 : V_OK});
    add_vector((struct spec_vector){"V23 PML4E PS", .l4 = V_PDPT | 0xa7, .l1 = leaf, .want = 0x9});
    add_vector((struct spec_vector){"V32 A/D set", .l4 = V_PDPT | 0x07, .l3 = V_PD | 0x07,
                                    .l2 = V_PT | 0x07, .l1 = V_FRAME | 0x07, .kind = DT_WRITE,
                                    .user = true, .want = V_OK, .leaf_post = V_FRAME | 0x67});
    add_vector((struct spec_vector){"V33 P=0 junk", .l4 = 0x80002000, .l1 = leaf, .want = 0x0});
    if (cpu->maxphyaddr < 52)
        add_vector((struct spec_vector){"V34 RSVD beats U", .l4 = V_PDPT | 0x23,
                                        .l1 = V_FRAME | 0x27 | rsvd, .user = true, .want = 0xd});
    add_vector((struct spec_vector){"V35 U|F, no NXE/SMEP", .l1 = leaf, .kind = DT_FETCH,
                                    .user = true, .want = 0x5});

    for (unsigned i = 0; i < n_spec_vectors && i < max; i++) {
        const struct spec_vector *v = &spec_vectors[i];
        struct dt_case *c = &cases[i];
        const uint64_t vals[4] = {v->l4, v->l3, v->l2, v->l1};
        const gpa_t tables[4] = {DT_PML4_POOL, V_PDPT, V_PD, V_PT};
        const unsigned idx[4] = {1, 0, 0, 0x133};

        *c = (struct dt_case){.mode = PT_MODE_4LEVEL, .esize = 8, .nent = 4};
        c->cr0 =
            X86_CR0_PE | KS_BIT(1) | KS_BIT(4) | KS_BIT(5) | X86_CR0_PG | (v->wp0 ? 0 : X86_CR0_WP);
        c->cr3 = DT_PML4_POOL;
        c->cr4 = X86_CR4_PAE | (v->smep ? X86_CR4_SMEP : 0) | (v->smap ? X86_CR4_SMAP : 0);
        c->efer = X86_EFER_LME | X86_EFER_LMA | (v->nxe ? X86_EFER_NXE : 0);
        c->rflags = 0x2 | (v->ac ? X86_RFLAGS_AC : 0);
        c->gva = V_GVA;
        c->kind = v->kind;
        c->user = v->user;
        c->wval = 0xd1ff000000000000ULL | i;
        for (unsigned l = 0; l < 4; l++)
            c->ent[l] = (struct dt_entry){4 - (int)l, tables[l] + idx[l] * 8, vals[l]};
    }
    return n_spec_vectors < max ? n_spec_vectors : max;
}

static void kvm_spec_vectors(void)
{
    static struct dt_kvm_outcome kvm[DT_MAX_DIRECTED];
    char guest[512], err[KS_ERR_LEN] = "";
    const char *bdir = getenv("BUILD");
    struct dt_stats st;
    struct dt_run_cfg cfg = {
        .max_dumps = 10, .out = stdout, .directed = build_spec_vectors, .kvm = kvm, .guest = guest};
    int rc;

    if (access("/dev/kvm", R_OK | W_OK))
        SKIP("no usable /dev/kvm");
    snprintf(guest, sizeof(guest), "%s/guests/difftest/difftest.bin", bdir ? bdir : "build");
    rc = dt_run(&cfg, &st, err);
    if (rc == -ENODEV)
        SKIP("%s", err);
    if (rc)
        printf("  difftest: %s\n", err);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(st.disagree, 0);
    EXPECT(n_spec_vectors > 15);
    for (unsigned i = 0; i < n_spec_vectors; i++) {
        const struct spec_vector *v = &spec_vectors[i];
        const struct dt_kvm_outcome *o = &kvm[i];
        bool ok = o->phase == DT_PHASE_ACCESS &&
                  (v->want == V_OK
                       ? o->vector == DT_NO_VECTOR
                       : o->vector == X86_PF && o->err == (uint64_t)v->want && o->cr2 == V_GVA);
        if (ok && v->leaf_post)
            ok = o->post[3] == v->leaf_post;
        printf("  %-28s KVM: %s 0x%" PRIx64 "  spec: %s 0x%" PRIx64 "%s\n", v->name,
               o->vector == DT_NO_VECTOR ? "ok  " : "#PF ", o->vector == DT_NO_VECTOR ? 0 : o->err,
               v->want == V_OK ? "ok  " : "#PF ", v->want == V_OK ? 0 : (uint64_t)v->want,
               ok ? "" : "  <-- MISMATCH");
        EXPECT(ok);
    }
    for (unsigned i = 0; i < n_spec_skipped; i++)
        printf("  not run: %s\n", spec_skipped[i]);
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
                             .legacy = legacy,
                             .trace = g_trace};
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
    EXPECT_EQ(st.trace_mismatch, 0);
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
    g_trace = env_u64("DIFFTEST_TRACE", 0) != 0;
    RUN(gen_is_deterministic);
    RUN(gen_respects_layout);
    RUN(pattern_encodes_gpa);
    RUN(gen_legacy_respects_layout);
    RUN(gen_covers_model_outcomes);
    RUN(gen_legacy_covers_model_outcomes);
    RUN(kvm_spec_vectors);
    RUN(kvm_agrees_with_model_4level);
    RUN(kvm_agrees_with_model_legacy);
    return t_done();
}
