/*
 * `kvmscope run [options] KERNEL`: boot a kernel in the VMM and report how
 * it stopped (docs/run.md, docs/exit-status.md).
 */
#include "cli.h"
#include "regdump.h"
#include "run_gdb.h"
#include "run_lint.h"
#include "run_opts.h"
#include "run_trace.h"

#include "ks/boot.h"
#include "ks/diag.h"
#include "ks/log.h"
#include "ks/vmm.h"
#include "ks/vmm_dev.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD      "run"
#define MAX_FILE (1ULL << 30)

/* Guest outcome statuses (docs/exit-status.md); debug-exit gives (value << 1) | 1. */
enum run_status {
    RUN_HALT = 0,
    RUN_TRIPLE_FAULT = 6,
    RUN_INTERNAL_ERROR = 8,
    RUN_FAIL_ENTRY = 10,
    RUN_UNHANDLED_IO = 12,
    RUN_TIMEOUT = 14,
};

struct loaded {
    uint8_t *kernel;
    size_t kernel_size;
    struct boot_module mods[RUN_MAX_MODULES];
    uint8_t *mod_data[RUN_MAX_MODULES];
};

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f) {
        cli_error(CMD, "%s: %s", path, strerror(errno));
        return CLI_INPUT;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            uint8_t *nb;

            cap = cap ? cap * 2 : 1 << 16;
            if (cap > MAX_FILE + 1)
                cap = MAX_FILE + 1;
            nb = realloc(buf, cap);
            if (!nb || len == cap) {
                free(nb ? nb : buf);
                fclose(f);
                cli_error(CMD, "%s: %s", path, nb ? "larger than 1 GiB" : "out of memory");
                return CLI_INPUT;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        cli_error(CMD, "%s: read error", path);
        free(buf);
        fclose(f);
        return CLI_INPUT;
    }
    fclose(f);
    *data = buf;
    *size = len;
    return CLI_OK;
}

static int load_files(const struct run_opts *o, struct loaded *l)
{
    int rc = read_file(o->kernel, &l->kernel, &l->kernel_size);

    if (rc)
        return rc;
    if (!l->kernel_size) {
        cli_error(CMD, "%s: empty file", o->kernel);
        return CLI_INPUT;
    }
    for (unsigned i = 0; i < o->nmodules; i++) {
        const char *spec = o->modules[i];
        size_t plen = strcspn(spec, " ");
        char *path = strndup(spec, plen);

        if (!path)
            return CLI_INPUT;
        rc = read_file(path, &l->mod_data[i], &l->mods[i].size);
        free(path);
        if (rc)
            return rc;
        l->mods[i].data = l->mod_data[i];
        l->mods[i].cmdline = spec;
    }
    return CLI_OK;
}

static void free_loaded(const struct run_opts *o, struct loaded *l)
{
    free(l->kernel);
    for (unsigned i = 0; i < o->nmodules; i++)
        free(l->mod_data[i]);
}

/* The process exit status of an outcome (docs/exit-status.md). */
static int outcome_status(const struct vmm_exit *e)
{
    switch (e->outcome) {
    case VMM_OUT_DEBUG_EXIT:
        return (int)(((e->code << 1) | 1) & 0xff);
    case VMM_OUT_HALT:
        return RUN_HALT;
    case VMM_OUT_TRIPLE_FAULT:
        return RUN_TRIPLE_FAULT;
    case VMM_OUT_FAIL_ENTRY:
        return RUN_FAIL_ENTRY;
    case VMM_OUT_UNHANDLED_IO:
        return RUN_UNHANDLED_IO;
    case VMM_OUT_TIMEOUT:
        return RUN_TIMEOUT;
    case VMM_OUT_HOST_ERROR:
        return CLI_HOST;
    default:
        return RUN_INTERNAL_ERROR;
    }
}

static bool abnormal(const struct vmm_exit *e)
{
    return e->outcome != VMM_OUT_DEBUG_EXIT && e->outcome != VMM_OUT_HALT;
}

/* The lines QEMU prints before its dump (accel/kvm/kvm-all.c, spec/formats.md §1.7). */
static void outcome_header(struct strbuf *sb, const struct vmm_exit *e, unsigned timeout_ms)
{
    switch (e->outcome) {
    case VMM_OUT_TRIPLE_FAULT:
        sb_puts(sb, "guest triple fault (KVM_EXIT_SHUTDOWN): an exception could not be "
                    "delivered, not even as #DF\n");
        break;
    case VMM_OUT_INTERNAL_ERROR:
        if (e->kvm_reason != 17 /* KVM_EXIT_INTERNAL_ERROR */) {
            sb_printf(sb, "KVM: unknown exit reason %u (%s)\n", e->kvm_reason,
                      vmm_exit_reason_name(e->kvm_reason));
            break;
        }
        sb_printf(sb, "KVM internal error. Suberror: %u\n", e->suberror);
        for (unsigned i = 0; i < e->ndata; i++)
            sb_printf(sb, "extra data[%u]: 0x%016" PRIx64 "\n", i, e->data[i]);
        if (e->suberror == 1)
            sb_puts(sb, "emulation failure\n");
        break;
    case VMM_OUT_FAIL_ENTRY:
        sb_printf(sb, "KVM: entry failed, hardware error 0x%" PRIx64 " (vCPU %u)\n", e->code,
                  e->fail_entry_cpu);
        break;
    case VMM_OUT_UNHANDLED_IO:
        sb_printf(sb,
                  "unhandled %s %s at %s0x%" PRIx64 ", size %u, data 0x%" PRIx64
                  " (--strict): no device there\n",
                  e->io_is_mmio ? "MMIO" : "port", e->io_write ? "write" : "read",
                  e->io_is_mmio ? "GPA " : "", e->io_addr, e->io_size, e->io_data);
        break;
    case VMM_OUT_TIMEOUT:
        sb_printf(sb, "timeout: the guest was still running after %u.%03u s\n", timeout_ms / 1000,
                  timeout_ms % 1000);
        break;
    case VMM_OUT_DEBUG:
        sb_printf(sb, "unexpected debug exit: exception %u at 0x%" PRIx64 "\n", e->debug_exception,
                  e->debug_pc);
        break;
    default:
        break;
    }
}

struct run_ctx {
    struct run_opts o;
    struct loaded l;
    struct vmm *vm;
    struct run_trace *trace;
    FILE *console, *trace_text, *trace_json;
    struct vga_text *vga;
    struct boot_result boot;
    struct run_lint *lint;
};

static int setup_devices(struct run_ctx *c)
{
    int rc = serial_attach(c->vm, COM1_BASE, c->console);

    if (!rc)
        rc = debugcon_attach(c->vm, DEBUGCON_PORT, c->console);
    if (!rc)
        rc = debugexit_attach(c->vm, DEBUG_EXIT_PORT);
    if (!rc)
        rc = fwcfg_attach(c->vm);
    if (!rc)
        rc = vga_attach(c->vm, &c->vga);
    if (rc)
        cli_error(CMD, "attaching devices: %s", strerror(-rc));
    return rc ? CLI_HOST : CLI_OK;
}

static int open_outputs(struct run_ctx *c)
{
    const struct run_opts *o = &c->o;

    c->console = o->json ? stderr : stdout;
    if (o->serial) {
        c->console = fopen(o->serial, "w");
        if (!c->console) {
            cli_error(CMD, "--serial %s: %s", o->serial, strerror(errno));
            return CLI_USAGE;
        }
    }
    if (o->trace && !(c->trace_text = fopen(o->trace, "w"))) {
        cli_error(CMD, "--trace %s: %s", o->trace, strerror(errno));
        return CLI_USAGE;
    }
    if (o->trace_json && !(c->trace_json = fopen(o->trace_json, "w"))) {
        cli_error(CMD, "--trace-json %s: %s", o->trace_json, strerror(errno));
        return CLI_USAGE;
    }
    if (o->trace || o->trace_json || o->stats) {
        struct run_trace_opts to = {
            .text = c->trace_text, .json = c->trace_json, .stats = o->stats};

        c->trace = run_trace_new(&to);
        if (!c->trace) {
            cli_error(CMD, "out of memory");
            return CLI_HOST;
        }
    }
    return CLI_OK;
}

static int boot_kernel(struct run_ctx *c)
{
    struct boot_request req = {
        .image = c->l.kernel,
        .image_size = c->l.kernel_size,
        .format = c->o.has_entry ? BOOT_FLAT : BOOT_AUTO,
        .cmdline = c->o.append,
        .modules = c->l.mods,
        .nmodules = c->o.nmodules,
        .flat_load = c->o.has_load ? c->o.load : c->o.entry,
        .flat_entry = c->o.entry,
        .kernel_name = c->o.kernel, /* QEMU prefixes a Multiboot1 command line with it */
    };
    char err[KS_ERR_LEN];
    int rc = boot_load(vmm_gmem(c->vm), &req, &c->boot, err);

    if (rc) {
        cli_error(CMD, "%s: %s", c->o.kernel, err);
        return CLI_INPUT;
    }
    rc = vmm_set_state(c->vm, &c->boot.state);
    if (rc) {
        cli_error(CMD, "setting the initial vCPU state: %s", strerror(-rc));
        return CLI_HOST;
    }
    ks_info("%s: %s", c->o.kernel, c->boot.desc);
    return CLI_OK;
}

static void cpu_json(struct strbuf *sb, struct vmm *vm, const char *model)
{
    const char *const *lines;
    unsigned n = vmm_cpuid_report(vm, &lines);
    struct pt_cpu pc;

    vmm_pt_cpu(vm, &pc);
    sb_puts(sb, "{\"model\":");
    sb_json_str(sb, model ? model : "qemu64");
    sb_printf(sb, ",\"effective\":{\"maxphyaddr\":%u,\"gbpages\":%s,\"amd\":%s},\"unavailable\":[",
              pc.maxphyaddr, pc.gbpages ? "true" : "false", pc.amd ? "true" : "false");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_json_str(sb, lines[i]);
    }
    sb_puts(sb, "]}");
}

/*
 * QEMU's "Code=" line (CPU_DUMP_CODE, printed on KVM error paths): 50 bytes
 * from 20 before CS.base+RIP, "??" where unreadable.
 */
static void code_line(struct strbuf *sb, struct vmm *vm, const struct snapshot *snap)
{
    enum { N = 50, BEFORE = 20 };
    const struct x86_state *s = &snap->s;
    bool cs64 = (s->efer & (1u << 10)) && s->seg[X86_SEG_CS].l;
    uint64_t lin = cs64 ? s->rip : ((s->rip + s->seg[X86_SEG_CS].base) & 0xffffffffu);
    uint8_t bytes[N];
    bool valid[N];

    for (unsigned i = 0; i < N; i++)
        valid[i] = vmm_read_linear(vm, lin - BEFORE + i, &bytes[i], 1, false) == 1;
    regdump_code(sb, bytes, valid, N, BEFORE);
}

static void report(struct run_ctx *c, const struct vmm_exit *e, int status)
{
    const struct run_opts *o = &c->o;
    bool bad = abnormal(e);
    struct snapshot snap;
    struct strbuf sb, ex;
    struct diag_report *dr = NULL;
    struct vmm_trace_rec *recs = NULL;
    unsigned nrec = 0;
    /* The snapshot costs two vCPU ioctls: only take it when something will show it. */
    bool have_snap = (bad || o->json) && vmm_snapshot(c->vm, &snap) == 0;

    sb_init(&sb);
    sb_init(&ex);
    if (o->last) {
        recs = calloc(o->last, sizeof(*recs));
        if (recs)
            nrec = vmm_trace_last(c->vm, recs, o->last);
    }
    if (bad && have_snap && diag_explain(&snap, &dr) == 0 && dr) {
        diag_render_text(dr, &ex);
    }
    if (bad || (e->outcome == VMM_OUT_HALT && e->code)) {
        outcome_header(&sb, e, o->timeout_ms);
        if (e->outcome == VMM_OUT_HALT)
            sb_puts(&sb, "note: the guest halted with interrupts enabled, but nothing can "
                         "interrupt it (no --irqchip)\n");
    }
    if (bad && have_snap) {
        regdump_qemu(&sb, &snap, false);
        if (e->outcome == VMM_OUT_INTERNAL_ERROR)
            code_line(&sb, c->vm, &snap);
        sb_printf(&sb, "last %u of %" PRIu64 " exits:\n", nrec, vmm_trace_total(c->vm));
        for (unsigned i = 0; i < nrec; i++) {
            sb_puts(&sb, "  ");
            run_trace_line(&sb, &recs[i], recs[0].t_ns);
            sb_putc(&sb, '\n');
        }
        if (ex.len)
            sb_printf(&sb, "\n%s", sb_str(&ex));
    }
    if (c->trace && o->stats && !o->json)
        run_trace_stats_text(c->trace, &sb);
    fputs(sb_str(&sb), stderr);
    fflush(stderr);

    if (o->json) {
        sb_reset(&sb);
        sb_printf(&sb, "{\"outcome\":\"%s\",\"exit_status\":%d,\"exit_code\":",
                  vmm_outcome_name(e->outcome), status);
        if (e->outcome == VMM_OUT_DEBUG_EXIT)
            sb_printf(&sb, "%" PRIu64, e->code);
        else
            sb_puts(&sb, "null");
        sb_printf(&sb, ",\"kvm_exit_reason\":\"%s\"", vmm_exit_reason_name(e->kvm_reason));
        if (e->outcome == VMM_OUT_INTERNAL_ERROR) {
            sb_printf(&sb, ",\"suberror\":%u,\"data\":[", e->suberror);
            for (unsigned i = 0; i < e->ndata; i++)
                sb_printf(&sb, "%s\"0x%" PRIx64 "\"", i ? "," : "", e->data[i]);
            sb_putc(&sb, ']');
        }
        if (e->outcome == VMM_OUT_FAIL_ENTRY)
            sb_printf(&sb, ",\"fail_entry_reason\":\"0x%" PRIx64 "\"", e->code);
        if (e->outcome == VMM_OUT_UNHANDLED_IO)
            sb_printf(&sb,
                      ",\"io\":{\"kind\":\"%s\",\"dir\":\"%s\",\"addr\":\"0x%" PRIx64
                      "\",\"size\":%u,\"data\":\"0x%" PRIx64 "\"}",
                      e->io_is_mmio ? "mmio" : "port", e->io_write ? "write" : "read", e->io_addr,
                      e->io_size, e->io_data);
        if (e->outcome == VMM_OUT_HALT)
            sb_printf(&sb, ",\"interrupts_enabled\":%s", e->code ? "true" : "false");
        sb_printf(&sb, ",\"boot\":");
        sb_json_str(&sb, c->boot.desc);
        sb_puts(&sb, ",\"registers\":");
        if (have_snap)
            regdump_json(&sb, &snap);
        else
            sb_puts(&sb, "null");
        sb_puts(&sb, ",\"cpu\":");
        cpu_json(&sb, c->vm, o->cpu);
        sb_printf(&sb, ",\"exits_total\":%" PRIu64 ",\"last_exits\":[", vmm_trace_total(c->vm));
        for (unsigned i = 0; i < nrec; i++) {
            if (i)
                sb_putc(&sb, ',');
            run_trace_json_rec(&sb, &recs[i], recs[0].t_ns);
        }
        sb_putc(&sb, ']');
        if (c->trace && o->stats) {
            sb_puts(&sb, ",\"stats\":");
            run_trace_stats_json(c->trace, &sb);
        }
        if (dr) {
            sb_reset(&ex);
            diag_render_json(dr, &ex);
            sb_printf(&sb, ",\"explanation\":%s", sb_str(&ex));
        }
        if (c->lint) {
            sb_puts(&sb, ",\"lint\":");
            run_lint_json(c->lint, &sb);
        }
        sb_puts(&sb, "}\n");
        fputs(sb_str(&sb), stdout);
        fflush(stdout);
    }
    diag_free(dr);
    free(recs);
    sb_free(&ex);
    sb_free(&sb);
}

/*
 * Like QEMU's "host doesn't support requested feature" warnings: every feature
 * named in --cpu that this host's KVM cannot give, with its consequence, and
 * one line for the rest of the model's (kvmscope cpu MODEL lists them). With
 * --json the same list is in "cpu":{"unavailable":[...]}.
 */
static void warn_unavailable(struct run_ctx *c)
{
    const char *const *lines;
    unsigned n = vmm_cpuid_report(c->vm, &lines), rest = 0;
    struct cpu_spec *spec;
    char err[KS_ERR_LEN];

    if (!c->o.cpu || !n || !(spec = malloc(sizeof(*spec))))
        return;
    if (cpu_spec_parse(c->o.cpu, spec, err) == 0) {
        for (unsigned i = 0; i < n; i++) {
            bool named = false;

            for (unsigned j = 0; j < spec->n_on && !named; j++) {
                size_t len = strlen(spec->on[j]->name);
                named = !strncmp(lines[i], spec->on[j]->name, len) && lines[i][len] == ':';
            }
            if (named)
                cli_error(CMD, "warning: %s", lines[i]);
            else
                rest++;
        }
        if (rest)
            cli_error(CMD,
                      "note: %u more feature%s of %.*s %s not offered by this host's KVM "
                      "('kvmscope cpu %s' lists them)",
                      rest, rest == 1 ? "" : "s", (int)strcspn(c->o.cpu, ","), c->o.cpu,
                      rest == 1 ? "is" : "are", c->o.cpu);
    }
    free(spec);
}

static int run_guest(struct run_ctx *c)
{
    struct vmm_config cfg = {
        .ram_size = c->o.ram,
        .cpu = c->o.cpu,
        .irqchip = c->o.irqchip,
        .trace_ring = c->o.last > 4096 ? c->o.last : 4096,
        .strict = c->o.strict,
    };
    struct vmm_exit e;
    char err[KS_ERR_LEN];
    int rc, status;

    rc = vmm_create(&cfg, &c->vm, err);
    if (rc) {
        cli_error(CMD, "%s", err);
        return rc == -EINVAL && c->o.cpu ? CLI_USAGE : CLI_HOST;
    }
    if (log_level_current >= LOG_INFO) {
        struct pt_cpu pc;

        vmm_pt_cpu(c->vm, &pc);
        ks_info("VM: %llu MiB RAM, cpu %s: MAXPHYADDR %u, 1 GiB pages %s, %s vendor",
                (unsigned long long)(c->o.ram >> 20), c->o.cpu ? c->o.cpu : "qemu64",
                pc.maxphyaddr, pc.gbpages ? "on" : "off", pc.amd ? "AMD-compatible" : "non-AMD");
    }
    if (!c->o.json)
        warn_unavailable(c);
    rc = setup_devices(c);
    if (!rc)
        rc = boot_kernel(c);
    if (rc)
        return rc;
    if (c->trace)
        vmm_trace_set_sink(c->vm, run_trace_sink, c->trace);
    if (c->o.lint && !(c->lint = run_lint_start(c->vm, c->o.cpu, stderr))) {
        cli_error(CMD, "out of memory");
        return CLI_HOST;
    }
    if (run_gdb_enabled(&c->o.gdb)) {
        rc = run_gdb_session(&c->o.gdb, c->vm, c->o.timeout_ms, &e);
        if (rc >= 0) {
            fflush(c->console);
            return rc;
        }
        rc = 0;
    } else {
        rc = vmm_run(c->vm, c->o.timeout_ms, &e);
    }
    fflush(c->console);
    ks_info("guest stopped: %s after %llu exits", vmm_outcome_name(e.outcome),
            (unsigned long long)vmm_trace_total(c->vm));
    if (c->trace) {
        vmm_trace_flush(c->vm);
        run_trace_finish(c->trace, vmm_outcome_name(e.outcome));
    }
    if (rc) {
        cli_error(CMD, "KVM_RUN failed: %s", strerror(-rc));
        return CLI_HOST;
    }
    status = outcome_status(&e);
    if (c->lint) {
        fflush(c->console);
        run_lint_final(c->lint, vmm_outcome_name(e.outcome));
        if (c->o.lint == RUN_LINT_STRICT && run_lint_findings(c->lint) && !abnormal(&e))
            status = RUN_LINT_STATUS;
    }
    if (c->o.vga && c->vga && vga_touched(c->vga))
        vga_print(c->vga, c->console);
    fflush(c->console);
    report(c, &e, status);
    return status;
}

int cmd_run(int argc, char **argv)
{
    struct run_ctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = run_parse_opts(argc, argv, &c.o);
    if (rc < 0) {
        rc = load_files(&c.o, &c.l);
        if (rc == CLI_OK)
            rc = open_outputs(&c);
        if (rc == CLI_OK)
            rc = run_guest(&c);
    }
    run_lint_free(c.lint);
    vmm_destroy(c.vm);
    run_trace_free(c.trace);
    if (c.console && c.console != stdout && c.console != stderr)
        fclose(c.console);
    if (c.trace_text)
        fclose(c.trace_text);
    if (c.trace_json)
        fclose(c.trace_json);
    free_loaded(&c.o, &c.l);
    for (unsigned i = 0; i < RUN_MAX_MODULES; i++)
        free(c.o.module_store[i]);
    return rc;
}
