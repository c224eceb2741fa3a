/* RSP framing, escaping, run-length decoding, hex codec and the recorded GDB 13 session. */
#include "harness.h"

#include "ks/rsp.h"

#include <errno.h>

static struct rsp_decoder dec;

/* Feed (s) in one go; return the first event and how many bytes it took. */
static size_t feed_str(const char *s, struct rsp_event *ev)
{
    return rsp_feed(&dec, (const uint8_t *)s, strlen(s), ev);
}

static void framing_basic(void)
{
    struct rsp_event ev;

    rsp_decoder_init(&dec);
    EXPECT_EQ(feed_str("$g#67", &ev), 5);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_EQ(ev.len, 1);
    EXPECT_STR((const char *)ev.data, "g");

    /* Acks, nacks and Ctrl-C outside packets; noise ignored. */
    EXPECT_EQ(feed_str("xx+", &ev), 3);
    EXPECT_EQ(ev.type, RSP_EV_ACK);
    EXPECT_EQ(feed_str("-", &ev), 1);
    EXPECT_EQ(ev.type, RSP_EV_NACK);
    EXPECT_EQ(feed_str("\x03$?#3f", &ev), 1);
    EXPECT_EQ(ev.type, RSP_EV_INTERRUPT);
    EXPECT_EQ(feed_str("$?#3f", &ev), 5);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_STR((const char *)ev.data, "?");
    /* Uppercase checksum digits are accepted. */
    EXPECT_EQ(feed_str("$Hgp0.0#AD", &ev), 10);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    /* 0x03 inside a packet is data, not an interrupt. */
    {
        const uint8_t pkt[] = {'$', 'a', 0x03, '#', '6', '4'};

        EXPECT_EQ(rsp_feed(&dec, pkt, sizeof(pkt), &ev), sizeof(pkt));
        EXPECT_EQ(ev.type, RSP_EV_PACKET);
        EXPECT_EQ(ev.len, 2);
        EXPECT_EQ(ev.data[1], 3);
    }
}

static void framing_split(void)
{
    const char *s = "$qSupported:swbreak+#8b";
    struct rsp_event ev;
    int packets = 0;

    /* One byte at a time: only the last byte completes the packet. */
    rsp_decoder_init(&dec);
    for (size_t i = 0; s[i]; i++) {
        EXPECT_EQ(rsp_feed(&dec, (const uint8_t *)s + i, 1, &ev), 1);
        if (ev.type == RSP_EV_PACKET) {
            packets++;
            EXPECT_EQ(i, strlen(s) - 1);
            EXPECT_STR((const char *)ev.data, "qSupported:swbreak+");
        } else {
            EXPECT_EQ(ev.type, RSP_EV_NONE);
        }
    }
    EXPECT_EQ(packets, 1);
    /* Two packets in one buffer come out one per call. */
    {
        const char *two = "+$m10,4#2e$c#63";
        size_t off = 0, n = strlen(two);
        int seen = 0;

        while (off < n) {
            off += rsp_feed(&dec, (const uint8_t *)two + off, n - off, &ev);
            if (ev.type == RSP_EV_PACKET)
                seen++;
        }
        EXPECT_EQ(seen, 2);
        EXPECT_STR((const char *)ev.data, "c");
    }
}

static void framing_bad(void)
{
    struct rsp_event ev;

    rsp_decoder_init(&dec);
    feed_str("$g#00", &ev);
    EXPECT_EQ(ev.type, RSP_EV_BAD);
    EXPECT(ev.bad_checksum);
    EXPECT_CONTAINS(dec.err, "bad checksum");
    feed_str("$g#zz", &ev);
    EXPECT_EQ(ev.type, RSP_EV_BAD);
    EXPECT_CONTAINS(dec.err, "not hex");
    /* A '$' inside a packet restarts it: the truncated "m10" is dropped. */
    feed_str("$m10$g#67", &ev);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_STR((const char *)ev.data, "g");
    /* RLE with nothing to repeat, escape at the end, count missing. */
    feed_str("$*\"#4c", &ev);
    EXPECT_EQ(ev.type, RSP_EV_BAD);
    EXPECT_CONTAINS(dec.err, "nothing to repeat");
    feed_str("$a}#de", &ev);
    EXPECT_EQ(ev.type, RSP_EV_BAD);
    EXPECT_CONTAINS(dec.err, "escape at end");
    feed_str("$a*#8b", &ev);
    EXPECT_EQ(ev.type, RSP_EV_BAD);
    /* The decoder recovers for the next packet. */
    feed_str("$g#67", &ev);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
}

static void framing_overlong(void)
{
    static uint8_t big[RSP_MAX_PACKET + 100];
    static uint8_t framed[sizeof(big) + 8];
    struct rsp_event ev;
    long n;

    memset(big, 'a', sizeof(big));
    n = rsp_frame(big, sizeof(big), false, framed, sizeof(framed));
    EXPECT(n > 0);
    rsp_decoder_init(&dec);
    EXPECT_EQ(rsp_feed(&dec, framed, (size_t)n, &ev), n);
    EXPECT_EQ(ev.type, RSP_EV_BAD);
    EXPECT(!ev.bad_checksum);
    EXPECT_CONTAINS(dec.err, "longer than");
    /* Exactly the maximum is fine. */
    n = rsp_frame(big, RSP_MAX_PACKET, false, framed, sizeof(framed));
    EXPECT_EQ(rsp_feed(&dec, framed, (size_t)n, &ev), n);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_EQ(ev.len, RSP_MAX_PACKET);
    /* RLE cannot expand past the bound either: 'a' then many "*~" runs (97 each). */
    {
        static char rle[2 * 200 + 16];
        size_t o = 0;
        uint8_t sum = 0;

        rle[o++] = '$';
        rle[o++] = 'a';
        for (int i = 0; i < 200; i++) {
            rle[o++] = '*';
            rle[o++] = '~';
        }
        for (size_t i = 1; i < o; i++)
            sum += (uint8_t)rle[i];
        o += (size_t)snprintf(rle + o, sizeof(rle) - o, "#%02x", sum);
        EXPECT_EQ(rsp_feed(&dec, (uint8_t *)rle, o, &ev), o);
        EXPECT_EQ(ev.type, RSP_EV_BAD);
        EXPECT_CONTAINS(dec.err, "longer than");
    }
}

static void escaping_and_rle(void)
{
    const uint8_t bin[] = {'X', '#', '$', '}', '*', 0, 0xff, 'z'};
    uint8_t framed[64];
    struct rsp_event ev;
    long n;

    n = rsp_frame(bin, sizeof(bin), true, framed, sizeof(framed));
    EXPECT_EQ(n, 1 + 8 + 4 + 3);
    EXPECT_EQ(framed[2], 0x7d);
    EXPECT_EQ(framed[3], '#' ^ 0x20);
    rsp_decoder_init(&dec);
    EXPECT_EQ(rsp_feed(&dec, framed, (size_t)n, &ev), n);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_EQ(ev.len, sizeof(bin));
    EXPECT(!memcmp(ev.data, bin, sizeof(bin)));
    /* Without binary mode, bytes GDB would misread are refused. */
    EXPECT_EQ(rsp_frame(bin, sizeof(bin), false, framed, sizeof(framed)), -EINVAL);
    EXPECT_EQ(rsp_frame(bin, sizeof(bin), true, framed, 10), -ENOSPC);

    /* "0* " = '0' then ' '-29 = 3 more zeros (GDB manual's example). */
    feed_str("$0* #7a", &ev);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_STR((const char *)ev.data, "0000");
    feed_str("$ab*\"cd#d6", &ev);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_STR((const char *)ev.data, "abbbbbbcd");
    /* An escaped byte can be repeated. */
    feed_str("$}]* #24", &ev);
    EXPECT_EQ(ev.type, RSP_EV_PACKET);
    EXPECT_STR((const char *)ev.data, "}}}}");
}

static void hex_codec(void)
{
    const uint8_t in[] = {0x00, 0x7f, 0x80, 0xff, 0xab};
    char out[16];
    uint8_t back[8];
    const char *p, *s;
    uint64_t v;

    rsp_hex_encode(in, sizeof(in), out);
    EXPECT_STR(out, "007f80ffab");
    EXPECT_EQ(rsp_hex_decode(out, 10, back, sizeof(back)), 5);
    EXPECT(!memcmp(in, back, 5));
    EXPECT_EQ(rsp_hex_decode("ABcd", 4, back, 8), 2);
    EXPECT_EQ(back[0], 0xab);
    EXPECT_EQ(rsp_hex_decode("abc", 3, back, 8), -EINVAL);
    EXPECT_EQ(rsp_hex_decode("zz", 2, back, 8), -EINVAL);
    EXPECT_EQ(rsp_hex_decode("0011", 4, back, 1), -ENOSPC);

    s = "1000b5,1";
    p = s;
    EXPECT_EQ(rsp_parse_hex(&p, s + strlen(s), &v), 0);
    EXPECT_EQ(v, 0x1000b5);
    EXPECT_EQ(*p, ',');
    s = "ffffffff80001000";
    p = s;
    EXPECT_EQ(rsp_parse_hex(&p, s + strlen(s), &v), 0);
    EXPECT_EQ(v, 0xffffffff80001000ULL);
    s = "00000000000000000001";
    p = s;
    EXPECT_EQ(rsp_parse_hex(&p, s + strlen(s), &v), 0);
    EXPECT_EQ(v, 1);
    s = "10000000000000000";
    p = s;
    EXPECT_EQ(rsp_parse_hex(&p, s + strlen(s), &v), -EINVAL);
    s = ",1";
    p = s;
    EXPECT_EQ(rsp_parse_hex(&p, s + strlen(s), &v), -EINVAL);
}

/*
 * The recorded GDB 13 <-> QEMU 7.2 session: every packet GDB sent decodes
 * with a good checksum, and every reply QEMU sent survives a round trip
 * through rsp_frame + the decoder.
 */
static void recorded_session(void)
{
    FILE *f = fopen("tests/fixtures/gdb13_vs_qemu72_rsp_session.txt", "r");
    static char line[8192];
    static uint8_t framed[2 * sizeof(line)];
    int sent = 0, received = 0;
    struct rsp_event ev;

    if (!f)
        SKIP("fixture missing (run from the repository root)");
    rsp_decoder_init(&dec);
    while (fgets(line, sizeof(line), f)) {
        const char *snd = strstr(line, "Sending packet: ");
        const char *rcv = strstr(line, "Packet received: ");
        size_t n;

        line[strcspn(line, "\n")] = 0;
        if (snd) {
            const char *pkt = snd + strlen("Sending packet: ");
            const char *hash = strrchr(pkt, '#');

            n = strlen(pkt);
            EXPECT_EQ(rsp_feed(&dec, (const uint8_t *)pkt, n, &ev), n);
            EXPECT_EQ(ev.type, RSP_EV_PACKET);
            if (ev.type == RSP_EV_PACKET && hash) {
                EXPECT_EQ(ev.len, (size_t)(hash - pkt - 1));
                EXPECT(!memcmp(ev.data, pkt + 1, ev.len));
            }
            sent++;
        } else if (rcv) {
            const char *payload = rcv + strlen("Packet received: ");
            long fl;

            n = strlen(payload);
            fl = rsp_frame((const uint8_t *)payload, n, true, framed, sizeof(framed));
            EXPECT(fl > 0);
            if (fl > 0) {
                EXPECT_EQ(rsp_feed(&dec, framed, (size_t)fl, &ev), fl);
                EXPECT_EQ(ev.type, RSP_EV_PACKET);
                EXPECT_EQ(ev.len, n);
                EXPECT(!memcmp(ev.data, payload, n));
            }
            received++;
        }
    }
    fclose(f);
    EXPECT(sent >= 40);
    EXPECT(received >= 40);
}

int main(void)
{
    RUN(framing_basic);
    RUN(framing_split);
    RUN(framing_bad);
    RUN(framing_overlong);
    RUN(escaping_and_rle);
    RUN(hex_codec);
    RUN(recorded_session);
    return t_done();
}
