/*
 * The contract between the difftest guest (guests/difftest/) and its host
 * driver: guest-physical layout, mailbox port and the command/result blocks.
 * Mirrors guests/difftest/abi.inc; docs/difftest.md describes the protocol.
 */
#ifndef DT_ABI_H
#define DT_ABI_H

#define DT_LOAD      0x100000ULL
#define DT_USER_CODE 0x102000ULL
/* Each 16-byte user stub ends in a UD2 at this offset: #UD there = the access completed. */
#define DT_USER_UD2        8
#define DT_USER_STACK_PAGE 0x103000ULL
#define DT_GDT             0x104000ULL
#define DT_TSS             0x104100ULL
#define DT_IDT             0x105000ULL
#define DT_CMD             0x106000ULL
#define DT_RES             0x107000ULL
#define DT_KSTACK_TOP      0x10c000ULL
#define DT_IMAGE_END       0x10c000ULL
#define DT_HOME_CR3        0x200000ULL
#define DT_PORT            0x4f0

#define DT_SEL_KCODE 0x08
#define DT_SEL_KDATA 0x10
#define DT_SEL_UDATA 0x18
#define DT_SEL_UCODE 0x20
#define DT_SEL_TSS   0x28

/* Home (harness-only) tables, built by the host once: PML4, PDPT, PD, PT of the first 2 MiB. */
#define DT_HOME_PDPT 0x201000ULL
#define DT_HOME_PD   0x202000ULL
#define DT_HOME_PT   0x203000ULL

/* Legacy guest: harness page tables for 32-bit paging (0-4 MiB) and PAE (0-2 MiB). */
#define DT_HOME_PT32  0x203000ULL
#define DT_HOME_PTPAE 0x204000ULL

/*
 * Random paging structures: top-level pages whose entry 0 is the harness
 * slot (4-level: PML4s; legacy: the first half 32-bit page directories, the
 * second half PAE directories for PDPTE 0), then the rest.
 */
#define DT_PML4_POOL         0x400000ULL
#define DT_PML4_POOL_PAGES   16
#define DT_PD32_POOL         DT_PML4_POOL
#define DT_PDPAE_POOL        (DT_PML4_POOL + 8 * 0x1000ULL)
#define DT_LEGACY_POOL_PAGES 8
#define DT_TABLE_POOL        0x410000ULL
#define DT_TABLE_POOL_END    0x800000ULL
/* Data pages that leaves point at; every qword holds dt_pattern(its GPA). */
#define DT_DATA     0x800000ULL
#define DT_RAM_SIZE 0x4000000ULL /* 64 MiB: the harness identity map covers all of it */
/* Paging-structure pointers into nothing: KVM's walker sees "not present". */
#define DT_UNBACKED 0x80000000ULL

/* Command block (u64 fields at DT_CMD + offset). */
#define DT_CMD_CR0    0x00
#define DT_CMD_CR3    0x08
#define DT_CMD_CR4    0x10
#define DT_CMD_EFER   0x18
#define DT_CMD_GVA    0x20
#define DT_CMD_KIND   0x28
#define DT_CMD_WVAL   0x30
#define DT_CMD_NWRITE 0x38
#define DT_CMD_WRITES 0x40
#define DT_MAX_WRITES 16
#define DT_CMD_WSIZE  0x140 /* legacy guest: 4 or 8, the size of each entry store */
#define DT_CMD_RFLAGS 0x148 /* loaded (POPF / IRET) right before the access */

/* Result block (u64 fields at DT_RES + offset). */
#define DT_RES_PHASE  0x00
#define DT_RES_VECTOR 0x08
#define DT_RES_ERR    0x10
#define DT_RES_CR2    0x18
#define DT_RES_VALUE  0x20
#define DT_RES_RIP    0x28
#define DT_NO_VECTOR  0x100

/* RES_PHASE: how far the guest got; the host zeroes it before each case. */
enum dt_phase { DT_PHASE_SETUP = 1, DT_PHASE_ACCESS = 2 };
/* CMD_KIND: the access, plus DT_KIND_USER to perform it at CPL3. */
enum dt_kind { DT_READ = 0, DT_WRITE = 1, DT_FETCH = 2 };
#define DT_KIND_USER 4
/* CMD_KIND: do a read of the same address first (access.c's "twice"). */
#define DT_KIND_TWICE 8

#endif
