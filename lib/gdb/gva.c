/*
 * Debugger access to guest-virtual memory: GDB's addresses are virtual
 * (spec/formats.md §3.2), so every m/M/X and every breakpoint byte goes
 * through the guest's own page tables, in whatever mode the vCPU is in.
 */
#include "ks/gdb.h"

#include <errno.h>

#define PAGE 4096ULL

/*
 * A debugger sees through permissions: walk as a supervisor read (no W/U/F
 * bits) and with SMAP and protection keys off, so the only failures left
 * are not-present and reserved-bit faults (SDM Vol. 3A §4.6: SMAP and the
 * protection keys are the only checks a supervisor read can fail; lib/paging
 * models PKRU but not the supervisor keys of CR4.PKS).
 */
static int translate(const struct gmem *m, const struct pt_ctx *c, gva_t va, gpa_t *gpa)
{
    struct pt_ctx dbg = *c;
    struct pt_walk w;
    int rc;

    dbg.cr4 &= ~(X86_CR4_SMAP | X86_CR4_PKE);
    rc = pt_walk(m, &dbg, va, 0, &w);
    if (rc < 0)
        return rc;
    if (w.fault)
        return -EFAULT;
    *gpa = w.gpa;
    return 0;
}

long gdb_gva_rw(const struct gmem *m, const struct pt_ctx *c, gva_t va, void *buf, size_t len,
                bool write)
{
    uint8_t *p = buf;
    size_t done = 0;

    while (done < len) {
        gva_t cur = va + done;
        size_t chunk = (size_t)(PAGE - (cur & (PAGE - 1)));
        gpa_t gpa;
        int rc;

        if (chunk > len - done)
            chunk = len - done;
        /* Outside 64-bit mode linear addresses wrap at 4 GiB; stop there instead. */
        if (cur < va)
            break;
        rc = translate(m, c, cur, &gpa);
        if (rc == 0)
            rc = write ? gmem_write(m, gpa, p + done, chunk) : gmem_read(m, gpa, p + done, chunk);
        if (rc < 0)
            return done ? (long)done : -EFAULT;
        done += chunk;
    }
    return (long)done;
}
