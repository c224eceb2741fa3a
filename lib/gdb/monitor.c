/*
 * `monitor` commands of the stub, over a snapshot of the stopped vCPU:
 * the page walk of one address level by level, the mappings (coalesced
 * like QEMU's `info mem`, with reserved-bit verdicts), CPUID, and the
 * decoded system registers. `monitor explain` needs lib/diag and lives in
 * the target (vmm/gdb_kvm.c), which hands everything else to gdb_monitor().
 */
#include "ks/gdb.h"
#include "ks/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int cmd_walk(const struct snapshot *snap, const char *arg, struct strbuf *out)
{
    struct pt_ctx c;
    struct pt_walk w;
    uint64_t va;
    char why[200];

    while (*arg == ' ')
        arg++;
    /* parse_u64, not strtoull: that saturates on overflow and accepts "-1". */
    if (parse_u64(arg, &va)) {
        sb_puts(out, "usage: monitor walk ADDR (e.g. monitor walk 0xffffffff80001000)\n");
        return -EINVAL;
    }
    snapshot_pt_ctx(snap, &c);
    if (pt_walk(snap->mem, &c, va, 0, &w) < 0) {
        /* pt_walk refuses states KVM_SET_SREGS would (pt_ctx_check) and bad PAE PDPTEs. */
        sb_printf(out, "no walk: this %s-paging state is one KVM refuses (%s)\n",
                  pt_mode_name(pt_mode_of(&c)),
                  pt_mode_of(&c) == PT_MODE_PAE
                      ? "a PDPTE has reserved bits: loading CR3 would #GP"
                      : "inconsistent CR0/CR4/EFER, e.g. EFER.LMA=1 without CR0.PG");
        return -EINVAL;
    }
    sb_printf(out, "walk %#" PRIx64 ": %s paging, CR3=%#" PRIx64 "\n", va, pt_mode_name(w.mode),
              c.cr3);
    for (unsigned i = 0; i < w.nlevels; i++) {
        const struct pt_level *lv = &w.lv[i];

        sb_printf(out, "  %-7s [%3u] @%#" PRIx64 " = 0x%016" PRIx64 "  %s%s",
                  pt_level_name(w.mode, lv->level), lv->index, lv->entry_gpa, lv->entry,
                  pt_verdict_name(lv->verdict), lv->leaf ? " (leaf)" : "");
        if (lv->verdict == PT_RESERVED || lv->leaf) {
            pt_level_reason(&c, lv, why, sizeof(why));
            sb_printf(out, ": %s", why);
        }
        sb_putc(out, '\n');
    }
    if (w.fault) {
        char flags[64];

        pt_pferr_str(w.error_code, flags, sizeof(flags));
        sb_printf(out, "  => #PF error code %#x (%s) at level %d\n", w.error_code,
                  (w.error_code & PFERR_P) ? flags : "not present", w.fault_level);
        if (w.perm_why) {
            pt_perm_reason(&c, &w, why, sizeof(why));
            sb_printf(out, "     %s\n", why);
        }
    } else {
        sb_printf(out, "  => GPA %#" PRIx64 " (%" PRIu64 " KiB page, %s%s%s)\n", w.gpa,
                  w.page_size >> 10, w.writable ? "rw" : "ro", w.user ? " user" : " supervisor",
                  w.executable ? " exec" : " nx");
    }
    return 0;
}

/* ---- monitor pt: the mappings, from lib/paging's scan ---- */

struct pt_print {
    struct strbuf *out;
    enum pt_mode mode;
    unsigned lines;
};

#define PT_MAX_LINES 512

static int print_range(void *opaque, const struct pt_range *r)
{
    struct pt_print *pp = opaque;
    struct strbuf *out = pp->out;

    if (pp->lines++ == PT_MAX_LINES) {
        sb_puts(out, "... (more mappings not shown)\n");
        return 0;
    }
    if (pp->lines > PT_MAX_LINES)
        return 0;
    switch (r->verdict) {
    case PT_OK:
        sb_printf(
            out, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " -> gpa %#" PRIx64 "%s %c%c%c%c\n",
            r->va, r->va + r->size, r->size, r->gpa, r->phys_contig ? "" : " (not contiguous)",
            r->user ? 'u' : '-', 'r', r->writable ? 'w' : '-', r->executable ? 'x' : '-');
        break;
    case PT_RESERVED:
        sb_printf(out,
                  "%016" PRIx64 "-%016" PRIx64 " RESERVED BITS %#" PRIx64 " in %s 0x%016" PRIx64
                  " @%#" PRIx64 " (walks fault with P|RSVD; see monitor walk %#" PRIx64 ")\n",
                  r->va, r->va + r->size, r->rsvd_bits, pt_level_name(pp->mode, r->level), r->entry,
                  r->entry_gpa, r->va);
        break;
    default:
        sb_printf(out,
                  "%016" PRIx64 "-%016" PRIx64 " UNBACKED: %s 0x%016" PRIx64
                  " points at a table at GPA %#" PRIx64 " outside guest memory\n",
                  r->va, r->va + r->size, pt_level_name(pp->mode, r->level), r->entry,
                  r->entry_gpa);
        break;
    }
    return 0;
}

static int cmd_pt(const struct snapshot *snap, struct strbuf *out)
{
    struct pt_print pp = {.out = out};
    struct pt_ctx c;

    snapshot_pt_ctx(snap, &c);
    pp.mode = pt_mode_of(&c);
    if (pp.mode == PT_MODE_NONE) {
        sb_puts(out, "paging is off (CR0.PG=0): virtual = physical\n");
        return 0;
    }
    sb_printf(out, "%s paging, CR3=%#" PRIx64 "  (columns: range size -> gpa u/r/w/x)\n",
              pt_mode_name(pp.mode), c.cr3);
    if (pt_scan(snap->mem, &c, print_range, &pp, NULL) == -EINVAL)
        sb_printf(out, "no scan: %s\n",
                  pp.mode == PT_MODE_PAE
                      ? "the PAE PDPTEs at CR3 are unbacked or have reserved bits (the CR3 "
                        "load would #GP)"
                      : "this CR0/CR4/EFER combination is one KVM refuses");
    return 0;
}

static int cmd_cpuid(const struct snapshot *snap, struct strbuf *out)
{
    if (!(snap->have & SNAP_HAVE_CPUID)) {
        sb_puts(out, "no CPUID table known for this vCPU\n");
        return 0;
    }
    sb_puts(out, "function index     eax      ebx      ecx      edx\n");
    for (unsigned i = 0; i < snap->cpuid.n; i++) {
        const struct cpuid_entry *e = &snap->cpuid.e[i];

        /* Empty leaves say nothing; leave them out as `cpuid -r` users expect. */
        if (!(e->reg[0] | e->reg[1] | e->reg[2] | e->reg[3]))
            continue;
        sb_printf(out, "%08x %5u  %08x %08x %08x %08x\n", e->function, e->index, e->reg[CPUID_EAX],
                  e->reg[CPUID_EBX], e->reg[CPUID_ECX], e->reg[CPUID_EDX]);
    }
    if (snap->have & SNAP_HAVE_PT_CPU)
        sb_printf(out, "walk features: MAXPHYADDR %u, 1 GiB pages %s, %s vendor\n",
                  snap->pt_cpu.maxphyaddr, snap->pt_cpu.gbpages ? "yes" : "no",
                  snap->pt_cpu.amd ? "AMD" : "Intel");
    return 0;
}

static void bits(struct strbuf *out, uint64_t v, const char *const names[64])
{
    for (int i = 63; i >= 0; i--)
        if ((v & KS_BIT(i)) && names[i])
            sb_printf(out, " %s", names[i]);
}

static void seg_line(struct strbuf *out, const char *name, const struct x86_seg *g)
{
    sb_printf(out,
              "%-4s sel=%04x base=%016" PRIx64 " limit=%08x type=%x s=%u dpl=%u p=%u l=%u "
              "db=%u g=%u%s\n",
              name, g->selector, g->base, g->limit, g->type, g->s, g->dpl, g->present, g->l, g->db,
              g->g, g->unusable ? " unusable" : "");
}

static int cmd_regs(const struct snapshot *snap, struct strbuf *out)
{
    static const char *const cr0n[64] = {
        [0] = "PE",  [1] = "MP",  [2] = "EM",  [3] = "TS",  [4] = "ET", [5] = "NE",
        [16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG"};
    static const char *const cr4n[64] = {
        [0] = "VME",         [1] = "PVI",    [2] = "TSD",      [3] = "DE",    [4] = "PSE",
        [5] = "PAE",         [6] = "MCE",    [7] = "PGE",      [8] = "PCE",   [9] = "OSFXSR",
        [10] = "OSXMMEXCPT", [11] = "UMIP",  [12] = "LA57",    [13] = "VMXE", [14] = "SMXE",
        [16] = "FSGSBASE",   [17] = "PCIDE", [18] = "OSXSAVE", [20] = "SMEP", [21] = "SMAP",
        [22] = "PKE"};
    static const char *const efern[64] = {
        [0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE", [12] = "SVME", [14] = "FFXSR"};
    static const char *const segn[X86_NR_SREGS] = {"es", "cs", "ss",   "ds",
                                                   "fs", "gs", "ldtr", "tr"};
    const struct x86_state *s = &snap->s;
    struct pt_ctx c;

    snapshot_pt_ctx(snap, &c);
    sb_printf(out, "rip=%016" PRIx64 " rflags=%08" PRIx64 " cpl=%u mode: %s code, %s paging\n",
              s->rip, s->rflags, snap->cpl,
              gdb_long64(s)              ? "64-bit"
              : (s->efer & X86_EFER_LMA) ? "compatibility"
              : (s->cr0 & X86_CR0_PE)    ? (s->seg[X86_SEG_CS].db ? "32-bit" : "16-bit protected")
                                         : "real-mode",
              pt_mode_name(pt_mode_of(&c)));
    sb_printf(out, "cr0=%016" PRIx64, s->cr0);
    bits(out, s->cr0, cr0n);
    sb_printf(out, "\ncr2=%016" PRIx64 " cr3=%016" PRIx64 " cr8=%" PRIx64 "\ncr4=%016" PRIx64,
              s->cr2, s->cr3, s->cr8, s->cr4);
    bits(out, s->cr4, cr4n);
    sb_printf(out, "\nefer=%016" PRIx64, s->efer);
    bits(out, s->efer, efern);
    sb_putc(out, '\n');
    for (int i = 0; i < X86_NR_SREGS; i++)
        seg_line(out, segn[i], &s->seg[i]);
    sb_printf(out, "gdt  base=%016" PRIx64 " limit=%04x\nidt  base=%016" PRIx64 " limit=%04x\n",
              s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit);
    sb_printf(out, "k_gs_base=%016" PRIx64 " dr7=%016" PRIx64 " dr6=%016" PRIx64 "\n",
              s->kernel_gs_base, s->dr[7], s->dr[6]);
    return 0;
}

static const char help[] = "monitor commands:\n"
                           "  walk ADDR  the page walk of ADDR, level by level, with verdicts\n"
                           "  pt         the mappings (like info mem) with reserved-bit verdicts\n"
                           "  explain    why the guest crashed (the crash explainer)\n"
                           "  cpuid      the vCPU's CPUID table\n"
                           "  regs       decoded CR0/CR4/EFER, segments, GDT/IDT/TR\n";

int gdb_monitor(const struct snapshot *snap, const char *cmd, struct strbuf *out)
{
    size_t n;

    while (*cmd == ' ')
        cmd++;
    n = strcspn(cmd, " ");
    if (n == 4 && !strncmp(cmd, "walk", 4))
        return cmd_walk(snap, cmd + 4, out);
    if (!strcmp(cmd, "pt"))
        return cmd_pt(snap, out);
    if (!strcmp(cmd, "cpuid"))
        return cmd_cpuid(snap, out);
    if (!strcmp(cmd, "regs"))
        return cmd_regs(snap, out);
    if (!strcmp(cmd, "help") || !*cmd) {
        sb_puts(out, help);
        return 0;
    }
    sb_printf(out, "unknown monitor command '%.*s'\n%s", (int)n, cmd, help);
    return -EINVAL;
}
