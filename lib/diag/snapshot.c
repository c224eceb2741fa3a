#include "ks/snapshot.h"

#include <string.h>

void snapshot_init(struct snapshot *snap)
{
    memset(snap, 0, sizeof(*snap));
    /* KVM's default without CPUID leaf 0x80000008 (spec/paging.md §2.6). */
    snap->pt_cpu.maxphyaddr = 36;
    snap->host_gbpages = -1;
}

void snapshot_pt_ctx(const struct snapshot *snap, struct pt_ctx *out)
{
    memset(out, 0, sizeof(*out));
    out->cr0 = snap->s.cr0;
    out->cr3 = snap->s.cr3;
    out->cr4 = snap->s.cr4;
    out->efer = snap->s.efer;
    out->rflags = snap->s.rflags;
    out->pkru = snap->s.pkru;
    memcpy(out->pdptr, snap->s.pdptr, sizeof(out->pdptr));
    out->pdptr_valid = snap->s.pdptr_valid;
    out->cpu = snap->pt_cpu;
}
