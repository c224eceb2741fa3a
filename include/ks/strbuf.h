/*
 * A growable string buffer. Libraries render reports, JSON and dumps into
 * one of these, and only cli/ decides where the text goes.
 */
#ifndef KS_STRBUF_H
#define KS_STRBUF_H

#include "ks/types.h"

struct strbuf {
    char *buf; /* always NUL-terminated once anything was added */
    size_t len, cap;
    bool oom; /* an allocation failed; the content is truncated */
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_puts(struct strbuf *sb, const char *s);
void sb_putc(struct strbuf *sb, char c);
/* Append (s) as a JSON string literal, quotes included. */
void sb_json_str(struct strbuf *sb, const char *s);
/* The text so far ("" when empty); valid until the next append. */
const char *sb_str(const struct strbuf *sb);

#endif
