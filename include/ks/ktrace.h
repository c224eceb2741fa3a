/*
 * KVM tracepoint text and trace.dat: parse the kvm / kvmmmu events that
 * matter for crash analysis, then explain them (exit histogram, failing
 * guest page walks level by level, emulation failures, the injected
 * exception chain).
 *
 * Accepted line forms (shared/spec/formats.md §6.1, spec/paging.md §5):
 *   - `trace-cmd report` default, `-l` (flags glued to the CPU), `-t`
 *     (nanosecond timestamps), `-N` (kernel print fmt), with or without the
 *     libtraceevent kvm plugin's renderings;
 *   - raw tracefs `trace` / `trace_pipe` text ("comm-pid [cpu] flags ts:"),
 *     with or without the TGID column.
 * Event payloads follow the kernel's TP_printk (arch/x86/kvm/trace.h,
 * arch/x86/kvm/mmu/mmutrace.h, include/trace/events/kvm.h) or the plugin
 * (libtraceevent plugins/plugin_kvm.c).
 */
#ifndef KS_KTRACE_H
#define KS_KTRACE_H

#include "ks/strbuf.h"
#include "ks/types.h"

enum kt_type {
    KT_OTHER,          /* an event this module does not interpret (kvm_msr, kvm_fpu, ...) */
    KT_EXIT,           /* kvm_exit */
    KT_ENTRY,          /* kvm_entry */
    KT_EMULATE,        /* kvm_emulate_insn */
    KT_USERSPACE_EXIT, /* kvm_userspace_exit */
    KT_INJ_EXCEPTION,  /* kvm_inj_exception */
    KT_PAGE_FAULT,     /* kvm_page_fault */
    KT_PIO,            /* kvm_pio */
    KT_MMIO,           /* kvm_mmio */
    KT_FAST_MMIO,      /* kvm_fast_mmio */
    KT_WALK,           /* kvm_mmu_pagetable_walk */
    KT_WALK_ELEMENT,   /* kvm_mmu_paging_element */
    KT_WALK_ERROR,     /* kvm_mmu_walker_error */
    KT_SET_ACCESSED,   /* kvm_mmu_set_accessed_bit */
    KT_SET_DIRTY,      /* kvm_mmu_set_dirty_bit */
};

/* The vendor naming of a kvm_exit reason. */
enum kt_isa { KT_ISA_UNKNOWN, KT_ISA_VMX, KT_ISA_SVM };

struct kt_event {
    enum kt_type type;
    unsigned line; /* 1-based line in the text (0 for trace.dat records) */
    char comm[24];
    int pid;
    int cpu;
    uint64_t ts_ns;
    char name[40]; /* event name as printed, e.g. "kvm_exit" */
    union {
        struct {
            char reason[48]; /* as printed: "EPT_MISCONFIG", "npf", "EXIT_NPF", "UNKNOWN (33)" */
            bool code_known; /* numeric reason known ("UNKNOWN (n)", raw fields, trace.dat) */
            uint64_t code;
            enum kt_isa isa;
            bool has_vcpu;
            unsigned vcpu;
            uint64_t rip;
            uint64_t info1, info2;
            bool has_intr; /* kernel form: intr_info/error_code printed */
            uint32_t intr_info, error_code;
        } exit;
        struct {
            bool has_vcpu;
            unsigned vcpu;
            uint64_t rip;
            bool immediate_exit;
        } entry;
        struct {
            uint64_t csbase, rip;
            unsigned len; /* bytes printed */
            uint8_t bytes[15];
            char mode[8]; /* "prot64", ... ("" in the plugin form, which omits it) */
            bool failed;
            bool plugin_form; /* "csbase:rip: bytes FAIL": bytes may be stale (paging.md §5.4) */
            bool bytes_unreliable; /* set by kt_analyze: the fetch walk for this RIP failed */
        } emul;
        struct {
            char reason[40]; /* "KVM_EXIT_SHUTDOWN", "restart", "error", "0x27" */
            int code;        /* the number in parentheses */
        } uexit;
        struct {
            unsigned vector;
            bool has_error_code;
            uint32_t error_code;
            bool reinjected;
        } inj;
        struct {
            bool has_vcpu;
            unsigned vcpu;
            uint64_t rip; /* 0 in the oldest form */
            uint64_t address;
            uint64_t error_code;
        } pf;
        struct {
            bool write;
            unsigned port, size, count;
            uint32_t val;
        } pio;
        struct {
            int kind; /* 0 read, 1 write, 2 unsatisfied-read */
            unsigned len;
            uint64_t gpa, val;
        } mmio;
        struct {
            uint64_t gpa;
        } fast_mmio;
        struct {
            uint64_t addr;
            uint32_t access; /* PFERR_W/U/F bits of the access (plus P on the shadow #PF path) */
        } walk;
        struct {
            uint64_t pte;
            unsigned level;
        } element;
        struct {
            uint32_t error_code;
        } walk_error;
        struct {
            uint64_t gpa;
        } ad;
    } u;
};

/* Where the events came from. */
enum kt_source { KT_SRC_TEXT, KT_SRC_DAT };

struct kt_trace {
    struct kt_event *ev;
    size_t n, cap;
    enum kt_source source;
    unsigned lines;          /* text lines read */
    unsigned other_events;   /* KT_OTHER events */
    uint64_t dropped_events; /* "CPU:n [N EVENTS DROPPED]" / lost ring-buffer events */
};

/* An empty trace; kt_free releases the events of a filled one and leaves it empty. */
void kt_init(struct kt_trace *t);
void kt_free(struct kt_trace *t);

/*
 * Parse one line into (ev). Returns 1 for an event, 0 for a line that is not
 * an event (blank, "cpus=N", "# ..." headers, "CPU:n [N EVENTS DROPPED]"
 * which adds nothing to (ev) but is counted by kt_parse_text), or -EINVAL
 * with "line N: reason" in (err) for a malformed event line, including a
 * kvm/kvmmmu event whose payload does not match any known rendering.
 */
int kt_parse_line(const char *line, size_t len, unsigned lineno, struct kt_event *ev,
                  char err[KS_ERR_LEN]);

/*
 * Parse a whole text trace (len bytes, need not be NUL-terminated), CRLF
 * tolerated. Returns 0, -ENOENT (no event lines at all), -EINVAL (first
 * malformed line, in err) or -ENOMEM.
 */
int kt_parse_text(const char *text, size_t len, struct kt_trace *t, char err[KS_ERR_LEN]);

/* Whether this build can read trace.dat (libtracecmd was found at build time). */
bool kt_dat_supported(void);

/*
 * Read a trace-cmd trace.dat through libtracecmd/libtraceevent, by field
 * name (formats.md §6.3, trap 21). Returns 0, -ENOTSUP (built without
 * libtracecmd), -EINVAL (not a readable trace.dat) or -ENOENT (no events).
 */
int kt_read_dat(const char *path, struct kt_trace *t, char err[KS_ERR_LEN]);

/* ---------------------------------------------------------------------------------------------
 * Analysis
 */

/* What the caller knows about the guest; anything unknown is stated in the report. */
struct kt_assume {
    unsigned maxphyaddr; /* 0: unknown (36, KVM's default without CPUID 0x80000008, is used) */
    int nxe;     /* EFER.NXE: 1, 0, or -1 unknown (inferred from F in error codes when possible) */
    int gbpages; /* KVM's effective 1 GiB pages: 1, 0, or -1 unknown (inferred) */
    bool amd;    /* AMD-compatible guest vendor */
};

/* One guest page walk (pagetable_walk + paging_element* + walker_error?). */
struct kt_walk {
    size_t event; /* index of the pagetable_walk event in the trace */
    uint64_t addr;
    uint32_t access;
    unsigned nlevels;
    uint64_t pte[5];
    unsigned level[5];
    bool failed;
    uint32_t error_code; /* walker_error code when failed */
    unsigned n_ad;       /* set_accessed/dirty events after it */
};

/*
 * A failing walk, decoded by replaying it through lib/paging's model of
 * KVM's walker (pt_walk) on the entries the trace printed, under the
 * assumptions about the unknown vCPU state (MAXPHYADDR, GBPAGES, NXE) that
 * reproduce KVM's error code.
 */
struct kt_walk_explained {
    size_t walk;        /* index into kt_analysis.walks */
    const char *mode;   /* "4-level", "5-level", "PAE", "32-bit" from the levels seen */
    int fail_level;     /* level of the failing entry (0: unknown) */
    const char *kind;   /* "reserved bit", "not present", "permission", "unbacked table" */
    uint64_t rsvd_bits; /* the entry's bits that are reserved under the assumptions */
    bool reproduced;    /* the replay gave KVM's error code from the same entries */
    unsigned nlevels;
    char level_text[5][200]; /* per level, top first: what the entry is or why it failed */
    char assumed[400];       /* the assumptions the explanation rests on */
    char reason[320];        /* one or two sentences: the failing level's reason */
};

struct kt_exit_count {
    char reason[48];
    unsigned count;
};

/* One link of the injected exception chain. */
struct kt_exc {
    size_t event; /* the kvm_inj_exception event, or the failing IDT walk when inferred */
    unsigned vector;
    bool has_error_code;
    uint32_t error_code;
    bool reinjected;
    bool inferred;        /* not traced: deduced from a failing IDT read (#DF escalation) */
    bool delivery_failed; /* reading its IDT entry faulted (a walk at IDT base + vector*size) */
    uint64_t idt_addr;    /* the IDT entry address that faulted, when delivery_failed */
    uint64_t fault_addr;  /* #PF: the address of the walk that raised it (the CR2 value) */
};

#define KT_MAX_EXIT_KINDS 64
#define KT_MAX_CHAIN      32

struct kt_analysis {
    unsigned total_events, total_exits;
    unsigned nexit_kinds;
    struct kt_exit_count exits[KT_MAX_EXIT_KINDS]; /* by count, descending; overflow in the last */
    struct kt_walk *walks;
    size_t nwalks, nwalks_failed;
    struct kt_walk_explained *failed; /* one per failing walk, trace order */
    size_t nfailed;
    size_t emul_failures;      /* kvm_emulate_insn ... FAIL / failed */
    size_t emul_unreliable;    /* emulate lines whose bytes are not evidence */
    size_t first_emul_failure; /* event index, valid if emul_failures */
    bool emul_fetch_not_ram;   /* a failed emulation read 0 bytes after a fetch walk that
                                  succeeded: the instruction's GPA is not RAM */
    uint64_t emul_fetch_gpa;   /* that GPA, when emul_fetch_not_ram */
    unsigned nchain;
    struct kt_exc chain[KT_MAX_CHAIN]; /* the LAST run of injected exceptions before the end */
    bool shutdown;                     /* KVM_EXIT_SHUTDOWN seen (triple fault) */
    bool internal_error;               /* KVM_EXIT_INTERNAL_ERROR seen */
    char last_exit[40];                /* last kvm_userspace_exit reason ("" if none) */
    int nxe_inferred;                  /* -1 unknown, else the EFER.NXE the error codes prove */
    struct kt_assume assumed;          /* what was used, after inference */
    char summary[256]; /* one line: "triple fault: #PF(0x9 P|RSVD) -> #DF -> shutdown" */
};

/*
 * Analyze (t). Also marks kvm_emulate_insn events whose bytes are stale
 * (the fetch walk for that RIP failed just before it: paging.md §5.4).
 * Returns 0 or -ENOMEM. Free with kt_analysis_free.
 */
int kt_analyze(struct kt_trace *t, const struct kt_assume *as, struct kt_analysis *a);
void kt_analysis_free(struct kt_analysis *a);

/* The human report. */
void kt_render_text(const struct kt_trace *t, const struct kt_analysis *a, struct strbuf *sb);
/*
 * JSON object: {"events":N,"exits":{"REASON":n,...},"walks":{"total":n,
 * "failed":[{"addr":..,"access":..,"error_code":..,"levels":[{"level":4,
 * "pte":"0x.."}],"fail_level":3,"kind":..,"reason":..}]},"emulation":{...},
 * "exceptions":[...],"end":"KVM_EXIT_SHUTDOWN","summary":"..."}
 */
void kt_render_json(const struct kt_trace *t, const struct kt_analysis *a, struct strbuf *sb);

/* KVM_EXIT_* name of a userspace exit reason ("KVM_EXIT_SHUTDOWN"), NULL if unknown. */
const char *kt_kvm_exit_name(int reason);

#endif
