/*
 * Readers for QEMU's offline artifacts: register dumps (stderr after a KVM
 * error, `-d int` logs, the monitor's `info registers`), dump-guest-memory
 * ELF cores, raw memory images (pmemsave, file-backed RAM), and a loader
 * that combines them into one struct snapshot for lib/diag.
 *
 * Formats are described in shared/spec/formats.md §1 (text dumps) and §2
 * (ELF cores); the QEMU sources behind them are target/i386/cpu-dump.c
 * (x86_cpu_dump_state), accel/kvm/kvm-all.c (kvm_handle_internal_error),
 * target/i386/arch_dump.c and dump/dump.c.
 *
 * Every parser treats its input as hostile: it never reads outside the
 * buffer, rejects impossible sizes and counts, and on failure returns
 * -errno with one specific sentence in (err) (line number for text).
 * Nothing here prints or exits.
 */
#ifndef KS_FORMATS_H
#define KS_FORMATS_H

#include "ks/gmem.h"
#include "ks/snapshot.h"
#include "ks/types.h"

/* ---------------------------------------------------------------------------------------------
 * QEMU register dump text (formats.md §1)
 */

/* One exception from a TCG `-d int` log header ("     0: v=0e e=0000 i=0 cpl=0 IP=... CR2=..."). */
struct qemu_exception {
    unsigned line;       /* 1-based line of the header */
    unsigned counter;    /* QEMU's running count */
    unsigned vector;     /* v= */
    uint32_t error_code; /* e= (QEMU prints it for every vector; meaningful per
                            x86_vector_has_error_code) */
    bool software;       /* i=1: INTn/INT3/INTO */
    unsigned cpl;
    uint16_t cs, ss;
    uint64_t rip, pc, rsp; /* IP=cs:rip, pc= linear, SP=ss:rsp */
    bool has_cr2;          /* #PF headers carry CR2= */
    uint64_t cr2;
    bool has_rax; /* other vectors print env->regs[R_EAX]= instead */
    uint64_t rax;
    int check_old; /* from the preceding "check_exception old: X new Y" (-1 when none or 0xffffffff)
                    */
};

#define QEMU_MAX_EXCEPTIONS 64

/* The "Code=" line of a KVM error dump: up to 64 bytes around CS.base+RIP. */
struct qemu_code {
    unsigned len;     /* bytes printed (QEMU prints 50) */
    unsigned rip_off; /* index of the byte at RIP (the one in <..>) */
    uint8_t bytes[64];
    uint64_t unreadable; /* bit i set: byte i printed as "??" (not readable by QEMU) */
};

/* What the text contained besides the registers. */
struct qemu_dump_info {
    unsigned ndumps;    /* register dumps found; the last one was used (see qemu_regs_parse) */
    unsigned dump_line; /* 1-based line where the used dump starts */
    int cpu_index;      /* from a monitor "CPU#n" header before the used dump; -1 if none */
    bool is_64bit_gprs; /* the used dump had the RAX= (CS.L=1) form */
    bool lma_form;      /* its GDT/CR lines had the 16-digit (EFER.LMA=1) form */
    bool tcg_flags;     /* a segment's flags kept limit[19:16]: TCG, not KVM-synced state */
    bool has_ccop;      /* a CCS/CCD/CCO line (TCG -d cpu/-d int) */
    bool fpu_lines;     /* FPU/XMM/YMM/ZMM lines were present (and ignored) */
    bool has_code;
    struct qemu_code code; /* valid when has_code (follows the used dump) */

    unsigned nexc;        /* -d int exception headers, in file order */
    unsigned exc_dropped; /* headers beyond QEMU_MAX_EXCEPTIONS (the first ones are kept) */
    struct qemu_exception exc[QEMU_MAX_EXCEPTIONS];
    bool triple_fault; /* a "Triple fault" line */
    bool cpu_reset;    /* a "CPU Reset" line */

    /* KVM error messages (formats.md §1.7), first one seen. */
    char kvm_message[160];  /* e.g. "KVM: entry failed, hardware error 0x80000021" */
    bool emulation_failure; /* an "emulation failure" line */
};

/*
 * Parse QEMU register-dump text (len bytes, need not be NUL-terminated) into
 * (snap) and (info); neither may be NULL. (snap) is initialised here.
 *
 * Accepted: the 64-bit, 32-bit and mixed compatibility-mode dumps of
 * x86_cpu_dump_state (line groups keyed on their own prefixes, formats.md
 * §1.1), TCG and KVM segment-flag variants, real-mode segment lines without
 * a DPL suffix, `KVM internal error. Suberror: N` with `extra data[i]:` and
 * `emulation failure` (snap->event = SNAP_EV_INTERNAL_ERROR, suberror and
 * data filled), the other KVM error lines of §1.7, `-d int` exception headers,
 * `check_exception`, `Triple fault` (snap->event = SNAP_EV_TRIPLE_FAULT unless
 * a KVM error was seen), `CPU Reset`, monitor `info registers` output (CPU#n,
 * CRLF, ANSI escapes, HMP echo, FPU/vector lines are skipped), `Code=`.
 * Lines that match no known prefix are ignored (logs mix in guest output),
 * but a line that starts like a dump line and is malformed is an error.
 *
 * When the text has several dumps, the LAST complete one is used: in a -d
 * int log that is the state after the final exception, and in `info
 * registers -a` it is the highest vCPU. A KVM error message applies to the
 * dump that follows it.
 *
 * EFER: taken from `EFER=` when printed (SNAP_HAVE_EFER); otherwise inferred
 * (SNAP_HAVE_EFER | SNAP_EFER_INFERRED): LMA|LME when the dump has the
 * 64-bit GPR form or the 16-digit GDT/CR form, else 0; NXE is unknown and
 * left 0. CPL comes from the CPL= field (SNAP_HAVE_CPL).
 *
 * Returns 0, -ENOENT when no register dump was found, or -EINVAL with
 * "line N: reason" in (err).
 */
int qemu_regs_parse(const char *text, size_t len, struct snapshot *snap,
                    struct qemu_dump_info *info, char err[KS_ERR_LEN]);

/* ---------------------------------------------------------------------------------------------
 * Read-only file mapping (the memory of cores and raw images stays on disk)
 */

struct mapped_file {
    const uint8_t *data;
    size_t size;
};

/*
 * mmap (path) read-only (an empty file maps as data=NULL, size=0).
 * Returns 0 or -errno with the reason in (err).
 */
int mapped_file_open(const char *path, struct mapped_file *mf, char err[KS_ERR_LEN]);
void mapped_file_close(struct mapped_file *mf);

/* ---------------------------------------------------------------------------------------------
 * Artifact detection
 */

enum artifact_kind {
    ARTIFACT_UNKNOWN,
    ARTIFACT_ELF_CORE,   /* ET_CORE: dump-guest-memory */
    ARTIFACT_ELF_OTHER,  /* ELF but not a core (a kernel: use it for symbols) */
    ARTIFACT_KDUMP_FLAT, /* makedumpfile flattened (dump-guest-memory -z/-l/-s) */
    ARTIFACT_KDUMP,      /* kdump-compressed "KDUMP   " (QEMU >= 8.2 -R / kdump-raw-*) */
    ARTIFACT_WIN_DMP,    /* Windows crash dump (dump-guest-memory -w) */
    ARTIFACT_TRACE_DAT,  /* trace-cmd trace.dat */
    ARTIFACT_TEXT,       /* printable text: a register dump or a trace report */
    ARTIFACT_RAW,        /* anything else: a raw memory image */
};

/* Classify the first (len) bytes of a file. Never fails. */
enum artifact_kind artifact_detect(const void *buf, size_t len);
const char *artifact_kind_name(enum artifact_kind k);

/* ---------------------------------------------------------------------------------------------
 * dump-guest-memory ELF cores (formats.md §2)
 */

#define ELFCORE_MAX_CPUS 64

struct elfcore_cpu {
    uint32_t pid;       /* NT_PRSTATUS pr_pid = cpu_index + 1 */
    bool have_prstatus; /* CORE/NT_PRSTATUS seen: GPRs, RIP, RFLAGS, selectors, FS/GS base */
    bool have_qemu;     /* QEMU/QEMUCPUState seen: + segment caches, GDT/IDT, CR0-4 */
    uint32_t qemu_size; /* QEMUCPUState size field (432, or 440 with kernel_gs_base) */
    struct x86_state s; /* what the notes gave; EFER is never in the notes */
};

struct elfcore {
    struct mapped_file file; /* set by elfcore_open; elfcore_parse leaves it empty */
    bool elf64;
    uint16_t machine;      /* EM_X86_64 (62) or EM_386 (3) */
    unsigned nphdr, nload; /* program headers, of which PT_LOAD */
    unsigned nclipped;     /* PT_LOADs (partly) hidden by earlier ones at the same GPA */
    struct gmem mem;       /* the PT_LOAD file bytes by guest-physical address (read-only) */
    unsigned ncpus;
    struct elfcore_cpu cpu[ELFCORE_MAX_CPUS];
};

/*
 * Parse a core held in memory (buf, size), which must outlive (core): the
 * gmem regions point into it. Checks every offset and size against (size),
 * handles e_phoff 64 or 192, PN_XNUM (real count in section 0's sh_info),
 * ELF32 and ELF64, CORE NT_PRSTATUS (x86-64 and i386 layouts) and QEMU notes
 * (version 1, size >= 432), and maps PT_LOAD by p_paddr, p_filesz bytes each
 * (p_filesz < p_memsz leaves the rest unbacked). Overlapping PT_LOADs (e.g.
 * `-p` dumps mapping one page twice) are clipped: the first keeps the GPA.
 * Adjacent segments that are contiguous in the file are merged; more than
 * GMEM_MAX_REGIONS discontiguous ones is -ENOSPC.
 * Returns 0 or -EINVAL / -ENOSPC / -ENOTSUP (kdump, win-dmp: the reason
 * says to use makedumpfile -R / crash) with the reason in (err).
 */
int elfcore_parse(const void *buf, size_t size, struct elfcore *core, char err[KS_ERR_LEN]);

/* mmap (path) read-only and elfcore_parse it. Close with elfcore_close. */
int elfcore_open(const char *path, struct elfcore *core, char err[KS_ERR_LEN]);
void elfcore_close(struct elfcore *core);

/*
 * Fill (snap) from the notes of CPU (cpu) (index into core->cpu). Sets
 * SNAP_HAVE_GPRS, and with a QEMU note SNAP_HAVE_SREGS|SNAP_HAVE_CRS|
 * SNAP_HAVE_CPL (CPL = SS.DPL in protected mode), plus an inferred EFER (LMA|LME from
 * e_machine EM_X86_64 or CS.L; SNAP_EFER_INFERRED). Does not touch snap->mem.
 * Returns 0 or -ENOENT (no such CPU / no register notes).
 */
int elfcore_snapshot(const struct elfcore *core, unsigned cpu, struct snapshot *snap);

/* ---------------------------------------------------------------------------------------------
 * Raw memory images (pmemsave, -object memory-backend-file)
 */

/*
 * Map the whole of (mf) at guest-physical (base) into (mem), read-only.
 * An image larger than the address space left above (base) is -EINVAL.
 */
int rawmem_map(const struct mapped_file *mf, gpa_t base, struct gmem *mem, char err[KS_ERR_LEN]);

/*
 * Parse a `--memory` argument "FILE" or "FILE@0xBASE" into (path) and
 * (base) (0 when absent). Returns 0 or -EINVAL (bad number, empty path).
 */
int rawmem_parse_spec(const char *spec, char *path, size_t path_len, gpa_t *base,
                      char err[KS_ERR_LEN]);

/* ---------------------------------------------------------------------------------------------
 * Offline loader: the artifacts of one crash, combined
 */

struct offline_inputs {
    const char *regs_path;   /* QEMU text with a register dump, or NULL */
    const char *core_path;   /* dump-guest-memory ELF, or NULL */
    const char *mem_spec;    /* raw image "FILE[@0xBASE]", or NULL */
    const char *kernel_path; /* ELF with symbols, or NULL */
    unsigned cpu;            /* which core CPU to take registers from (index, default 0) */
};

struct offline {
    struct snapshot snap;
    struct qemu_dump_info info; /* valid when have_text */
    bool have_text;
    bool have_core;
    struct elfcore core;
    struct mapped_file raw;
    struct gmem rawmem;
    struct symtab *syms;
    char notes[512]; /* what was assumed, one sentence per line (EFER inferred, ...) */
};

/*
 * Load what (in) names into (o). Registers come from the text dump when
 * given (it has EFER and the exception log), else from the core's notes.
 * Memory comes from the core, else from the raw image (both: -EINVAL).
 * snap.mem points into (o) itself, so (o) must not be copied or moved
 * after this call. Always call offline_close, also after an error.
 * Returns 0 or -errno with the reason (and the file name) in (err).
 */
int offline_load(const struct offline_inputs *in, struct offline *o, char err[KS_ERR_LEN]);
void offline_close(struct offline *o);

#endif
