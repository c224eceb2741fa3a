/*
 * The test kernels of guests/ loaded by boot_load() and run on the real
 * /dev/kvm through the VMM library (COM1, isa-debug-exit, fw_cfg), without
 * the CLI: each one's serial output, debug-exit value or outcome, and for
 * the seed kernel the state KVM leaves after the 1 GiB-page triple fault.
 * Images come from $BUILD/guests (default build/guests); each case SKIPs
 * without /dev/kvm or without the image.
 */
#include "harness.h"

#include "ks/boot.h"
#include "ks/vmm.h"
#include "ks/vmm_dev.h"

#include <errno.h>
#include <unistd.h>

struct run {
    enum vmm_outcome outcome;
    uint64_t code;
    struct x86_state st;
    char serial[1024];
};

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *size = (size_t)n;
    }
    fclose(f);
    return buf;
}

static const uint8_t mod_data[] = "hello m1\nsecond line\n";

/* Boot guests/NAME; returns 0, or 1 after SKIP-worthy trouble described in (why). */
static int boot_guest(const char *name, const struct boot_request *tmpl, struct run *r, char *why,
                      size_t whylen)
{
    const char *bdir = getenv("BUILD") ? getenv("BUILD") : "build";
    struct vmm_config cfg = {.ram_size = 128 << 20};
    struct boot_request req = *tmpl;
    struct boot_result res;
    struct vmm_exit e;
    struct vmm *vm = NULL;
    char path[512], err[KS_ERR_LEN];
    FILE *ser;
    size_t size = 0;
    uint8_t *img;

    if (access("/dev/kvm", R_OK | W_OK)) {
        snprintf(why, whylen, "no usable /dev/kvm");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/guests/%s", bdir, name);
    img = read_file(path, &size);
    if (!img) {
        snprintf(why, whylen, "%.120s: %s (make guests)", path, strerror(errno));
        return 1;
    }
    memset(r, 0, sizeof(*r));
    ser = fmemopen(r->serial, sizeof(r->serial) - 1, "w");
    if (vmm_create(&cfg, &vm, err)) {
        snprintf(why, whylen, "vmm_create: %.150s", err);
        free(img);
        fclose(ser);
        return 1;
    }
    setvbuf(ser, NULL, _IONBF, 0);
    EXPECT_EQ(serial_attach(vm, COM1_BASE, ser), 0);
    EXPECT_EQ(debugexit_attach(vm, DEBUG_EXIT_PORT), 0);
    EXPECT_EQ(fwcfg_attach(vm), 0);
    req.image = img;
    req.image_size = size;
    if (boot_load(vmm_gmem(vm), &req, &res, err)) {
        printf("  boot_load %s: %s\n", name, err);
        t_case_failed = 1;
    } else {
        EXPECT_EQ(vmm_set_state(vm, &res.state), 0);
        EXPECT_EQ(vmm_run(vm, 10000, &e), 0);
        r->outcome = e.outcome;
        r->code = e.code;
        EXPECT_EQ(vmm_get_state(vm, &r->st), 0);
    }
    vmm_destroy(vm);
    fclose(ser);
    free(img);
    return 0;
}

#define BOOT(name, req, r)                                                                         \
    do {                                                                                           \
        char why_[200];                                                                            \
        if (boot_guest(name, req, r, why_, sizeof(why_)))                                          \
            SKIP("%s", why_);                                                                      \
    } while (0)

static void expect_exit(const struct run *r, uint64_t code, const char *serial)
{
    EXPECT_STR(vmm_outcome_name(r->outcome), "debug_exit");
    EXPECT_EQ(r->code, code);
    EXPECT_STR(r->serial, serial);
}

static void trivial(void)
{
    struct boot_request req = {0};
    struct run r;

    BOOT("trivial.elf", &req, &r);
    expect_exit(&r, 0, "trivial: hello\n");
}

static void multiboot1_modules(void)
{
    struct boot_module mods[] = {{mod_data, sizeof(mod_data) - 1, "m1 x y"},
                                 {(const uint8_t *)"M2DATA", 6, "m2"}};
    struct boot_request req = {
        .cmdline = "a=1 b", .kernel_name = "K", .modules = mods, .nmodules = 2};
    struct run r;

    BOOT("mb1-elf32.elf", &req, &r);
    expect_exit(&r, 0,
                "mb1-elf32: cmdline='K a=1 b'\n"
                "mods=0x2\n"
                "mod[0x0] size=0x15 cmdline='m1 x y' data='hello m1'\n"
                "mod[0x1] size=0x6 cmdline='m2' data='M2DATA'\n"
                "mb1-elf32: done\n");
}

static void multiboot1_aout(void)
{
    struct boot_request req = {0};
    struct run r;

    BOOT("mb1-aout.bin", &req, &r);
    expect_exit(&r, 0, "mb1-aout: hello from the a.out kludge\n");
}

static void multiboot2(void)
{
    struct boot_module mod = {mod_data, sizeof(mod_data) - 1, "m1"};
    struct boot_request req = {.cmdline = "x=y", .modules = &mod, .nmodules = 1};
    struct run r;

    BOOT("mb2-elf32.elf", &req, &r);
    expect_exit(&r, 0, "mb2-elf32: cmdline='x=y' mods=0x1\n");
    BOOT("mb2-elf64.elf", &req, &r);
    expect_exit(&r, 0, "mb2-elf64: long mode, cmdline='x=y'\n");
    EXPECT_EQ(r.st.efer & 0x500, 0x500); /* LME|LMA: it really ran in long mode */
}

static void pvh(void)
{
    struct boot_request req = {.cmdline = "root=x"};
    struct run r;

    BOOT("pvh-elf64.elf", &req, &r);
    expect_exit(&r, 0, "pvh-elf64: start_info ok, cmdline='root=x' modules=0x0\n");
}

static void flat(void)
{
    struct boot_request req = {.format = BOOT_FLAT, .flat_load = 0x200000, .flat_entry = 0x200000};
    struct run r;

    BOOT("flat.bin", &req, &r);
    expect_exit(&r, 2, "flat: hello from 0x200000\n");
}

static void qemu_compat_fw_cfg(void)
{
    struct boot_request req = {.cmdline = "", .kernel_name = "K"};
    struct run r;

    BOOT("qemu-compat.elf", &req, &r);
    expect_exit(&r, 0x10,
                "qemu-compat: cmdline='K '\nmods=0x0\n"
                "fw_cfg: signature=QEMU cpus=0x1 ram_mib=0x80\n");
}

static void seed_2m(void)
{
    struct boot_request req = {0};
    struct run r;

    BOOT("seed-2m.elf", &req, &r);
    expect_exit(&r, 0,
                "seed-2m: entering long mode, first 1 GiB mapped with 2 MiB pages\n"
                "seed-2m: in long mode, VGA store done\n");
}

/*
 * The seed: PDPTEs with PS=1 on a vCPU without 1 GiB pages. The first fetch
 * after CR0.PG faults (P|RSVD), the #PF cannot be delivered without an IDT,
 * and KVM reports a shutdown with the faulting fetch in CR2 = RIP.
 */
static void seed_1g_triple_fault(void)
{
    struct boot_request req = {0};
    struct run r;

    BOOT("seed.elf", &req, &r);
    EXPECT_STR(vmm_outcome_name(r.outcome), "triple_fault");
    EXPECT_STR(r.serial, "seed: entering long mode, first 32 GiB mapped with 1 GiB pages\n");
    EXPECT_EQ(r.st.cr0, 0x80000011);
    EXPECT_EQ(r.st.cr2, r.st.rip);
    EXPECT_EQ(r.st.efer & 0x100, 0x100);
    EXPECT_EQ(r.st.idt.limit, 0);
}

int main(void)
{
    RUN(trivial);
    RUN(multiboot1_modules);
    RUN(multiboot1_aout);
    RUN(multiboot2);
    RUN(pvh);
    RUN(flat);
    RUN(qemu_compat_fw_cfg);
    RUN(seed_2m);
    RUN(seed_1g_triple_fault);
    return t_done();
}
