/*
 * A model of the x86 guest page walk exactly as KVM's software walker does
 * it (arch/x86/kvm/mmu/paging_tmpl.h FNAME(walk_addr_generic)), which in turn
 * follows Intel SDM Vol. 3A chapter 4 ("Paging") and AMD APM Vol. 2 §5.
 * The rule-by-rule reference is shared/spec/paging.md; each rule in the
 * implementation cites its section there and the SDM.
 *
 * Levels use KVM's numbering: 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E,
 * 5 = PML5E. A walk that faults is a result, not an error: pt_walk()
 * returns 0 and fills (out->fault).
 */
#ifndef KS_PAGING_H
#define KS_PAGING_H

#include "ks/gmem.h"
#include "ks/types.h"

/* #PF error-code bits (SDM Vol. 3A §4.7, Figure 4-12). */
#define PFERR_P    0x1u
#define PFERR_W    0x2u
#define PFERR_U    0x4u
#define PFERR_RSVD 0x8u
#define PFERR_F    0x10u
#define PFERR_PK   0x20u
#define PFERR_SS   0x40u
/*
 * Access flag, never part of an error code: an implicit supervisor access
 * (descriptor tables, TSS, exception-delivery pushes to a supervisor stack).
 * KVM calls it PFERR_IMPLICIT_ACCESS (bit 48); SMAP ignores RFLAGS.AC for it.
 */
#define PT_ACCESS_IMPLICIT (1u << 16)

/* Control-register and EFER bits the walker consults. */
#define X86_CR0_PE    KS_BIT(0)
#define X86_CR0_WP    KS_BIT(16)
#define X86_CR0_PG    KS_BIT(31)
#define X86_CR4_PSE   KS_BIT(4)
#define X86_CR4_PAE   KS_BIT(5)
#define X86_CR4_PGE   KS_BIT(7)
#define X86_CR4_LA57  KS_BIT(12)
#define X86_CR4_SMEP  KS_BIT(20)
#define X86_CR4_SMAP  KS_BIT(21)
#define X86_CR4_PKE   KS_BIT(22)
#define X86_EFER_SCE  KS_BIT(0)
#define X86_EFER_LME  KS_BIT(8)
#define X86_EFER_LMA  KS_BIT(10)
#define X86_EFER_NXE  KS_BIT(11)
#define X86_RFLAGS_AC KS_BIT(18)

/* Page-table entry bits (SDM Vol. 3A §4.5, Tables 4-14 to 4-20). */
#define PTE_P   KS_BIT(0)
#define PTE_W   KS_BIT(1)
#define PTE_U   KS_BIT(2)
#define PTE_PWT KS_BIT(3)
#define PTE_PCD KS_BIT(4)
#define PTE_A   KS_BIT(5)
#define PTE_D   KS_BIT(6)
#define PTE_PS  KS_BIT(7)
#define PTE_G   KS_BIT(8)
#define PTE_NX  KS_BIT(63)

enum pt_mode {
    PT_MODE_NONE, /* CR0.PG=0: GVA == GPA, nothing is read */
    PT_MODE_32,   /* 2 levels of 4-byte entries */
    PT_MODE_PAE,  /* PDPTE registers + 2 levels */
    PT_MODE_4LEVEL,
    PT_MODE_5LEVEL,
};

/*
 * The vCPU's effective features as KVM's walker uses them. The caller states
 * what KVM effectively uses, including the GBPAGES subtleties of
 * spec/paging.md §2.6 (e.g. false on kernels >= 6.6 before KVM_SET_CPUID2,
 * and false on this project's PVM host whatever the CPUID says).
 */
struct pt_cpu {
    unsigned maxphyaddr; /* CPUID.80000008H:EAX[7:0]; KVM uses 36 when absent */
    bool gbpages;        /* 1 GiB pages: CPUID.80000001H:EDX[26] as KVM resolves it */
    bool amd;            /* AMD-compatible vendor: bit 8 reserved in PML4E/PML5E */
};

/* Everything the walk depends on, as plain values. */
struct pt_ctx {
    uint64_t cr0, cr3, cr4, efer, rflags;
    uint32_t pkru;
    uint64_t pdptr[4]; /* PAE: the cached PDPTE registers */
    bool pdptr_valid;  /* PAE: false = load them from guest memory at CR3[31:5] */
    struct pt_cpu cpu;
};

enum pt_verdict {
    PT_OK,
    PT_NOT_PRESENT,
    PT_RESERVED,
    PT_UNBACKED, /* the entry's GPA has no memory: KVM treats it as not present */
};

/* Why an entry's reserved bits are reserved (a bit mask: several may apply). */
enum pt_rsvd_why {
    PT_RSVD_MAXPHYADDR = 1u << 0, /* address bits >= MAXPHYADDR */
    PT_RSVD_NX = 1u << 1,         /* bit 63 while EFER.NXE=0 */
    PT_RSVD_GBPAGES = 1u << 2,    /* PS in a PDPTE without 1 GiB pages */
    PT_RSVD_PS_TOP = 1u << 3,     /* PS in a PML4E or PML5E */
    PT_RSVD_LARGE_PAGE = 1u << 4, /* bits 13..20 (2 MiB) or 13..29 (1 GiB) of a large leaf */
    PT_RSVD_AMD_BIT8 = 1u << 5,   /* bit 8 of a PML4E/PML5E on an AMD guest */
    PT_RSVD_PAE_HIGH = 1u << 6,   /* bits 62:MAXPHYADDR of a PAE PDE/PTE */
    PT_RSVD_PSE36 = 1u << 7,      /* bits 21:17 of a 32-bit 4 MiB PDE (KVM assumes PSE-36) */
    PT_RSVD_PDPTE = 1u << 8,      /* a PAE PDPTE register with reserved bits (#GP at load) */
};

/* Which permission rule failed (a bit mask: several may apply). */
enum pt_perm_why {
    PT_PERM_WRITE = 1u << 0, /* write to a read-only page (user, or CR0.WP=1) */
    PT_PERM_USER = 1u << 1,  /* user access to a supervisor page */
    PT_PERM_NX = 1u << 2,    /* fetch from an NX page with EFER.NXE=1 */
    PT_PERM_SMEP = 1u << 3,
    PT_PERM_SMAP = 1u << 4,
    PT_PERM_PKEY = 1u << 5,
};

struct pt_level {
    int level;       /* 1..5 (PAE PDPTE register: 3) */
    unsigned index;  /* index into its table */
    gpa_t entry_gpa; /* where the entry lives (PAE PDPTE: CR3[31:5] + index*8) */
    uint64_t entry;  /* raw value (zero-extended for 4-byte entries) */
    enum pt_verdict verdict;
    uint64_t rsvd_bits; /* entry & reserved mask, when PT_RESERVED */
    uint32_t rsvd_why;  /* enum pt_rsvd_why bits, when PT_RESERVED */
    bool leaf;
};

/* A/D bits a successful walk sets (spec/paging.md §4). */
struct pt_ad_update {
    gpa_t entry_gpa;
    uint64_t old_entry;
    uint64_t new_entry;
    unsigned size; /* 4 or 8 */
};

struct pt_walk {
    gva_t gva;
    uint32_t access; /* PFERR_W/U/F | PT_ACCESS_IMPLICIT */
    enum pt_mode mode;
    unsigned nlevels; /* entries read, top level first; lv[nlevels..] are undefined */
    struct pt_level lv[5];

    bool fault;
    uint32_t error_code; /* the #PF error code KVM would inject */
    int fault_level;     /* level of the failing entry; leaf level for permission faults */
    uint32_t perm_why;   /* enum pt_perm_why, for permission faults */

    /* Valid when !fault. */
    gpa_t gpa;
    int leaf_level;
    uint64_t page_size;
    bool user, writable, executable; /* effective rights (spec §3.2) */
    unsigned pkey;
    unsigned n_ad; /* ad[n_ad..] are undefined */
    struct pt_ad_update ad[5];
};

/* The paging mode that (c) selects (spec §1 table; selected by EFER.LMA, not LME). */
enum pt_mode pt_mode_of(const struct pt_ctx *c);
const char *pt_mode_name(enum pt_mode mode);

/*
 * The SDM name of a level-(level) paging-structure entry in (mode): "PTE",
 * "PDE", "PDPTE", "PML4E", "PML5E" (SDM Vol. 3A 4.3 to 4.5; 32-bit paging has
 * only PDEs and PTEs). "entry" when (level) is not 1..5. Static strings.
 */
const char *pt_level_name(enum pt_mode mode, int level);

/*
 * The verdict as text: "ok", "not present", "reserved", "unbacked" (the
 * entry's GPA has no memory); "?" for a value outside the enum. Static strings.
 */
const char *pt_verdict_name(enum pt_verdict verdict);

/*
 * The size an entry maps, as text: "4K", "2M", "4M" (32-bit PSE), "1G",
 * "512G" (a whole PML4E), "256T" (a whole PML5E); NULL for any other size.
 * Static strings.
 */
const char *pt_page_size_name(uint64_t size);

/*
 * Whether (c) is a state KVM would accept: CR0.PG needs CR0.PE; EFER.LME
 * with CR0.PG needs CR4.PAE and EFER.LMA; EFER.LMA needs EFER.LME and CR0.PG
 * (kvm_is_valid_cr0, kvm_is_valid_sregs).
 * Returns 0 or -EINVAL.
 */
int pt_ctx_check(const struct pt_ctx *c);

/*
 * Walk (va) for an access with (access) = PFERR_W/U/F bits plus
 * PT_ACCESS_IMPLICIT, the way KVM does (spec §1.1, §3, §4). Nothing is
 * written to guest memory; A/D updates are returned in (out->ad).
 * Returns 0 (also for faulting walks) or -EINVAL when (c) is impossible
 * (pt_ctx_check), (access) has other bits, or, in PAE mode with
 * (c->pdptr_valid) false, the PDPTEs at CR3 are unbacked or invalid (the CR
 * write that loaded them would have #GP'd; see pt_load_pdptrs).
 * Unbacked paging structures end the walk with verdict PT_UNBACKED and a
 * not-present #PF (KVM's behaviour, spec §3.4); non-canonical addresses are
 * walked with their index bits only (spec §1).
 */
int pt_walk(const struct gmem *m, const struct pt_ctx *c, gva_t va, uint32_t access,
            struct pt_walk *out);

/*
 * Write the A/D updates of a successful walk with compare-and-exchange.
 * Returns 0, -EAGAIN if an entry changed meanwhile (KVM would retry the
 * walk), -EFAULT for unbacked/read-only memory (KVM silently skips entries
 * in read-only memslots; a caller mimicking it may ignore -EFAULT), or
 * -EINVAL for a faulted walk. Updates before the failing one stay written.
 */
int pt_apply_ad(const struct gmem *m, const struct pt_walk *w);

/*
 * The reserved-bit mask KVM uses for an entry at (level) whose bit 7 is
 * (bit7) in the mode (c) selects (spec §2.1-2.3; KVM __reset_rsvds_bits_mask).
 * PAE level 3 gives the PDPTE-register mask, which is applied when the
 * registers are loaded, never during the walk (spec §2.5). 0 for levels
 * the mode does not have.
 */
uint64_t pt_rsvd_mask(const struct pt_ctx *c, int level, bool bit7);

/*
 * Load and validate the PAE PDPTE registers from CR3[31:5] (spec §2.5;
 * KVM load_pdptrs). Returns 0, -EFAULT when unbacked, or -EINVAL when a
 * present PDPTE has reserved bits (the CR write would #GP); (out) is filled
 * either way when readable.
 */
int pt_load_pdptrs(const struct gmem *m, const struct pt_ctx *c, uint64_t out[4]);

/*
 * One sentence on why (lv) failed or what it maps, e.g.
 * "PS at level 3 needs 1 GiB pages: CPUID.80000001H:EDX[26]". Returns the
 * length written (snprintf semantics).
 */
int pt_level_reason(const struct pt_ctx *c, const struct pt_level *lv, char *buf, size_t len);

/* One sentence on the permission rule(s) in (w->perm_why). */
int pt_perm_reason(const struct pt_ctx *c, const struct pt_walk *w, char *buf, size_t len);

/*
 * Error-code flags as KVM's tracepoints print them: "P|W|U|RSVD|F" in that
 * order, unnamed leftovers as hex ("P|U|0x20"), "" for 0.
 */
int pt_pferr_str(uint32_t code, char *buf, size_t len);

/* Canonical check for (mode): bits 63:47 (or 63:56 with 5-level) equal. */
bool pt_is_canonical(gva_t va, enum pt_mode mode);

/*
 * Page-table scan (lib/paging/scan.c): every present mapping of an address
 * space, in ascending linear-address order, coalesced into runs the way
 * QEMU's `info mem` does (virtually contiguous, equal rights), but also
 * split by page size, protection key and verdict. Rights are the AND over
 * the levels as in pt_walk (spec §3.2); reserved-bit verdicts use the same
 * masks as pt_walk, so a range marked PT_RESERVED is exactly one where every
 * software walk faults with P|RSVD.
 */
struct pt_range {
    gva_t va;                /* first address (canonical form in 4/5-level paging) */
    uint64_t size;           /* bytes */
    gpa_t gpa;               /* GPA of (va); PT_OK only */
    bool phys_contig;        /* the whole run is also physically contiguous */
    uint64_t page_size;      /* bytes per page (or per entry for reserved/unbacked runs) */
    int level;               /* leaf level, or level of the entry that fails */
    enum pt_verdict verdict; /* PT_OK, PT_RESERVED (entry has reserved bits) or PT_UNBACKED */
    bool user, writable, executable;
    unsigned pkey;      /* leaf protection key (8-byte entries) */
    uint64_t rsvd_bits; /* PT_RESERVED: of the first entry of the run */
    uint32_t rsvd_why;  /* PT_RESERVED: enum pt_rsvd_why of every entry of the run */
    uint64_t entry;     /* first entry of the run (the pointing entry for PT_UNBACKED) */
    gpa_t entry_gpa;    /* where that entry lives (PT_UNBACKED: the missing table) */
    uint64_t npages;    /* entries merged into the run */
};

/* Called once per run; a non-zero return stops the scan and is returned by pt_scan. */
typedef int (*pt_range_fn)(void *opaque, const struct pt_range *r);

struct pt_scan_stats {
    uint64_t entries; /* entry slots examined, present or not */
    uint64_t present; /* present entries */
    uint64_t tables;  /* tables read */
    uint64_t leaves;  /* present leaf entries (pages) */
    uint64_t ranges;  /* runs reported */
};

/*
 * Scan the address space (c) describes. Tables are read in place with
 * gmem_ptr(); nothing is allocated. With paging off, each memory region is
 * one identity run. Returns 0, -EINVAL (pt_ctx_check fails, or PAE PDPTEs
 * at CR3 unbacked/invalid while !c->pdptr_valid), -ELOOP when more tables
 * are visited than 4 x the pages of memory + 64 (tables that refer back to
 * themselves; runs reported so far stand), or the callback's value.
 * (stats) may be NULL.
 */
int pt_scan(const struct gmem *m, const struct pt_ctx *c, pt_range_fn fn, void *opaque,
            struct pt_scan_stats *stats);

enum pt_lint_kind {
    PT_LINT_NONE,
    PT_LINT_RESERVED, /* entries the vCPU makes reserved: every software walk faults */
    PT_LINT_UNBACKED, /* a present entry points at a table outside guest memory */
    PT_LINT_WX,       /* supervisor mapping both writable and executable */
};

/*
 * Whether (r) is a lint finding, with one sentence in (buf) naming the rule
 * and the source (e.g. 1 GiB pages while the vCPU lacks pdpe1gb).
 */
enum pt_lint_kind pt_lint(const struct pt_ctx *c, const struct pt_range *r, char *buf, size_t len);
const char *pt_lint_name(enum pt_lint_kind kind);

#endif
