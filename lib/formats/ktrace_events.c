/*
 * KVM tracepoint payloads -> struct kt_event fields: the kernel TP_printk
 * formats (arch/x86/kvm/trace.h, mmu/mmutrace.h, include/trace/events/kvm.h),
 * libtraceevent's kvm plugin (plugins/plugin_kvm.c) and `trace-cmd report
 * -R` raw "field=value" lists. shared/spec/paging.md §5 lists the renderings.
 */
#include "ks/ktrace.h"

#include "ktrace_internal.h"
#include "textscan.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * "key=value" lists (trace-cmd report -R)
 */

#define MAX_KV 16

struct kv {
    unsigned n;
    struct {
        const char *k, *v;
        size_t klen, vlen;
    } f[MAX_KV];
};

static bool parse_kv(const char *s, const char *end, struct kv *kv)
{
    kv->n = 0;
    while (s < end) {
        const char *k = s, *eq, *v;
        while (s < end && *s != '=' && *s != ' ')
            s++;
        if (s == end || *s != '=' || s == k || kv->n == MAX_KV)
            return false;
        eq = s++;
        v = s;
        while (s < end && *s != ' ')
            s++;
        kv->f[kv->n].k = k;
        kv->f[kv->n].klen = (size_t)(eq - k);
        kv->f[kv->n].v = v;
        kv->f[kv->n].vlen = (size_t)(s - v);
        kv->n++;
        while (s < end && *s == ' ')
            s++;
    }
    return kv->n > 0;
}

/* Field (key) as a number (0x-hex or decimal). */
static bool kv_num(const struct kv *kv, const char *key, uint64_t *out)
{
    for (unsigned i = 0; i < kv->n; i++) {
        if (kv->f[i].klen != strlen(key) || memcmp(kv->f[i].k, key, kv->f[i].klen))
            continue;
        struct cur c = {kv->f[i].v, kv->f[i].v + kv->f[i].vlen};
        if (!(cur_0xhex(&c, out) || cur_dec(&c, out)) || !cur_eof(&c))
            return false;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------------------------
 * Payloads
 */

static const char *find(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);

    for (; s + n <= end; s++)
        if (!memcmp(s, needle, n))
            return s;
    return NULL;
}

/* Names the VMX tables use are upper case; SVM kernel names are lower case, plugin SVM "EXIT_*". */
static enum kt_isa isa_of_reason(const char *r)
{
    if (!strncmp(r, "EXIT_", 5))
        return KT_ISA_SVM;
    for (; *r && *r != ' '; r++)
        if (*r >= 'a' && *r <= 'z')
            return KT_ISA_SVM;
    return KT_ISA_VMX;
}

/* Kernel names of numeric exit reasons, for raw (-R) and trace.dat records (paging.md §5.2). */
static const char *exit_name(enum kt_isa isa, uint64_t code)
{
    /* VMX basic exit reasons: arch/x86/include/uapi/asm/vmx.h VMX_EXIT_REASONS (SDM Vol. 3D
     * Appendix C). */
    static const char *const vmx[76] = {
        [0] = "EXCEPTION_NMI",
        [1] = "EXTERNAL_INTERRUPT",
        [2] = "TRIPLE_FAULT",
        [3] = "INIT_SIGNAL",
        [4] = "SIPI_SIGNAL",
        [7] = "INTERRUPT_WINDOW",
        [8] = "NMI_WINDOW",
        [9] = "TASK_SWITCH",
        [10] = "CPUID",
        [12] = "HLT",
        [13] = "INVD",
        [14] = "INVLPG",
        [15] = "RDPMC",
        [16] = "RDTSC",
        [18] = "VMCALL",
        [19] = "VMCLEAR",
        [20] = "VMLAUNCH",
        [21] = "VMPTRLD",
        [22] = "VMPTRST",
        [23] = "VMREAD",
        [24] = "VMRESUME",
        [25] = "VMWRITE",
        [26] = "VMOFF",
        [27] = "VMON",
        [28] = "CR_ACCESS",
        [29] = "DR_ACCESS",
        [30] = "IO_INSTRUCTION",
        [31] = "MSR_READ",
        [32] = "MSR_WRITE",
        [33] = "INVALID_STATE",
        [34] = "MSR_LOAD_FAIL",
        [36] = "MWAIT_INSTRUCTION",
        [37] = "MONITOR_TRAP_FLAG",
        [39] = "MONITOR_INSTRUCTION",
        [40] = "PAUSE_INSTRUCTION",
        [41] = "MCE_DURING_VMENTRY",
        [43] = "TPR_BELOW_THRESHOLD",
        [44] = "APIC_ACCESS",
        [45] = "EOI_INDUCED",
        [46] = "GDTR_IDTR",
        [47] = "LDTR_TR",
        [48] = "EPT_VIOLATION",
        [49] = "EPT_MISCONFIG",
        [50] = "INVEPT",
        [51] = "RDTSCP",
        [52] = "PREEMPTION_TIMER",
        [53] = "INVVPID",
        [54] = "WBINVD",
        [55] = "XSETBV",
        [56] = "APIC_WRITE",
        [57] = "RDRAND",
        [58] = "INVPCID",
        [59] = "VMFUNC",
        [60] = "ENCLS",
        [61] = "RDSEED",
        [62] = "PML_FULL",
        [63] = "XSAVES",
        [64] = "XRSTORS",
        [67] = "UMWAIT",
        [68] = "TPAUSE",
        [74] = "BUS_LOCK",
        [75] = "NOTIFY",
    };
    /* SVM exit codes: arch/x86/include/uapi/asm/svm.h SVM_EXIT_REASONS (AMD APM Vol. 2 App. C). */
    static const struct {
        uint64_t code;
        const char *name;
    } svm[] = {
        {0x00, "read_cr0"},  {0x03, "read_cr3"},
        {0x04, "read_cr4"},  {0x10, "write_cr0"},
        {0x13, "write_cr3"}, {0x14, "write_cr4"},
        {0x40, "DE excp"},   {0x41, "DB excp"},
        {0x43, "BP excp"},   {0x46, "UD excp"},
        {0x47, "NM excp"},   {0x48, "DF excp"},
        {0x4d, "GP excp"},   {0x4e, "PF excp"},
        {0x52, "MC excp"},   {0x60, "interrupt"},
        {0x61, "nmi"},       {0x62, "smi"},
        {0x63, "init"},      {0x64, "vintr"},
        {0x72, "cpuid"},     {0x75, "iret"},
        {0x77, "pause"},     {0x78, "hlt"},
        {0x79, "invlpg"},    {0x7b, "io"},
        {0x7c, "msr"},       {0x7d, "task_switch"},
        {0x7f, "shutdown"},  {0x81, "hypercall"},
        {0x8b, "wbinvd"},    {0x8d, "xsetbv"},
        {0x400, "npf"},      {0xffffffffffffffffULL, "invalid_guest_state"},
    };
    if (isa == KT_ISA_SVM) {
        for (size_t i = 0; i < KS_ARRAY_SIZE(svm); i++)
            if (svm[i].code == code)
                return svm[i].name;
        return NULL;
    }
    return code < KS_ARRAY_SIZE(vmx) ? vmx[code] : NULL;
}

static int p_exit(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    const char *r, *rip;
    uint64_t v;
    struct kv kv;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "exit_reason", &v)) {
        uint64_t isa = 1;
        ev->u.exit.code = v;
        ev->u.exit.code_known = true;
        kv_num(&kv, "isa", &isa);
        ev->u.exit.isa = isa == 2 ? KT_ISA_SVM : KT_ISA_VMX;
        {
            const char *name = exit_name(ev->u.exit.isa, v);
            if (name)
                snprintf(ev->u.exit.reason, sizeof(ev->u.exit.reason), "%s", name);
            else
                snprintf(ev->u.exit.reason, sizeof(ev->u.exit.reason), "UNKNOWN (%llu)",
                         (unsigned long long)v);
        }
        if (!kv_num(&kv, "guest_rip", &ev->u.exit.rip))
            return -1;
        kv_num(&kv, "info1", &ev->u.exit.info1);
        kv_num(&kv, "info2", &ev->u.exit.info2);
        if (kv_num(&kv, "vcpu_id", &v)) {
            ev->u.exit.has_vcpu = true;
            ev->u.exit.vcpu = (unsigned)v;
        }
        return 0;
    }
    if (cur_lit(&c, "vcpu ")) {
        if (!cur_dec(&c, &v) || !cur_lit(&c, " "))
            return -1;
        ev->u.exit.has_vcpu = true;
        ev->u.exit.vcpu = (unsigned)v;
    }
    if (!cur_lit(&c, "reason "))
        return -1;
    r = c.p;
    rip = find(r, end, " rip 0x");
    if (!rip || rip == r)
        return -1;
    copy_trim(ev->u.exit.reason, sizeof(ev->u.exit.reason), r, rip);
    ev->u.exit.isa = isa_of_reason(ev->u.exit.reason);
    /* trace-cmd's plugin prints unknown VMX reasons (and failed entries) as "UNKNOWN (n)". */
    if (!strncmp(ev->u.exit.reason, "UNKNOWN (", 9)) {
        struct cur u = {ev->u.exit.reason + 9, ev->u.exit.reason + strlen(ev->u.exit.reason)};
        if (cur_dec(&u, &v) && cur_lit(&u, ")")) {
            ev->u.exit.code = v;
            ev->u.exit.code_known = true;
        }
    }
    c.p = rip + 7;
    if (!cur_hex(&c, &ev->u.exit.rip, NULL))
        return -1;
    /* Plugin: optional " <symbol>", then " info %llx %llx". */
    {
        const char *info = find(c.p, end, " info ");
        if (info) {
            c.p = info + 6;
            if (!cur_hex(&c, &ev->u.exit.info1, NULL) || !cur_lit(&c, " ") ||
                !cur_hex(&c, &ev->u.exit.info2, NULL))
                return -1;
            return 0;
        }
    }
    if (!cur_lit(&c, " info1 ") || !cur_0xhex(&c, &ev->u.exit.info1) || !cur_lit(&c, " info2 ") ||
        !cur_0xhex(&c, &ev->u.exit.info2))
        return -1;
    if (cur_lit(&c, " intr_info ")) {
        if (!cur_0xhex(&c, &v) || !cur_lit(&c, " error_code "))
            return -1;
        ev->u.exit.intr_info = (uint32_t)v;
        if (!cur_0xhex(&c, &v))
            return -1;
        ev->u.exit.error_code = (uint32_t)v;
        ev->u.exit.has_intr = true;
    }
    return 0;
}

static int p_entry(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;
    uint64_t v;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "vcpu_id", &v)) {
        ev->u.entry.has_vcpu = true;
        ev->u.entry.vcpu = (unsigned)v;
        kv_num(&kv, "rip", &ev->u.entry.rip);
        if (kv_num(&kv, "immediate_exit", &v))
            ev->u.entry.immediate_exit = v != 0;
        return 0;
    }
    if (!cur_lit(&c, "vcpu ") || !cur_dec(&c, &v))
        return -1;
    ev->u.entry.has_vcpu = true;
    ev->u.entry.vcpu = (unsigned)v;
    cur_lit(&c, ",");
    if (cur_eof(&c))
        return 0; /* very old kernels print only the vCPU */
    if (!cur_lit(&c, " rip 0x") || !cur_hex(&c, &ev->u.entry.rip, NULL))
        return -1;
    ev->u.entry.immediate_exit = find(c.p, end, "[immediate exit]") != NULL;
    return 0;
}

/*
 * Kernel: "%x:%llx:%s (%s)%s" = csbase:rip:bytes (mode)[ failed].
 * Plugin: "%llx:%llx: bytes[ FAIL]" (bytes stale when len == 0, paging.md §5.4).
 */
static int p_emulate(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    const char *open;

    if (!cur_hex(&c, &ev->u.emul.csbase, NULL) || !cur_lit(&c, ":") ||
        !cur_hex(&c, &ev->u.emul.rip, NULL) || !cur_lit(&c, ":"))
        return -1;
    while (end > c.p && end[-1] == ' ')
        end--;
    c.end = end;
    if (end - c.p >= 7 && !memcmp(end - 7, " failed", 7)) {
        ev->u.emul.failed = true;
        end -= 7;
    }
    open = NULL;
    if (end > c.p && end[-1] == ')') {
        for (const char *p = end - 1; p >= c.p; p--)
            if (*p == '(') {
                open = p;
                break;
            }
    }
    if (open) {
        copy_trim(ev->u.emul.mode, sizeof(ev->u.emul.mode), open + 1, end - 1);
        end = open;
    } else {
        ev->u.emul.plugin_form = true;
        if (end - c.p >= 4 && !memcmp(end - 4, "FAIL", 4)) {
            ev->u.emul.failed = true;
            end -= 4;
        }
    }
    c.end = end;
    cur_spaces(&c);
    while (!cur_eof(&c)) {
        const char *p = c.p;
        uint64_t b;
        if (!cur_hex(&c, &b, NULL) || c.p - p != 2 || !cur_at_sep(&c)) {
            /* The plugin with udis86 prints disassembly instead of bytes. */
            if (ev->u.emul.plugin_form) {
                ev->u.emul.len = 0;
                return 0;
            }
            return -1;
        }
        if (ev->u.emul.len == sizeof(ev->u.emul.bytes))
            return -1;
        ev->u.emul.bytes[ev->u.emul.len++] = (uint8_t)b;
        cur_spaces(&c);
    }
    return 0;
}

static int p_uexit(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;
    const char *r, *paren;
    uint64_t v;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "reason", &v)) {
        const char *name = kt_kvm_exit_name((int)v);
        ev->u.uexit.code = (int)v;
        snprintf(ev->u.uexit.reason, sizeof(ev->u.uexit.reason), "%s", name ? name : "?");
        return 0;
    }
    if (!cur_lit(&c, "reason "))
        return -1;
    r = c.p;
    paren = find(r, end, " (");
    if (!paren || paren == r)
        return -1;
    copy_trim(ev->u.uexit.reason, sizeof(ev->u.uexit.reason), r, paren);
    c.p = paren + 2;
    {
        bool neg = cur_lit(&c, "-");
        if (!cur_dec(&c, &v) || !cur_lit(&c, ")") || v > 0x7fffffff)
            return -1;
        ev->u.uexit.code = neg ? -(int)v : (int)v;
    }
    return 0;
}

/* kvm_trace_sym_exc (arch/x86/kvm/trace.h): "#PF (0x9)", "#UD", " [reinjected]". */
static int p_inj(const char *s, const char *end, struct kt_event *ev)
{
    static const char *const names[32] = {
        [0] = "#DE",  [1] = "#DB",  [3] = "#BP",  [4] = "#OF",  [5] = "#BR",
        [6] = "#UD",  [7] = "#NM",  [8] = "#DF",  [10] = "#TS", [11] = "#NP",
        [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC",
        [18] = "#MC", [19] = "#XM", [20] = "#VE", [21] = "#CP",
    };
    struct cur c = {s, end};
    struct kv kv;
    uint64_t v;
    bool found = false;

    /* Raw fields: -R, or perf's "[FAILED TO PARSE]" fallback. */
    if (parse_kv(s, end, &kv) && kv_num(&kv, "exception", &v)) {
        uint64_t has = 0, ec = 0, re = 0;
        if (v > 255)
            return -1;
        ev->u.inj.vector = (unsigned)v;
        kv_num(&kv, "has_error", &has);
        kv_num(&kv, "error_code", &ec);
        kv_num(&kv, "reinjected", &re);
        ev->u.inj.has_error_code = has != 0;
        ev->u.inj.error_code = (uint32_t)ec;
        ev->u.inj.reinjected = re != 0;
        return 0;
    }
    for (unsigned i = 0; i < 32 && !found; i++)
        if (names[i] && cur_lit(&c, names[i])) {
            ev->u.inj.vector = i;
            found = true;
        }
    if (!found) {
        if (!(cur_0xhex(&c, &v) || cur_dec(&c, &v)) || v > 255)
            return -1;
        ev->u.inj.vector = (unsigned)v;
    }
    if (cur_lit(&c, " (")) {
        if (!cur_0xhex(&c, &v) || !cur_lit(&c, ")") || v > 0xffffffffu)
            return -1;
        ev->u.inj.has_error_code = true;
        ev->u.inj.error_code = (uint32_t)v;
    }
    if (cur_lit(&c, " [reinjected]"))
        ev->u.inj.reinjected = true;
    cur_spaces(&c);
    return cur_eof(&c) ? 0 : -1;
}

static int p_page_fault(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    uint64_t v;

    if (cur_lit(&c, "vcpu ")) {
        if (!cur_dec(&c, &v) || !cur_lit(&c, " rip 0x") || !cur_hex(&c, &ev->u.pf.rip, NULL) ||
            !cur_lit(&c, " "))
            return -1;
        ev->u.pf.has_vcpu = true;
        ev->u.pf.vcpu = (unsigned)v;
    }
    if (!cur_lit(&c, "address "))
        return -1;
    cur_lit(&c, "0x");
    if (!cur_hex(&c, &ev->u.pf.address, NULL) || !cur_lit(&c, " error_code "))
        return -1;
    cur_lit(&c, "0x");
    return cur_hex(&c, &ev->u.pf.error_code, NULL) ? 0 : -1;
}

static int p_pio(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;
    uint64_t port, size, count, val;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "port", &port)) {
        uint64_t rw = 0;
        kv_num(&kv, "rw", &rw);
        if (!kv_num(&kv, "size", &size) || !kv_num(&kv, "count", &count))
            return -1;
        val = 0;
        kv_num(&kv, "val", &val);
        ev->u.pio.write = rw;
    } else {
        if (cur_lit(&c, "pio_write"))
            ev->u.pio.write = true;
        else if (!cur_lit(&c, "pio_read"))
            return -1;
        if (!cur_lit(&c, " at ") || !cur_0xhex(&c, &port) || !cur_lit(&c, " size ") ||
            !cur_dec(&c, &size) || !cur_lit(&c, " count ") || !cur_dec(&c, &count) ||
            !cur_lit(&c, " val ") || !cur_0xhex(&c, &val))
            return -1;
    }
    if (port > 0xffff || size > 8)
        return -1;
    ev->u.pio.port = (unsigned)port;
    ev->u.pio.size = (unsigned)size;
    ev->u.pio.count = (unsigned)(count > 0xffffffffu ? 0xffffffffu : count);
    ev->u.pio.val = (uint32_t)val;
    return 0;
}

static int p_mmio(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    uint64_t len;

    if (!cur_lit(&c, "mmio "))
        return -1;
    if (cur_lit(&c, "unsatisfied-read"))
        ev->u.mmio.kind = 2;
    else if (cur_lit(&c, "write"))
        ev->u.mmio.kind = 1;
    else if (cur_lit(&c, "read"))
        ev->u.mmio.kind = 0;
    else
        return -1;
    if (!cur_lit(&c, " len ") || !cur_dec(&c, &len) || len > 64 || !cur_lit(&c, " gpa ") ||
        !cur_0xhex(&c, &ev->u.mmio.gpa) || !cur_lit(&c, " val ") || !cur_0xhex(&c, &ev->u.mmio.val))
        return -1;
    ev->u.mmio.len = (unsigned)len;
    return 0;
}

static int p_fast_mmio(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    return cur_lit(&c, "fast mmio at gpa ") && cur_0xhex(&c, &ev->u.fast_mmio.gpa) ? 0 : -1;
}

/* mmutrace.h: "addr %llx pferr %x %s", "pte %llx level %u", "pferr %x %s", "gpa %llx". */
static int p_walk(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;
    uint64_t v;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "addr", &ev->u.walk.addr)) {
        if (!kv_num(&kv, "pferr", &v))
            return -1;
        ev->u.walk.access = (uint32_t)v;
        return 0;
    }
    if (!cur_lit(&c, "addr ") || !cur_hex(&c, &ev->u.walk.addr, NULL) || !cur_lit(&c, " pferr ") ||
        !cur_hex(&c, &v, NULL) || v > 0xffffffffu)
        return -1;
    ev->u.walk.access = (uint32_t)v;
    return 0;
}

static int p_element(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;
    uint64_t v;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "pte", &ev->u.element.pte)) {
        if (!kv_num(&kv, "level", &v) || v < 1 || v > 5)
            return -1;
        ev->u.element.level = (unsigned)v;
        return 0;
    }
    if (!cur_lit(&c, "pte ") || !cur_hex(&c, &ev->u.element.pte, NULL) || !cur_lit(&c, " level ") ||
        !cur_dec(&c, &v) || v < 1 || v > 5)
        return -1;
    ev->u.element.level = (unsigned)v;
    cur_spaces(&c);
    return cur_eof(&c) ? 0 : -1;
}

static int p_walk_error(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;
    uint64_t v;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "pferr", &v)) {
        ev->u.walk_error.error_code = (uint32_t)v;
        return 0;
    }
    if (!cur_lit(&c, "pferr ") || !cur_hex(&c, &v, NULL) || v > 0xffffffffu)
        return -1;
    ev->u.walk_error.error_code = (uint32_t)v;
    return 0;
}

static int p_ad(const char *s, const char *end, struct kt_event *ev)
{
    struct cur c = {s, end};
    struct kv kv;

    if (parse_kv(s, end, &kv) && kv_num(&kv, "gpa", &ev->u.ad.gpa))
        return 0;
    return cur_lit(&c, "gpa ") && cur_hex(&c, &ev->u.ad.gpa, NULL) ? 0 : -1;
}

static const struct kt_payload events[] = {
    {"kvm_exit", KT_EXIT, p_exit, "reason NAME rip 0x..."},
    {"kvm_entry", KT_ENTRY, p_entry, "vcpu N[,] rip 0x..."},
    {"kvm_emulate_insn", KT_EMULATE, p_emulate, "CSBASE:RIP:BYTES"},
    {"kvm_userspace_exit", KT_USERSPACE_EXIT, p_uexit, "reason NAME (N)"},
    {"kvm_inj_exception", KT_INJ_EXCEPTION, p_inj, "#XX[ (0xCODE)]"},
    {"kvm_page_fault", KT_PAGE_FAULT, p_page_fault,
     "[vcpu N rip 0x...] address ... error_code ..."},
    {"kvm_pio", KT_PIO, p_pio, "pio_read|pio_write at 0xPORT size N count N val 0x..."},
    {"kvm_mmio", KT_MMIO, p_mmio, "mmio read|write len N gpa 0x... val 0x..."},
    {"kvm_fast_mmio", KT_FAST_MMIO, p_fast_mmio, "fast mmio at gpa 0x..."},
    {"kvm_mmu_pagetable_walk", KT_WALK, p_walk, "addr HEX pferr HEX FLAGS"},
    {"kvm_mmu_paging_element", KT_WALK_ELEMENT, p_element, "pte HEX level N"},
    {"kvm_mmu_walker_error", KT_WALK_ERROR, p_walk_error, "pferr HEX FLAGS"},
    {"kvm_mmu_set_accessed_bit", KT_SET_ACCESSED, p_ad, "gpa HEX"},
    {"kvm_mmu_set_dirty_bit", KT_SET_DIRTY, p_ad, "gpa HEX"},
};

const struct kt_payload *kt_payload_find(const char *name)
{
    for (size_t i = 0; i < KS_ARRAY_SIZE(events); i++)
        if (!strcmp(name, events[i].name))
            return &events[i];
    return NULL;
}

/* include/uapi/linux/kvm.h KVM_EXIT_* (paging.md §5.5). */
const char *kt_kvm_exit_name(int reason)
{
    static const char *const names[] = {
        "KVM_EXIT_UNKNOWN",
        "KVM_EXIT_EXCEPTION",
        "KVM_EXIT_IO",
        "KVM_EXIT_HYPERCALL",
        "KVM_EXIT_DEBUG",
        "KVM_EXIT_HLT",
        "KVM_EXIT_MMIO",
        "KVM_EXIT_IRQ_WINDOW_OPEN",
        "KVM_EXIT_SHUTDOWN",
        "KVM_EXIT_FAIL_ENTRY",
        "KVM_EXIT_INTR",
        "KVM_EXIT_SET_TPR",
        "KVM_EXIT_TPR_ACCESS",
        "KVM_EXIT_S390_SIEIC",
        "KVM_EXIT_S390_RESET",
        "KVM_EXIT_DCR",
        "KVM_EXIT_NMI",
        "KVM_EXIT_INTERNAL_ERROR",
        "KVM_EXIT_OSI",
        "KVM_EXIT_PAPR_HCALL",
        "KVM_EXIT_S390_UCONTROL",
        "KVM_EXIT_WATCHDOG",
        "KVM_EXIT_S390_TSCH",
        "KVM_EXIT_EPR",
        "KVM_EXIT_SYSTEM_EVENT",
        "KVM_EXIT_S390_STSI",
        "KVM_EXIT_IOAPIC_EOI",
        "KVM_EXIT_HYPERV",
        "KVM_EXIT_ARM_NISV",
        "KVM_EXIT_X86_RDMSR",
        "KVM_EXIT_X86_WRMSR",
        "KVM_EXIT_DIRTY_RING_FULL",
        "KVM_EXIT_AP_RESET_HOLD",
        "KVM_EXIT_X86_BUS_LOCK",
        "KVM_EXIT_XEN",
        "KVM_EXIT_RISCV_SBI",
        "KVM_EXIT_RISCV_CSR",
        "KVM_EXIT_NOTIFY",
        "KVM_EXIT_LOONGARCH_IOCSR",
        "KVM_EXIT_MEMORY_FAULT",
    };
    return reason >= 0 && (size_t)reason < KS_ARRAY_SIZE(names) ? names[reason] : NULL;
}
