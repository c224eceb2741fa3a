#include "ks/parse.h"

#include <errno.h>

int parse_hexdigit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_base(const char *s, unsigned base, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        unsigned d = (unsigned)parse_hexdigit((unsigned char)*s); /* -1 becomes >= any base */
        if (*s == '_')
            continue;
        if (d >= base)
            return -EINVAL;
        if (v > (UINT64_MAX - d) / base)
            return -ERANGE;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
    if (!s)
        return -EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return parse_base(s + 2, 16, out);
    if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        return parse_base(s + 2, 2, out);
    return parse_base(s, 10, out);
}

int parse_hex_u64(const char *s, uint64_t *out)
{
    if (!s)
        return -EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    return parse_base(s, 16, out);
}

int parse_size(const char *s, uint64_t *out)
{
    char buf[64];
    unsigned shift = 0;
    size_t n = 0;
    uint64_t v;
    int rc;

    if (!s)
        return -EINVAL;
    while (s[n] && n < sizeof(buf) - 1) {
        buf[n] = s[n];
        n++;
    }
    if (s[n] || !n)
        return -EINVAL;
    buf[n] = 0;
    switch (buf[n - 1]) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    case 't':
    case 'T':
        shift = 40;
        break;
    default:
        break;
    }
    if (shift)
        buf[--n] = 0;
    rc = parse_u64(buf, &v);
    if (rc)
        return rc;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}
