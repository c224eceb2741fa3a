/*
 * kvmscope walk: translate one guest-linear address through the page tables
 * of a raw physical-memory image exactly as KVM's software walker would, and
 * explain every level (docs/paging.md).
 */
#include "cli.h"
#include "ptcli.h"

#include "ks/parse.h"
#include "ks/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: kvmscope walk --image FILE --cr3 X [--cr0 X] [--cr4 X] [--efer X] [--cpu MODEL]\n"
    "                     [--maxphyaddr N] [--gbpages on|off] [--amd] [--access r|w|x] [--user]\n"
    "                     [--implicit] [--rflags X] [--pkru X] [--json] ADDRESS\n"
    "\n"
    "Walks ADDRESS through the page tables in FILE (raw guest-physical memory, file offset =\n"
    "GPA) the way KVM's software walker does, and prints every entry it reads, the GPA or\n"
    "the #PF it would inject, and why.\n"
    "Defaults: --cr0 0x80000011 --cr4 0x20 --efer 0x500 (4-level paging), --cpu qemu64\n"
    "(QEMU's default: no 1 GiB pages, MAXPHYADDR 40, AMD), --access r (supervisor read).\n"
    "--gbpages/--maxphyaddr/--amd override what the CPU model gives.\n"
    "Exit status: 0 translated, 1 #PF (or #GP) found, 2 usage, 4 bad image.\n";

static const char *access_name(uint32_t access)
{
    return (access & PFERR_F) ? "x" : (access & PFERR_W) ? "w" : "r";
}

static void flags_text(const struct pt_walk *w, const struct pt_level *lv, struct strbuf *sb)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } names[] = {{PTE_P, "P"}, {PTE_W, "W"}, {PTE_U, "U"},   {PTE_PWT, "PWT"}, {PTE_PCD, "PCD"},
                 {PTE_A, "A"}, {PTE_D, "D"}, {PTE_PS, "PS"}, {PTE_G, "G"},     {PTE_NX, "NX"}};
    bool any = false;

    for (size_t i = 0; i < KS_ARRAY_SIZE(names); i++) {
        const char *n = names[i].name;

        if (!(lv->entry & names[i].bit))
            continue;
        if (names[i].bit == PTE_PS && lv->level == 1)
            n = "PAT"; /* bit 7 of a PTE (SDM Vol. 3A Table 4-20) */
        if (names[i].bit == PTE_NX && w->mode == PT_MODE_32)
            continue;
        sb_printf(sb, "%s%s", any ? " " : "", n);
        any = true;
    }
    if (lv->leaf && w->mode != PT_MODE_32 && (lv->entry >> 59) & 0xf)
        sb_printf(sb, " key=%u", (unsigned)((lv->entry >> 59) & 0xf));
    if (!any)
        sb_puts(sb, "-");
}

static const char *verdict_json(enum pt_verdict v)
{
    switch (v) {
    case PT_OK:
        return "ok";
    case PT_RESERVED:
        return "reserved";
    default:
        return "not_present";
    }
}

static void page_size_text(uint64_t size, char *buf, size_t len)
{
    if (size >= (1ULL << 30))
        snprintf(buf, len, "1 GiB");
    else if (size >= (1ULL << 20))
        snprintf(buf, len, "%llu MiB", (unsigned long long)(size >> 20));
    else
        snprintf(buf, len, "4 KiB");
}

/* The sentence for the fault line (without the "fault: #PF ..." prefix). */
static void fault_reason(const struct pt_ctx *c, const struct pt_walk *w, char *buf, size_t len)
{
    const struct pt_level *lv = &w->lv[w->nlevels - 1];

    if (w->nlevels && lv->verdict != PT_OK)
        pt_level_reason(c, lv, buf, len);
    else
        pt_perm_reason(c, w, buf, len);
}

static void print_text(const struct pt_ctx *c, const struct ptcli_opts *o,
                       const struct ptcli_image *img, const struct pt_walk *w, struct strbuf *sb)
{
    char line[1024], flags[64], size[16];

    ptcli_describe(c, o->cpu, line, sizeof(line));
    sb_printf(sb, "walk 0x%llx (%s, %s%s): %s\n", (unsigned long long)w->gva,
              (w->access & PFERR_F)   ? "fetch"
              : (w->access & PFERR_W) ? "write"
                                      : "read",
              (w->access & PFERR_U) ? "user" : "supervisor",
              (w->access & PT_ACCESS_IMPLICIT) ? ", implicit" : "", line);
    if (w->mode == PT_MODE_NONE) {
        sb_puts(sb, "paging is off (CR0.PG=0): GPA = address, no table is read\n");
    } else {
        pt_pferr_str(w->access & ~PT_ACCESS_IMPLICIT, flags, sizeof(flags));
        sb_printf(sb, "addr %llx pferr %x %s\n", (unsigned long long)w->gva,
                  w->access & ~PT_ACCESS_IMPLICIT, flags);
        if (!pt_is_canonical(w->gva, w->mode))
            sb_printf(sb,
                      "note: 0x%llx is not canonical; KVM's walker (and KVM_TRANSLATE) "
                      "uses only its index bits, an instruction using it would #GP/#SS "
                      "first\n",
                      (unsigned long long)w->gva);
    }
    for (unsigned i = 0; i < w->nlevels; i++) {
        const struct pt_level *lv = &w->lv[i];
        const bool pdpte_reg = w->mode == PT_MODE_PAE && lv->level == 3;

        if (lv->verdict == PT_UNBACKED) {
            sb_printf(sb,
                      "(unbacked) level %d  index 0x%x  at 0x%llx: no memory there; KVM "
                      "treats the entry as not present\n",
                      lv->level, lv->index, (unsigned long long)lv->entry_gpa);
            continue;
        }
        sb_printf(sb, "pte %llx level %d  index 0x%x  at 0x%llx%s  [",
                  (unsigned long long)lv->entry, lv->level, lv->index,
                  (unsigned long long)lv->entry_gpa, pdpte_reg ? " (PDPTE register)" : "");
        flags_text(w, lv, sb);
        sb_puts(sb, "]  ");
        if (lv->verdict == PT_OK) {
            pt_level_reason(c, lv, line, sizeof(line));
            sb_printf(sb, "ok: %s\n", pdpte_reg ? "present (only P is checked)" : line);
        } else if (lv->verdict == PT_RESERVED) {
            sb_printf(sb, "reserved: bits 0x%llx (frame 0x%llx)\n",
                      (unsigned long long)lv->rsvd_bits,
                      (unsigned long long)(lv->entry & (w->mode == PT_MODE_32 ? 0xfffff000ULL
                                                                              : KS_BITS(12, 51))));
        } else {
            sb_puts(sb, "not present\n");
        }
    }
    if (w->fault) {
        const struct pt_level *lv = &w->lv[w->nlevels - 1];

        pt_pferr_str(w->error_code, flags, sizeof(flags));
        fault_reason(c, w, line, sizeof(line));
        sb_printf(sb, "fault: #PF error code 0x%x (%s) at level %d: ", w->error_code,
                  flags[0] ? flags : "none", w->fault_level);
        if (lv->verdict == PT_RESERVED)
            sb_printf(sb, "reserved bits 0x%llx: ", (unsigned long long)lv->rsvd_bits);
        else if (lv->verdict == PT_OK)
            sb_puts(sb, "permission: ");
        sb_printf(sb, "%s\n", line);
        if ((w->access & PFERR_F) && !(w->error_code & PFERR_F))
            sb_puts(sb, "note: the access was an instruction fetch; the F bit is only reported "
                        "with EFER.NXE=1 or CR4.SMEP=1 (SDM Vol. 3A §4.7)\n");
        if (lv->verdict == PT_RESERVED && (lv->rsvd_why & PT_RSVD_GBPAGES))
            sb_printf(sb,
                      "note: KVM's effective 1 GiB-page support is off for this vCPU (cpu "
                      "%s%s); hardware walks this page fine, so the guest breaks only when "
                      "KVM walks in software (emulation, shadow paging); see "
                      "docs/paging.md\n",
                      o->cpu, o->gbpages == 0 ? ", --gbpages off" : " lacks pdpe1gb");
        return;
    }
    page_size_text(w->page_size, size, sizeof(size));
    if (w->mode == PT_MODE_NONE)
        sb_printf(sb, "gpa 0x%llx\n", (unsigned long long)w->gpa);
    else
        sb_printf(sb, "gpa 0x%llx (%s page at level %d; %s %s %s)", (unsigned long long)w->gpa,
                  size, w->leaf_level, w->user ? "user" : "supervisor",
                  w->writable ? "writable" : "read-only",
                  w->executable ? "executable" : "no-execute");
    if (w->mode != PT_MODE_NONE) {
        if (!w->n_ad)
            sb_puts(sb, "; no A/D updates\n");
        for (unsigned i = 0; i < w->n_ad; i++) {
            const struct pt_ad_update *a = &w->ad[i];
            uint64_t set = a->new_entry & ~a->old_entry;

            sb_printf(sb, "%s%s%s at 0x%llx", i ? ", " : "; would set ", (set & PTE_A) ? "A" : "",
                      (set & PTE_D) ? ((set & PTE_A) ? "+D" : "D") : "",
                      (unsigned long long)a->entry_gpa);
        }
        if (w->n_ad)
            sb_puts(sb, "\n");
    }
    if (w->gpa >= img->size)
        sb_printf(sb,
                  "note: GPA 0x%llx is beyond the image (%llu bytes): no RAM there, KVM "
                  "would treat an access as MMIO\n",
                  (unsigned long long)w->gpa, (unsigned long long)img->size);
}

static void print_json(const struct pt_ctx *c, const struct pt_walk *w,
                       const struct ptcli_image *img, struct strbuf *sb)
{
    char text[1024];

    sb_printf(sb, "{\"address\":\"0x%llx\",\"access\":\"%s\",\"user\":%s,\"mode\":",
              (unsigned long long)w->gva, access_name(w->access),
              (w->access & PFERR_U) ? "true" : "false");
    sb_json_str(sb, pt_mode_name(w->mode));
    sb_puts(sb, ",\"levels\":[");
    for (unsigned i = 0; i < w->nlevels; i++) {
        const struct pt_level *lv = &w->lv[i];

        sb_printf(sb, "%s{\"level\":%d,\"index\":%u,\"entry_gpa\":\"0x%llx\",", i ? "," : "",
                  lv->level, lv->index, (unsigned long long)lv->entry_gpa);
        if (lv->verdict == PT_UNBACKED)
            sb_puts(sb, "\"entry\":null,\"unbacked\":true,");
        else
            sb_printf(sb, "\"entry\":\"0x%llx\",", (unsigned long long)lv->entry);
        sb_printf(sb, "\"verdict\":\"%s\"", verdict_json(lv->verdict));
        if (lv->verdict == PT_RESERVED)
            sb_printf(sb, ",\"reserved_bits\":\"0x%llx\"", (unsigned long long)lv->rsvd_bits);
        if (lv->leaf)
            sb_puts(sb, ",\"leaf\":true");
        sb_puts(sb, "}");
    }
    sb_puts(sb, "]");
    if (w->fault) {
        const struct pt_level *lv = &w->lv[w->nlevels - 1];
        char flags[64];

        pt_pferr_str(w->error_code, flags, sizeof(flags));
        fault_reason(c, w, text, sizeof(text));
        sb_printf(sb, ",\"fault\":{\"vector\":14,\"error_code\":%u,\"flags\":\"%s\",\"level\":%d",
                  w->error_code, flags, w->fault_level);
        if (lv->verdict == PT_RESERVED)
            sb_printf(sb, ",\"reserved_bits\":\"0x%llx\"", (unsigned long long)lv->rsvd_bits);
        if (lv->verdict == PT_UNBACKED)
            sb_puts(sb, ",\"unbacked\":true");
        if (lv->verdict == PT_OK)
            sb_puts(sb, ",\"permission\":true");
        sb_puts(sb, ",\"reason\":");
        sb_json_str(sb, text);
        sb_puts(sb, "}}\n");
        return;
    }
    sb_printf(sb, ",\"gpa\":\"0x%llx\"", (unsigned long long)w->gpa);
    if (w->mode != PT_MODE_NONE) {
        sb_printf(sb, ",\"page_size\":%llu,\"leaf_level\":%d,\"ad_updates\":[",
                  (unsigned long long)w->page_size, w->leaf_level);
        for (unsigned i = 0; i < w->n_ad; i++) {
            uint64_t set = w->ad[i].new_entry & ~w->ad[i].old_entry;
            sb_printf(sb, "%s{\"entry_gpa\":\"0x%llx\",\"set\":\"%s%s\"}", i ? "," : "",
                      (unsigned long long)w->ad[i].entry_gpa, (set & PTE_A) ? "A" : "",
                      (set & PTE_D) ? "D" : "");
        }
        sb_puts(sb, "]");
    }
    if (w->gpa >= img->size)
        sb_puts(sb, ",\"gpa_in_image\":false");
    sb_puts(sb, "}\n");
}

static int parse_args(int argc, char **argv, struct ptcli_opts *o, uint32_t *access,
                      const char **address)
{
    static const struct option longopts[] = {
        PTCLI_LONGOPTS,
        {"access", required_argument, NULL, 'a'},
        {"user", no_argument, NULL, 'u'},
        {"implicit", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    *access = 0;
    *address = NULL;
    ptcli_defaults(o);
    optind = 1;
    opterr = 0;
    while ((opt = ptcli_next_opt("walk", argc, argv, longopts, o)) >= 0) {
        switch (opt) {
        case 'a':
            if (!strcmp(optarg, "r"))
                *access &= ~(PFERR_W | PFERR_F);
            else if (!strcmp(optarg, "w"))
                *access = (*access & ~PFERR_F) | PFERR_W;
            else if (!strcmp(optarg, "x"))
                *access = (*access & ~PFERR_W) | PFERR_F;
            else {
                cli_error("walk", "--access takes r, w or x, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'u':
            *access |= PFERR_U;
            break;
        case 'I':
            *access |= PT_ACCESS_IMPLICIT;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        }
    }
    if (opt == PTCLI_OPT_ERROR)
        return CLI_USAGE;
    if (optind >= argc) {
        cli_error("walk", "missing ADDRESS (see 'kvmscope walk --help')");
        return CLI_USAGE;
    }
    if (optind + 1 < argc) {
        cli_error("walk", "one ADDRESS expected, got '%s' and '%s'", argv[optind],
                  argv[optind + 1]);
        return CLI_USAGE;
    }
    if ((*access & PT_ACCESS_IMPLICIT) && (*access & (PFERR_U | PFERR_F))) {
        cli_error("walk", "--implicit is a supervisor data access: it excludes --user and "
                          "--access x");
        return CLI_USAGE;
    }
    *address = argv[optind];
    return CLI_OK;
}

int cmd_walk(int argc, char **argv)
{
    struct ptcli_opts o;
    struct ptcli_image img;
    struct pt_ctx c;
    struct pt_walk w;
    struct strbuf sb;
    char notes[1024];
    const char *addr_arg;
    uint32_t access;
    uint64_t va;
    int ret;

    ret = parse_args(argc, argv, &o, &access, &addr_arg);
    if (ret)
        return ret < 0 ? CLI_OK : ret;
    if (parse_u64(addr_arg, &va)) {
        cli_error("walk", "ADDRESS '%s' is not a number (use decimal or 0x-prefixed hex)",
                  addr_arg);
        return CLI_USAGE;
    }
    ret = ptcli_image_open("walk", o.image, &img);
    if (ret)
        return ret;
    ret = ptcli_ctx("walk", &o, &img, &c, notes, sizeof(notes));
    if (!ret && pt_mode_of(&c) == PT_MODE_PAE)
        ret = ptcli_load_pae("walk", &o, &img, &va, &c);
    if (ret) {
        ptcli_image_close(&img);
        return ret;
    }
    if (pt_walk(&img.mem, &c, va, access, &w)) {
        cli_error("walk", "impossible paging state"); /* ptcli_ctx checked it already */
        ptcli_image_close(&img);
        return CLI_USAGE;
    }
    if (w.fault && w.lv[w.nlevels - 1].verdict == PT_UNBACKED &&
        (w.lv[w.nlevels - 1].entry_gpa & ~0xfffULL) < img.size) {
        cli_error("walk",
                  "image is truncated: the level-%d table at 0x%llx needs the entry at "
                  "0x%llx, beyond the image end 0x%llx",
                  w.fault_level, (unsigned long long)(w.lv[w.nlevels - 1].entry_gpa & ~0xfffULL),
                  (unsigned long long)w.lv[w.nlevels - 1].entry_gpa, (unsigned long long)img.size);
        ptcli_image_close(&img);
        return CLI_INPUT;
    }
    sb_init(&sb);
    if (o.json)
        print_json(&c, &w, &img, &sb);
    else {
        print_text(&c, &o, &img, &w, &sb);
        sb_puts(&sb, notes);
    }
    fputs(sb_str(&sb), stdout);
    sb_free(&sb);
    ptcli_image_close(&img);
    return w.fault ? CLI_FOUND : CLI_OK;
}
