#include "ptcli.h"

#include "cli.h"
#include "ks/parse.h"
#include "ks/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void ptcli_defaults(struct ptcli_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cr0 = PTCLI_CR0;
    o->cr4 = PTCLI_CR4;
    o->efer = PTCLI_EFER;
    o->cpu = PTCLI_CPU;
    o->maxphyaddr = -1;
    o->gbpages = -1;
}

static int reg(const char *cmd, const char *flag, const char *arg, uint64_t *out)
{
    return cli_u64(cmd, flag, arg, out) ? 1 : -1;
}

int ptcli_opt(const char *cmd, int opt, const char *arg, struct ptcli_opts *o)
{
    uint64_t v;

    switch (opt) {
    case 'i':
        o->image = arg;
        return 1;
    case 0x100:
        return reg(cmd, "--cr0", arg, &o->cr0);
    case 0x103:
        o->have_cr3 = true;
        return reg(cmd, "--cr3", arg, &o->cr3);
    case 0x104:
        return reg(cmd, "--cr4", arg, &o->cr4);
    case 0x105:
        return reg(cmd, "--efer", arg, &o->efer);
    case 0x106:
        o->cpu = arg;
        return 1;
    case 0x107:
        if (!cli_u64(cmd, "--maxphyaddr", arg, &v))
            return -1;
        /* The range QEMU accepts for phys-bits; KVM takes whatever CPUID says. */
        if (v < 32 || v > 52) {
            cli_error(cmd, "--maxphyaddr: %llu is not between 32 and 52", (unsigned long long)v);
            return -1;
        }
        o->maxphyaddr = (int)v;
        return 1;
    case 0x108:
        if (!strcmp(arg, "on"))
            o->gbpages = 1;
        else if (!strcmp(arg, "off"))
            o->gbpages = 0;
        else {
            cli_error(cmd, "--gbpages takes on or off, not '%s'", arg);
            return -1;
        }
        return 1;
    case 0x109:
        o->amd = true;
        return 1;
    case 0x10a:
        o->json = true;
        return 1;
    case 0x10b:
        return reg(cmd, "--rflags", arg, &o->rflags);
    case 0x10c:
        if (reg(cmd, "--pkru", arg, &v) < 0)
            return -1;
        if (v > 0xffffffffULL) {
            cli_error(cmd, "--pkru: 0x%llx does not fit in 32 bits", (unsigned long long)v);
            return -1;
        }
        o->pkru = v;
        return 1;
    }
    return 0;
}

void ptcli_bad_option(const char *cmd, char **argv, int optopt_val)
{
    const char *word = argv[optind - 1];

    if (optopt_val && strncmp(word, "--", 2))
        cli_error(cmd, "unknown option '-%c' (see 'kvmscope %s --help')", optopt_val, cmd);
    else if (strchr(word, '=') || optopt_val == 0)
        cli_error(cmd, "unknown option or missing value: '%s' (see 'kvmscope %s --help')", word,
                  cmd);
    else
        cli_error(cmd, "option '%s' needs a value", word);
}

int ptcli_next_opt(const char *cmd, int argc, char **argv, const struct option *longopts,
                   struct ptcli_opts *o)
{
    int opt;

    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int r = ptcli_opt(cmd, opt, optarg, o);

        if (r < 0)
            return PTCLI_OPT_ERROR;
        if (r > 0)
            continue;
        if (opt == '?' || opt == ':') {
            ptcli_bad_option(cmd, argv, optopt);
            return PTCLI_OPT_ERROR;
        }
        return opt;
    }
    return -1;
}

/* Where the top-level table (or the PAE PDPT) of (c) lives. */
static gpa_t root_table(const struct pt_ctx *c)
{
    switch (pt_mode_of(c)) {
    case PT_MODE_PAE:
        return c->cr3 & 0xffffffe0ULL;
    case PT_MODE_32:
        return c->cr3 & 0xfffff000ULL;
    default:
        return c->cr3 & KS_BITS(12, 51);
    }
}

static int check_regs(const char *cmd, const struct pt_ctx *c, const struct ptcli_image *img)
{
    /* Architecturally defined EFER bits (SDM Vol. 4 Table 2-2, AMD APM Vol. 2 §3.1.7). */
    const uint64_t efer_ok = KS_BIT(0) | KS_BITS(8, 8) | KS_BITS(10, 15) | KS_BIT(21);

    if (c->cr0 >> 32) {
        cli_error(cmd, "--cr0 0x%llx: bits 63:32 of CR0 are reserved (MOV to CR0 would #GP)",
                  (unsigned long long)c->cr0);
        return CLI_USAGE;
    }
    if (c->cr4 >> 32) {
        cli_error(cmd, "--cr4 0x%llx: bits 63:32 of CR4 are reserved (MOV to CR4 would #GP)",
                  (unsigned long long)c->cr4);
        return CLI_USAGE;
    }
    if (c->efer & ~efer_ok) {
        cli_error(cmd, "--efer 0x%llx: reserved EFER bits 0x%llx are set",
                  (unsigned long long)c->efer, (unsigned long long)(c->efer & ~efer_ok));
        return CLI_USAGE;
    }
    if (c->rflags >> 32) {
        cli_error(cmd, "--rflags 0x%llx: bits 63:32 of RFLAGS are reserved",
                  (unsigned long long)c->rflags);
        return CLI_USAGE;
    }
    if (pt_ctx_check(c)) {
        const bool pg = c->cr0 & X86_CR0_PG, lme = c->efer & X86_EFER_LME;
        const bool lma = c->efer & X86_EFER_LMA;

        if (pg && !(c->cr0 & X86_CR0_PE))
            cli_error(cmd, "CR0.PG=1 needs CR0.PE=1 (CR0 0x%llx; KVM refuses this state)",
                      (unsigned long long)c->cr0);
        else if (lme && pg && !(c->cr4 & X86_CR4_PAE))
            cli_error(cmd, "long mode (EFER.LME=1, CR0.PG=1) needs CR4.PAE=1 (CR4 0x%llx)",
                      (unsigned long long)c->cr4);
        else if (lme && pg && !lma)
            cli_error(cmd,
                      "EFER.LME=1 with CR0.PG=1 is long mode: EFER.LMA must be 1 too "
                      "(EFER 0x%llx; KVM_SET_SREGS refuses this state)",
                      (unsigned long long)c->efer);
        else
            cli_error(cmd, "EFER.LMA=1 needs EFER.LME=1 and CR0.PG=1 (EFER 0x%llx, CR0 0x%llx)",
                      (unsigned long long)c->efer, (unsigned long long)c->cr0);
        return CLI_USAGE;
    }
    if (pt_mode_of(c) != PT_MODE_NONE && img && root_table(c) >= img->size) {
        cli_error(cmd, "CR3 0x%llx points beyond the image (%llu bytes, last GPA 0x%llx)",
                  (unsigned long long)c->cr3, (unsigned long long)img->size,
                  (unsigned long long)(img->size - 1));
        return CLI_USAGE;
    }
    return CLI_OK;
}

/*
 * Register bits that need a CPUID feature: KVM rejects them (MOV to CR4 #GP,
 * WRMSR EFER #GP, -EINVAL from KVM_SET_SREGS) when the guest's CPUID lacks
 * it, via cr4_guest_rsvd_bits and __kvm_valid_efer (spec §2.6).
 */
static void model_notes(const struct pt_ctx *c, const struct cpuid_table *t, const char *cpu,
                        char *buf, size_t len)
{
    static const struct {
        bool cr4;
        uint64_t bit;
        const char *reg, *feature;
    } needs[] = {
        {true, X86_CR4_PSE, "CR4.PSE", "pse"},    {true, X86_CR4_PAE, "CR4.PAE", "pae"},
        {true, X86_CR4_PGE, "CR4.PGE", "pge"},    {true, X86_CR4_LA57, "CR4.LA57", "la57"},
        {true, X86_CR4_SMEP, "CR4.SMEP", "smep"}, {true, X86_CR4_SMAP, "CR4.SMAP", "smap"},
        {true, X86_CR4_PKE, "CR4.PKE", "pku"},    {false, X86_EFER_LME, "EFER.LME", "lm"},
        {false, X86_EFER_NXE, "EFER.NXE", "nx"},  {false, X86_EFER_SCE, "EFER.SCE", "syscall"},
    };
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < KS_ARRAY_SIZE(needs); i++) {
        const struct cpu_feature *f = cpu_feature_find(needs[i].feature);
        uint64_t reg = needs[i].cr4 ? c->cr4 : c->efer;
        int n;

        if (!(reg & needs[i].bit) || cpuid_has(t, f) || off >= len)
            continue;
        n = snprintf(buf + off, len - off,
                     "note: %s is set but cpu %s lacks %s (CPUID.%XH:%s[%u]); KVM refuses that "
                     "once the VMM has set the vCPU's CPUID\n",
                     needs[i].reg, cpu, f->name, f->function, "EAX\0EBX\0ECX\0EDX" + 4 * f->reg,
                     f->bit);
        if (n > 0)
            off += (size_t)n;
    }
}

int ptcli_ctx(const char *cmd, const struct ptcli_opts *o, const struct ptcli_image *img,
              struct pt_ctx *c, char *notes, size_t len)
{
    struct cpu_spec spec;
    char err[KS_ERR_LEN];

    memset(c, 0, sizeof(*c));
    if (!o->have_cr3) {
        cli_error(cmd, "--cr3 is required");
        return CLI_USAGE;
    }
    if (cpu_spec_parse(o->cpu, &spec, err)) {
        cli_error(cmd, "--cpu: %s", err);
        return CLI_USAGE;
    }
    if (spec.host_based) {
        cli_error(cmd,
                  "--cpu %s takes its CPUID from a live KVM; name a model such as "
                  "Skylake-Server for an image",
                  o->cpu);
        return CLI_USAGE;
    }
    /* The CPUID bit decides unless --gbpages says what KVM effectively used (spec §2.6). */
    cpuid_pt_cpu(&spec.cpuid, true, &c->cpu);
    model_notes(&(struct pt_ctx){.cr4 = o->cr4, .efer = o->efer}, &spec.cpuid, o->cpu, notes, len);
    if (o->maxphyaddr >= 0)
        c->cpu.maxphyaddr = (unsigned)o->maxphyaddr;
    if (o->gbpages >= 0)
        c->cpu.gbpages = o->gbpages;
    if (o->amd)
        c->cpu.amd = true;
    c->cr0 = o->cr0;
    c->cr3 = o->cr3;
    c->cr4 = o->cr4;
    c->efer = o->efer;
    c->rflags = o->rflags;
    c->pkru = (uint32_t)o->pkru;
    return check_regs(cmd, c, img);
}

int ptcli_image_open(const char *cmd, const char *path, struct ptcli_image *img)
{
    struct stat st;
    int fd;

    memset(img, 0, sizeof(*img));
    if (!path) {
        cli_error(cmd, "--image FILE is required (raw guest-physical memory, offset = GPA)");
        return CLI_USAGE;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error(cmd, "cannot open image '%s': %s", path, strerror(errno));
        return CLI_INPUT;
    }
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        cli_error(cmd, "image '%s' is not a regular file", path);
        close(fd);
        return CLI_INPUT;
    }
    if (st.st_size == 0) {
        cli_error(cmd, "image '%s' is empty", path);
        close(fd);
        return CLI_INPUT;
    }
    img->size = (uint64_t)st.st_size;
    img->map = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img->map == MAP_FAILED) {
        cli_error(cmd, "cannot map image '%s': %s", path, strerror(errno));
        img->map = NULL;
        return CLI_INPUT;
    }
    gmem_init(&img->mem);
    gmem_add(&img->mem, 0, img->size, img->map, false);
    return CLI_OK;
}

/* PAE: load the PDPTE registers as the MOV to CR3 would (spec §2.5). */
int ptcli_load_pae(const char *cmd, const struct ptcli_opts *o, const struct ptcli_image *img,
                   const gva_t *va, struct pt_ctx *c)
{
    uint64_t p[4];
    gpa_t base = c->cr3 & 0xffffffe0ULL;
    int ret = pt_load_pdptrs(&img->mem, c, p);

    if (ret == -EFAULT) {
        cli_error(cmd,
                  "image is truncated: the PAE PDPT at 0x%llx (32 bytes) ends beyond the "
                  "image end 0x%llx",
                  (unsigned long long)base, (unsigned long long)img->size);
        return CLI_INPUT;
    }
    if (ret == -EINVAL) {
        for (int i = 0; i < 4; i++) {
            struct pt_level lv = {.level = 3,
                                  .index = (unsigned)i,
                                  .entry_gpa = base + 8 * i,
                                  .entry = p[i],
                                  .verdict = PT_RESERVED,
                                  .rsvd_why = PT_RSVD_PDPTE};
            char why[512];

            lv.rsvd_bits = p[i] & pt_rsvd_mask(c, 3, false);
            if (!(p[i] & PTE_P) || !lv.rsvd_bits)
                continue;
            pt_level_reason(c, &lv, why, sizeof(why));
            if (o->json) {
                struct strbuf sb;

                sb_init(&sb);
                sb_puts(&sb, "{");
                if (va)
                    sb_printf(&sb, "\"address\":\"0x%llx\",\"levels\":[],",
                              (unsigned long long)*va);
                sb_printf(&sb,
                          "\"mode\":\"PAE\",\"fault\":{\"vector\":13,\"error_code\":0,"
                          "\"flags\":\"\",\"level\":3,\"index\":%d,\"entry_gpa\":\"0x%llx\","
                          "\"entry\":\"0x%llx\",\"reserved_bits\":\"0x%llx\",\"reason\":",
                          i, (unsigned long long)lv.entry_gpa, (unsigned long long)p[i],
                          (unsigned long long)lv.rsvd_bits);
                sb_json_str(&sb, why);
                sb_puts(&sb, "}}\n");
                fputs(sb_str(&sb), stdout);
                sb_free(&sb);
            } else
                printf("fault: #GP(0) when loading PAE PDPTE %d (0x%llx at 0x%llx): reserved "
                       "bits 0x%llx: %s\n",
                       i, (unsigned long long)p[i], (unsigned long long)lv.entry_gpa,
                       (unsigned long long)lv.rsvd_bits, why);
            return CLI_FOUND;
        }
    }
    memcpy(c->pdptr, p, sizeof(p));
    c->pdptr_valid = true;
    return CLI_OK;
}

void ptcli_image_close(struct ptcli_image *img)
{
    if (img->map)
        munmap(img->map, img->size);
    img->map = NULL;
}

void ptcli_describe(const struct pt_ctx *c, const char *cpu, char *buf, size_t len)
{
    snprintf(buf, len,
             "%s paging, CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx; cpu %s: MAXPHYADDR %u, "
             "1 GiB pages %s, %s",
             pt_mode_name(pt_mode_of(c)), (unsigned long long)c->cr0, (unsigned long long)c->cr3,
             (unsigned long long)c->cr4, (unsigned long long)c->efer, cpu, c->cpu.maxphyaddr,
             c->cpu.gbpages ? "on" : "off", c->cpu.amd ? "AMD-compatible" : "Intel");
}
