/*
 * Fetching the instruction at CS:RIP through the guest's page tables, the
 * way KVM's emulator does (arch/x86/kvm/emulate.c __do_insn_fetch_bytes and
 * x86.c kvm_fetch_guest_virt): one walk per page, access F plus U at CPL 3,
 * and the next page only when the instruction really continues there.
 */
#include "ks/decode.h"

#include <errno.h>
#include <string.h>

#define PAGE_SIZE 4096ull

/* Fetch up to (want) bytes at (la) within one page. Returns bytes read, 0 on fault. */
static unsigned fetch_page(const struct gmem *m, const struct pt_ctx *c, gva_t la, uint32_t access,
                           unsigned want, uint8_t *dst, struct x86_fetch *f, int *err)
{
    unsigned in_page = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
    unsigned n = want < in_page ? want : in_page;
    int rc = pt_walk(m, c, la, access, &f->walk);

    *err = 0;
    if (rc < 0) {
        *err = rc;
        return 0;
    }
    if (f->walk.fault) {
        f->fault = true;
        return 0;
    }
    if (gmem_read(m, f->walk.gpa, dst, n) < 0) {
        /* Bytes past the end of RAM: read what is there, byte by byte. */
        unsigned k = 0;
        while (k < n && gmem_read(m, f->walk.gpa + k, dst + k, 1) == 0)
            k++;
        if (k == 0) {
            f->unbacked = true;
            f->unbacked_gpa = f->walk.gpa;
        }
        return k;
    }
    return n;
}

int x86_fetch_decode(const struct gmem *m, const struct pt_ctx *c, const struct x86_state *s,
                     unsigned cpl, struct x86_fetch *f, struct x86_insn *insn)
{
    uint32_t access = PFERR_F | (cpl == 3 ? PFERR_U : 0);
    enum x86_cpu_mode mode = x86_cpu_mode_of(s);
    gva_t la = x86_mode_is_64(mode) ? s->rip : (s->seg[X86_SEG_CS].base + s->rip) & 0xffffffffu;
    unsigned got;
    int err, rc;

    memset(f, 0, sizeof(*f));
    memset(insn, 0, sizeof(*insn));
    got = fetch_page(m, c, la, access, X86_MAX_INSN_LEN, f->bytes, f, &err);
    if (err)
        return err;
    if (f->fault || f->unbacked)
        return 1;
    f->len = got;
    rc = x86_decode(f->bytes, got, s, insn);
    if (rc != -ENODATA || got == X86_MAX_INSN_LEN)
        return rc;

    /* The instruction crosses into the next page: walk that page too. */
    {
        gva_t next = la + got;
        unsigned more;

        if (!x86_mode_is_64(mode))
            next &= 0xffffffffu;
        if ((next & (PAGE_SIZE - 1)) != 0)
            return -ENODATA; /* short read inside a page: RAM ended */
        more = fetch_page(m, c, next, access, X86_MAX_INSN_LEN - got, f->bytes + got, f, &err);
        if (err)
            return err;
        if (f->fault || f->unbacked)
            return 1;
        f->len = got + more;
    }
    return x86_decode(f->bytes, f->len, s, insn);
}
