/*
 * Small cursor helpers shared by the text parsers of lib/formats (private).
 */
#ifndef KS_FORMATS_TEXTSCAN_H
#define KS_FORMATS_TEXTSCAN_H

#include "ks/parse.h"
#include "ks/types.h"

#include <string.h>

struct cur {
    const char *p, *end;
};

static inline bool cur_eof(const struct cur *c)
{
    return c->p >= c->end;
}

/* Match the literal (s) and advance; leaves (c) unchanged on mismatch. */
static inline bool cur_lit(struct cur *c, const char *s)
{
    const char *p = c->p;

    for (; *s; s++, p++)
        if (p >= c->end || *p != *s)
            return false;
    c->p = p;
    return true;
}

/* 1..16 hex digits (no prefix); (*ndig) gets the count when non-NULL. */
static inline bool cur_hex(struct cur *c, uint64_t *v, unsigned *ndig)
{
    uint64_t x = 0;
    unsigned n = 0;

    while (c->p < c->end && parse_hexdigit((unsigned char)*c->p) >= 0) {
        if (n == 16)
            return false;
        x = x << 4 | (uint64_t)parse_hexdigit((unsigned char)*c->p);
        c->p++;
        n++;
    }
    if (!n)
        return false;
    *v = x;
    if (ndig)
        *ndig = n;
    return true;
}

/* "0x" then hex digits. */
static inline bool cur_0xhex(struct cur *c, uint64_t *v)
{
    struct cur save = *c;

    if (!cur_lit(c, "0x") || !cur_hex(c, v, NULL)) {
        *c = save;
        return false;
    }
    return true;
}

/* Decimal digits, at most 19 of them (no overflow). */
static inline bool cur_dec(struct cur *c, uint64_t *v)
{
    uint64_t x = 0;
    unsigned n = 0;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (n == 19)
            return false;
        x = x * 10 + (uint64_t)(*c->p - '0');
        c->p++;
        n++;
    }
    if (!n)
        return false;
    *v = x;
    return true;
}

/* Skip spaces; true if at least one was skipped. */
static inline bool cur_spaces(struct cur *c)
{
    const char *p = c->p;

    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
    return c->p != p;
}

/* Whether (c) is at the end or at a space. */
static inline bool cur_at_sep(const struct cur *c)
{
    return c->p >= c->end || *c->p == ' ' || *c->p == '\t';
}

/* Copy [s, e) into (dst) with trailing spaces dropped. */
static inline void copy_trim(char *dst, size_t cap, const char *s, const char *e)
{
    size_t n;

    while (e > s && e[-1] == ' ')
        e--;
    n = (size_t)(e - s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

#endif
