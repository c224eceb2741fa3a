/*
 * GDB remote protocol framing (spec/formats.md §3.1): a byte-at-a-time
 * state machine so that packets may arrive split across reads.
 */
#include "ks/rsp.h"

#include "ks/parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void rsp_decoder_init(struct rsp_decoder *d)
{
    d->state = RSP_IDLE;
    d->sum = 0;
    d->csum = 0;
    d->overflow = false;
    d->malformed = false;
    d->len = 0;
    d->buf[0] = 0;
    d->err[0] = 0;
}

static void start_packet(struct rsp_decoder *d)
{
    d->state = RSP_DATA;
    d->sum = 0;
    d->len = 0;
    d->overflow = false;
    d->malformed = false;
    d->err[0] = 0;
}

static void put(struct rsp_decoder *d, uint8_t c)
{
    if (d->len >= RSP_MAX_PACKET) {
        d->overflow = true;
        return;
    }
    d->buf[d->len++] = c;
}

static void malformed(struct rsp_decoder *d, const char *why)
{
    if (!d->malformed && !d->overflow)
        snprintf(d->err, sizeof(d->err), "%s at payload byte %zu", why, d->len);
    d->malformed = true;
}

/* The packet is complete: the second checksum digit was (c). */
static void finish(struct rsp_decoder *d, int c, struct rsp_event *ev)
{
    int lo = parse_hexdigit(c);

    d->state = RSP_IDLE;
    d->buf[d->len < RSP_MAX_PACKET ? d->len : RSP_MAX_PACKET] = 0;
    if (lo < 0 || d->csum == 0xff) {
        ev->type = RSP_EV_BAD;
        ev->bad_checksum = true;
        snprintf(d->err, sizeof(d->err), "checksum digits are not hex");
        return;
    }
    if ((uint8_t)(d->csum << 4 | lo) != d->sum) {
        ev->type = RSP_EV_BAD;
        ev->bad_checksum = true;
        snprintf(d->err, sizeof(d->err), "bad checksum: got %02x, computed %02x",
                 (unsigned)(uint8_t)(d->csum << 4 | lo), d->sum);
        return;
    }
    if (d->overflow) {
        ev->type = RSP_EV_BAD;
        snprintf(d->err, sizeof(d->err), "packet longer than %d bytes", RSP_MAX_PACKET);
        return;
    }
    if (d->malformed) {
        ev->type = RSP_EV_BAD;
        return;
    }
    ev->type = RSP_EV_PACKET;
    ev->data = d->buf;
    ev->len = d->len;
}

size_t rsp_feed(struct rsp_decoder *d, const uint8_t *in, size_t n, struct rsp_event *ev)
{
    size_t i;

    memset(ev, 0, sizeof(*ev));
    for (i = 0; i < n; i++) {
        uint8_t c = in[i];

        switch (d->state) {
        case RSP_IDLE:
            if (c == '$') {
                start_packet(d);
            } else if (c == '+' || c == '-' || c == 0x03) {
                ev->type = c == '+' ? RSP_EV_ACK : c == '-' ? RSP_EV_NACK : RSP_EV_INTERRUPT;
                return i + 1;
            }
            /* Anything else between packets is line noise: ignore it. */
            continue;
        case RSP_CSUM1:
            d->csum = parse_hexdigit(c) < 0 ? 0xff : (uint8_t)parse_hexdigit(c);
            d->state = RSP_CSUM2;
            continue;
        case RSP_CSUM2:
            finish(d, c, ev);
            return i + 1;
        default:
            break;
        }
        /* Inside a packet: '$' is never valid raw (it is escaped), so resync on it. */
        if (c == '$') {
            start_packet(d);
            continue;
        }
        if (c == '#') {
            if (d->state != RSP_DATA)
                malformed(d, d->state == RSP_ESC ? "escape at end of packet"
                                                 : "run-length count missing");
            d->state = RSP_CSUM1;
            continue;
        }
        d->sum += c;
        switch (d->state) {
        case RSP_DATA:
            if (c == '}') {
                d->state = RSP_ESC;
            } else if (c == '*') {
                if (d->len == 0)
                    malformed(d, "run-length marker with nothing to repeat");
                d->state = RSP_RLE;
            } else {
                put(d, c);
            }
            break;
        case RSP_ESC:
            put(d, c ^ 0x20);
            d->state = RSP_DATA;
            break;
        case RSP_RLE:
            /* "x*n" repeats x n-29 more times; n is printable (GDB manual, Overview). */
            if (c < 32 || c > 126) {
                malformed(d, "bad run-length count");
            } else if (d->len > 0) {
                uint8_t prev = d->buf[d->len - 1];

                for (int k = 0; k < c - 29; k++)
                    put(d, prev);
            }
            d->state = RSP_DATA;
            break;
        default:
            break;
        }
    }
    ev->type = RSP_EV_NONE;
    return n;
}

static bool needs_escape(uint8_t c)
{
    return c == '#' || c == '$' || c == '}' || c == '*';
}

long rsp_frame(const uint8_t *payload, size_t len, bool binary, uint8_t *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    uint8_t sum = 0;

    if (cap < 4)
        return -ENOSPC;
    out[o++] = '$';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = payload[i];

        if (needs_escape(c)) {
            if (!binary)
                return -EINVAL;
            if (o + 2 > cap - 3)
                return -ENOSPC;
            out[o++] = 0x7d;
            sum += 0x7d;
            c ^= 0x20;
        } else if (o + 1 > cap - 3) {
            return -ENOSPC;
        }
        out[o++] = c;
        sum += c;
    }
    out[o++] = '#';
    out[o++] = hex[sum >> 4];
    out[o++] = hex[sum & 15];
    return (long)o;
}

void rsp_hex_encode(const void *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = in;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
}

long rsp_hex_decode(const char *in, size_t nchars, uint8_t *out, size_t cap)
{
    if (nchars % 2)
        return -EINVAL;
    if (nchars / 2 > cap)
        return -ENOSPC;
    for (size_t i = 0; i < nchars; i += 2) {
        int hi = parse_hexdigit((unsigned char)in[i]),
            lo = parse_hexdigit((unsigned char)in[i + 1]);

        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(nchars / 2);
}

int rsp_parse_hex(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int nd = 0;

    bool any = false;

    while (s < end && parse_hexdigit((unsigned char)*s) >= 0) {
        /* Leading zeros do not count against the 16 significant digits. */
        if (nd == 16)
            return -EINVAL;
        v = v << 4 | (uint64_t)parse_hexdigit((unsigned char)*s);
        if (v)
            nd++;
        s++;
        any = true;
    }
    if (!any)
        return -EINVAL;
    *p = s;
    *out = v;
    return 0;
}
