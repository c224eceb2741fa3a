/*
 * The fixed register layout of the stub and its target description
 * (spec/formats.md §3.3: GDB's standard amd64 order, plus a private
 * feature for the system registers so `info registers cr3` works).
 */
#include "ks/gdb.h"

#include <errno.h>
#include <string.h>

/*
 * Written for kvmscope from the register lists in GDB's manual
 * (i386-Features.html); the flag names are the SDM's (Vol. 1 §3.4.3 for
 * EFLAGS, Vol. 3A §2.5 for CR0/CR4, §2.2.1 for EFER).
 */
static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386:x86-64</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"ks_eflags\" size=\"4\">"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"PF\" start=\"2\" end=\"2\"/>"
    "<field name=\"AF\" start=\"4\" end=\"4\"/><field name=\"ZF\" start=\"6\" end=\"6\"/>"
    "<field name=\"SF\" start=\"7\" end=\"7\"/><field name=\"TF\" start=\"8\" end=\"8\"/>"
    "<field name=\"IF\" start=\"9\" end=\"9\"/><field name=\"DF\" start=\"10\" end=\"10\"/>"
    "<field name=\"OF\" start=\"11\" end=\"11\"/><field name=\"NT\" start=\"14\" end=\"14\"/>"
    "<field name=\"RF\" start=\"16\" end=\"16\"/><field name=\"VM\" start=\"17\" end=\"17\"/>"
    "<field name=\"AC\" start=\"18\" end=\"18\"/><field name=\"VIF\" start=\"19\" end=\"19\"/>"
    "<field name=\"VIP\" start=\"20\" end=\"20\"/><field name=\"ID\" start=\"21\" end=\"21\"/>"
    "</flags>\n"
    "<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>\n"
    "<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"ks_eflags\"/>\n"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.sse\">\n"
    "<vector id=\"ks_v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "<vector id=\"ks_v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "<vector id=\"ks_v16i8\" type=\"int8\" count=\"16\"/>\n"
    "<vector id=\"ks_v8i16\" type=\"int16\" count=\"8\"/>\n"
    "<vector id=\"ks_v4i32\" type=\"int32\" count=\"4\"/>\n"
    "<vector id=\"ks_v2i64\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\">"
    "<field name=\"v4_float\" type=\"ks_v4f\"/><field name=\"v2_double\" type=\"ks_v2d\"/>"
    "<field name=\"v16_int8\" type=\"ks_v16i8\"/><field name=\"v8_int16\" type=\"ks_v8i16\"/>"
    "<field name=\"v4_int32\" type=\"ks_v4i32\"/><field name=\"v2_int64\" type=\"ks_v2i64\"/>"
    "<field name=\"uint128\" type=\"uint128\"/></union>\n"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>\n"
    "<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.segments\">\n"
    "<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\"/>\n"
    "<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
    "</feature>\n"
    "<feature name=\"org.kvmscope.x86.sys\">\n"
    "<flags id=\"ks_cr0\" size=\"8\">"
    "<field name=\"PE\" start=\"0\" end=\"0\"/><field name=\"MP\" start=\"1\" end=\"1\"/>"
    "<field name=\"EM\" start=\"2\" end=\"2\"/><field name=\"TS\" start=\"3\" end=\"3\"/>"
    "<field name=\"ET\" start=\"4\" end=\"4\"/><field name=\"NE\" start=\"5\" end=\"5\"/>"
    "<field name=\"WP\" start=\"16\" end=\"16\"/><field name=\"AM\" start=\"18\" end=\"18\"/>"
    "<field name=\"NW\" start=\"29\" end=\"29\"/><field name=\"CD\" start=\"30\" end=\"30\"/>"
    "<field name=\"PG\" start=\"31\" end=\"31\"/></flags>\n"
    "<flags id=\"ks_cr4\" size=\"8\">"
    "<field name=\"VME\" start=\"0\" end=\"0\"/><field name=\"PVI\" start=\"1\" end=\"1\"/>"
    "<field name=\"TSD\" start=\"2\" end=\"2\"/><field name=\"DE\" start=\"3\" end=\"3\"/>"
    "<field name=\"PSE\" start=\"4\" end=\"4\"/><field name=\"PAE\" start=\"5\" end=\"5\"/>"
    "<field name=\"MCE\" start=\"6\" end=\"6\"/><field name=\"PGE\" start=\"7\" end=\"7\"/>"
    "<field name=\"PCE\" start=\"8\" end=\"8\"/><field name=\"OSFXSR\" start=\"9\" end=\"9\"/>"
    "<field name=\"OSXMMEXCPT\" start=\"10\" end=\"10\"/>"
    "<field name=\"UMIP\" start=\"11\" end=\"11\"/><field name=\"LA57\" start=\"12\" end=\"12\"/>"
    "<field name=\"FSGSBASE\" start=\"16\" end=\"16\"/>"
    "<field name=\"PCIDE\" start=\"17\" end=\"17\"/>"
    "<field name=\"OSXSAVE\" start=\"18\" end=\"18\"/>"
    "<field name=\"SMEP\" start=\"20\" end=\"20\"/><field name=\"SMAP\" start=\"21\" end=\"21\"/>"
    "<field name=\"PKE\" start=\"22\" end=\"22\"/></flags>\n"
    "<flags id=\"ks_efer\" size=\"8\">"
    "<field name=\"SCE\" start=\"0\" end=\"0\"/><field name=\"LME\" start=\"8\" end=\"8\"/>"
    "<field name=\"LMA\" start=\"10\" end=\"10\"/><field name=\"NXE\" start=\"11\" end=\"11\"/>"
    "</flags>\n"
    "<reg name=\"cr0\" bitsize=\"64\" type=\"ks_cr0\" regnum=\"59\"/>\n"
    "<reg name=\"cr2\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"cr3\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"cr4\" bitsize=\"64\" type=\"ks_cr4\"/>\n"
    "<reg name=\"cr8\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"efer\" bitsize=\"64\" type=\"ks_efer\"/>\n"
    "<reg name=\"k_gs_base\" bitsize=\"64\" type=\"int64\"/>\n"
    "</feature>\n"
    "</target>\n";

const char *gdb_target_xml(void)
{
    return target_xml;
}

/* GDB's GPR order (rax rbx rcx rdx rsi rdi rbp rsp r8..r15) in x86 encoding numbers. */
static const uint8_t gpr_map[16] = {X86_RAX, X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI,
                                    X86_RBP, X86_RSP, X86_R8,  X86_R9,  X86_R10, X86_R11,
                                    X86_R12, X86_R13, X86_R14, X86_R15};
/* cs ss ds es fs gs */
static const uint8_t seg_map[6] = {X86_SEG_CS, X86_SEG_SS, X86_SEG_DS,
                                   X86_SEG_ES, X86_SEG_FS, X86_SEG_GS};

/* The FSAVE tag of an 80-bit register (SDM Vol. 1 §8.1.7). */
static unsigned classify(const uint8_t v[10])
{
    uint64_t mant = 0;
    unsigned exp = (unsigned)(v[8] | (v[9] << 8)) & 0x7fff;

    for (int i = 7; i >= 0; i--)
        mant = mant << 8 | v[i];
    if (exp == 0x7fff)
        return 2; /* infinity or NaN */
    if (exp == 0)
        return mant ? 2 : 1;     /* denormal, or zero */
    return (mant >> 63) ? 0 : 2; /* the explicit integer bit clear: unnormal */
}

uint16_t gdb_ftag_full(uint8_t abridged, uint16_t fsw, const struct gdb_fpu *f)
{
    unsigned top = (fsw >> 11) & 7;
    uint16_t full = 0;

    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned tag = 3;

        if (abridged & (1u << phys))
            tag = classify(f->st[(phys - top) & 7]);
        full |= (uint16_t)(tag << (2 * phys));
    }
    return full;
}

uint8_t gdb_ftag_abridged(uint16_t full)
{
    uint8_t ab = 0;

    for (unsigned phys = 0; phys < 8; phys++)
        if (((full >> (2 * phys)) & 3) != 3)
            ab |= (uint8_t)(1u << phys);
    return ab;
}

bool gdb_long64(const struct x86_state *s)
{
    return (s->efer & X86_EFER_LMA) && s->seg[X86_SEG_CS].l;
}

static void put_le(uint8_t *buf, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *buf, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)buf[i] << (8 * i);
    return v;
}

/* Where register (regno) lives; (*p64) for 8-byte integers, (*p32) for 4-byte, (raw) otherwise. */
struct reg_ref {
    uint64_t *p64;
    uint32_t *p32;
    uint8_t *raw;
    unsigned size;
    bool mode_dependent; /* GPR 0-7 or rip: truncated outside 64-bit code */
    bool high_gpr;       /* r8-r15: absent outside 64-bit code */
};

static int reg_ref(struct gdb_regs *r, unsigned regno, struct reg_ref *ref)
{
    struct x86_state *s = &r->s;

    memset(ref, 0, sizeof(*ref));
    if (regno < 16) {
        ref->p64 = &s->gpr[gpr_map[regno]];
        ref->size = 8;
        ref->mode_dependent = regno < 8;
        ref->high_gpr = regno >= 8;
    } else if (regno == 16) {
        ref->p64 = &s->rip;
        ref->size = 8;
        ref->mode_dependent = true;
    } else if (regno == 17) {
        ref->p64 = &s->rflags; /* 4 bytes: RFLAGS[63:22] are reserved (SDM Vol. 1 §3.4.3) */
        ref->size = 4;
    } else if (regno < 24) {
        ref->raw = (uint8_t *)&s->seg[seg_map[regno - 18]].selector;
        ref->size = 4;
    } else if (regno < 32) {
        ref->raw = r->fpu.st[regno - 24];
        ref->size = 10;
    } else if (regno < 40) {
        uint32_t *f[8] = {&r->fpu.fctrl, &r->fpu.fstat, &r->fpu.ftag,  &r->fpu.fiseg,
                          &r->fpu.fioff, &r->fpu.foseg, &r->fpu.fooff, &r->fpu.fop};
        ref->p32 = f[regno - 32];
        ref->size = 4;
    } else if (regno < 56) {
        ref->raw = r->fpu.xmm[regno - 40];
        ref->size = 16;
    } else if (regno == 56) {
        ref->p32 = &r->fpu.mxcsr;
        ref->size = 4;
    } else if (regno < GDB_NUM_REGS) {
        uint64_t *q[9] = {&s->seg[X86_SEG_FS].base,
                          &s->seg[X86_SEG_GS].base,
                          &s->cr0,
                          &s->cr2,
                          &s->cr3,
                          &s->cr4,
                          &s->cr8,
                          &s->efer,
                          &s->kernel_gs_base};
        ref->p64 = q[regno - 57];
        ref->size = 8;
    } else {
        return -EINVAL;
    }
    return 0;
}

int gdb_reg_get(const struct gdb_regs *r, unsigned regno, bool long64, uint8_t *buf)
{
    struct reg_ref ref;
    uint64_t v;

    /* reg_ref only hands out pointers; nothing is written through them here. */
    if (reg_ref((struct gdb_regs *)(uintptr_t)r, regno, &ref) < 0)
        return -EINVAL;
    if (ref.raw && ref.size == 4) {
        put_le(buf, *(const uint16_t *)ref.raw, 4); /* selectors are 16-bit */
        return 4;
    }
    if (ref.raw) {
        memcpy(buf, ref.raw, ref.size);
        return (int)ref.size;
    }
    v = ref.p64 ? *ref.p64 : *ref.p32;
    if (!long64 && ref.mode_dependent)
        v &= 0xffffffffu;
    if (!long64 && ref.high_gpr)
        v = 0;
    put_le(buf, v, ref.size);
    return (int)ref.size;
}

int gdb_reg_set(struct gdb_regs *r, unsigned regno, bool long64, const uint8_t *buf)
{
    struct reg_ref ref;
    uint64_t v;

    if (reg_ref(r, regno, &ref) < 0)
        return -EINVAL;
    if (ref.raw && ref.size == 4) {
        *(uint16_t *)ref.raw = (uint16_t)get_le(buf, 4);
        return 4;
    }
    if (ref.raw) {
        memcpy(ref.raw, buf, ref.size);
        return (int)ref.size;
    }
    v = get_le(buf, ref.size);
    if (!long64 && ref.high_gpr)
        return (int)ref.size;
    if (!long64 && ref.mode_dependent)
        v &= 0xffffffffu;
    if (ref.p64 == &r->s.rflags)
        v = (r->s.rflags & ~0xffffffffULL) | v;
    if (ref.p64)
        *ref.p64 = v;
    else
        *ref.p32 = (uint32_t)v;
    return (int)ref.size;
}
