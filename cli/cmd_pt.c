/*
 * kvmscope pt: list every present mapping of a memory image's page tables
 * (like QEMU's `info mem`, plus NX, page sizes and KVM's reserved-bit
 * verdicts) and, with --lint, flag entries the vCPU makes reserved, tables
 * outside memory and W+X supervisor mappings (docs/paging.md).
 */
#include "cli.h"
#include "ptcli.h"

#include "ks/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: kvmscope pt --image FILE --cr3 X [--cr0 X] [--cr4 X] [--efer X] [--cpu MODEL]\n"
    "                   [--maxphyaddr N] [--gbpages on|off] [--amd] [--lint] [--json]\n"
    "\n"
    "Lists the mappings of the page tables in FILE (raw guest-physical memory, file offset =\n"
    "GPA), one line per run of contiguous pages with equal rights, page size and verdict.\n"
    "--lint reports entries KVM would treat as reserved for this vCPU (e.g. 1 GiB pages\n"
    "without pdpe1gb), present entries pointing outside memory, and W+X supervisor pages.\n"
    "Defaults as for 'kvmscope walk'. Exit status: 0 listed (and lint clean), 1 lint\n"
    "findings, 2 usage, 4 bad image (also: tables that point back at themselves).\n";

struct pt_out {
    const struct pt_ctx *c;
    const struct ptcli_image *img;
    bool json, lint, wide;
    struct strbuf ranges, findings;
    unsigned nfindings;
    bool truncated;
    gpa_t truncated_at;
};

static const char *size_name(uint64_t size)
{
    const char *name = pt_page_size_name(size);

    return name ? name : "-";
}

static void text_range(struct pt_out *o, const struct pt_range *r)
{
    struct strbuf *sb = &o->ranges;
    const int w = o->wide ? 16 : 8;

    sb_printf(sb, "%0*llx-%0*llx %0*llx %c%c%c%c %-4s ", w, (unsigned long long)r->va, w,
              (unsigned long long)(r->va + r->size), w, (unsigned long long)r->size,
              r->user ? 'u' : '-', 'r', r->writable ? 'w' : '-', r->executable ? 'x' : '-',
              size_name(r->page_size));
    if (r->verdict == PT_OK) {
        sb_printf(sb, "gpa 0x%llx%s", (unsigned long long)r->gpa,
                  r->phys_contig ? "" : " (not physically contiguous)");
        if (r->pkey)
            sb_printf(sb, " key %u", r->pkey);
    } else if (r->verdict == PT_RESERVED) {
        sb_printf(sb, "RESERVED at level %d: bits 0x%llx (%llu entr%s, first 0x%llx at 0x%llx)",
                  r->level, (unsigned long long)r->rsvd_bits, (unsigned long long)r->npages,
                  r->npages == 1 ? "y" : "ies", (unsigned long long)r->entry,
                  (unsigned long long)r->entry_gpa);
    } else {
        sb_printf(sb, "UNBACKED level-%d table: entry GPA 0x%llx is outside memory", r->level,
                  (unsigned long long)r->entry_gpa);
    }
    sb_putc(sb, '\n');
}

static void json_range(struct pt_out *o, const struct pt_range *r)
{
    struct strbuf *sb = &o->ranges;

    sb_printf(sb,
              "%s{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"size\":\"0x%llx\",\"page_size\":%llu,"
              "\"level\":%d,\"user\":%s,\"writable\":%s,\"executable\":%s,\"pkey\":%u,"
              "\"pages\":%llu,\"verdict\":\"%s\"",
              sb->len > 0 ? "," : "", (unsigned long long)r->va,
              (unsigned long long)(r->va + r->size), (unsigned long long)r->size,
              (unsigned long long)r->page_size, r->level, r->user ? "true" : "false",
              r->writable ? "true" : "false", r->executable ? "true" : "false", r->pkey,
              (unsigned long long)r->npages, pt_verdict_name(r->verdict));
    if (r->verdict == PT_OK)
        sb_printf(sb, ",\"gpa\":\"0x%llx\",\"phys_contig\":%s", (unsigned long long)r->gpa,
                  r->phys_contig ? "true" : "false");
    else
        sb_printf(sb, ",\"entry\":\"0x%llx\",\"entry_gpa\":\"0x%llx\"",
                  (unsigned long long)r->entry, (unsigned long long)r->entry_gpa);
    if (r->verdict == PT_RESERVED)
        sb_printf(sb, ",\"reserved_bits\":\"0x%llx\"", (unsigned long long)r->rsvd_bits);
    sb_putc(sb, '}');
}

static int on_range(void *opaque, const struct pt_range *r)
{
    struct pt_out *o = opaque;
    char msg[768];
    enum pt_lint_kind kind;

    /* A table that starts inside the image but runs past its end: a truncated image. */
    if (r->verdict == PT_UNBACKED && (r->entry_gpa & ~0xfffULL) < o->img->size && !o->truncated) {
        o->truncated = true;
        o->truncated_at = r->entry_gpa;
    }
    if (o->json)
        json_range(o, r);
    else
        text_range(o, r);
    if (!o->lint)
        return 0;
    kind = pt_lint(o->c, r, msg, sizeof(msg));
    if (kind == PT_LINT_NONE)
        return 0;
    o->nfindings++;
    if (o->json) {
        sb_printf(&o->findings,
                  "%s{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"kind\":\"%s\",\"message\":",
                  o->nfindings > 1 ? "," : "", (unsigned long long)r->va,
                  (unsigned long long)(r->va + r->size), pt_lint_name(kind));
        sb_json_str(&o->findings, msg);
        sb_putc(&o->findings, '}');
    } else {
        const int w = o->wide ? 16 : 8;
        sb_printf(&o->findings, "lint: %0*llx-%0*llx %s: %s\n", w, (unsigned long long)r->va, w,
                  (unsigned long long)(r->va + r->size), pt_lint_name(kind), msg);
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct ptcli_opts *o, bool *lint)
{
    static const struct option longopts[] = {
        PTCLI_LONGOPTS,
        {"lint", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    *lint = false;
    ptcli_defaults(o);
    optind = 1;
    opterr = 0;
    while ((opt = ptcli_next_opt("pt", argc, argv, longopts, o)) >= 0) {
        if (opt == 'l') {
            *lint = true;
        } else if (opt == 'h') {
            fputs(usage_text, stdout);
            return -1;
        }
    }
    if (opt == PTCLI_OPT_ERROR)
        return CLI_USAGE;
    if (optind < argc) {
        cli_error("pt", "unexpected argument '%s' (see 'kvmscope pt --help')", argv[optind]);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_pt(int argc, char **argv)
{
    struct ptcli_opts opts;
    struct ptcli_image img;
    struct pt_ctx c;
    struct pt_out o;
    struct pt_scan_stats st;
    char desc[512], notes[1024];
    bool lint;
    int ret;

    ret = parse_args(argc, argv, &opts, &lint);
    if (ret)
        return ret < 0 ? CLI_OK : ret;
    ret = ptcli_image_open("pt", opts.image, &img);
    if (ret)
        return ret;
    ret = ptcli_ctx("pt", &opts, &img, &c, notes, sizeof(notes));
    if (!ret && pt_mode_of(&c) == PT_MODE_PAE)
        ret = ptcli_load_pae("pt", &opts, &img, NULL, &c);
    if (ret) {
        ptcli_image_close(&img);
        return ret;
    }
    memset(&o, 0, sizeof(o));
    o.c = &c;
    o.img = &img;
    o.json = opts.json;
    o.lint = lint;
    o.wide = pt_mode_of(&c) == PT_MODE_4LEVEL || pt_mode_of(&c) == PT_MODE_5LEVEL;
    sb_init(&o.ranges);
    sb_init(&o.findings);
    ret = pt_scan(&img.mem, &c, on_range, &o, &st);
    if (ret == -ELOOP) {
        cli_error("pt",
                  "page tables refer back to themselves: stopped after %llu table visits "
                  "(more than 4x the %llu pages of the image)",
                  (unsigned long long)st.tables, (unsigned long long)(img.size / 4096));
        ret = CLI_INPUT;
    } else if (ret || o.ranges.oom || o.findings.oom) {
        cli_error("pt", "%s", ret ? "impossible paging state" : "out of memory");
        ret = ret ? CLI_USAGE : CLI_HOST;
    } else if (o.truncated) {
        cli_error("pt", "image is truncated: a page table at 0x%llx runs past the image end 0x%llx",
                  (unsigned long long)(o.truncated_at & ~0xfffULL), (unsigned long long)img.size);
        ret = CLI_INPUT;
    } else if (o.json) {
        printf("{\"mode\":\"%s\",\"ranges\":[%s]", pt_mode_name(pt_mode_of(&c)), sb_str(&o.ranges));
        if (lint)
            printf(",\"lint\":[%s]", sb_str(&o.findings));
        printf(",\"stats\":{\"entries\":%llu,\"present\":%llu,\"tables\":%llu,\"pages\":%llu,"
               "\"ranges\":%llu}}\n",
               (unsigned long long)st.entries, (unsigned long long)st.present,
               (unsigned long long)st.tables, (unsigned long long)st.leaves,
               (unsigned long long)st.ranges);
        ret = lint && o.nfindings ? CLI_FOUND : CLI_OK;
    } else {
        ptcli_describe(&c, opts.cpu, desc, sizeof(desc));
        printf("pt: %s\n", desc);
        fputs(sb_str(&o.ranges), stdout);
        printf("%llu runs, %llu pages, %llu present of %llu entries in %llu tables\n",
               (unsigned long long)st.ranges, (unsigned long long)st.leaves,
               (unsigned long long)st.present, (unsigned long long)st.entries,
               (unsigned long long)st.tables);
        fputs(notes, stdout);
        if (lint) {
            fputs(sb_str(&o.findings), stdout);
            printf("lint: %u finding%s\n", o.nfindings, o.nfindings == 1 ? "" : "s");
        }
        ret = lint && o.nfindings ? CLI_FOUND : CLI_OK;
    }
    sb_free(&o.ranges);
    sb_free(&o.findings);
    ptcli_image_close(&img);
    return ret;
}
