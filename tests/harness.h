/*
 * A tiny test harness. Each test binary runs its cases and prints one line
 * per case, "PASS name", "FAIL name: why" or "SKIP name: why", which
 * scripts/run-tests.sh counts. A binary exits 0 only if nothing failed.
 */
#ifndef KS_TEST_HARNESS_H
#define KS_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_pass, t_fail, t_skip;
static int t_case_failed, t_case_skipped;
static char t_skip_why[256];

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stdout, "  %s:%d: expected %s\n", __FILE__, __LINE__, #cond);                  \
            t_case_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

#define EXPECT_EQ(a, b)                                                                            \
    do {                                                                                           \
        uint64_t t_a_ = (uint64_t)(a), t_b_ = (uint64_t)(b);                                       \
        if (t_a_ != t_b_) {                                                                        \
            fprintf(stdout, "  %s:%d: %s == %s: got 0x%" PRIx64 ", want 0x%" PRIx64 "\n",          \
                    __FILE__, __LINE__, #a, #b, t_a_, t_b_);                                       \
            t_case_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

#define EXPECT_STR(a, b)                                                                           \
    do {                                                                                           \
        const char *t_a_ = (a), *t_b_ = (b);                                                       \
        if (!t_a_ || strcmp(t_a_, t_b_)) {                                                         \
            fprintf(stdout, "  %s:%d: %s: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, #a,      \
                    t_a_ ? t_a_ : "(null)", t_b_);                                                 \
            t_case_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

#define EXPECT_CONTAINS(hay, needle)                                                               \
    do {                                                                                           \
        const char *t_h_ = (hay), *t_n_ = (needle);                                                \
        if (!t_h_ || !strstr(t_h_, t_n_)) {                                                        \
            fprintf(stdout, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,       \
                    t_h_ ? t_h_ : "(null)", t_n_);                                                 \
            t_case_failed = 1;                                                                     \
        }                                                                                          \
    } while (0)

/* Mark the running case skipped (e.g. no /dev/kvm) and leave it. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        snprintf(t_skip_why, sizeof(t_skip_why), __VA_ARGS__);                                     \
        t_case_skipped = 1;                                                                        \
        return;                                                                                    \
    } while (0)

static inline void t_run(const char *name, void (*fn)(void))
{
    t_case_failed = 0;
    t_case_skipped = 0;
    fn();
    if (t_case_failed) {
        printf("FAIL %s\n", name);
        t_fail++;
    } else if (t_case_skipped) {
        printf("SKIP %s: %s\n", name, t_skip_why);
        t_skip++;
    } else {
        printf("PASS %s\n", name);
        t_pass++;
    }
    fflush(stdout);
}

#define RUN(fn) t_run(#fn, fn)

static inline int t_done(void)
{
    return t_fail ? 1 : 0;
}

#endif
