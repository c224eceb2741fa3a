/*
 * lib/formats against artifacts written by a real QEMU: boot the tiny
 * Multiboot kernel (tests/data/guests/mb1_longmode.asm) under TCG, wait
 * for its hlt, then over the HMP monitor socket run `info registers`,
 * `dump-guest-memory` (with and without paging) and `pmemsave`, and check
 * that the parsers agree with each other and with the kernel's values.
 * SKIPs when qemu-system-x86_64 or the kernel is missing.
 */
#include "harness.h"

#include "ks/formats.h"
#include "ks/paging.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char err[KS_ERR_LEN];
static char dir[48];
static pid_t qemu_pid = -1;
static int mon = -1;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read until the HMP prompt "(qemu) " (ANSI noise around it is fine). */
static int read_reply(char *out, size_t cap, double timeout)
{
    size_t n = 0;
    double end = now() + timeout;

    out[0] = 0;
    while (now() < end) {
        struct pollfd p = {mon, POLLIN, 0};
        ssize_t r;
        if (poll(&p, 1, 100) <= 0)
            continue;
        r = read(mon, out + n, cap - 1 - n);
        if (r <= 0)
            return -EIO;
        n += (size_t)r;
        out[n] = 0;
        if (n >= 7 && strstr(out, "(qemu) ") && n > 7 && !memcmp(out + n - 7, "(qemu) ", 7))
            return (int)n;
        if (n + 1 >= cap)
            return -ENOSPC;
    }
    return -ETIMEDOUT;
}

static int hmp(const char *cmd, char *out, size_t cap, double timeout)
{
    char line[512];
    int n = snprintf(line, sizeof(line), "%s\n", cmd);

    if (write(mon, line, (size_t)n) != n)
        return -EIO;
    return read_reply(out, cap, timeout);
}

static void stop_qemu(void)
{
    if (mon >= 0)
        close(mon);
    mon = -1;
    if (qemu_pid > 0) {
        kill(qemu_pid, SIGKILL);
        waitpid(qemu_pid, NULL, 0);
    }
    qemu_pid = -1;
}

static const char *kernel_path_of(const char *name)
{
    static char path[160];
    const char *b = getenv("BUILD");
    snprintf(path, sizeof(path), "%.100s/guests/formats/%.40s", b ? b : "build", name);
    return path;
}

static const char *kernel_path(void)
{
    return kernel_path_of("mb1_longmode.bin");
}

static bool have_qemu(void)
{
    return system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0;
}

#define QBOOT "/usr/share/qemu/qboot.rom"

/*
 * Start QEMU on (kernel) with the monitor on a socket in (dir). With (kvm),
 * use KVM and qboot (SeaBIOS would be emulated instruction by instruction on
 * a PVM host, spec/host.md); stderr goes to (stderr_path) when non-NULL.
 */
static int start_qemu_with(const char *kernel, bool kvm, const char *stderr_path)
{
    char sock[80], monarg[160];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char buf[4096];
    double end;

    snprintf(sock, sizeof(sock), "%s/mon.sock", dir);
    snprintf(monarg, sizeof(monarg), "unix:%s,server=on,wait=off", sock);
    unlink(sock);
    qemu_pid = fork();
    if (qemu_pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        if (stderr_path) {
            int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0)
                dup2(fd, 2);
        } else {
            dup2(devnull, 2); /* e.g. qemu64's "host doesn't support pni" warning */
        }
        if (kvm)
            execlp("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "accel=kvm", "-cpu",
                   "qemu64", "-bios", QBOOT, "-m", "16", "-display", "none", "-nodefaults",
                   "-no-reboot", "-no-shutdown", "-kernel", kernel, "-monitor", monarg,
                   (char *)NULL);
        else
            execlp("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "accel=tcg", "-m", "16",
                   "-display", "none", "-no-reboot", "-no-shutdown", "-kernel", kernel, "-monitor",
                   monarg, "-serial", "none", "-parallel", "none", (char *)NULL);
        _exit(127);
    }
    end = now() + 5;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    while (now() < end) {
        mon = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(mon, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return read_reply(buf, sizeof(buf), 5) > 0 ? 0 : -EIO;
        close(mon);
        mon = -1;
        usleep(20000);
    }
    return -ETIMEDOUT;
}

static int start_qemu(void)
{
    return start_qemu_with(kernel_path(), false, NULL);
}

static char regs_text[65536];

static void real_qemu_artifacts(void)
{
    char cmd[256], path_core[128], path_pcore[128], path_mem[128], path_regs[128];
    struct snapshot snap, csnap;
    struct qemu_dump_info info;
    struct elfcore core, pcore;
    struct mapped_file mf;
    struct gmem raw;
    double end;
    int n = -1;
    uint8_t b1[0x1000], b2[0x1000], hlt;

    if (!have_qemu())
        SKIP("qemu-system-x86_64 not installed");
    if (access(kernel_path(), R_OK))
        SKIP("%s not built (make guests)", kernel_path());
    snprintf(dir, sizeof(dir), "/tmp/kvmscope-fx-XXXXXX");
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    EXPECT_EQ(start_qemu(), 0);
    if (mon < 0)
        goto out;
    /* Poll until the kernel sits in its hlt with the marker registers loaded. */
    end = now() + 10;
    while (now() < end) {
        n = hmp("info registers", regs_text, sizeof(regs_text), 5);
        if (n > 0 && strstr(regs_text, "R15=00000000f00dfeed") && strstr(regs_text, "HLT=1"))
            break;
        usleep(20000);
    }
    EXPECT(n > 0 && strstr(regs_text, "HLT=1"));
    /* Over the socket the text has CRLF and ANSI escapes (formats.md §1.5). */
    EXPECT(strstr(regs_text, "\r\n") != NULL);
    EXPECT(strchr(regs_text, 0x1b) != NULL);
    EXPECT_EQ(qemu_regs_parse(regs_text, (size_t)n, &snap, &info, err), 0);
    EXPECT_STR(err, "");
    EXPECT_EQ(snap.s.gpr[X86_RAX], 0x1111111111111111ULL);
    EXPECT_EQ(snap.s.gpr[X86_RBP], 0x7777777777777777ULL);
    EXPECT_EQ(snap.s.gpr[X86_R15], 0xf00dfeed);
    EXPECT_EQ(snap.s.efer, X86_EFER_LMA | X86_EFER_LME);
    EXPECT_EQ(info.cpu_index, 0);

    /* Keep the monitor text for offline_load below. */
    snprintf(path_regs, sizeof(path_regs), "%s/regs.txt", dir);
    {
        FILE *f = fopen(path_regs, "wb");
        EXPECT(f != NULL);
        if (f) {
            fwrite(regs_text, 1, (size_t)n, f);
            fclose(f);
        }
    }
    snprintf(path_core, sizeof(path_core), "%s/core.elf", dir);
    snprintf(path_pcore, sizeof(path_pcore), "%s/core-paging.elf", dir);
    snprintf(path_mem, sizeof(path_mem), "%s/mem.bin", dir);
    snprintf(cmd, sizeof(cmd), "dump-guest-memory %s", path_core);
    EXPECT(hmp(cmd, regs_text, sizeof(regs_text), 10) > 0);
    snprintf(cmd, sizeof(cmd), "dump-guest-memory -p %s", path_pcore);
    EXPECT(hmp(cmd, regs_text, sizeof(regs_text), 10) > 0);
    /* Quote the file name: HMP parses a leading '/' as division (formats.md §2.4). */
    snprintf(cmd, sizeof(cmd), "pmemsave 0x100000 0x1000 \"%s\"", path_mem);
    EXPECT(hmp(cmd, regs_text, sizeof(regs_text), 10) > 0);
    stop_qemu();

    EXPECT_EQ(elfcore_open(path_core, &core, err), 0);
    EXPECT_STR(err, "");
    EXPECT(core.elf64);
    EXPECT_EQ(core.machine, 62);
    EXPECT_EQ(core.ncpus, 1);
    EXPECT(core.cpu[0].have_prstatus && core.cpu[0].have_qemu);
    EXPECT_EQ(core.cpu[0].qemu_size, 440);
    snapshot_init(&csnap);
    EXPECT_EQ(elfcore_snapshot(&core, 0, &csnap), 0);
    /* The core's notes and `info registers` describe the same stopped vCPU. */
    for (int r = 0; r < X86_NR_GPRS; r++)
        EXPECT_EQ(csnap.s.gpr[r], snap.s.gpr[r]);
    EXPECT_EQ(csnap.s.rip, snap.s.rip);
    EXPECT_EQ(csnap.s.rflags, snap.s.rflags);
    EXPECT_EQ(csnap.s.cr0, snap.s.cr0);
    EXPECT_EQ(csnap.s.cr3, snap.s.cr3);
    EXPECT_EQ(csnap.s.cr4, snap.s.cr4);
    EXPECT_EQ(csnap.s.gdt.base, snap.s.gdt.base);
    EXPECT_EQ(csnap.s.gdt.limit, snap.s.gdt.limit);
    for (int s = 0; s < X86_NR_SREGS; s++) {
        EXPECT_EQ(csnap.s.seg[s].selector, snap.s.seg[s].selector);
        EXPECT_EQ(csnap.s.seg[s].base, snap.s.seg[s].base);
        EXPECT_EQ(csnap.s.seg[s].limit, snap.s.seg[s].limit);
        EXPECT_EQ(csnap.s.seg[s].type, snap.s.seg[s].type);
        EXPECT_EQ(csnap.s.seg[s].l, snap.s.seg[s].l);
    }
    EXPECT_EQ(csnap.s.efer, snap.s.efer); /* inferred from EM_X86_64 vs printed EFER=500 */
    EXPECT_EQ(csnap.cpl, snap.cpl);
    /* RIP is just past the kernel's hlt (identity-mapped, so GVA == GPA): f4, then jmp. */
    EXPECT_EQ(gmem_read(&core.mem, snap.s.rip - 1, &hlt, 1), 0);
    EXPECT_EQ(hlt, 0xf4);
    EXPECT_EQ(gmem_read(&core.mem, snap.s.rip, &hlt, 1), 0);
    EXPECT_EQ(hlt, 0xeb);

    /* pmemsave of [1 MiB, +4 KiB) equals the same range of the core. */
    EXPECT_EQ(mapped_file_open(path_mem, &mf, err), 0);
    gmem_init(&raw);
    EXPECT_EQ(rawmem_map(&mf, 0x100000, &raw, err), 0);
    EXPECT_EQ(gmem_read(&raw, 0x100000, b1, sizeof(b1)), 0);
    EXPECT_EQ(gmem_read(&core.mem, 0x100000, b2, sizeof(b2)), 0);
    EXPECT(!memcmp(b1, b2, sizeof(b1)));
    EXPECT(memmem(b1, sizeof(b1), "\x42\xee\xff\xc0", 4) != NULL); /* the kernel's marker */
    mapped_file_close(&mf);

    /*
     * With paging QEMU 7.2 writes one PT_LOAD per virtual run: here the
     * 4 MiB identity map as p_paddr 0, p_memsz 4 MiB, but p_filesz only
     * 0xa0000 (the first RAM block). Bytes past p_filesz are not in the file.
     */
    EXPECT_EQ(elfcore_open(path_pcore, &pcore, err), 0);
    EXPECT_STR(err, "");
    EXPECT(pcore.nload >= 1);
    EXPECT_EQ(gmem_read(&pcore.mem, 0x9f000, b2, sizeof(b2)), 0);
    EXPECT_EQ(gmem_read(&core.mem, 0x9f000, b1, sizeof(b1)), 0);
    EXPECT(!memcmp(b1, b2, sizeof(b1)));
    EXPECT_EQ(gmem_read(&pcore.mem, 0x100000, b2, 1), -EFAULT);
    elfcore_close(&pcore);
    elfcore_close(&core);

    /* The offline loader: registers from the core's notes, then from the text with the core's
     * memory. */
    {
        struct offline_inputs in = {.core_path = path_core};
        struct offline *o = calloc(1, sizeof(*o));
        uint8_t m[4];

        EXPECT_EQ(offline_load(&in, o, err), 0);
        EXPECT_EQ(o->snap.s.rip, snap.s.rip);
        EXPECT_EQ(o->snap.s.gpr[X86_R15], 0xf00dfeed);
        EXPECT(o->snap.have & SNAP_HAVE_MEM);
        EXPECT(o->snap.have & SNAP_EFER_INFERRED);
        EXPECT_CONTAINS(o->notes, "EFER is not in the core");
        EXPECT_EQ(gmem_read(o->snap.mem, snap.s.rip - 1, m, 1), 0);
        EXPECT_EQ(m[0], 0xf4);
        offline_close(o);
        in.regs_path = path_regs;
        EXPECT_EQ(offline_load(&in, o, err), 0);
        EXPECT(!(o->snap.have & SNAP_EFER_INFERRED)); /* the monitor printed EFER= */
        EXPECT_EQ(o->snap.s.efer, 0x500);
        EXPECT(o->snap.mem != NULL);
        EXPECT_CONTAINS(o->notes, "memory from");
        offline_close(o);
        in.cpu = 3;
        in.regs_path = NULL;
        EXPECT_EQ(offline_load(&in, o, err), -ENOENT);
        EXPECT_CONTAINS(err, "no register notes for CPU 3");
        offline_close(o);
        free(o);
    }
out:
    stop_qemu();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd))
        EXPECT(0);
}

static bool kvm_usable(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return false;
    close(fd);
    return access(QBOOT, R_OK) == 0;
}

/* Poll `info registers` until the kernel's hlt with its marker registers. */
static int wait_halted(double timeout)
{
    double end = now() + timeout;
    int n = -1;

    while (now() < end) {
        n = hmp("info registers", regs_text, sizeof(regs_text), 5);
        if (n > 0 && strstr(regs_text, "R15=00000000f00dfeed") && strstr(regs_text, "HLT=1"))
            return n;
        usleep(20000);
    }
    return -ETIMEDOUT;
}

/* The same cross-check under KVM: KVM-synced segment flags (no limit nibble, accessed bits). */
static void kvm_registers_match_core(void)
{
    char cmd[256], path_core[128];
    struct snapshot snap, csnap;
    struct qemu_dump_info info;
    struct elfcore core;
    int n;

    if (!have_qemu())
        SKIP("qemu-system-x86_64 not installed");
    if (!kvm_usable())
        SKIP("/dev/kvm or %s not usable", QBOOT);
    if (access(kernel_path(), R_OK))
        SKIP("kernel not built (make guests)");
    snprintf(dir, sizeof(dir), "/tmp/kvmscope-fxk-XXXXXX");
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    EXPECT_EQ(start_qemu_with(kernel_path(), true, NULL), 0);
    n = wait_halted(20);
    EXPECT(n > 0);
    if (n <= 0)
        goto out;
    EXPECT_EQ(qemu_regs_parse(regs_text, (size_t)n, &snap, &info, err), 0);
    EXPECT(!info.tcg_flags);
    EXPECT_EQ(snap.s.seg[X86_SEG_CS].type, 0xb); /* KVM shows the accessed bit */
    snprintf(path_core, sizeof(path_core), "%s/core.elf", dir);
    snprintf(cmd, sizeof(cmd), "dump-guest-memory %s", path_core);
    EXPECT(hmp(cmd, regs_text, sizeof(regs_text), 10) > 0);
    stop_qemu();
    EXPECT_EQ(elfcore_open(path_core, &core, err), 0);
    snapshot_init(&csnap);
    EXPECT_EQ(elfcore_snapshot(&core, 0, &csnap), 0);
    for (int r = 0; r < X86_NR_GPRS; r++)
        EXPECT_EQ(csnap.s.gpr[r], snap.s.gpr[r]);
    EXPECT_EQ(csnap.s.rip, snap.s.rip);
    EXPECT_EQ(csnap.s.cr3, snap.s.cr3);
    for (int sg = 0; sg < X86_NR_SREGS; sg++) {
        EXPECT_EQ(csnap.s.seg[sg].selector, snap.s.seg[sg].selector);
        EXPECT_EQ(csnap.s.seg[sg].type, snap.s.seg[sg].type);
    }
    EXPECT_EQ(csnap.s.efer, snap.s.efer);
    elfcore_close(&core);
out:
    stop_qemu();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd))
        EXPECT(0);
}

/* A real "KVM internal error" on QEMU's stderr: a fetch from GPA 0x6000000, which has no RAM. */
static void kvm_internal_error_stderr(void)
{
    char cmd[256], path_err[128];
    struct snapshot snap;
    struct qemu_dump_info info;
    struct mapped_file mf;
    double end;
    int rc = -1;

    if (!have_qemu())
        SKIP("qemu-system-x86_64 not installed");
    if (!kvm_usable())
        SKIP("/dev/kvm or %s not usable", QBOOT);
    if (access(kernel_path_of("mb1_unbacked.bin"), R_OK))
        SKIP("mb1_unbacked.bin not built (make guests)");
    snprintf(dir, sizeof(dir), "/tmp/kvmscope-fxe-XXXXXX");
    if (!mkdtemp(dir))
        SKIP("mkdtemp failed");
    snprintf(path_err, sizeof(path_err), "%s/stderr.txt", dir);
    EXPECT_EQ(start_qemu_with(kernel_path_of("mb1_unbacked.bin"), true, path_err), 0);
    /* QEMU prints the dump and then pauses (it does not exit): wait for Code=. */
    end = now() + 20;
    while (now() < end) {
        if (mapped_file_open(path_err, &mf, err) == 0) {
            bool done =
                mf.size && memmem(mf.data, mf.size, "Code=", 5) && mf.data[mf.size - 1] == '\n';
            if (done)
                rc = qemu_regs_parse((const char *)mf.data, mf.size, &snap, &info, err);
            mapped_file_close(&mf);
            if (done)
                break;
        }
        usleep(50000);
    }
    stop_qemu();
    EXPECT_EQ(rc, 0);
    EXPECT_STR(err, "");
    EXPECT_EQ(snap.event, SNAP_EV_INTERNAL_ERROR);
    EXPECT_EQ(snap.internal_suberror, 1);
    EXPECT(snap.n_internal_data >= 1);
    EXPECT(info.emulation_failure);
    EXPECT_EQ(snap.s.rip, 0x6000000);
    EXPECT_EQ(snap.s.gpr[X86_R15], 0xf00dfeed);
    EXPECT(info.has_code);
    EXPECT_EQ(info.code.len, 50);
    EXPECT_EQ(info.code.rip_off, 20);
    EXPECT(info.code.unreadable & (1ULL << 20)); /* nothing at RIP */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd))
        EXPECT(0);
}

int main(void)
{
    RUN(real_qemu_artifacts);
    RUN(kvm_registers_match_core);
    RUN(kvm_internal_error_stderr);
    return t_done();
}
