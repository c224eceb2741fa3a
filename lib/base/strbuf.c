#include "ks/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(struct strbuf *sb)
{
    memset(sb, 0, sizeof(*sb));
}

void sb_free(struct strbuf *sb)
{
    free(sb->buf);
    sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = 0;
}

static bool reserve(struct strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *p;

    if (sb->oom)
        return false;
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(sb->buf, cap);
    if (!p) {
        sb->oom = true;
        return false;
    }
    sb->buf = p;
    sb->cap = cap;
    return true;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(sb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void sb_puts(struct strbuf *sb, const char *s)
{
    size_t n = strlen(s);

    if (!reserve(sb, n))
        return;
    memcpy(sb->buf + sb->len, s, n + 1);
    sb->len += n;
}

void sb_putc(struct strbuf *sb, char c)
{
    if (!reserve(sb, 1))
        return;
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = 0;
}

void sb_json_str(struct strbuf *sb, const char *s)
{
    sb_putc(sb, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            sb_putc(sb, '\\');
            sb_putc(sb, (char)c);
        } else if (c == '\n') {
            sb_puts(sb, "\\n");
        } else if (c == '\t') {
            sb_puts(sb, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            /* Bytes >= 0x80 pass through: the text is UTF-8, which JSON allows raw. */
            sb_printf(sb, "\\u%04x", c);
        } else {
            sb_putc(sb, (char)c);
        }
    }
    sb_putc(sb, '"');
}

const char *sb_str(const struct strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}
