/*
 * The report as one screen of text and as the "explanation" JSON object.
 * The JSON "walk" member uses the schema of `kvmscope walk --json`.
 */
#include "diag_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *event_text(enum snap_event ev)
{
    switch (ev) {
    case SNAP_EV_NONE:
        return "stopped (reason unknown)";
    case SNAP_EV_TRIPLE_FAULT:
        return "triple fault (shutdown)";
    case SNAP_EV_INTERNAL_ERROR:
        return "KVM internal error";
    case SNAP_EV_FAIL_ENTRY:
        return "VM entry failed (KVM_EXIT_FAIL_ENTRY)";
    case SNAP_EV_HALT:
        return "halted";
    case SNAP_EV_DEBUG_EXIT:
        return "exited through the debug-exit port";
    case SNAP_EV_UNHANDLED_IO:
        return "unhandled I/O";
    case SNAP_EV_TIMEOUT:
        return "timed out";
    case SNAP_EV_EXCEPTION:
        return "exception";
    }
    return "?";
}

static const char *event_id(enum snap_event ev)
{
    switch (ev) {
    case SNAP_EV_NONE:
        return "unknown";
    case SNAP_EV_TRIPLE_FAULT:
        return "triple-fault";
    case SNAP_EV_INTERNAL_ERROR:
        return "internal-error";
    case SNAP_EV_FAIL_ENTRY:
        return "fail-entry";
    case SNAP_EV_HALT:
        return "halt";
    case SNAP_EV_DEBUG_EXIT:
        return "debug-exit";
    case SNAP_EV_UNHANDLED_IO:
        return "unhandled-io";
    case SNAP_EV_TIMEOUT:
        return "timeout";
    case SNAP_EV_EXCEPTION:
        return "exception";
    }
    return "?";
}

/* Verdict names as `kvmscope walk --json` prints them. */
static const char *verdict_id(enum pt_verdict v)
{
    switch (v) {
    case PT_OK:
        return "ok";
    case PT_RESERVED:
        return "reserved";
    case PT_NOT_PRESENT:
    case PT_UNBACKED:
        break; /* "unbacked":true tells them apart */
    }
    return "not_present";
}

static void access_text(uint32_t access, char *buf, size_t len)
{
    snprintf(buf, len, "%s, %s%s",
             (access & PFERR_F)   ? "fetch"
             : (access & PFERR_W) ? "write"
                                  : "read",
             (access & PFERR_U) ? "user" : "supervisor",
             (access & PT_ACCESS_IMPLICIT) ? ", implicit" : "");
}

static void exc_line(struct strbuf *sb, const struct diag_exc *e)
{
    char flags[48] = "";

    sb_printf(sb, "%s", x86_vector_name(e->info.vector));
    if (e->info.has_error_code) {
        if (e->info.vector == X86_PF) {
            pt_pferr_str(e->info.error_code, flags, sizeof(flags));
            sb_printf(sb, " error 0x%x (%s)", e->info.error_code, flags[0] ? flags : "not present");
        } else {
            sb_printf(sb, " error 0x%x", e->info.error_code);
        }
    }
    if (e->info.has_cr2)
        sb_printf(sb, ", CR2=0x%" PRIx64, e->info.cr2);
}

static void render_walk_text(const struct diag_report *r, struct strbuf *sb)
{
    const struct pt_walk *w = &r->walk;
    char acc[48], reason[200], flags[48];

    access_text(w->access, acc, sizeof(acc));
    sb_printf(sb, "\nWhy: the page walk of 0x%" PRIx64 " (%s), %s paging, CR3=0x%" PRIx64 "\n",
              w->gva, acc, pt_mode_name(w->mode), r->ctx.cr3);
    for (unsigned i = 0; i < w->nlevels; i++) {
        const struct pt_level *lv = &w->lv[i];

        sb_printf(sb, "  level %d %-5s[%3u] @ GPA 0x%-9" PRIx64 " = 0x%016" PRIx64 "  ", lv->level,
                  pt_level_name(w->mode, lv->level), lv->index, lv->entry_gpa, lv->entry);
        if (lv->verdict == PT_OK) {
            sb_printf(sb, "ok%s\n", lv->leaf ? " (leaf)" : "");
            continue;
        }
        pt_level_reason(&r->ctx, lv, reason, sizeof(reason));
        if (lv->verdict == PT_RESERVED)
            sb_printf(sb, "RESERVED bits 0x%" PRIx64 ": %s\n", lv->rsvd_bits, reason);
        else
            sb_printf(sb, "%s: %s\n", lv->verdict == PT_UNBACKED ? "UNBACKED" : "NOT PRESENT",
                      reason);
    }
    if (!w->fault) {
        sb_printf(sb, "  -> GPA 0x%" PRIx64 "\n", w->gpa);
        return;
    }
    if (w->perm_why) {
        pt_perm_reason(&r->ctx, w, reason, sizeof(reason));
        sb_printf(sb, "  permission: %s\n", reason);
    }
    pt_pferr_str(w->error_code, flags, sizeof(flags));
    sb_printf(sb, "  error code 0x%x = %s", w->error_code, flags[0] ? flags : "0 (not present)");
    if ((w->access & PFERR_F) && !(w->error_code & PFERR_F))
        sb_printf(sb, "; F is not reported because EFER.NXE=0 and CR4.SMEP=0");
    sb_putc(sb, '\n');
}

void diag_render_text(const struct diag_report *r, struct strbuf *sb)
{
    sb_printf(sb, "kvmscope: %s at %s", event_text(r->event), r->where);
    if (r->have & SNAP_HAVE_SREGS)
        sb_printf(sb, " in %s, CPL %u", x86_cpu_mode_name(r->mode), r->cpl);
    if (r->source[0])
        sb_printf(sb, " [%s]", r->source);
    sb_putc(sb, '\n');
    if (r->fetched) {
        if (r->fetch_rc == 0) {
            sb_printf(sb, "  instruction:");
            for (unsigned i = 0; i < r->insn.len; i++)
                sb_printf(sb, " %02x", r->insn.bytes[i]);
            sb_printf(sb, "   %s\n", r->insn.intel);
        } else if (r->fetch.fault) {
            sb_printf(sb,
                      "  instruction: cannot be fetched (the fetch walk of 0x%" PRIx64 " faults)\n",
                      r->fetch.walk.gva);
        } else if (r->fetch.unbacked) {
            sb_printf(sb, "  instruction: RIP maps to GPA 0x%" PRIx64 ", outside guest RAM\n",
                      r->fetch.unbacked_gpa);
        } else if (r->fetch_rc == -EILSEQ) {
            sb_printf(sb, "  instruction: not a valid instruction (#UD)\n");
        }
    }
    if (!r->has_cause && r->n_exc == 0) {
        if (r->event == SNAP_EV_HALT || r->event == SNAP_EV_DEBUG_EXIT ||
            r->event == SNAP_EV_TIMEOUT || r->event == SNAP_EV_UNHANDLED_IO)
            sb_printf(sb, "Nothing to explain: the guest was not stopped by a fault.\n");
        else if (!r->fetched)
            sb_printf(sb, "No cause can be shown without guest memory (see the notes).\n");
        else
            sb_printf(sb, "No cause found.\n");
    }
    if (r->n_exc > 0) {
        sb_printf(sb, "\nWhat happened%s:\n",
                  r->event == SNAP_EV_INTERNAL_ERROR
                      ? " (KVM stopped before injecting; this is what delivery would do)"
                  : r->chain_inferred ? " (replayed from the state at RIP)"
                                      : "");
        for (unsigned i = 0; i < r->n_exc; i++) {
            const struct diag_exc *e = &r->exc[i];

            sb_printf(sb, "  %u. ", i + 1);
            exc_line(sb, e);
            if (e->raised_by[0])
                sb_printf(sb, ": %s", e->raised_by);
            sb_putc(sb, '\n');
            if (e->delivery[0])
                sb_printf(sb, "     -> %s\n", e->delivery);
        }
        if (r->triple_fault)
            sb_printf(sb, "  => triple fault: the CPU shuts down (under KVM: KVM_EXIT_SHUTDOWN)\n");
    }
    if (r->has_walk)
        render_walk_text(r, sb);
    if (r->has_cause) {
        sb_printf(sb, "\nCause: %s: %s\n", r->cause.id, r->cause.summary);
        if (r->has_secondary)
            sb_printf(sb, "  and: %s: %s\n", r->secondary.id, r->secondary.summary);
    }
    if (r->n_fix) {
        sb_printf(sb, "Fix:\n");
        for (unsigned i = 0; i < r->n_fix; i++)
            sb_printf(sb, "  - %s\n", r->fix[i]);
    }
    if (r->n_notes) {
        sb_printf(sb, "Notes:\n");
        for (unsigned i = 0; i < r->n_notes; i++)
            sb_printf(sb, "  - %s\n", r->notes[i]);
    }
}

/* --- JSON ------------------------------------------------------------------------------ */

static void json_hex(struct strbuf *sb, const char *key, uint64_t v, bool comma)
{
    sb_printf(sb, "\"%s\":\"0x%" PRIx64 "\"%s", key, v, comma ? "," : "");
}

/* The schema of `kvmscope walk --json` (cli/cmd_walk.c), plus "implicit". */
static void json_walk(const struct diag_report *r, struct strbuf *sb)
{
    const struct pt_walk *w = &r->walk;
    char flags[48], reason[200] = "";
    const struct pt_level *flv = diag_fault_lv(w);

    sb_puts(sb, "{");
    json_hex(sb, "address", w->gva, false);
    sb_printf(sb, ",\"access\":\"%s\",\"user\":%s,\"implicit\":%s,\"mode\":",
              (w->access & PFERR_F)   ? "x"
              : (w->access & PFERR_W) ? "w"
                                      : "r",
              (w->access & PFERR_U) ? "true" : "false",
              (w->access & PT_ACCESS_IMPLICIT) ? "true" : "false");
    sb_json_str(sb, pt_mode_name(w->mode));
    sb_puts(sb, ",\"levels\":[");
    for (unsigned i = 0; i < w->nlevels; i++) {
        const struct pt_level *lv = &w->lv[i];

        sb_printf(sb, "%s{\"level\":%d,\"index\":%u,", i ? "," : "", lv->level, lv->index);
        json_hex(sb, "entry_gpa", lv->entry_gpa, true);
        if (lv->verdict == PT_UNBACKED)
            sb_puts(sb, "\"entry\":null,\"unbacked\":true,");
        else
            json_hex(sb, "entry", lv->entry, true);
        sb_printf(sb, "\"verdict\":\"%s\"", verdict_id(lv->verdict));
        if (lv->verdict == PT_RESERVED)
            sb_printf(sb, ",\"reserved_bits\":\"0x%" PRIx64 "\"", lv->rsvd_bits);
        if (lv->leaf)
            sb_puts(sb, ",\"leaf\":true");
        sb_puts(sb, "}");
    }
    sb_puts(sb, "]");
    if (!w->fault) {
        sb_printf(sb, ",\"gpa\":\"0x%" PRIx64 "\"}", w->gpa);
        return;
    }
    pt_pferr_str(w->error_code, flags, sizeof(flags));
    if (flv)
        pt_level_reason(&r->ctx, flv, reason, sizeof(reason));
    else
        pt_perm_reason(&r->ctx, w, reason, sizeof(reason));
    sb_printf(sb, ",\"fault\":{\"vector\":14,\"error_code\":%u,\"flags\":", w->error_code);
    sb_json_str(sb, flags);
    sb_printf(sb, ",\"level\":%d", w->fault_level);
    if (flv && flv->verdict == PT_RESERVED)
        sb_printf(sb, ",\"reserved_bits\":\"0x%" PRIx64 "\"", flv->rsvd_bits);
    if (flv && flv->verdict == PT_UNBACKED)
        sb_puts(sb, ",\"unbacked\":true");
    if (!flv)
        sb_puts(sb, ",\"permission\":true");
    sb_puts(sb, ",\"reason\":");
    sb_json_str(sb, reason);
    sb_puts(sb, "}}");
}

static void json_cause(struct strbuf *sb, const struct diag_cause *c)
{
    sb_puts(sb, "{\"id\":");
    sb_json_str(sb, c->id);
    sb_puts(sb, ",\"summary\":");
    sb_json_str(sb, c->summary);
}

void diag_render_json(const struct diag_report *r, struct strbuf *sb)
{
    sb_printf(sb, "{\"event\":\"%s\",", event_id(r->event));
    json_hex(sb, "rip", r->s.rip, true);
    sb_puts(sb, "\"mode\":");
    sb_json_str(sb, x86_cpu_mode_name(r->mode));
    sb_printf(sb, ",\"cpl\":%u,\"instruction\":", r->cpl);
    if (r->fetched && r->fetch_rc == 0) {
        sb_puts(sb, "{\"bytes\":\"");
        for (unsigned i = 0; i < r->insn.len; i++)
            sb_printf(sb, "%s%02x", i ? " " : "", r->insn.bytes[i]);
        sb_printf(sb, "\",\"length\":%u,\"text\":", r->insn.len);
        sb_json_str(sb, r->insn.intel);
        sb_puts(sb, "}");
    } else {
        sb_puts(sb, "null");
    }
    sb_puts(sb, ",\"exceptions\":[");
    for (unsigned i = 0; i < r->n_exc; i++) {
        const struct diag_exc *e = &r->exc[i];

        sb_printf(sb, "%s{\"vector\":%u,\"name\":", i ? "," : "", e->info.vector);
        sb_json_str(sb, x86_vector_name(e->info.vector));
        if (e->info.has_error_code)
            sb_printf(sb, ",\"error_code\":%u", e->info.error_code);
        if (e->info.has_cr2)
            sb_printf(sb, ",\"cr2\":\"0x%" PRIx64 "\"", e->info.cr2);
        sb_printf(sb, ",\"rip\":\"0x%" PRIx64 "\",\"delivered\":%s,\"raised_by\":", e->info.rip,
                  e->info.delivered ? "true" : "false");
        sb_json_str(sb, e->raised_by);
        sb_puts(sb, ",\"delivery\":");
        sb_json_str(sb, e->delivery);
        sb_puts(sb, "}");
    }
    sb_printf(sb, "],\"triple_fault\":%s,\"walk\":", r->triple_fault ? "true" : "false");
    if (r->has_walk)
        json_walk(r, sb);
    else
        sb_puts(sb, "null");
    sb_puts(sb, ",\"cause\":");
    if (r->has_cause) {
        json_cause(sb, &r->cause);
        if (r->has_secondary) {
            sb_puts(sb, ",\"secondary\":");
            json_cause(sb, &r->secondary);
            sb_puts(sb, "}");
        }
        sb_puts(sb, ",\"fix\":[");
        for (unsigned i = 0; i < r->n_fix; i++) {
            if (i)
                sb_putc(sb, ',');
            sb_json_str(sb, r->fix[i]);
        }
        sb_puts(sb, "]}");
    } else {
        sb_puts(sb, "null");
    }
    sb_puts(sb, ",\"notes\":[");
    for (unsigned i = 0; i < r->n_notes; i++) {
        if (i)
            sb_putc(sb, ',');
        sb_json_str(sb, r->notes[i]);
    }
    sb_puts(sb, "]}");
}
