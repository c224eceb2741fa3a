/*
 * The instruction at RIP: fetched through the guest's page tables, decoded
 * with Zydis 4, and turned into the list of memory accesses it makes.
 *
 * The crash explainer needs to know which linear addresses an instruction
 * touches so that it can walk each one: its explicit operands, the hidden
 * ones (string instructions), the stack it pushes to or pops from, and the
 * descriptor tables it reads. The fetch itself is a walk too, and when that
 * walk faults it is usually the whole answer (spec/paging.md §5.6: KVM's
 * decoder fetches through the software walker).
 *
 * Addresses follow SDM Vol. 1 §3.7.5 (effective address = base + index *
 * scale + displacement, truncated to the address size) and Vol. 3A §3.4
 * (linear = segment base + effective address; in 64-bit mode the CS, DS,
 * ES and SS bases are treated as 0, §3.4.4). The decoder mode comes from
 * CS.L/CS.D and CR0.PE, not from EFER.LMA (spec/formats.md §8.4).
 */
#ifndef KS_DECODE_H
#define KS_DECODE_H

#include "ks/gmem.h"
#include "ks/paging.h"
#include "ks/x86.h"

/* Longest x86 instruction (SDM Vol. 2A §2.3.11). */
#define X86_MAX_INSN_LEN 15
#define X86_MAX_ACCESSES 8

/* The CPU's operating mode for decoding (SDM Vol. 3A §2.2, Figure 2-3). */
enum x86_cpu_mode {
    X86_MODE_REAL,
    X86_MODE_VM86,
    X86_MODE_PROT16,   /* protected mode, CS.D=0 */
    X86_MODE_PROT32,   /* protected mode, CS.D=1 */
    X86_MODE_COMPAT16, /* IA-32e mode, CS.L=0, CS.D=0 */
    X86_MODE_COMPAT32, /* IA-32e mode, CS.L=0, CS.D=1 */
    X86_MODE_LONG64,   /* IA-32e mode, CS.L=1 */
};

/* The mode of (s): CR0.PE, RFLAGS.VM, EFER.LMA and the CS descriptor's L/D bits. */
enum x86_cpu_mode x86_cpu_mode_of(const struct x86_state *s);
/* "64-bit", "compatibility (32-bit)", "protected 32-bit", "real", ... */
const char *x86_cpu_mode_name(enum x86_cpu_mode mode);
/* Whether (mode) is 64-bit mode proper (segment bases of CS/DS/ES/SS ignored). */
bool x86_mode_is_64(enum x86_cpu_mode mode);

/* What an access is for: decides the page-walk access bits (spec/paging.md §3.1). */
enum x86_access_kind {
    X86_ACC_DATA,   /* an explicit or hidden data operand (string instructions) */
    X86_ACC_STACK,  /* a push/pop/call/ret/enter/leave/iret stack slot */
    X86_ACC_SYSTEM, /* descriptor table or TSS: an implicit supervisor access */
};

struct x86_mem_access {
    enum x86_access_kind kind;
    enum x86_sreg seg;
    uint64_t ea;   /* effective address (offset in the segment), address-size wrapped */
    gva_t linear;  /* segment base + ea, wrapped to 32 bits outside 64-bit mode */
    unsigned size; /* bytes */
    bool read, write;
    char what[40]; /* "destination operand", "stack push", "GDT entry 0x10", ... */
};

struct x86_insn {
    enum x86_cpu_mode mode;
    uint64_t rip; /* the instruction's RIP (offset in CS) */
    gva_t linear; /* CS.base + RIP */
    uint8_t bytes[X86_MAX_INSN_LEN];
    unsigned len;
    unsigned address_width, operand_width, stack_width; /* bits */
    char mnemonic[24];
    char intel[96];
    char att[96];
    unsigned n_acc;
    struct x86_mem_access acc[X86_MAX_ACCESSES];
    bool privileged;     /* CPL0-only (lgdt, mov cr, hlt, ...) */
    bool far_transfer;   /* far jmp/call/ret, iret, int: loads CS from a descriptor */
    bool is_int;         /* int n / int3 / into / int1: delivers through the IDT */
    unsigned int_vector; /* when is_int */
};

/*
 * Decode (buf, len) as the instruction at (s->rip) in the mode of (s) and
 * compute its memory accesses from the registers in (s). Memory is not
 * read: a far jump through memory reports the pointer read but not the
 * descriptor it selects.
 * Returns 0, -ENODATA when (len) bytes end before the instruction does
 * (the caller must fetch more), or -EILSEQ when the bytes are not a valid
 * instruction in this mode (the CPU raises #UD).
 */
int x86_decode(const uint8_t *buf, size_t len, const struct x86_state *s, struct x86_insn *out);

/* The outcome of fetching the instruction at CS:RIP through the page tables. */
struct x86_fetch {
    uint8_t bytes[X86_MAX_INSN_LEN];
    unsigned len;        /* bytes fetched */
    bool fault;          /* a fetch walk faulted: (walk) holds it */
    struct pt_walk walk; /* the faulting walk, or the walk of the last page fetched */
    bool unbacked;       /* translated, but the GPA is not guest RAM */
    gpa_t unbacked_gpa;
};

/*
 * Fetch the instruction at CS:RIP of (s) through the page tables described
 * by (c), with access F (plus U at CPL 3), page by page as KVM's decoder
 * does (arch/x86/kvm/emulate.c __do_insn_fetch_bytes): the second page is
 * walked only if the instruction extends into it, so a fault there has the
 * page boundary as its address. On success (insn) is decoded.
 * Returns 0 when the fetch and decode succeeded, 1 when the fetch faulted
 * or hit unbacked memory (see (f)), -ENODATA/-EILSEQ from x86_decode, or
 * -EINVAL when (c) is an impossible paging state.
 */
int x86_fetch_decode(const struct gmem *m, const struct pt_ctx *c, const struct x86_state *s,
                     unsigned cpl, struct x86_fetch *f, struct x86_insn *insn);

/*
 * The page-walk access bits for (a) at (cpl): W for writes; U for data and
 * stack accesses at CPL 3; system accesses are supervisor and implicit
 * (spec/paging.md §3.1, SDM Vol. 3A §4.6).
 */
uint32_t x86_access_bits(const struct x86_mem_access *a, unsigned cpl);

#endif
