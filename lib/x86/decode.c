/*
 * Decoding one instruction with Zydis 4 and listing the memory it touches.
 * Zydis gives the effective segment of every operand and exposes hidden
 * operands; its EA helper truncates to the address width
 * (spec/formats.md §8.2). What it does not do, and this file adds: segment
 * bases, the pre-decrement of pushes, and descriptor-table reads.
 */
#include "ks/decode.h"

#include <Zydis/Zydis.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RFLAGS_VM KS_BIT(17) /* virtual-8086 mode (SDM Vol. 1 §3.4.3.3) */

enum x86_cpu_mode x86_cpu_mode_of(const struct x86_state *s)
{
    const struct x86_seg *cs = &s->seg[X86_SEG_CS];

    /* SDM Vol. 3A §2.2: PE selects protected mode, LMA + CS.L 64-bit mode. */
    if (!(s->cr0 & X86_CR0_PE))
        return X86_MODE_REAL;
    if (s->efer & X86_EFER_LMA) {
        if (cs->l)
            return X86_MODE_LONG64;
        return cs->db ? X86_MODE_COMPAT32 : X86_MODE_COMPAT16;
    }
    if (s->rflags & RFLAGS_VM)
        return X86_MODE_VM86;
    return cs->db ? X86_MODE_PROT32 : X86_MODE_PROT16;
}

const char *x86_cpu_mode_name(enum x86_cpu_mode mode)
{
    switch (mode) {
    case X86_MODE_REAL:
        return "real mode";
    case X86_MODE_VM86:
        return "virtual-8086 mode";
    case X86_MODE_PROT16:
        return "16-bit protected mode";
    case X86_MODE_PROT32:
        return "32-bit protected mode";
    case X86_MODE_COMPAT16:
        return "16-bit compatibility mode";
    case X86_MODE_COMPAT32:
        return "32-bit compatibility mode";
    case X86_MODE_LONG64:
        return "64-bit mode";
    }
    return "?";
}

bool x86_mode_is_64(enum x86_cpu_mode mode)
{
    return mode == X86_MODE_LONG64;
}

static ZydisMachineMode zydis_mode(enum x86_cpu_mode mode)
{
    switch (mode) {
    case X86_MODE_LONG64:
        return ZYDIS_MACHINE_MODE_LONG_64;
    case X86_MODE_COMPAT32:
        return ZYDIS_MACHINE_MODE_LONG_COMPAT_32;
    case X86_MODE_COMPAT16:
        return ZYDIS_MACHINE_MODE_LONG_COMPAT_16;
    case X86_MODE_PROT32:
        return ZYDIS_MACHINE_MODE_LEGACY_32;
    case X86_MODE_PROT16:
        return ZYDIS_MACHINE_MODE_LEGACY_16;
    case X86_MODE_REAL:
    case X86_MODE_VM86:
        break;
    }
    return ZYDIS_MACHINE_MODE_REAL_16;
}

/* Stack address size: 64 in 64-bit mode, else SS.B (SDM Vol. 3A §3.4.5, "D/B flag"). */
static ZydisStackWidth zydis_stack_width(enum x86_cpu_mode mode, const struct x86_state *s)
{
    if (mode == X86_MODE_LONG64)
        return ZYDIS_STACK_WIDTH_64;
    if (mode == X86_MODE_REAL || mode == X86_MODE_VM86)
        return ZYDIS_STACK_WIDTH_16;
    return s->seg[X86_SEG_SS].db ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
}

static void fill_regs(ZydisRegisterContext *ctx, const struct x86_state *s)
{
    static const ZydisRegisterClass classes[] = {
        ZYDIS_REGCLASS_GPR64,
        ZYDIS_REGCLASS_GPR32,
        ZYDIS_REGCLASS_GPR16,
    };

    memset(ctx, 0, sizeof(*ctx));
    for (unsigned c = 0; c < KS_ARRAY_SIZE(classes); c++)
        for (unsigned i = 0; i < X86_NR_GPRS; i++) {
            ZydisRegister r = ZydisRegisterEncode(classes[c], (ZyanU8)i);
            if (r != ZYDIS_REGISTER_NONE)
                ctx->values[r] = s->gpr[i];
        }
    ctx->values[ZYDIS_REGISTER_RIP] = s->rip;
    ctx->values[ZYDIS_REGISTER_EIP] = s->rip & 0xffffffffu;
    ctx->values[ZYDIS_REGISTER_IP] = s->rip & 0xffffu;
}

static enum x86_sreg sreg_of(ZydisRegister r)
{
    switch (r) {
    case ZYDIS_REGISTER_ES:
        return X86_SEG_ES;
    case ZYDIS_REGISTER_CS:
        return X86_SEG_CS;
    case ZYDIS_REGISTER_SS:
        return X86_SEG_SS;
    case ZYDIS_REGISTER_FS:
        return X86_SEG_FS;
    case ZYDIS_REGISTER_GS:
        return X86_SEG_GS;
    default:
        return X86_SEG_DS;
    }
}

/* SDM Vol. 3A §3.4.4: in 64-bit mode only FS and GS have a base. */
static gva_t linearize(const struct x86_insn *in, const struct x86_state *s, enum x86_sreg seg,
                       uint64_t ea)
{
    if (x86_mode_is_64(in->mode))
        return (seg == X86_SEG_FS || seg == X86_SEG_GS) ? s->seg[seg].base + ea : ea;
    return (s->seg[seg].base + ea) & 0xffffffffu;
}

static struct x86_mem_access *add_access(struct x86_insn *in, const struct x86_state *s,
                                         enum x86_access_kind kind, enum x86_sreg seg, uint64_t ea,
                                         unsigned size, bool rd, bool wr, const char *what)
{
    struct x86_mem_access *a;

    if (in->n_acc >= X86_MAX_ACCESSES)
        return NULL;
    a = &in->acc[in->n_acc++];
    a->kind = kind;
    a->seg = seg;
    a->ea = ea;
    a->linear = kind == X86_ACC_SYSTEM ? ea : linearize(in, s, seg, ea);
    a->size = size;
    a->read = rd;
    a->write = wr;
    snprintf(a->what, sizeof(a->what), "%s", what);
    return a;
}

static uint64_t width_mask(unsigned bits)
{
    return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

/*
 * A hidden ss:[rsp] operand: Zydis reports RSP itself, but a push writes
 * below it (SDM Vol. 1 §6.2.2: decrement, then store), so writes move down by
 * the slot size. Reads (pop, ret, iret) start at RSP. The stack pointer
 * wraps at the stack width.
 */
static void add_stack_access(struct x86_insn *in, const struct x86_state *s,
                             const ZydisDecodedOperand *op, uint64_t rsp)
{
    unsigned size = op->size / 8;
    uint64_t mask = width_mask(in->stack_width);
    bool wr = op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
    bool rd = op->actions & ZYDIS_OPERAND_ACTION_MASK_READ;
    uint64_t ea = wr ? (rsp - size) & mask : rsp & mask;

    add_access(in, s, X86_ACC_STACK, X86_SEG_SS, ea, size, rd, wr, wr ? "stack push" : "stack pop");
}

/*
 * A descriptor load for selector (sel): GDT or LDT entry (SDM Vol. 3A §3.4.2).
 * LLDT and LTR load system descriptors, which must come from the GDT (TI=1 is
 * a #GP before any read) and are 16 bytes in IA-32e mode (SDM Vol. 3A §3.5.2;
 * LLDT and LTR in Vol. 2A).
 */
static void add_descriptor_read(struct x86_insn *in, const struct x86_state *s, uint16_t sel,
                                const char *why, bool system)
{
    char what[40];
    bool ldt = sel & 4;
    uint64_t base = ldt ? s->seg[X86_SEG_LDTR].base : s->gdt.base;

    if ((sel & ~3u) == 0)
        return; /* a null selector reads nothing */
    if (system && ldt)
        return;
    snprintf(what, sizeof(what), "%s %s entry 0x%x", why, ldt ? "LDT" : "GDT", sel & ~7u);
    add_access(in, s, X86_ACC_SYSTEM, X86_SEG_DS, base + (sel & ~7u),
               system && x86_mode_is_64(in->mode) ? 16 : 8, true, false, what);
}

static void add_idt_read(struct x86_insn *in, const struct x86_state *s, unsigned vector)
{
    char what[40];

    snprintf(what, sizeof(what), "IDT gate %u", vector);
    if (in->mode == X86_MODE_REAL) /* IVT: 4-byte far pointers (SDM Vol. 3A §20.1.4) */
        add_access(in, s, X86_ACC_SYSTEM, X86_SEG_DS, s->idt.base + vector * 4ull, 4, true, false,
                   what);
    else
        add_access(in, s, X86_ACC_SYSTEM, X86_SEG_DS,
                   s->idt.base + vector * (x86_mode_is_64(in->mode) ? 16ull : 8ull),
                   x86_mode_is_64(in->mode) ? 16 : 8, true, false, what);
}

static void classify(struct x86_insn *in, const struct x86_state *s,
                     const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *ops)
{
    switch (zi->mnemonic) {
    case ZYDIS_MNEMONIC_INT:
        in->is_int = true;
        in->int_vector = (unsigned)ops[0].imm.value.u & 0xff;
        break;
    case ZYDIS_MNEMONIC_INT3:
        in->is_int = true;
        in->int_vector = X86_BP;
        break;
    case ZYDIS_MNEMONIC_INT1:
        in->is_int = true;
        in->int_vector = X86_DB;
        break;
    case ZYDIS_MNEMONIC_INTO:
        in->is_int = true;
        in->int_vector = X86_OF;
        break;
    default:
        break;
    }
    if (in->is_int) {
        in->far_transfer = true;
        add_idt_read(in, s, in->int_vector);
    }

    switch (zi->mnemonic) {
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
        in->far_transfer = true;
        break;
    case ZYDIS_MNEMONIC_JMP:
    case ZYDIS_MNEMONIC_CALL:
    case ZYDIS_MNEMONIC_RET:
        if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
            in->far_transfer = true;
        break;
    default:
        break;
    }

    /* Segment loads from a register or an immediate far pointer read a descriptor. */
    for (unsigned i = 0; i < zi->operand_count_visible; i++) {
        const ZydisDecodedOperand *op = &ops[i];
        if (op->type == ZYDIS_OPERAND_TYPE_POINTER) {
            add_descriptor_read(in, s, op->ptr.segment, "CS", false);
        } else if (op->type == ZYDIS_OPERAND_TYPE_REGISTER && zi->mnemonic == ZYDIS_MNEMONIC_MOV &&
                   i + 1 < zi->operand_count_visible &&
                   ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_SEGMENT &&
                   ops[i + 1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            ZydisRegister src =
                ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, ops[i + 1].reg.value);
            int id = ZydisRegisterGetId(src);
            if (id >= 0 && id < X86_NR_GPRS)
                add_descriptor_read(in, s, (uint16_t)s->gpr[id], "segment", false);
        } else if (op->type == ZYDIS_OPERAND_TYPE_REGISTER && i == 0 &&
                   (zi->mnemonic == ZYDIS_MNEMONIC_LTR || zi->mnemonic == ZYDIS_MNEMONIC_LLDT)) {
            ZydisRegister src =
                ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, op->reg.value);
            int id = ZydisRegisterGetId(src);
            if (id >= 0 && id < X86_NR_GPRS)
                add_descriptor_read(in, s, (uint16_t)s->gpr[id],
                                    zi->mnemonic == ZYDIS_MNEMONIC_LTR ? "TSS" : "LDT", true);
        }
    }
}

static void format_text(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *ops,
                        uint64_t ip, ZydisFormatterStyle style, char *buf, size_t len)
{
    ZydisFormatter f;

    buf[0] = 0;
    /* objdump style: lowercase hex, RIP-relative operands kept relative. */
    if (!ZYAN_SUCCESS(ZydisFormatterInit(&f, style)) ||
        !ZYAN_SUCCESS(ZydisFormatterSetProperty(&f, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, 0)) ||
        !ZYAN_SUCCESS(
            ZydisFormatterSetProperty(&f, ZYDIS_FORMATTER_PROP_FORCE_RELATIVE_RIPREL, 1)) ||
        !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&f, zi, ops, zi->operand_count_visible, buf,
                                                      len, ip, NULL)))
        snprintf(buf, len, "%s", ZydisMnemonicGetString(zi->mnemonic));
}

int x86_decode(const uint8_t *buf, size_t len, const struct x86_state *s, struct x86_insn *out)
{
    ZydisDecoder dec;
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisRegisterContext regs;
    ZyanStatus st;

    memset(out, 0, sizeof(*out));
    out->mode = x86_cpu_mode_of(s);
    out->rip = s->rip;
    out->linear =
        x86_mode_is_64(out->mode) ? s->rip : (s->seg[X86_SEG_CS].base + s->rip) & 0xffffffffu;
    if (len > X86_MAX_INSN_LEN)
        len = X86_MAX_INSN_LEN;
    if (!ZYAN_SUCCESS(
            ZydisDecoderInit(&dec, zydis_mode(out->mode), zydis_stack_width(out->mode, s))))
        return -EINVAL;
    st = ZydisDecoderDecodeFull(&dec, buf, len, &zi, ops);
    if (st == ZYDIS_STATUS_NO_MORE_DATA)
        return len < X86_MAX_INSN_LEN ? -ENODATA : -EILSEQ;
    if (!ZYAN_SUCCESS(st))
        return -EILSEQ;

    out->len = zi.length;
    memcpy(out->bytes, buf, zi.length);
    out->address_width = zi.address_width;
    out->operand_width = zi.operand_width;
    out->stack_width = zi.stack_width;
    /* Zydis 4.0 does not flag LGDT/LIDT as privileged (SDM Vol. 3A §2.8 lists them). */
    out->privileged = (zi.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) ||
                      zi.mnemonic == ZYDIS_MNEMONIC_LGDT || zi.mnemonic == ZYDIS_MNEMONIC_LIDT;
    snprintf(out->mnemonic, sizeof(out->mnemonic), "%s", ZydisMnemonicGetString(zi.mnemonic));
    format_text(&zi, ops, out->rip, ZYDIS_FORMATTER_STYLE_INTEL, out->intel, sizeof(out->intel));
    format_text(&zi, ops, out->rip, ZYDIS_FORMATTER_STYLE_ATT, out->att, sizeof(out->att));

    fill_regs(&regs, s);
    for (unsigned i = 0; i < zi.operand_count; i++) {
        const ZydisDecodedOperand *op = &ops[i];
        ZyanU64 ea;
        bool rd, wr;

        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM)
            continue; /* LEA's AGEN, MIB and VSIB touch no memory we can name */
        rd = op->actions & ZYDIS_OPERAND_ACTION_MASK_READ;
        wr = op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
        if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
            op->mem.segment == ZYDIS_REGISTER_SS &&
            (op->mem.base == ZYDIS_REGISTER_RSP || op->mem.base == ZYDIS_REGISTER_ESP ||
             op->mem.base == ZYDIS_REGISTER_SP)) {
            add_stack_access(out, s, op, s->gpr[X86_RSP]);
            continue;
        }
        if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(&zi, op, out->rip, &regs, &ea)))
            continue;
        if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
            op->mem.segment == ZYDIS_REGISTER_SS) /* leave: the pop of RBP */
            add_access(out, s, X86_ACC_STACK, X86_SEG_SS, ea, op->size / 8, rd, wr, "stack pop");
        else
            add_access(out, s, X86_ACC_DATA, sreg_of(op->mem.segment), ea, op->size / 8, rd, wr,
                       op->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT
                           ? (wr ? (rd ? "read-modify-write operand" : "destination operand")
                                 : "source operand")
                           : (wr ? "string destination" : "string source"));
    }
    /* LGDT/LIDT operands are explicit reads already; mark them as table pointers. */
    if (zi.mnemonic == ZYDIS_MNEMONIC_LGDT || zi.mnemonic == ZYDIS_MNEMONIC_LIDT)
        for (unsigned i = 0; i < out->n_acc; i++)
            snprintf(out->acc[i].what, sizeof(out->acc[i].what), "%s pseudo-descriptor",
                     zi.mnemonic == ZYDIS_MNEMONIC_LGDT ? "GDT" : "IDT");
    classify(out, s, &zi, ops);
    return 0;
}

uint32_t x86_access_bits(const struct x86_mem_access *a, unsigned cpl)
{
    uint32_t bits = a->write ? PFERR_W : 0;

    if (a->kind == X86_ACC_SYSTEM)
        return bits | PT_ACCESS_IMPLICIT;
    return bits | (cpl == 3 ? PFERR_U : 0);
}
