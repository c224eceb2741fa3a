/*
 * Strict number parsing for command-line flags and text artifacts.
 * Every function rejects empty strings, trailing garbage and overflow.
 */
#ifndef KS_PARSE_H
#define KS_PARSE_H

#include "ks/types.h"

/* "0x1f", "31", "0b11", "017"(decimal, not octal). Returns 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *out);
/* Hex digits only, optional "0x" prefix. */
int parse_hex_u64(const char *s, uint64_t *out);
/* Sizes with an optional K/M/G/T suffix (binary, as QEMU's -m): "128M", "1G", "4096". */
int parse_size(const char *s, uint64_t *out);
/* The value 0..15 of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other (c). */
int parse_hexdigit(int c);

#endif
