/*
 * Text and JSON renderings of a kt_analysis (docs/trace.md shows both).
 */
#include "ks/ktrace.h"
#include "ks/paging.h"
#include "ks/x86.h"

#include <stdio.h>
#include <string.h>

/* Failing walks shown in full by the text report when there are many. */
#define TEXT_HEAD_WALKS 3
#define TEXT_TAIL_WALKS 5

static unsigned ev_line(const struct kt_trace *t, size_t i)
{
    return i < t->n ? t->ev[i].line : 0;
}

static void access_str(uint32_t access, char *buf, size_t len)
{
    char fl[40];

    pt_pferr_str(access & ~(uint32_t)PT_ACCESS_IMPLICIT, fl, sizeof(fl));
    if (!(access & (PFERR_W | PFERR_U | PFERR_F)))
        snprintf(buf, len, "supervisor read%s%s", fl[0] ? ", " : "", fl);
    else
        snprintf(buf, len, "%s%s%s",
                 (access & PFERR_F)   ? "fetch"
                 : (access & PFERR_W) ? "write"
                                      : "read",
                 (access & PFERR_U) ? " (user)" : " (supervisor)", "");
}

static void emul_bytes(const struct kt_event *e, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = 0;
    for (unsigned i = 0; i < e->u.emul.len && n + 4 < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%02x", i ? " " : "", e->u.emul.bytes[i]);
}

/* The failing guest page walks, each with its levels and the assumptions of its replay. */
static void render_walks(const struct kt_trace *t, const struct kt_analysis *a, struct strbuf *sb)
{
    char fl[48], acc[64];

    sb_printf(sb, "\nGuest page walks: %zu, %zu failed\n", a->nwalks, a->nwalks_failed);
    for (size_t k = 0; k < a->nfailed; k++) {
        const struct kt_walk_explained *x = &a->failed[k];
        /* Long traces: the first few and the last few (the end explains a crash). */
        if (a->nfailed > TEXT_HEAD_WALKS + TEXT_TAIL_WALKS && k >= TEXT_HEAD_WALKS &&
            k < a->nfailed - TEXT_TAIL_WALKS) {
            if (k == TEXT_HEAD_WALKS)
                sb_printf(sb, "  ... %zu more failing walks (all of them are in --json) ...\n",
                          a->nfailed - TEXT_HEAD_WALKS - TEXT_TAIL_WALKS);
            continue;
        }
        const struct kt_walk *w = &a->walks[x->walk];
        pt_pferr_str(w->error_code, fl, sizeof(fl));
        access_str(w->access, acc, sizeof(acc));
        sb_printf(sb, "  line %u: %s of %#llx (%s) faulted: error code %#x %s\n",
                  ev_line(t, w->event), acc, (unsigned long long)w->addr, x->mode, w->error_code,
                  fl);
        for (unsigned i = 0; i < x->nlevels; i++)
            sb_printf(sb, "    %s\n", x->level_text[i]);
        sb_printf(sb, "    => %s: %s\n", x->kind, x->reason);
        sb_printf(sb, "    assumed: %s\n", x->assumed);
    }
}

/* Emulation failures and the instruction bytes that cannot be trusted. */
static void render_emulation(const struct kt_trace *t, const struct kt_analysis *a,
                             struct strbuf *sb)
{
    char bytes[64];

    if (a->emul_failures || a->emul_unreliable) {
        sb_printf(sb, "\nEmulation:\n");
        for (size_t i = 0; i < t->n; i++) {
            const struct kt_event *e = &t->ev[i];
            if (e->type != KT_EMULATE || !(e->u.emul.failed || e->u.emul.bytes_unreliable))
                continue;
            emul_bytes(e, bytes, sizeof(bytes));
            sb_printf(sb, "  line %u: %llx:%llx%s%s%s%s\n", e->line,
                      (unsigned long long)e->u.emul.csbase, (unsigned long long)e->u.emul.rip,
                      e->u.emul.failed ? " emulation FAILED" : " decode",
                      e->u.emul.len ? ", bytes " : ", no bytes", bytes,
                      e->u.emul.bytes_unreliable && e->u.emul.len
                          ? " (NOT evidence: the fetch walk for this RIP failed, so the decoder "
                            "read 0 bytes; trace-cmd's kvm plugin prints stale bytes from the "
                            "previous event; docs/trace.md)"
                      : e->u.emul.bytes_unreliable ? " (the instruction fetch walk failed)"
                                                   : "");
        }
        if (a->emul_fetch_not_ram)
            sb_printf(sb,
                      "  note: the instruction fetch walk succeeded (GPA %#llx) but the decoder "
                      "read no bytes: that GPA has no RAM behind it (no memslot, or MMIO), so "
                      "KVM cannot fetch the instruction\n",
                      (unsigned long long)a->emul_fetch_gpa);
        if (a->internal_error && a->nwalks_failed && a->emul_failures)
            sb_printf(sb, "  note: an emulation FAIL right after a failed fetch walk, ending in "
                          "KVM_EXIT_INTERNAL_ERROR, is KVM's SKIP emulation path (nested VMX "
                          "EPT_MISCONFIG fast MMIO, or SVM without next_rip); ordinary "
                          "emulation would have injected the #PF (docs/trace.md)\n");
    }
}

/* The injected exceptions, oldest first, and how the chain ended. */
static void render_chain(const struct kt_trace *t, const struct kt_analysis *a, struct strbuf *sb)
{
    char fl[48];

    if (a->nchain) {
        sb_printf(sb, "\nException chain:\n");
        for (unsigned k = 0; k < a->nchain; k++) {
            const struct kt_exc *x = &a->chain[k];
            sb_printf(sb, "  %s", x86_vector_name(x->vector));
            if (x->has_error_code && !x->inferred) {
                if (x->vector == X86_PF) {
                    pt_pferr_str(x->error_code, fl, sizeof(fl));
                    sb_printf(sb, " error code %#x %s", x->error_code, fl);
                } else {
                    sb_printf(sb, " error code %#x", x->error_code);
                }
            }
            if (x->fault_addr)
                sb_printf(sb, " for address %#llx", (unsigned long long)x->fault_addr);
            sb_printf(sb,
                      x->inferred ? " (not traced: KVM escalated, inferred from the IDT read)"
                                  : " injected (line %u)",
                      ev_line(t, x->event));
            if (x->delivery_failed)
                sb_printf(sb, "; delivery failed: reading its IDT entry at %#llx faulted",
                          (unsigned long long)x->idt_addr);
            sb_printf(sb, "\n");
        }
        if (a->shutdown)
            sb_printf(sb, "  -> shutdown: a fault while delivering #DF is a triple fault "
                          "(SDM Vol. 3A §6.15); KVM exits with KVM_EXIT_SHUTDOWN\n");
    }
}

void kt_render_text(const struct kt_trace *t, const struct kt_analysis *a, struct strbuf *sb)
{
    sb_printf(sb, "KVM trace: %u events (%u not interpreted), %u exits%s\n", a->total_events,
              t->other_events, a->total_exits, t->source == KT_SRC_DAT ? ", from trace.dat" : "");
    if (t->dropped_events)
        sb_printf(sb, "WARNING: %llu events were dropped by the ring buffer; gaps are possible\n",
                  (unsigned long long)t->dropped_events);
    sb_printf(sb, "Summary: %s\n", a->summary);

    if (a->nexit_kinds) {
        sb_printf(sb, "\nExit reasons:\n");
        for (unsigned i = 0; i < a->nexit_kinds; i++)
            sb_printf(sb, "  %-24s %u\n", a->exits[i].reason, a->exits[i].count);
    }

    render_walks(t, a, sb);
    render_emulation(t, a, sb);
    render_chain(t, a, sb);
    if (a->last_exit[0])
        sb_printf(sb, "\nLast exit to userspace: %s\n", a->last_exit);
}

static void json_hex(struct strbuf *sb, const char *key, uint64_t v, bool comma)
{
    sb_printf(sb, "\"%s\":\"%#llx\"%s", key, (unsigned long long)v, comma ? "," : "");
}

void kt_render_json(const struct kt_trace *t, const struct kt_analysis *a, struct strbuf *sb)
{
    char fl[48];

    sb_printf(sb, "{\"events\":%u,\"not_interpreted\":%u,\"dropped\":%llu,\"source\":\"%s\",",
              a->total_events, t->other_events, (unsigned long long)t->dropped_events,
              t->source == KT_SRC_DAT ? "trace.dat" : "text");
    sb_printf(sb, "\"exits\":{");
    for (unsigned i = 0; i < a->nexit_kinds; i++) {
        sb_json_str(sb, a->exits[i].reason);
        sb_printf(sb, ":%u%s", a->exits[i].count, i + 1 < a->nexit_kinds ? "," : "");
    }
    sb_printf(sb, "},\"walks\":{\"total\":%zu,\"failed\":[", a->nwalks);
    for (size_t k = 0; k < a->nfailed; k++) {
        const struct kt_walk_explained *x = &a->failed[k];
        const struct kt_walk *w = &a->walks[x->walk];
        sb_printf(sb, "%s{\"line\":%u,", k ? "," : "", ev_line(t, w->event));
        json_hex(sb, "addr", w->addr, true);
        json_hex(sb, "access", w->access, true);
        json_hex(sb, "error_code", w->error_code, true);
        pt_pferr_str(w->error_code, fl, sizeof(fl));
        sb_printf(sb, "\"error_flags\":");
        sb_json_str(sb, fl);
        sb_printf(sb, ",\"mode\":\"%s\",\"levels\":[", x->mode);
        for (unsigned i = 0; i < w->nlevels; i++) {
            sb_printf(sb, "%s{\"level\":%u,", i ? "," : "", w->level[i]);
            json_hex(sb, "pte", w->pte[i], i < x->nlevels);
            if (i < x->nlevels) {
                sb_printf(sb, "\"text\":");
                sb_json_str(sb, x->level_text[i]);
            }
            sb_printf(sb, "}");
        }
        sb_printf(sb, "],\"fail_level\":%d,\"kind\":", x->fail_level);
        sb_json_str(sb, x->kind);
        sb_printf(sb, ",");
        json_hex(sb, "rsvd_bits", x->rsvd_bits, true);
        sb_printf(sb, "\"reproduced\":%s,\"reason\":", x->reproduced ? "true" : "false");
        sb_json_str(sb, x->reason);
        sb_printf(sb, ",\"assumed\":");
        sb_json_str(sb, x->assumed);
        sb_printf(sb, "}");
    }
    sb_printf(sb, "]},\"emulation\":{\"failures\":%zu,\"unreliable_bytes\":%zu", a->emul_failures,
              a->emul_unreliable);
    if (a->emul_failures) {
        const struct kt_event *e = &t->ev[a->first_emul_failure];
        sb_printf(sb, ",\"first_failure\":{\"line\":%u,", e->line);
        json_hex(sb, "csbase", e->u.emul.csbase, true);
        json_hex(sb, "rip", e->u.emul.rip, true);
        sb_printf(sb, "\"len\":%u,\"bytes_reliable\":%s", e->u.emul.len,
                  e->u.emul.bytes_unreliable ? "false" : "true");
        if (a->emul_fetch_not_ram)
            sb_printf(sb, ",\"fetch_gpa_not_ram\":\"%#llx\"",
                      (unsigned long long)a->emul_fetch_gpa);
        sb_printf(sb, "}");
    }
    sb_printf(sb, "},\"exceptions\":[");
    for (unsigned k = 0; k < a->nchain; k++) {
        const struct kt_exc *x = &a->chain[k];
        sb_printf(sb, "%s{\"vector\":%u,\"name\":", k ? "," : "", x->vector);
        sb_json_str(sb, x86_vector_name(x->vector));
        if (x->has_error_code && !x->inferred)
            sb_printf(sb, ",\"error_code\":\"%#x\"", x->error_code);
        sb_printf(sb, ",\"inferred\":%s,\"delivery_failed\":%s", x->inferred ? "true" : "false",
                  x->delivery_failed ? "true" : "false");
        if (x->delivery_failed)
            sb_printf(sb, ",\"idt_addr\":\"%#llx\"", (unsigned long long)x->idt_addr);
        if (x->fault_addr)
            sb_printf(sb, ",\"fault_addr\":\"%#llx\"", (unsigned long long)x->fault_addr);
        sb_printf(sb, "}");
    }
    sb_printf(sb, "],\"end\":");
    sb_json_str(sb, a->last_exit);
    sb_printf(sb, ",\"triple_fault\":%s,\"internal_error\":%s,\"summary\":",
              a->shutdown ? "true" : "false", a->internal_error ? "true" : "false");
    sb_json_str(sb, a->summary);
    sb_printf(sb, "}\n");
}
