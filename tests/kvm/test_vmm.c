/*
 * The VMM against the real /dev/kvm, with tiny hand-assembled real-mode
 * guests (16-bit code at 0x1000; CS base 0). Each case SKIPs without KVM.
 */
#include "harness.h"

#include "ks/vmm.h"
#include "ks/vmm_dev.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define CODE 0x1000

static bool have_kvm(void)
{
    return access("/dev/kvm", R_OK | W_OK) == 0;
}

/* Port 0x500 (and 0x80) capture: bytes written are appended to a buffer. */
struct capture {
    uint8_t buf[64];
    unsigned n;
    uint8_t read_value;
};

static int capture_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                      uint64_t *code)
{
    struct capture *c = opaque;

    (void)addr;
    (void)code;
    for (unsigned i = 0; i < size; i++) {
        if (write && c->n < sizeof(c->buf))
            c->buf[c->n++] = data[i];
        else if (!write)
            data[i] = c->read_value;
    }
    return VMM_IO_OK;
}

/* A 4 KiB page of MMIO that stores what is written. */
static uint8_t mmio_page[4096];
static int mmio_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                   uint64_t *code)
{
    (void)opaque;
    (void)code;
    for (unsigned i = 0; i < size; i++) {
        uint64_t off = (addr + i) & 0xfff;

        if (write)
            mmio_page[off] = data[i];
        else
            data[i] = mmio_page[off];
    }
    return VMM_IO_OK;
}

static struct vmm *boot(const uint8_t *code, size_t len, bool strict)
{
    struct vmm_config cfg = {.ram_size = 16 << 20, .strict = strict};
    struct vmm *vm;
    struct x86_state s;
    char err[KS_ERR_LEN];

    if (vmm_create(&cfg, &vm, err)) {
        printf("  vmm_create: %s\n", err);
        return NULL;
    }
    if (gmem_write(vmm_gmem(vm), CODE, code, len) || vmm_get_state(vm, &s)) {
        vmm_destroy(vm);
        return NULL;
    }
    s.seg[X86_SEG_CS].base = 0;
    s.seg[X86_SEG_CS].selector = 0;
    s.rip = CODE;
    s.gpr[X86_RSP] = 0x8000;
    vmm_set_state(vm, &s);
    return vm;
}

/* Boot (code) into a new VM, or SKIP the case without /dev/kvm or when the VM cannot be made. */
#define BOOT_OR_SKIP(vm, code, strict)                                                             \
    do {                                                                                           \
        if (!have_kvm())                                                                           \
            SKIP("no /dev/kvm");                                                                   \
        (vm) = boot((code), sizeof(code), (strict));                                               \
        if (!(vm))                                                                                 \
            SKIP("vm");                                                                            \
    } while (0)

/* Run (vm) for up to 5 s; the outcome's name, or "run failed" when vmm_run itself fails. */
static const char *run_outcome(struct vmm *vm, struct vmm_exit *e)
{
    return vmm_run(vm, 5000, e) ? "run failed" : vmm_outcome_name(e->outcome);
}

/* Switch the freshly booted vCPU to flat 32-bit protected mode, no paging, no IDT. */
static void to_protected(struct vmm *vm)
{
    struct x86_state s;
    struct x86_seg code = {
        .limit = 0xffffffff, .selector = 8, .type = 0xb, .s = 1, .present = 1, .db = 1, .g = 1};
    struct x86_seg data = code;

    data.selector = 0x10;
    data.type = 0x3;
    vmm_get_state(vm, &s);
    s.cr0 = 0x11;
    s.seg[X86_SEG_CS] = code;
    s.seg[X86_SEG_DS] = s.seg[X86_SEG_ES] = s.seg[X86_SEG_SS] = data;
    s.seg[X86_SEG_FS] = s.seg[X86_SEG_GS] = data;
    s.idt.base = 0;
    s.idt.limit = 0;
    vmm_set_state(vm, &s);
}

static void t_pio_out_and_hlt(void)
{
    /* mov al,'K'; mov dx,0x500; out dx,al; mov al,'S'; out dx,al; cli; hlt */
    static const uint8_t g[] = {0xb0, 'K', 0xba, 0x00, 0x05, 0xee, 0xb0, 'S', 0xee, 0xfa, 0xf4};
    struct capture cap = {0};
    struct vmm_exit e;
    struct vmm *vm;
    struct vmm_trace_rec tr[8];
    unsigned n;

    if (!have_kvm())
        SKIP("no /dev/kvm");
    vm = boot(g, sizeof(g), false);
    EXPECT(vm != NULL);
    if (!vm)
        return;
    EXPECT_EQ(vmm_register_pio(vm, 0x500, 1, capture_io, &cap), 0);
    EXPECT_STR(run_outcome(vm, &e), "halt");
    EXPECT_EQ(e.code, 0); /* IF was clear */
    EXPECT_EQ(cap.n, 2);
    EXPECT_EQ(cap.buf[0], 'K');
    EXPECT_EQ(cap.buf[1], 'S');
    EXPECT_EQ(vmm_rip(vm), CODE + sizeof(g));
    /* Trace: two IO exits then HLT, with the instruction bytes at RIP. */
    n = vmm_trace_last(vm, tr, 8);
    EXPECT_EQ(n, 3);
    EXPECT_EQ(vmm_trace_total(vm), 3);
    EXPECT_STR(vmm_exit_reason_name(tr[0].reason), "IO");
    EXPECT_EQ(tr[0].addr, 0x500);
    EXPECT_EQ(tr[0].data, 'K');
    EXPECT(tr[0].flags & VMM_TR_WRITE);
    EXPECT_EQ(tr[0].insn_len, 15);
    EXPECT_EQ(tr[0].insn[0], 0xb0); /* RIP is already past the OUT */
    EXPECT_EQ(tr[0].rip, CODE + 6);
    EXPECT_STR(vmm_exit_reason_name(tr[2].reason), "HLT");
    EXPECT(tr[1].t_ns >= tr[0].t_ns);
    /* Handling time is measured only for a trace sink (t_trace_sink checks it). */
    EXPECT_EQ(tr[0].handle_ns, 0);
    vmm_destroy(vm);
}

static void t_triple_fault(void)
{
    /* 32-bit, IDT limit 0: ud2 -> #UD cannot be delivered -> #DF -> shutdown */
    static const uint8_t g[] = {0x90, 0x0f, 0x0b};
    struct vmm_exit e;
    struct vmm *vm;
    struct snapshot snap;

    BOOT_OR_SKIP(vm, g, false);
    to_protected(vm);
    EXPECT_STR(run_outcome(vm, &e), "triple_fault");
    EXPECT_EQ(vmm_rip(vm), CODE + 1);
    EXPECT_EQ(vmm_snapshot(vm, &snap), 0);
    EXPECT_EQ(snap.event, SNAP_EV_TRIPLE_FAULT);
    EXPECT(snap.have & SNAP_HAVE_CPUID);
    EXPECT(snap.mem == vmm_gmem(vm));
    EXPECT_EQ(snap.s.idt.limit, 0);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].db, 1);
    EXPECT_EQ(snap.cpl, 0);
    vmm_destroy(vm);
}

static void t_mmio(void)
{
    /* mov ax,0xd000; mov ds,ax; mov byte [0x10],0x5a; mov al,[0x10]; out 0x80,al;
     * mov al,[0x11]; out 0x80,al; cli; hlt */
    static const uint8_t g[] = {0xb8, 0x00, 0xd0, 0x8e, 0xd8, 0xc6, 0x06, 0x10, 0x00, 0x5a, 0xa0,
                                0x10, 0x00, 0xe6, 0x80, 0xa0, 0x11, 0x00, 0xe6, 0x80, 0xfa, 0xf4};
    struct capture cap = {0};
    struct vmm_exit e;
    struct vmm *vm;

    BOOT_OR_SKIP(vm, g, false);
    memset(mmio_page, 0, sizeof(mmio_page));
    mmio_page[0x11] = 0x77;
    EXPECT_EQ(vmm_register_mmio(vm, 0xd0000, 0x1000, mmio_io, NULL), 0);
    EXPECT_EQ(vmm_register_pio(vm, 0x80, 1, capture_io, &cap), 0);
    /* MMIO over RAM is refused: it would never exit. */
    EXPECT_EQ(vmm_register_mmio(vm, 0x9f000, 0x2000, mmio_io, NULL), -EINVAL);
    EXPECT_STR(run_outcome(vm, &e), "halt");
    EXPECT_EQ(mmio_page[0x10], 0x5a);
    EXPECT_EQ(cap.n, 2);
    EXPECT_EQ(cap.buf[0], 0x5a);
    EXPECT_EQ(cap.buf[1], 0x77);
    vmm_destroy(vm);
}

static void t_timeout(void)
{
    static const uint8_t g[] = {0xeb, 0xfe}; /* jmp $ */
    struct timespec a, b;
    struct vmm_exit e;
    struct vmm *vm;
    double ms;

    BOOT_OR_SKIP(vm, g, false);
    clock_gettime(CLOCK_MONOTONIC, &a);
    EXPECT_EQ(vmm_run(vm, 200, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    EXPECT_STR(vmm_outcome_name(e.outcome), "timeout");
    EXPECT(ms >= 190 && ms < 1500);
    EXPECT(vmm_rip(vm) == CODE);
    /* The VM can run again after a timeout, and times out again. */
    EXPECT_EQ(vmm_run(vm, 50, &e), 0);
    EXPECT_STR(vmm_outcome_name(e.outcome), "timeout");
    vmm_destroy(vm);
}

static void t_string_pio(void)
{
    /* mov si,0x1100; mov cx,5; mov dx,0x500; cld; rep outsb; cli; hlt */
    static const uint8_t g[] = {0xbe, 0x00, 0x11, 0xb9, 0x05, 0x00, 0xba,
                                0x00, 0x05, 0xfc, 0xf3, 0x6e, 0xfa, 0xf4};
    struct capture cap = {0};
    struct vmm_exit e;
    struct vmm *vm;
    struct vmm_trace_rec tr[16];
    unsigned n, strs = 0;

    BOOT_OR_SKIP(vm, g, false);
    gmem_write(vmm_gmem(vm), 0x1100, "hello", 5);
    EXPECT_EQ(vmm_register_pio(vm, 0x500, 1, capture_io, &cap), 0);
    EXPECT_STR(run_outcome(vm, &e), "halt");
    EXPECT_EQ(cap.n, 5);
    EXPECT(memcmp(cap.buf, "hello", 5) == 0);
    n = vmm_trace_last(vm, tr, 16);
    for (unsigned i = 0; i < n; i++)
        if (tr[i].reason == 2 /* IO */ && tr[i].addr == 0x500)
            strs += tr[i].count;
    EXPECT_EQ(strs, 5);
    vmm_destroy(vm);
}

static void t_string_pio_in(void)
{
    /* mov di,0x1200; mov cx,4; mov dx,0x500; cld; rep insb; cli; hlt */
    static const uint8_t g[] = {0xbf, 0x00, 0x12, 0xb9, 0x04, 0x00, 0xba,
                                0x00, 0x05, 0xfc, 0xf3, 0x6c, 0xfa, 0xf4};
    struct capture cap = {.read_value = 0xab};
    struct vmm_exit e;
    struct vmm *vm;
    uint8_t got[5] = {0};

    BOOT_OR_SKIP(vm, g, false);
    EXPECT_EQ(vmm_register_pio(vm, 0x500, 1, capture_io, &cap), 0);
    EXPECT_STR(run_outcome(vm, &e), "halt");
    gmem_read(vmm_gmem(vm), 0x1200, got, 5);
    EXPECT_EQ(got[0], 0xab);
    EXPECT_EQ(got[3], 0xab);
    EXPECT_EQ(got[4], 0);
    vmm_destroy(vm);
}

static void t_debug_exit(void)
{
    /* mov al,0x21; out 0xf4,al */
    static const uint8_t g[] = {0xb0, 0x21, 0xe6, 0xf4, 0xf4};
    struct vmm_exit e;
    struct vmm *vm;

    BOOT_OR_SKIP(vm, g, false);
    EXPECT_EQ(debugexit_attach(vm, DEBUG_EXIT_PORT), 0);
    EXPECT_STR(run_outcome(vm, &e), "debug_exit");
    EXPECT_EQ(e.code, 0x21);
    vmm_destroy(vm);
}

static void t_unhandled(void)
{
    /* in al,0x99; out 0x80,al; cli; hlt */
    static const uint8_t g[] = {0xe4, 0x99, 0xe6, 0x80, 0xfa, 0xf4};
    struct capture cap = {0};
    struct vmm_exit e;
    struct vmm *vm;

    /* Lenient: recorded, reads as 0xff, the guest goes on. */
    BOOT_OR_SKIP(vm, g, false);
    EXPECT_EQ(vmm_register_pio(vm, 0x80, 1, capture_io, &cap), 0);
    EXPECT_STR(run_outcome(vm, &e), "halt");
    EXPECT_EQ(cap.n, 1);
    EXPECT_EQ(cap.buf[0], 0xff);
    EXPECT_EQ(vmm_unhandled_total(vm), 1);
    vmm_destroy(vm);
    /* Strict: the run stops at the access. */
    vm = boot(g, sizeof(g), true);
    if (!vm)
        return;
    EXPECT_STR(run_outcome(vm, &e), "unhandled_io");
    EXPECT_EQ(e.io_addr, 0x99);
    EXPECT(!e.io_write && !e.io_is_mmio);
    EXPECT_EQ(e.io_size, 1);
    vmm_destroy(vm);
}

static void t_internal_error(void)
{
    /* jmp 0xd000:0000 -> fetch from unbacked memory: KVM cannot emulate it */
    static const uint8_t g[] = {0xea, 0x00, 0x00, 0x00, 0xd0};
    struct vmm_exit e;
    struct vmm *vm;

    BOOT_OR_SKIP(vm, g, false);
    EXPECT_STR(run_outcome(vm, &e), "internal_error");
    EXPECT_EQ(e.suberror, 1); /* KVM_INTERNAL_ERROR_EMULATION */
    EXPECT(e.ndata > 0);
    vmm_destroy(vm);
}

static void *kicker(void *arg)
{
    usleep(100 * 1000);
    vmm_kick(arg);
    return NULL;
}

/* vmm_kick() from another thread interrupts a guest spinning at CPL0. */
static void t_kick(void)
{
    static const uint8_t g[] = {0xeb, 0xfe};
    struct timespec a, b;
    struct vmm_exit e;
    struct vmm *vm;
    pthread_t th;
    double ms;

    BOOT_OR_SKIP(vm, g, false);
    clock_gettime(CLOCK_MONOTONIC, &a);
    EXPECT_EQ(pthread_create(&th, NULL, kicker, vm), 0);
    EXPECT_EQ(vmm_run(vm, 10000, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(th, NULL);
    ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    EXPECT_STR(vmm_outcome_name(e.outcome), "interrupted");
    EXPECT(ms >= 90 && ms < 2000);
    /* A kick before the run makes it return at once. */
    vmm_kick(vm);
    EXPECT_EQ(vmm_run(vm, 10000, &e), 0);
    EXPECT_STR(vmm_outcome_name(e.outcome), "interrupted");
    vmm_destroy(vm);
}

struct sink_state {
    uint64_t n, last_t, timed;
    bool ordered;
};

static void sink(void *opaque, const struct vmm_trace_rec *r, unsigned n)
{
    struct sink_state *s = opaque;

    for (unsigned i = 0; i < n; i++) {
        if (r[i].t_ns < s->last_t)
            s->ordered = false;
        s->last_t = r[i].t_ns;
        s->timed += r[i].handle_ns > 0;
        s->n++;
    }
}

/* A sink sees every exit exactly once, in order, even when the ring wraps many times. */
static void t_trace_sink(void)
{
    /* mov cx,3000; mov dx,0x500; l: out dx,al; loop l; cli; hlt */
    static const uint8_t g[] = {0xb9, 0xb8, 0x0b, 0xba, 0x00, 0x05, 0xee, 0xe2, 0xfd, 0xfa, 0xf4};
    struct vmm_config cfg = {.ram_size = 4 << 20, .trace_ring = 64};
    struct sink_state st = {.ordered = true};
    struct vmm_trace_rec last[2];
    char err[KS_ERR_LEN];
    struct x86_state s;
    struct vmm_exit e;
    struct vmm *vm;

    if (!have_kvm())
        SKIP("no /dev/kvm");
    if (vmm_create(&cfg, &vm, err))
        SKIP("vmm_create: %.200s", err);
    gmem_write(vmm_gmem(vm), CODE, g, sizeof(g));
    vmm_get_state(vm, &s);
    s.seg[X86_SEG_CS].base = 0;
    s.seg[X86_SEG_CS].selector = 0;
    s.rip = CODE;
    vmm_set_state(vm, &s);
    vmm_trace_set_sink(vm, sink, &st);
    EXPECT_EQ(vmm_run(vm, 10000, &e), 0);
    vmm_trace_flush(vm);
    EXPECT_STR(vmm_outcome_name(e.outcome), "halt");
    EXPECT_EQ(vmm_trace_total(vm), 3001);
    EXPECT_EQ(st.n, 3001);
    EXPECT(st.ordered);
    /* With a sink every exit but the last (which ends the run) gets its handling time. */
    EXPECT_EQ(st.timed, 3000);
    EXPECT_EQ(vmm_unhandled_total(vm), 3000);
    EXPECT_EQ(vmm_trace_last(vm, last, 2), 2);
    EXPECT(last[0].flags & VMM_TR_UNHANDLED);
    EXPECT_STR(vmm_exit_reason_name(last[1].reason), "HLT");
    vmm_destroy(vm);
}

static void t_layout_and_cpuid(void)
{
    struct vmm_config cfg = {.ram_size = 0x100000000ULL}; /* 4 GiB: 512 MiB above 4G */
    struct vmm *vm;
    char err[KS_ERR_LEN];
    const struct gmem *m;
    struct pt_cpu pc;
    const struct cpuid_entry *e;
    int rc;

    if (!have_kvm())
        SKIP("no /dev/kvm");
    rc = vmm_create(&cfg, &vm, err);
    if (rc)
        SKIP("vmm_create 4G: %.200s", err);
    m = vmm_gmem(vm);
    EXPECT_EQ(m->nregions, 3);
    EXPECT(gmem_ptr(m, 0x9ffff, 1) != NULL);
    EXPECT(gmem_ptr(m, 0xa0000, 1) == NULL);
    EXPECT(gmem_ptr(m, 0xfffff, 1) == NULL);
    EXPECT(gmem_ptr(m, 0x100000, 1) != NULL);
    EXPECT(gmem_ptr(m, 0xdfffffff, 1) != NULL);
    EXPECT(gmem_ptr(m, 0xe0000000, 1) == NULL);
    EXPECT(gmem_ptr(m, 0x11fffffffULL, 1) != NULL);
    EXPECT_EQ(gmem_end(m), 0x120000000ULL);
    /* What KVM uses: 1 GiB pages only if both the CPUID and KVM itself have them. */
    vmm_pt_cpu(vm, &pc);
    e = NULL;
    for (unsigned i = 0; i < vmm_supported_cpuid(vm)->n; i++)
        if (vmm_supported_cpuid(vm)->e[i].function == 0x80000001)
            e = &vmm_supported_cpuid(vm)->e[i];
    EXPECT(e != NULL);
    if (e && !(e->reg[CPUID_EDX] & (1u << 26)))
        EXPECT(!pc.gbpages);
    EXPECT(pc.maxphyaddr >= 32 && pc.maxphyaddr <= 52);
    EXPECT(vmm_cpuid(vm)->n > 0);
    vmm_destroy(vm);
    /* Bad sizes are refused with a reason. */
    cfg.ram_size = 12345;
    EXPECT(vmm_create(&cfg, &vm, err) == -EINVAL);
    EXPECT(vm == NULL);
    EXPECT_CONTAINS(err, "RAM size");
}

int main(void)
{
    t_run("vmm_pio_out_and_hlt", t_pio_out_and_hlt);
    t_run("vmm_triple_fault", t_triple_fault);
    t_run("vmm_mmio", t_mmio);
    t_run("vmm_timeout", t_timeout);
    t_run("vmm_string_pio_out", t_string_pio);
    t_run("vmm_string_pio_in", t_string_pio_in);
    t_run("vmm_debug_exit", t_debug_exit);
    t_run("vmm_unhandled_io", t_unhandled);
    t_run("vmm_internal_error", t_internal_error);
    t_run("vmm_layout_and_cpuid", t_layout_and_cpuid);
    t_run("vmm_kick", t_kick);
    t_run("vmm_trace_sink", t_trace_sink);
    return t_fail ? 1 : 0;
}
