/*
 * Architectural x86-64 CPU state, independent of KVM's structures, so that
 * a live vCPU, a QEMU register dump and a dump-guest-memory note all become
 * the same thing.
 */
#ifndef KS_X86_H
#define KS_X86_H

#include "ks/types.h"

/* Kept as rows of registers (clang-format would put one per line). */
/* clang-format off */
/* General-purpose registers in x86 encoding order (SDM Vol. 2A §2.1.5, Table 2-2). */
enum x86_gpr {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
    X86_NR_GPRS
};

/* Segment registers, in the order QEMU prints them. */
enum x86_sreg {
    X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS, X86_SEG_LDTR, X86_SEG_TR,
    X86_NR_SREGS
};
/* clang-format on */

/* A segment register's hidden part (SDM Vol. 3A §3.4.5, Figure 3-8). */
struct x86_seg {
    uint64_t base;
    uint32_t limit; /* expanded byte limit (G applied) */
    uint16_t selector;
    uint8_t type; /* 4-bit type field */
    uint8_t s;    /* 1 = code/data, 0 = system */
    uint8_t dpl;
    uint8_t present;
    uint8_t avl, l, db, g;
    uint8_t unusable; /* KVM: segment not usable (e.g. null selector) */
};

struct x86_dtable {
    uint64_t base;
    uint32_t limit;
};

struct x86_state {
    uint64_t gpr[X86_NR_GPRS];
    uint64_t rip, rflags;
    struct x86_seg seg[X86_NR_SREGS];
    struct x86_dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8, efer;
    uint64_t dr[8]; /* DR4/DR5 unused */
    uint64_t kernel_gs_base;
    uint32_t pkru;
    uint64_t pdptr[4];
    bool pdptr_valid;
};

/* Exception vectors (SDM Vol. 3A §6.3.1, Table 6-1). */
enum x86_vector {
    X86_DE = 0,
    X86_DB = 1,
    X86_NMI = 2,
    X86_BP = 3,
    X86_OF = 4,
    X86_BR = 5,
    X86_UD = 6,
    X86_NM = 7,
    X86_DF = 8,
    X86_TS = 10,
    X86_NP = 11,
    X86_SS = 12,
    X86_GP = 13,
    X86_PF = 14,
    X86_MF = 16,
    X86_AC = 17,
    X86_MC = 18,
    X86_XM = 19,
    X86_VE = 20,
    X86_CP = 21,
};

/* "#PF", "#GP", ... or "vector N" style names; never NULL. */
const char *x86_vector_name(unsigned vector);
/* Whether the CPU pushes an error code for (vector) (SDM Vol. 3A Table 6-1). */
bool x86_vector_has_error_code(unsigned vector);

#endif
