/*
 * GDB Remote Serial Protocol framing, pure and incremental.
 *
 * The decoder takes bytes as they arrive from the socket (any split, any
 * amount) and yields events: a whole packet, an ack, a nack or a Ctrl-C.
 * It never allocates and never overflows: a packet longer than
 * RSP_MAX_PACKET is consumed to its end and reported as an error.
 * Reference: GDB manual, "Remote Protocol" appendix (Overview.html,
 * Packet-Acknowledgment.html); spec/formats.md §3.1.
 */
#ifndef KS_RSP_H
#define KS_RSP_H

#include "ks/types.h"

/*
 * Largest decoded payload we accept. Advertised to GDB as PacketSize=4000
 * (the value is hexadecimal in qSupported, spec/formats.md §3.1).
 */
#define RSP_MAX_PACKET 0x4000

enum rsp_ev_type {
    RSP_EV_NONE,      /* more input needed */
    RSP_EV_PACKET,    /* (data, len) is a decoded payload with a good checksum */
    RSP_EV_BAD,       /* a framed packet that must be refused (reason in the decoder's err) */
    RSP_EV_ACK,       /* '+' */
    RSP_EV_NACK,      /* '-': resend the last packet */
    RSP_EV_INTERRUPT, /* 0x03 outside a packet: GDB's Ctrl-C */
};

struct rsp_event {
    enum rsp_ev_type type;
    const uint8_t *data; /* RSP_EV_PACKET: decoded payload, NUL-terminated; valid until next feed */
    size_t len;
    bool bad_checksum; /* RSP_EV_BAD: the checksum did not match (ack mode answers '-') */
};

enum rsp_state { RSP_IDLE, RSP_DATA, RSP_ESC, RSP_RLE, RSP_CSUM1, RSP_CSUM2 };

struct rsp_decoder {
    enum rsp_state state;
    uint8_t sum;    /* running checksum of the raw bytes between '$' and '#' */
    uint8_t csum;   /* checksum digits received */
    bool overflow;  /* the payload outgrew buf: report RSP_EV_BAD at its end */
    bool malformed; /* bad RLE or escape: report RSP_EV_BAD at its end */
    size_t len;
    uint8_t buf[RSP_MAX_PACKET + 1];
    char err[KS_ERR_LEN];
};

/* Start (or restart) a decoder between packets, as after a connection opens. */
void rsp_decoder_init(struct rsp_decoder *d);

/*
 * Consume bytes of (in) up to and including the first one that completes
 * an event, which is stored in (ev) (RSP_EV_NONE when (n) bytes did not
 * complete one). Returns the number of bytes consumed; call again with the
 * rest. Escapes ('}' x^0x20) and run-length encoding ('x*n', n-29 repeats)
 * are decoded in every packet, as GDB and QEMU do; the checksum is checked
 * over the raw bytes. A '$' inside a packet restarts framing (resync).
 */
size_t rsp_feed(struct rsp_decoder *d, const uint8_t *in, size_t n, struct rsp_event *ev);

/*
 * Frame (payload) as "$...#cs" into (out, cap). With (binary), the bytes
 * '#', '$', '}' and '*' are escaped as 0x7d, byte^0x20 (qXfer replies);
 * without it they are refused (-EINVAL), since GDB would read '*' as RLE.
 * Returns the frame length or -ENOSPC.
 */
long rsp_frame(const uint8_t *payload, size_t len, bool binary, uint8_t *out, size_t cap);

/* Lowercase hex of (n) bytes into (out), which needs 2n+1 bytes; NUL-terminated. */
void rsp_hex_encode(const void *in, size_t n, char *out);

/*
 * Decode exactly (nchars) hex digits of (in) into (out) (nchars/2 bytes).
 * Returns the byte count, or -EINVAL for an odd count or a non-hex digit,
 * -ENOSPC when more than (cap) bytes would result.
 */
long rsp_hex_decode(const char *in, size_t nchars, uint8_t *out, size_t cap);

/*
 * Parse a hex number (1 to 16 digits) at *p, stopping at (end) or at the
 * first non-hex character, and advance *p. Returns 0 or -EINVAL (no digits,
 * or more than 64 bits).
 */
int rsp_parse_hex(const char **p, const char *end, uint64_t *out);

#endif
