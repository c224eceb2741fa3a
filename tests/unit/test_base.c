/* Guest-memory bounds checks and strict number parsing. */
#include "harness.h"

#include "ks/gmem.h"
#include "ks/parse.h"
#include "ks/strbuf.h"

#include <errno.h>

static uint8_t ram_a[0x2000], ram_b[0x1000];

static void gmem_bounds(void)
{
    struct gmem m;
    uint8_t buf[16];

    gmem_init(&m);
    EXPECT_EQ(gmem_add(&m, 0x1000, sizeof(ram_a), ram_a, true), 0);
    EXPECT_EQ(gmem_add(&m, 0x3000, sizeof(ram_b), ram_b, false), 0);
    EXPECT_EQ(gmem_add(&m, 0x2000, 0x10, ram_b, true), -EINVAL);    /* overlap */
    EXPECT_EQ(gmem_add(&m, ~0ULL - 4, 0x10, ram_b, true), -EINVAL); /* wraps */
    EXPECT(gmem_ptr(&m, 0x1000, 0x2000) == ram_a);
    EXPECT(gmem_ptr(&m, 0x1001, 0x2000) == NULL);
    EXPECT(gmem_ptr(&m, 0x0fff, 1) == NULL);
    EXPECT(gmem_ptr(&m, ~0ULL, 8) == NULL);
    /* Reads may span the two adjacent regions. */
    ram_a[0x1fff] = 0xaa;
    ram_b[0] = 0xbb;
    EXPECT_EQ(gmem_read(&m, 0x2fff, buf, 2), 0);
    EXPECT_EQ(buf[0], 0xaa);
    EXPECT_EQ(buf[1], 0xbb);
    EXPECT_EQ(gmem_read(&m, 0x3ff8, buf, 16), -EFAULT);
    EXPECT_EQ(gmem_read(&m, ~0ULL - 2, buf, 8), -EFAULT);
    EXPECT_EQ(gmem_write(&m, 0x3000, buf, 1), -EFAULT); /* read-only */
    EXPECT_EQ(gmem_end(&m), 0x4000);
}

static void gmem_cmpxchg_rules(void)
{
    struct gmem m;
    uint64_t v = 0x23;

    gmem_init(&m);
    gmem_add(&m, 0, sizeof(ram_a), ram_a, true);
    memcpy(ram_a + 8, &v, 8);
    EXPECT_EQ(gmem_cmpxchg(&m, 8, 0x23, 0x63, 8), 0);
    EXPECT_EQ(gmem_cmpxchg(&m, 8, 0x23, 0x63, 8), -EAGAIN);
    EXPECT_EQ(gmem_cmpxchg(&m, 9, 0x63, 0x23, 8), -EINVAL);
    EXPECT_EQ(gmem_cmpxchg(&m, 8, 0x63, 0x23, 3), -EINVAL);
    EXPECT_EQ(gmem_cmpxchg(&m, sizeof(ram_a), 0, 0, 4), -EFAULT);
}

static void numbers(void)
{
    uint64_t v;

    EXPECT_EQ(parse_u64("0x1f", &v), 0);
    EXPECT_EQ(v, 0x1f);
    EXPECT_EQ(parse_u64("017", &v), 0);
    EXPECT_EQ(v, 17);
    EXPECT_EQ(parse_u64("0b101", &v), 0);
    EXPECT_EQ(v, 5);
    EXPECT_EQ(parse_u64("0xffffffffffffffff", &v), 0);
    EXPECT_EQ(v, ~0ULL);
    EXPECT_EQ(parse_u64("0x10000000000000000", &v), -ERANGE);
    EXPECT_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
    EXPECT_EQ(parse_u64("", &v), -EINVAL);
    EXPECT_EQ(parse_u64("0x", &v), -EINVAL);
    EXPECT_EQ(parse_u64("12z", &v), -EINVAL);
    EXPECT_EQ(parse_u64("-1", &v), -EINVAL);
    EXPECT_EQ(parse_u64(NULL, &v), -EINVAL);
    EXPECT_EQ(parse_hex_u64("bf9023", &v), 0);
    EXPECT_EQ(v, 0xbf9023);
    EXPECT_EQ(parse_size("128M", &v), 0);
    EXPECT_EQ(v, 128ULL << 20);
    EXPECT_EQ(parse_size("2g", &v), 0);
    EXPECT_EQ(v, 2ULL << 30);
    EXPECT_EQ(parse_size("M", &v), -EINVAL);
    EXPECT_EQ(parse_size("99999999999T", &v), -ERANGE);
}

static void json_strings(void)
{
    struct strbuf sb;

    sb_init(&sb);
    sb_json_str(&sb, "a\"b\\c\n\x01 \xc2\xa7 2.6");
    EXPECT_STR(sb_str(&sb), "\"a\\\"b\\\\c\\n\\u0001 \xc2\xa7 2.6\"");
    sb_free(&sb);
}

int main(void)
{
    RUN(json_strings);
    RUN(gmem_bounds);
    RUN(gmem_cmpxchg_rules);
    RUN(numbers);
    return t_done();
}
