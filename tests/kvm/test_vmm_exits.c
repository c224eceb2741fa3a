/*
 * Exits that this host's KVM never produces, faked in a real vCPU's kvm_run
 * page and fed to the dispatcher: string PIO with count > 1 (KVM's fast
 * string path on VMX/SVM hosts; PVM exits once per element), and hostile
 * kvm_run contents (offsets outside the page, sizes beyond 8).
 */
#include "harness.h"

#include "../../vmm/vmm_int.h"

#include "ks/vmm_dev.h"

#include <unistd.h>

struct capture {
    uint8_t buf[64];
    unsigned n, calls;
};

static int capture_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                      uint64_t *code)
{
    struct capture *c = opaque;

    (void)addr;
    (void)code;
    c->calls++;
    for (unsigned i = 0; i < size; i++) {
        if (write && c->n < sizeof(c->buf))
            c->buf[c->n++] = data[i];
        else if (!write)
            data[i] = (uint8_t)(0x40 + c->calls);
    }
    return VMM_IO_OK;
}

static struct vmm *make(char *err)
{
    struct vmm_config cfg = {.ram_size = 4 << 20};
    struct vmm *vm;

    if (access("/dev/kvm", R_OK | W_OK) || vmm_create(&cfg, &vm, err))
        return NULL;
    return vm;
}

static void fake_pio(struct vmm *vm, bool out, uint16_t port, unsigned size, unsigned count,
                     uint64_t offset)
{
    vm->run->exit_reason = KVM_EXIT_IO;
    vm->run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
    vm->run->io.port = port;
    vm->run->io.size = (uint8_t)size;
    vm->run->io.count = count;
    vm->run->io.data_offset = offset;
}

static void t_string_out(void)
{
    char err[KS_ERR_LEN];
    struct vmm *vm = make(err);
    struct capture cap = {0};
    struct vmm_trace_rec rec = {0};
    struct vmm_exit e = {0};

    if (!vm)
        SKIP("no usable /dev/kvm");
    EXPECT_EQ(vmm_register_pio(vm, 0x500, 2, capture_io, &cap), 0);
    fake_pio(vm, true, 0x500, 2, 3, 4096);
    memcpy((uint8_t *)vm->run + 4096, "aabbcc", 6);
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    EXPECT_EQ(cap.calls, 3);
    EXPECT_EQ(cap.n, 6);
    EXPECT(memcmp(cap.buf, "aabbcc", 6) == 0);
    EXPECT(rec.flags & VMM_TR_STRING);
    EXPECT_EQ(rec.count, 3);
    EXPECT_EQ(rec.data, 0x6161);
    vmm_destroy(vm);
}

static void t_string_in(void)
{
    char err[KS_ERR_LEN];
    struct vmm *vm = make(err);
    struct capture cap = {0};
    struct vmm_trace_rec rec = {0};
    struct vmm_exit e = {0};
    uint8_t *d;

    if (!vm)
        SKIP("no usable /dev/kvm");
    EXPECT_EQ(vmm_register_pio(vm, 0x500, 1, capture_io, &cap), 0);
    fake_pio(vm, false, 0x500, 1, 4, 4096);
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    d = (uint8_t *)vm->run + 4096;
    EXPECT_EQ(d[0], 0x41);
    EXPECT_EQ(d[3], 0x44);
    /* Unhandled string input: every element reads as 0xff. */
    fake_pio(vm, false, 0x600, 4, 2, 4096);
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    EXPECT_EQ(d[0], 0xff);
    EXPECT_EQ(d[7], 0xff);
    EXPECT(rec.flags & VMM_TR_UNHANDLED);
    vmm_destroy(vm);
}

/* A string OUT to isa-debug-exit stops at the first element. */
static void t_string_stop(void)
{
    char err[KS_ERR_LEN];
    struct vmm *vm = make(err);
    struct vmm_trace_rec rec = {0};
    struct vmm_exit e = {0};

    if (!vm)
        SKIP("no usable /dev/kvm");
    EXPECT_EQ(debugexit_attach(vm, DEBUG_EXIT_PORT), 0);
    fake_pio(vm, true, DEBUG_EXIT_PORT, 1, 3, 4096);
    memcpy((uint8_t *)vm->run + 4096, "\x05\x06\x07", 3);
    EXPECT(vmm_handle_exit(vm, &e, &rec));
    EXPECT_EQ(e.outcome, VMM_OUT_DEBUG_EXIT);
    EXPECT_EQ(e.code, 5);
    vmm_destroy(vm);
}

/* Nonsense in kvm_run is ignored, never followed out of the page. */
static void t_hostile_run_page(void)
{
    char err[KS_ERR_LEN];
    struct vmm *vm = make(err);
    struct capture cap = {0};
    struct vmm_trace_rec rec = {0};
    struct vmm_exit e = {0};

    if (!vm)
        SKIP("no usable /dev/kvm");
    EXPECT_EQ(vmm_register_pio(vm, 0x500, 1, capture_io, &cap), 0);
    fake_pio(vm, true, 0x500, 1, 0xffffffffu, 4096);
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    fake_pio(vm, true, 0x500, 1, 1, 1ull << 40);
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    fake_pio(vm, true, 0x500, 9, 1, 4096);
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    EXPECT_EQ(cap.calls, 0);
    vm->run->exit_reason = KVM_EXIT_MMIO;
    vm->run->mmio.len = 200;
    EXPECT(!vmm_handle_exit(vm, &e, &rec));
    vm->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
    vm->run->internal.suberror = 3;
    vm->run->internal.ndata = 1000;
    EXPECT(vmm_handle_exit(vm, &e, &rec));
    EXPECT_EQ(e.ndata, 16);
    vm->run->exit_reason = 12345;
    EXPECT(vmm_handle_exit(vm, &e, &rec));
    EXPECT_EQ(e.outcome, VMM_OUT_INTERNAL_ERROR);
    vmm_destroy(vm);
}

int main(void)
{
    t_run("vmm_exit_string_out_count", t_string_out);
    t_run("vmm_exit_string_in_count", t_string_in);
    t_run("vmm_exit_string_debug_exit", t_string_stop);
    t_run("vmm_exit_hostile_run_page", t_hostile_run_page);
    return t_fail ? 1 : 0;
}
