/*
 * The page-table lint (docs/lint.md): pt_scan (bounded by -ELOOP) + pt_lint, with the
 * entries behind each finding found again by pt_walk, so every entry listed
 * is exactly the one KVM's walker would read for that address.
 */
#include "lint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scan_ctx {
    const struct gmem *m;
    struct lint_result *r;
    int err;
};

const char *lint_kind_name(int kind)
{
    return kind == LINT_KIND_LOOP ? "loop" : pt_lint_name((enum pt_lint_kind)kind);
}

static const char *size_name(uint64_t size)
{
    const char *name = pt_page_size_name(size);

    return name ? name : "?";
}

/* The level a finding's listed entries come from. */
static int listed_level(const struct lint_finding *f, const struct pt_walk *w)
{
    if (f->kind == PT_LINT_WX)
        return w->leaf_level;
    if (f->kind == PT_LINT_UNBACKED)
        return f->level + 1; /* the entry pointing at the missing table */
    return f->level;
}

/* Walk each of the first entries of the run again to name the exact entry. */
static void list_entries(const struct gmem *m, const struct pt_ctx *c, struct lint_finding *f)
{
    for (uint64_t i = 0; i < f->npages && f->nentries < LINT_MAX_LISTED; i++) {
        const gva_t va = f->va + i * f->page_size;
        struct pt_walk w;
        const struct pt_level *lv = NULL;

        if (pt_walk(m, c, va, 0, &w))
            return;
        for (unsigned k = 0; k < w.nlevels; k++)
            if (w.lv[k].level == listed_level(f, &w))
                lv = &w.lv[k];
        if (!lv)
            continue;
        /* Every slot of a missing table hangs off one pointing entry: list it once. */
        if (f->nentries && f->entries[f->nentries - 1].entry_gpa == lv->entry_gpa)
            continue;
        f->entries[f->nentries++] = (struct lint_entry){
            .va = va, .level = lv->level, .entry_gpa = lv->entry_gpa, .entry = lv->entry};
    }
}

static struct lint_finding *add_finding(struct lint_result *r)
{
    if (r->n == r->cap) {
        unsigned cap = r->cap ? 2 * r->cap : 8;
        struct lint_finding *f = realloc(r->f, cap * sizeof(*f));

        if (!f)
            return NULL;
        r->f = f;
        r->cap = cap;
    }
    memset(&r->f[r->n], 0, sizeof(r->f[0]));
    return &r->f[r->n++];
}

static int on_range(void *opaque, const struct pt_range *rg)
{
    struct scan_ctx *s = opaque;
    struct lint_result *r = s->r;
    char rule[sizeof(r->f[0].rule)];
    enum pt_lint_kind kind = pt_lint(&r->ctx, rg, rule, sizeof(rule));
    struct lint_finding *f;

    if (kind == PT_LINT_NONE)
        return 0;
    f = add_finding(r);
    if (!f) {
        s->err = -ENOMEM;
        return 1;
    }
    f->kind = kind;
    f->va = rg->va;
    f->size = rg->size;
    f->page_size = rg->page_size;
    f->level = rg->level;
    f->npages = rg->npages;
    f->rsvd_bits = rg->rsvd_bits;
    f->rsvd_why = rg->rsvd_why;
    memcpy(f->rule, rule, sizeof(rule));
    list_entries(s->m, &r->ctx, f);
    r->entries[kind] += rg->npages;
    r->runs[kind]++;
    return 0;
}

int lint_scan(const struct gmem *m, const struct pt_ctx *c, struct lint_result *out)
{
    struct scan_ctx s = {.m = m, .r = out};
    int ret;

    memset(out, 0, sizeof(*out));
    out->ctx = *c;
    ret = pt_scan(m, c, on_range, &s, &out->st);
    if (s.err)
        return s.err;
    if (ret == -ELOOP) {
        struct lint_finding *f = add_finding(out);

        if (!f)
            return -ENOMEM;
        out->bounded = true;
        f->kind = LINT_KIND_LOOP;
        snprintf(f->rule, sizeof(f->rule),
                 "the scan visited %llu tables, more than 4 per page of memory + 64: tables "
                 "point back at themselves or each other; the scan stopped (pt_scan -ELOOP), "
                 "findings after this point are not reported",
                 (unsigned long long)out->st.tables);
        out->entries[LINT_KIND_LOOP] = out->st.tables;
        out->runs[LINT_KIND_LOOP] = 1;
        return 0;
    }
    return ret;
}

void lint_free(struct lint_result *r)
{
    free(r->f);
    r->f = NULL;
    r->n = r->cap = 0;
}

unsigned lint_total(const struct lint_result *r)
{
    return r->n;
}

/* Report order: the latent bugs first. */
static const int kind_order[] = {PT_LINT_RESERVED, PT_LINT_WX, PT_LINT_UNBACKED, LINT_KIND_LOOP};

void lint_text(const struct lint_result *r, const char *prefix, struct strbuf *sb)
{
    for (unsigned k = 0; k < sizeof(kind_order) / sizeof(kind_order[0]); k++) {
        const int kind = kind_order[k];

        if (!r->runs[kind]) {
            sb_printf(sb, "%s%s: none\n", prefix, lint_kind_name(kind));
            continue;
        }
        if (kind == LINT_KIND_LOOP)
            sb_printf(sb, "%s%s: scan stopped after %llu tables\n", prefix, lint_kind_name(kind),
                      (unsigned long long)r->st.tables);
        else
            sb_printf(sb, "%s%s: %llu entr%s in %u run%s\n", prefix, lint_kind_name(kind),
                      (unsigned long long)r->entries[kind], r->entries[kind] == 1 ? "y" : "ies",
                      r->runs[kind], r->runs[kind] == 1 ? "" : "s");
        for (unsigned i = 0; i < r->n; i++) {
            const struct lint_finding *f = &r->f[i];

            if (f->kind != kind)
                continue;
            if (kind != LINT_KIND_LOOP) {
                sb_printf(sb, "%s  %016llx-%016llx level %d, %llu x %s", prefix,
                          (unsigned long long)f->va, (unsigned long long)(f->va + f->size),
                          f->level, (unsigned long long)f->npages, size_name(f->page_size));
                if (kind == PT_LINT_RESERVED)
                    sb_printf(sb, ", reserved bits 0x%llx", (unsigned long long)f->rsvd_bits);
                sb_putc(sb, '\n');
            }
            for (unsigned e = 0; e < f->nentries; e++)
                sb_printf(sb, "%s    level %d entry at GPA 0x%llx = 0x%016llx (va 0x%llx)\n",
                          prefix, f->entries[e].level, (unsigned long long)f->entries[e].entry_gpa,
                          (unsigned long long)f->entries[e].entry,
                          (unsigned long long)f->entries[e].va);
            if (f->nentries < f->npages && kind != PT_LINT_UNBACKED && kind != LINT_KIND_LOOP)
                sb_printf(sb, "%s    ... %llu more entr%s\n", prefix,
                          (unsigned long long)(f->npages - f->nentries),
                          f->npages - f->nentries == 1 ? "y" : "ies");
            sb_printf(sb, "%s    rule: %s\n", prefix, f->rule);
        }
    }
    sb_printf(sb,
              "%s%u finding%s (reserved %llu, wx %llu, unbacked %llu entries%s); %llu tables, "
              "%llu pages scanned\n",
              prefix, r->n, r->n == 1 ? "" : "s", (unsigned long long)r->entries[PT_LINT_RESERVED],
              (unsigned long long)r->entries[PT_LINT_WX],
              (unsigned long long)r->entries[PT_LINT_UNBACKED],
              r->bounded ? "; scan incomplete" : "", (unsigned long long)r->st.tables,
              (unsigned long long)r->st.leaves);
}

void lint_json(const struct lint_result *r, struct strbuf *sb)
{
    const struct pt_ctx *c = &r->ctx;

    sb_printf(sb,
              "{\"mode\":\"%s\",\"cr0\":\"0x%llx\",\"cr3\":\"0x%llx\",\"cr4\":\"0x%llx\","
              "\"efer\":\"0x%llx\",\"cpu\":{\"maxphyaddr\":%u,\"gbpages\":%s,\"amd\":%s},"
              "\"complete\":%s,\"counts\":{",
              pt_mode_name(pt_mode_of(c)), (unsigned long long)c->cr0, (unsigned long long)c->cr3,
              (unsigned long long)c->cr4, (unsigned long long)c->efer, c->cpu.maxphyaddr,
              c->cpu.gbpages ? "true" : "false", c->cpu.amd ? "true" : "false",
              r->bounded ? "false" : "true");
    for (unsigned k = 0; k < sizeof(kind_order) / sizeof(kind_order[0]); k++)
        sb_printf(sb, "%s\"%s\":{\"runs\":%u,\"entries\":%llu}", k ? "," : "",
                  lint_kind_name(kind_order[k]), r->runs[kind_order[k]],
                  (unsigned long long)r->entries[kind_order[k]]);
    sb_puts(sb, "},\"findings\":[");
    for (unsigned i = 0; i < r->n; i++) {
        const struct lint_finding *f = &r->f[i];

        sb_printf(sb,
                  "%s{\"kind\":\"%s\",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"level\":%d,"
                  "\"page_size\":%llu,\"pages\":%llu",
                  i ? "," : "", lint_kind_name(f->kind), (unsigned long long)f->va,
                  (unsigned long long)(f->va + f->size), f->level, (unsigned long long)f->page_size,
                  (unsigned long long)f->npages);
        if (f->kind == PT_LINT_RESERVED)
            sb_printf(sb, ",\"reserved_bits\":\"0x%llx\",\"gbpages_rule\":%s",
                      (unsigned long long)f->rsvd_bits,
                      (f->rsvd_why & PT_RSVD_GBPAGES) ? "true" : "false");
        sb_puts(sb, ",\"rule\":");
        sb_json_str(sb, f->rule);
        sb_puts(sb, ",\"entries\":[");
        for (unsigned e = 0; e < f->nentries; e++)
            sb_printf(sb,
                      "%s{\"va\":\"0x%llx\",\"level\":%d,\"entry_gpa\":\"0x%llx\","
                      "\"entry\":\"0x%llx\"}",
                      e ? "," : "", (unsigned long long)f->entries[e].va, f->entries[e].level,
                      (unsigned long long)f->entries[e].entry_gpa,
                      (unsigned long long)f->entries[e].entry);
        sb_puts(sb, "]}");
    }
    sb_printf(sb, "],\"stats\":{\"entries\":%llu,\"present\":%llu,\"tables\":%llu,\"pages\":%llu}}",
              (unsigned long long)r->st.entries, (unsigned long long)r->st.present,
              (unsigned long long)r->st.tables, (unsigned long long)r->st.leaves);
}
