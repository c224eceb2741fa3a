/*
 * QEMU register-dump text, reproduced from the format description in
 * spec/formats.md §1 (QEMU target/i386/cpu-dump.c).
 */
#include "regdump.h"

#include <inttypes.h>
#include <stdio.h>

/* QEMU's descriptor flag layout (target/i386/cpu.h DESC_*_MASK): the high dword of a descriptor. */
#define DESC_TYPE_SHIFT 8
#define DESC_S          (1u << 12)
#define DESC_DPL_SHIFT  13
#define DESC_P          (1u << 15)
#define DESC_AVL        (1u << 20)
#define DESC_L          (1u << 21)
#define DESC_B          (1u << 22)
#define DESC_G          (1u << 23)

#define EFER_LMA (1ull << 10)
#define CR0_PE   1ull

static const char *const sys_type_legacy[16] = {
    "Reserved",   "TSS16-avl",  "LDT",       "TSS16-busy", "CallGate16", "TaskGate",
    "IntGate16",  "TrapGate16", "Reserved",  "TSS32-avl",  "Reserved",   "TSS32-busy",
    "CallGate32", "Reserved",   "IntGate32", "TrapGate32",
};
static const char *const sys_type_long[16] = {
    "<hiword>",   "Reserved", "LDT",       "Reserved",   "Reserved", "Reserved",
    "Reserved",   "Reserved", "Reserved",  "TSS64-avl",  "Reserved", "TSS64-busy",
    "CallGate64", "Reserved", "IntGate64", "TrapGate64",
};

/* QEMU get_seg(): an unusable segment gets flags 0. */
static uint32_t seg_flags(const struct x86_seg *s)
{
    if (s->unusable)
        return 0;
    return ((uint32_t)(s->type & 0xf) << DESC_TYPE_SHIFT) | (s->s ? DESC_S : 0) |
           ((uint32_t)(s->dpl & 3) << DESC_DPL_SHIFT) | (s->present ? DESC_P : 0) |
           (s->avl ? DESC_AVL : 0) | (s->l ? DESC_L : 0) | (s->db ? DESC_B : 0) |
           (s->g ? DESC_G : 0);
}

static void dump_seg(struct strbuf *sb, const char *name, const struct x86_seg *s, bool cs64,
                     bool lma, bool pe)
{
    uint32_t fl = seg_flags(s) & 0x00ffff00;
    unsigned type = (fl >> DESC_TYPE_SHIFT) & 0xf;

    if (cs64)
        sb_printf(sb, "%-3s=%04x %016" PRIx64 " %08x %08x", name, s->selector, s->base, s->limit,
                  fl);
    else
        sb_printf(sb, "%-3s=%04x %08x %08x %08x", name, s->selector, (uint32_t)s->base, s->limit,
                  fl);
    if (pe && (fl & DESC_P)) {
        sb_printf(sb, " DPL=%u ", (fl >> DESC_DPL_SHIFT) & 3);
        if (fl & DESC_S) {
            if (type & 8) {
                sb_puts(sb, (fl & DESC_L) ? "CS64" : (fl & DESC_B) ? "CS32" : "CS16");
                sb_printf(sb, " [%c%c", (type & 4) ? 'C' : '-', (type & 2) ? 'R' : '-');
            } else {
                sb_puts(sb, ((fl & DESC_B) || lma) ? "DS  " : "DS16");
                sb_printf(sb, " [%c%c", (type & 4) ? 'E' : '-', (type & 2) ? 'W' : '-');
            }
            sb_printf(sb, "%c]", (type & 1) ? 'A' : '-');
        } else {
            sb_puts(sb, (lma ? sys_type_long : sys_type_legacy)[type]);
        }
    }
    sb_putc(sb, '\n');
}

static void flag_chars(char out[8], uint64_t rfl)
{
    static const struct {
        uint64_t bit;
        char c;
    } f[7] = {{0x400, 'D'}, {0x800, 'O'}, {0x80, 'S'}, {0x40, 'Z'},
              {0x10, 'A'},  {0x04, 'P'},  {0x01, 'C'}};

    for (unsigned i = 0; i < 7; i++)
        out[i] = (rfl & f[i].bit) ? f[i].c : '-';
    out[7] = '\0';
}

void regdump_qemu(struct strbuf *sb, const struct snapshot *snap, bool halted)
{
    const struct x86_state *s = &snap->s;
    const uint64_t *g = s->gpr;
    bool lma = s->efer & EFER_LMA;
    bool cs64 = lma && s->seg[X86_SEG_CS].l;
    bool pe = s->cr0 & CR0_PE;
    static const char *const seg_names[X86_NR_SREGS] = {"ES", "CS", "SS",  "DS",
                                                        "FS", "GS", "LDT", "TR"};
    char fl[8];

    flag_chars(fl, s->rflags);
    if (cs64) {
        sb_printf(sb,
                  "RAX=%016" PRIx64 " RBX=%016" PRIx64 " RCX=%016" PRIx64 " RDX=%016" PRIx64 "\n",
                  g[X86_RAX], g[X86_RBX], g[X86_RCX], g[X86_RDX]);
        sb_printf(sb,
                  "RSI=%016" PRIx64 " RDI=%016" PRIx64 " RBP=%016" PRIx64 " RSP=%016" PRIx64 "\n",
                  g[X86_RSI], g[X86_RDI], g[X86_RBP], g[X86_RSP]);
        sb_printf(sb,
                  "R8 =%016" PRIx64 " R9 =%016" PRIx64 " R10=%016" PRIx64 " R11=%016" PRIx64 "\n",
                  g[X86_R8], g[X86_R9], g[X86_R10], g[X86_R11]);
        sb_printf(sb,
                  "R12=%016" PRIx64 " R13=%016" PRIx64 " R14=%016" PRIx64 " R15=%016" PRIx64 "\n",
                  g[X86_R12], g[X86_R13], g[X86_R14], g[X86_R15]);
        sb_printf(sb, "RIP=%016" PRIx64 " RFL=%08x [%s] CPL=%u II=0 A20=1 SMM=0 HLT=%d\n", s->rip,
                  (uint32_t)s->rflags, fl, snap->cpl, halted ? 1 : 0);
    } else {
        sb_printf(sb, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", (uint32_t)g[X86_RAX],
                  (uint32_t)g[X86_RBX], (uint32_t)g[X86_RCX], (uint32_t)g[X86_RDX]);
        sb_printf(sb, "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", (uint32_t)g[X86_RSI],
                  (uint32_t)g[X86_RDI], (uint32_t)g[X86_RBP], (uint32_t)g[X86_RSP]);
        sb_printf(sb, "EIP=%08x EFL=%08x [%s] CPL=%u II=0 A20=1 SMM=0 HLT=%d\n", (uint32_t)s->rip,
                  (uint32_t)s->rflags, fl, snap->cpl, halted ? 1 : 0);
    }
    for (unsigned i = 0; i < X86_NR_SREGS; i++)
        dump_seg(sb, seg_names[i], &s->seg[i], cs64, lma, pe);
    if (lma) {
        sb_printf(sb, "GDT=     %016" PRIx64 " %08x\n", s->gdt.base, s->gdt.limit);
        sb_printf(sb, "IDT=     %016" PRIx64 " %08x\n", s->idt.base, s->idt.limit);
        sb_printf(sb, "CR0=%08x CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08x\n", (uint32_t)s->cr0,
                  s->cr2, s->cr3, (uint32_t)s->cr4);
    } else {
        sb_printf(sb, "GDT=     %08x %08x\n", (uint32_t)s->gdt.base, s->gdt.limit);
        sb_printf(sb, "IDT=     %08x %08x\n", (uint32_t)s->idt.base, s->idt.limit);
        sb_printf(sb, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", (uint32_t)s->cr0, (uint32_t)s->cr2,
                  (uint32_t)s->cr3, (uint32_t)s->cr4);
    }
    /* qemu-system-x86_64 prints DRs with TARGET_FMT_lx: 16 digits in every mode. */
    for (unsigned i = 0; i < 4; i++)
        sb_printf(sb, "DR%u=%016" PRIx64 " ", i, s->dr[i]);
    sb_printf(sb, "\nDR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", s->dr[6], s->dr[7]);
    sb_printf(sb, "EFER=%016" PRIx64 "\n", s->efer);
}

void regdump_code(struct strbuf *sb, const uint8_t *bytes, const bool *valid, unsigned n,
                  unsigned before)
{
    sb_puts(sb, "Code=");
    for (unsigned i = 0; i < n; i++) {
        char hex[3] = "??";

        if (valid[i])
            snprintf(hex, sizeof(hex), "%02x", bytes[i]);
        if (i == before)
            sb_printf(sb, "<%s>", hex);
        else
            sb_puts(sb, hex);
        if (i + 1 < n)
            sb_putc(sb, ' ');
    }
    sb_putc(sb, '\n');
}

static void json_seg(struct strbuf *sb, const char *name, const struct x86_seg *s)
{
    sb_printf(sb,
              "\"%s\":{\"selector\":\"0x%04x\",\"base\":\"0x%" PRIx64 "\",\"limit\":\"0x%x\","
              "\"flags\":\"0x%08x\",\"type\":%u,\"s\":%u,\"dpl\":%u,\"present\":%u,\"l\":%u,"
              "\"db\":%u,\"g\":%u,\"unusable\":%u}",
              name, s->selector, s->base, s->limit, seg_flags(s) & 0x00ffff00, s->type, s->s,
              s->dpl, s->present, s->l, s->db, s->g, s->unusable);
}

void regdump_json(struct strbuf *sb, const struct snapshot *snap)
{
    static const char *const gpr_names[X86_NR_GPRS] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
    };
    static const char *const seg_names[X86_NR_SREGS] = {"es", "cs", "ss",  "ds",
                                                        "fs", "gs", "ldt", "tr"};
    const struct x86_state *s = &snap->s;

    sb_putc(sb, '{');
    for (unsigned i = 0; i < X86_NR_GPRS; i++)
        sb_printf(sb, "\"%s\":\"0x%" PRIx64 "\",", gpr_names[i], s->gpr[i]);
    sb_printf(sb, "\"rip\":\"0x%" PRIx64 "\",\"rflags\":\"0x%" PRIx64 "\",\"cpl\":%u,", s->rip,
              s->rflags, snap->cpl);
    for (unsigned i = 0; i < X86_NR_SREGS; i++) {
        json_seg(sb, seg_names[i], &s->seg[i]);
        sb_putc(sb, ',');
    }
    sb_printf(sb,
              "\"gdt\":{\"base\":\"0x%" PRIx64 "\",\"limit\":\"0x%x\"},"
              "\"idt\":{\"base\":\"0x%" PRIx64 "\",\"limit\":\"0x%x\"},",
              s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit);
    sb_printf(sb,
              "\"cr0\":\"0x%" PRIx64 "\",\"cr2\":\"0x%" PRIx64 "\",\"cr3\":\"0x%" PRIx64
              "\",\"cr4\":\"0x%" PRIx64 "\",\"cr8\":\"0x%" PRIx64 "\",\"efer\":\"0x%" PRIx64 "\",",
              s->cr0, s->cr2, s->cr3, s->cr4, s->cr8, s->efer);
    sb_printf(sb,
              "\"dr0\":\"0x%" PRIx64 "\",\"dr1\":\"0x%" PRIx64 "\",\"dr2\":\"0x%" PRIx64
              "\",\"dr3\":\"0x%" PRIx64 "\",\"dr6\":\"0x%" PRIx64 "\",\"dr7\":\"0x%" PRIx64 "\"}",
              s->dr[0], s->dr[1], s->dr[2], s->dr[3], s->dr[6], s->dr[7]);
    if (s->pdptr_valid) {
        sb->len--; /* reopen the object */
        sb_printf(sb,
                  ",\"pdptrs\":[\"0x%" PRIx64 "\",\"0x%" PRIx64 "\",\"0x%" PRIx64 "\",\"0x%" PRIx64
                  "\"]}",
                  s->pdptr[0], s->pdptr[1], s->pdptr[2], s->pdptr[3]);
    }
}
