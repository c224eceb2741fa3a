/*
 * Sentences that explain a walk: which rule an entry broke, with the bits
 * and the architectural source, and KVM's rendering of #PF error codes
 * (kvm_mmu_trace_pferr_flags in arch/x86/kvm/mmu/mmutrace.h; spec §5.1).
 */
#include "paging_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An snprintf that appends at (*off) and never overruns (len). */
struct out {
    char *buf;
    size_t len, off;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(o->off < o->len ? o->buf + o->off : NULL, o->off < o->len ? o->len - o->off : 0,
                  fmt, ap);
    va_end(ap);
    if (n > 0)
        o->off += (size_t)n;
}

/* "bit 36", "bits 13-20", "bits 8, 40-47". */
static void put_bits(struct out *o, uint64_t mask)
{
    bool first = true;

    put(o, __builtin_popcountll(mask) > 1 ? "bits " : "bit ");
    while (mask) {
        int lo = __builtin_ctzll(mask), hi = lo;
        while (hi < 63 && (mask >> (hi + 1) & 1))
            hi++;
        mask &= ~KS_BITS(lo, hi);
        put(o, hi > lo ? "%s%d-%d" : "%s%d", first ? "" : ", ", lo, hi);
        first = false;
    }
}

static void rsvd_reasons(const struct pt_ctx *c, const struct pt_level *lv, struct out *o)
{
    const uint64_t e = lv->entry, bits = lv->rsvd_bits;
    const unsigned m = c->cpu.maxphyaddr;
    bool sep = false;

#define NEXT() (sep ? put(o, "; ") : (void)0, sep = true)
    if (lv->rsvd_why & PT_RSVD_GBPAGES) {
        NEXT();
        put(o, "PS at level 3 needs 1 GiB pages: CPUID.80000001H:EDX[26]");
    }
    if (lv->rsvd_why & PT_RSVD_PS_TOP) {
        NEXT();
        put(o, "PS (bit 7) is reserved at level %d (%s): SDM Vol. 3A Table 4-15", lv->level,
            pt_level_name(pt_mode_of(c), lv->level));
    }
    if (lv->rsvd_why & PT_RSVD_AMD_BIT8) {
        NEXT();
        put(o,
            "bit 8 is reserved at level %d (%s) on an AMD-compatible vCPU: AMD APM Vol. 2 "
            "§5.3.3",
            lv->level, pt_level_name(pt_mode_of(c), lv->level));
    }
    if (lv->rsvd_why & PT_RSVD_MAXPHYADDR) {
        NEXT();
        put_bits(o, bits & KS_BITS(m > 51 ? 63 : m, 51));
        put(o, " at or above MAXPHYADDR %u: CPUID.80000008H:EAX[7:0]", m);
    }
    if (lv->rsvd_why & PT_RSVD_PAE_HIGH) {
        NEXT();
        put_bits(o, bits & KS_BITS(m > 62 ? 63 : m, 62));
        put(o,
            " of a PAE entry (bits 62:%u are reserved with MAXPHYADDR %u): SDM Vol. 3A "
            "§4.4.2",
            m, m);
    }
    if (lv->rsvd_why & PT_RSVD_NX) {
        NEXT();
        put(o, "XD (bit 63) set while EFER.NXE=0: SDM Vol. 3A §4.6");
    }
    if (lv->rsvd_why & PT_RSVD_LARGE_PAGE) {
        bool gb = lv->level == 3;
        NEXT();
        put_bits(o, bits & (gb ? KS_BITS(13, 29) : KS_BITS(13, 20)));
        put(o,
            " must be 0 in a %s page (bits %s are reserved, bit 12 is PAT): SDM Vol. 3A "
            "Table %s",
            gb ? "1 GiB" : "2 MiB", gb ? "29:13" : "20:13", gb ? "4-16" : "4-18");
    }
    if (lv->rsvd_why & PT_RSVD_PSE36) {
        NEXT();
        put_bits(o, bits & KS_BITS(17, 21));
        put(o, " must be 0 in a 4 MiB page (KVM assumes PSE-36: bits 21:17 reserved, 16:13 = "
               "GPA[35:32]): KVM is_cpuid_PSE36()");
    }
    if (lv->rsvd_why & PT_RSVD_PDPTE) {
        NEXT();
        put_bits(o, e & pt_pdpte_rsvd_mask(c));
        put(o,
            " reserved in a PAE PDPTE register (63:%u, 8:5, 2:1); loading it makes the MOV "
            "to CR #GP(0): SDM Vol. 3A §4.4.1",
            m);
    }
#undef NEXT
}

int pt_level_reason(const struct pt_ctx *c, const struct pt_level *lv, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    const bool wide = pt_mode_of(c) != PT_MODE_32;
    const uint64_t e = lv->entry;

    if (len)
        buf[0] = '\0';
    switch (lv->verdict) {
    case PT_NOT_PRESENT:
        put(&o, "not present (P=0)");
        break;
    case PT_UNBACKED:
        put(&o,
            "entry at GPA 0x%llx is outside guest memory; KVM treats an unbacked table as "
            "not present",
            (unsigned long long)lv->entry_gpa);
        break;
    case PT_RESERVED:
        rsvd_reasons(c, lv, &o);
        if (!lv->rsvd_why)
            put(&o, "reserved bits set");
        break;
    case PT_OK:
        if (!lv->leaf) {
            put(&o, "next table at 0x%llx",
                (unsigned long long)(e & (wide ? PT64_ADDR_MASK : PT32_ADDR_MASK)));
        } else {
            uint64_t size;
            gpa_t base;

            if (!wide && lv->level == 2) {
                size = 4u << 20;
                base = (e & 0xffc00000ULL) | ((e >> 13) & 0xfULL) << 32;
            } else if (!wide) {
                size = 4096;
                base = e & PT32_ADDR_MASK;
            } else {
                size = 1ULL << (12 + 9 * (lv->level - 1));
                base = e & KS_BITS(12 + 9 * (lv->level - 1), 51);
            }
            put(&o, "maps a %s page at 0x%llx",
                size == 4096         ? "4 KiB"
                : size == (2u << 20) ? "2 MiB"
                : size == (4u << 20) ? "4 MiB"
                                     : "1 GiB",
                (unsigned long long)base);
        }
        break;
    }
    return (int)o.off;
}

/* The first walked level whose bit (flag) is clear, or 0. */
static int first_without(const struct pt_walk *w, uint64_t flag)
{
    for (unsigned i = 0; i < w->nlevels; i++)
        if (!(w->mode == PT_MODE_PAE && w->lv[i].level == 3) && !(w->lv[i].entry & flag))
            return w->lv[i].level;
    return 0;
}

int pt_perm_reason(const struct pt_ctx *c, const struct pt_walk *w, char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    const uint32_t why = w->perm_why;
    bool sep = false;

    if (len)
        buf[0] = '\0';
#define NEXT() (sep ? put(&o, "; ") : (void)0, sep = true)
    if (why & PT_PERM_WRITE) {
        NEXT();
        put(&o, "write to a read-only page (R/W=0 at level %d) %s: SDM Vol. 3A §4.6.1",
            first_without(w, PTE_W), (w->access & PFERR_U) ? "from user mode" : "with CR0.WP=1");
    }
    if (why & PT_PERM_USER) {
        NEXT();
        put(&o, "user-mode access to a supervisor page (U/S=0 at level %d): SDM Vol. 3A §4.6.1",
            first_without(w, PTE_U));
    }
    if (why & PT_PERM_NX) {
        NEXT();
        put(&o, "instruction fetch from a no-execute page (XD=1, EFER.NXE=1): SDM Vol. 3A "
                "§4.6.1");
    }
    if (why & PT_PERM_SMEP) {
        NEXT();
        put(&o, "supervisor fetch from a user page with CR4.SMEP=1: SDM Vol. 3A §4.6.1");
    }
    if (why & PT_PERM_SMAP) {
        NEXT();
        put(&o, "supervisor data access to a user page with CR4.SMAP=1 %s: SDM Vol. 3A §4.6.1",
            (w->access & PT_ACCESS_IMPLICIT) ? "(implicit access: RFLAGS.AC does not apply)"
                                             : "and RFLAGS.AC=0");
    }
    if (why & PT_PERM_PKEY) {
        unsigned kb = (c->pkru >> (2 * w->pkey)) & 3;
        NEXT();
        put(&o, "protection key %u denies it (PKRU.AD%u=%u, PKRU.WD%u=%u): SDM Vol. 3A §4.6.2",
            w->pkey, w->pkey, kb & 1, w->pkey, kb >> 1);
    }
#undef NEXT
    return (int)o.off;
}

int pt_pferr_str(uint32_t code, char *buf, size_t len)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {PFERR_P, "P"}, {PFERR_W, "W"}, {PFERR_U, "U"}, {PFERR_RSVD, "RSVD"}, {PFERR_F, "F"}};
    struct out o = {buf, len, 0};
    bool sep = false;

    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < KS_ARRAY_SIZE(names); i++)
        if (code & names[i].bit) {
            put(&o, "%s%s", sep ? "|" : "", names[i].name);
            sep = true;
            code &= ~names[i].bit;
        }
    if (code)
        put(&o, "%s0x%x", sep ? "|" : "", code);
    return (int)o.off;
}
