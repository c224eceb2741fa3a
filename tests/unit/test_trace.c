/* KVM trace parsing and analysis (lib/formats/ktrace*.c) on real captures and crafted lines. */
#include "harness.h"

#include "formats_fixture.h"
#include "ks/ktrace.h"
#include "ks/paging.h"

#include <errno.h>
#include <unistd.h>

static char err[KS_ERR_LEN];

/*
 * libtraceevent 1.7.1 leaks a 2-byte strdup inside tep_parse_event() while
 * loading a trace.dat's event formats (seen with LeakSanitizer; nothing of
 * ours is on that stack). Suppress exactly that library in sanitizer runs.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libtraceevent.so\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
static const struct kt_assume unknown = {0, -1, -1, false};

static int parse_fixture(const char *name, struct kt_trace *t)
{
    size_t len;
    char *txt = fixture_read(name, &len);
    int rc;

    if (!txt)
        return -999;
    rc = kt_parse_text(txt, len, t, err);
    free(txt);
    return rc;
}

static int parse_str(const char *s, struct kt_trace *t)
{
    return kt_parse_text(s, strlen(s), t, err);
}

/* The n-th event of (type), or an all-zero event (type KT_OTHER) so that checks fail cleanly. */
static const struct kt_event *nth(const struct kt_trace *t, enum kt_type type, unsigned n)
{
    static const struct kt_event none;

    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].type == type && n-- == 0)
            return &t->ev[i];
    return &none;
}

/* The five renderings of one record set in trace-cmd 3.1.6 (formats.md §6.1). */
static void report_renderings(void)
{
    struct kt_trace t;
    const struct kt_event *e;

    EXPECT_EQ(parse_fixture("tracecmd316_report_kvm_synthetic.txt", &t), 0);
    EXPECT_EQ(t.n, 35);
    EXPECT_EQ(t.other_events, 0);
    for (unsigned r = 0; r < 5; r++) {
        e = nth(&t, KT_EXIT, 3 * r);
        EXPECT_EQ(e->type, KT_EXIT);
        EXPECT_STR(e->u.exit.reason, "IO_INSTRUCTION");
        EXPECT_EQ(e->u.exit.rip, 0x1003);
        EXPECT_EQ(e->u.exit.info1, 0x3f80008);
        EXPECT_EQ(e->pid, 4242);
        EXPECT_STR(e->comm, "<...>");
        EXPECT_EQ(e->cpu, 0);
        e = nth(&t, KT_EXIT, 3 * r + 2);
        EXPECT_EQ(e->u.exit.rip, 0xffffffff81000000ULL);
        EXPECT_EQ(e->u.exit.info2, 0xfee00000);
        EXPECT_EQ(e->u.exit.isa, KT_ISA_SVM);
        e = nth(&t, KT_PIO, r);
        EXPECT(e->u.pio.write && e->u.pio.port == 0x3f8 && e->u.pio.val == 0x41);
        e = nth(&t, KT_USERSPACE_EXIT, r);
        EXPECT_STR(e->u.uexit.reason, "KVM_EXIT_IO");
        EXPECT_EQ(e->u.uexit.code, 2);
        e = nth(&t, KT_ENTRY, 2 * r + 1);
        EXPECT_EQ(e->u.entry.rip, 0x1005);
    }
    /* default: microseconds; -t: nanoseconds. */
    EXPECT_EQ(nth(&t, KT_EXIT, 0)->ts_ns, 1234567890125000ULL);
    EXPECT_EQ(nth(&t, KT_EXIT, 6)->ts_ns, 1234567890124956ULL);
    /* plugin SVM name vs kernel name vs raw number. */
    EXPECT_STR(nth(&t, KT_EXIT, 2)->u.exit.reason, "EXIT_NPF");
    EXPECT_STR(nth(&t, KT_EXIT, 11)->u.exit.reason, "npf");
    EXPECT_STR(nth(&t, KT_EXIT, 14)->u.exit.reason, "npf");
    EXPECT(nth(&t, KT_EXIT, 14)->u.exit.code_known);
    EXPECT_EQ(nth(&t, KT_EXIT, 14)->u.exit.code, 1024);
    /* -N kernel form carries vcpu and intr_info. */
    e = nth(&t, KT_EXIT, 9);
    EXPECT(e->u.exit.has_vcpu && e->u.exit.has_intr);
    kt_free(&t);
}

/* Raw tracefs text from QEMU+KVM on the PVM host (spec/host.md). */
static void tracefs_pvm_capture(void)
{
    struct kt_trace t;
    const struct kt_event *e;
    size_t empty = 0;

    EXPECT_EQ(parse_fixture("kvm_pvm_1g_pages_triple_fault.trace.txt", &t), 0);
    EXPECT_EQ(t.n, 120);
    EXPECT_EQ(t.other_events, 2); /* kvm_msr */
    e = &t.ev[0];
    EXPECT_STR(e->comm, "qemu-system-x86");
    EXPECT_EQ(e->pid, 12629);
    EXPECT_EQ(e->cpu, 1);
    EXPECT_EQ(e->u.emul.len, 2);
    EXPECT_EQ(e->u.emul.bytes[0], 0x72);
    EXPECT_STR(e->u.emul.mode, "prot32");
    EXPECT(!e->u.emul.plugin_form);
    for (size_t i = 0; i < t.n; i++)
        if (t.ev[i].type == KT_EMULATE && t.ev[i].u.emul.len == 0) {
            empty++;
            EXPECT_EQ(t.ev[i].u.emul.rip, 0x10107c);
        }
    EXPECT_EQ(empty, 1);
    e = nth(&t, KT_WALK, 1);
    EXPECT_EQ(e->u.walk.addr, 0xe0);
    EXPECT_EQ(e->u.walk.access, 0);
    e = nth(&t, KT_INJ_EXCEPTION, 0);
    EXPECT_EQ(e->u.inj.vector, 14);
    EXPECT(e->u.inj.has_error_code);
    EXPECT_EQ(e->u.inj.error_code, 9);
    kt_free(&t);
}

static void explain_pvm_triple_fault(void)
{
    struct kt_trace t;
    struct kt_analysis a;
    struct strbuf sb;

    EXPECT_EQ(parse_fixture("kvm_pvm_1g_pages_triple_fault.trace.txt", &t), 0);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT(a.shutdown);
    EXPECT(!a.internal_error);
    EXPECT_EQ(a.nwalks, 3);
    EXPECT_EQ(a.nwalks_failed, 3);
    EXPECT_EQ(a.nxe_inferred, 0); /* fetch access, no F in the code */
    EXPECT_EQ(a.nfailed, 3);
    for (size_t k = 0; k < a.nfailed; k++) {
        EXPECT(a.failed[k].reproduced);
        EXPECT_EQ(a.failed[k].fail_level, 3);
        EXPECT_STR(a.failed[k].kind, "reserved bit");
        EXPECT_EQ(a.failed[k].rsvd_bits, 0x80);
        EXPECT_STR(a.failed[k].mode, "4-level");
        EXPECT_CONTAINS(a.failed[k].reason, "1 GiB pages");
        EXPECT_CONTAINS(a.failed[k].assumed, "1 GiB pages off in KVM (inferred");
    }
    EXPECT_EQ(a.walks[0].addr, 0x10107c);
    EXPECT_EQ(a.nchain, 2);
    EXPECT_EQ(a.chain[0].vector, 14);
    EXPECT_EQ(a.chain[0].fault_addr, 0x10107c);
    EXPECT(a.chain[0].delivery_failed);
    EXPECT_EQ(a.chain[0].idt_addr, 0xe0);
    EXPECT_EQ(a.chain[1].vector, 8);
    EXPECT(a.chain[1].inferred);
    EXPECT_EQ(a.chain[1].idt_addr, 0x80);
    EXPECT_CONTAINS(a.summary, "triple fault");
    EXPECT_CONTAINS(a.summary, "#PF(0x9 P|RSVD) -> #DF -> shutdown");
    sb_init(&sb);
    kt_render_text(&t, &a, &sb);
    EXPECT_CONTAINS(sb_str(&sb), "level 3 entry 0x83: PS at level 3 needs 1 GiB pages");
    EXPECT_CONTAINS(sb_str(&sb), "#DF (not traced");
    sb_reset(&sb);
    kt_render_json(&t, &a, &sb);
    EXPECT_CONTAINS(sb_str(&sb), "\"triple_fault\":true");
    EXPECT_CONTAINS(sb_str(&sb), "\"fail_level\":3");
    EXPECT(!sb.oom);
    sb_free(&sb);
    kt_analysis_free(&a);
    kt_free(&t);
}

/* `perf script` of `perf record -e 'kvm:*' -e 'kvmmmu:*'` on the same crash (a real capture). */
static void perf_script_capture(void)
{
    struct kt_trace t;
    struct kt_analysis a;
    const struct kt_event *e;

    EXPECT_EQ(parse_fixture("kvm_pvm_1g_pages_perf_script.txt", &t), 0);
    EXPECT_EQ(t.n, 19);
    EXPECT_EQ(t.other_events, 1); /* kvm_fpu */
    e = &t.ev[0];
    EXPECT_STR(e->comm, "qemu-system-x86");
    EXPECT_EQ(e->pid, 9238);
    EXPECT_STR(e->name, "kvm_emulate_insn");
    /* perf's libtraceevent could not render kvm_inj_exception: raw fields after a marker. */
    e = nth(&t, KT_INJ_EXCEPTION, 0);
    EXPECT_EQ(e->u.inj.vector, 14);
    EXPECT(e->u.inj.has_error_code);
    EXPECT_EQ(e->u.inj.error_code, 9);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT(a.shutdown);
    EXPECT_EQ(a.nchain, 2);
    EXPECT_CONTAINS(a.summary, "#PF(0x9 P|RSVD) -> #DF -> shutdown");
    EXPECT_EQ(a.failed[0].fail_level, 3);
    kt_analysis_free(&a);
    kt_free(&t);
}

/* The seed's trace-cmd report: plugin bytes "ec" after a failed fetch walk are stale. */
static void explain_seed_internal_error(void)
{
    struct kt_trace t;
    struct kt_analysis a;
    const struct kt_event *e;

    EXPECT_EQ(parse_fixture("seed_1gb_pages.trace.txt", &t), 0);
    EXPECT_EQ(t.n, 8);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT(a.internal_error);
    EXPECT(!a.shutdown);
    EXPECT_EQ(a.emul_failures, 1);
    EXPECT_EQ(a.emul_unreliable, 2);
    e = &t.ev[a.first_emul_failure];
    EXPECT(e->u.emul.failed && e->u.emul.plugin_form && e->u.emul.bytes_unreliable);
    EXPECT_EQ(e->u.emul.bytes[0], 0xec);
    EXPECT_EQ(a.nfailed, 1);
    EXPECT(a.failed[0].reproduced);
    EXPECT_EQ(a.failed[0].fail_level, 3);
    EXPECT_EQ(a.nexit_kinds, 1);
    EXPECT_STR(a.exits[0].reason, "EPT_MISCONFIG");
    EXPECT_STR(a.last_exit, "KVM_EXIT_INTERNAL_ERROR");
    kt_analysis_free(&a);

    /* Told that KVM had 1 GiB pages, nothing reproduces KVM's code: the report says so. */
    {
        struct kt_assume gb = {0, -1, 1, false};
        EXPECT_EQ(kt_analyze(&t, &gb, &a), 0);
        EXPECT(!a.failed[0].reproduced);
        EXPECT_CONTAINS(a.failed[0].assumed, "NOT reproduced");
        kt_analysis_free(&a);
    }
    kt_free(&t);
}

/* A real capture: the fetch walk for 0x6000000 translates, but there is no RAM at that GPA. */
static void explain_fetch_from_non_ram(void)
{
    struct kt_trace t;
    struct kt_analysis a;
    struct strbuf sb;

    EXPECT_EQ(parse_fixture("kvm_pvm_unbacked_fetch.trace.txt", &t), 0);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT(a.internal_error);
    EXPECT_EQ(a.nwalks_failed, 0);
    EXPECT_EQ(a.emul_failures, 1);
    EXPECT(a.emul_fetch_not_ram);
    EXPECT_EQ(a.emul_fetch_gpa, 0x6000000);
    EXPECT_CONTAINS(a.summary, "GPA 0x6000000, which is not RAM");
    sb_init(&sb);
    kt_render_json(&t, &a, &sb);
    EXPECT_CONTAINS(sb_str(&sb), "\"fetch_gpa_not_ram\":\"0x6000000\"");
    sb_free(&sb);
    kt_analysis_free(&a);
    kt_free(&t);
}

#define HEAD " qemu-system-x86-100   [000] .....   10.000001: "

static void explain_other_walk_failures(void)
{
    struct kt_trace t;
    struct kt_analysis a;
    const char *trace =
        /* 1: not present PTE, write access */
        HEAD "kvm_mmu_pagetable_walk: addr 133025 pferr 2 W\n" HEAD
             "kvm_mmu_paging_element: pte 2023 level 4\n" HEAD
             "kvm_mmu_paging_element: pte 3023 level 3\n" HEAD
             "kvm_mmu_paging_element: pte 4023 level 2\n" HEAD
             "kvm_mmu_paging_element: pte 0 level 1\n" HEAD "kvm_mmu_walker_error: pferr 2 W\n"
        /* 2: bit 36 of a PTE with MAXPHYADDR 36 */
        HEAD "kvm_mmu_pagetable_walk: addr 133025 pferr 0 \n" HEAD
             "kvm_mmu_paging_element: pte 2023 level 4\n" HEAD
             "kvm_mmu_paging_element: pte 3023 level 3\n" HEAD
             "kvm_mmu_paging_element: pte 4023 level 2\n" HEAD
             "kvm_mmu_paging_element: pte 1000005023 level 1\n" HEAD
             "kvm_mmu_walker_error: pferr 9 P|RSVD\n"
        /* 3: user read of a supervisor page */
        HEAD "kvm_mmu_pagetable_walk: addr 133025 pferr 4 U\n" HEAD
             "kvm_mmu_paging_element: pte 2027 level 4\n" HEAD
             "kvm_mmu_paging_element: pte 3027 level 3\n" HEAD
             "kvm_mmu_paging_element: pte 4027 level 2\n" HEAD
             "kvm_mmu_paging_element: pte 5023 level 1\n" HEAD "kvm_mmu_walker_error: pferr 5 P|U\n"
        /* 4: a successful walk that sets A bits */
        HEAD "kvm_mmu_pagetable_walk: addr 1000 pferr 0 \n" HEAD
             "kvm_mmu_paging_element: pte 2007 level 4\n" HEAD
             "kvm_mmu_paging_element: pte 80 level 3\n" HEAD "kvm_mmu_set_accessed_bit: gpa 1000\n"
        /* 5: NX fetch with EFER.NXE=1 (F kept in the code) */
        HEAD "kvm_mmu_pagetable_walk: addr 133025 pferr 10 F\n" HEAD
             "kvm_mmu_paging_element: pte 2023 level 4\n" HEAD
             "kvm_mmu_paging_element: pte 3023 level 3\n" HEAD
             "kvm_mmu_paging_element: pte 4023 level 2\n" HEAD
             "kvm_mmu_paging_element: pte 8000000000005023 level 1\n" HEAD
             "kvm_mmu_walker_error: pferr 11 P|F\n";

    EXPECT_EQ(parse_str(trace, &t), 0);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT_EQ(a.nwalks, 5);
    EXPECT_EQ(a.nwalks_failed, 4);
    EXPECT_EQ(a.nfailed, 4);
    EXPECT_EQ(a.walks[3].n_ad, 1);
    EXPECT(!a.walks[3].failed);
    EXPECT_STR(a.failed[0].kind, "not present");
    EXPECT_EQ(a.failed[0].fail_level, 1);
    EXPECT(a.failed[0].reproduced);
    EXPECT_STR(a.failed[1].kind, "reserved bit");
    EXPECT_EQ(a.failed[1].rsvd_bits, 1ULL << 36);
    EXPECT_CONTAINS(a.failed[1].assumed, "MAXPHYADDR 36 (assumed)");
    EXPECT(a.failed[1].reproduced);
    EXPECT_STR(a.failed[2].kind, "permission");
    EXPECT(a.failed[2].reproduced);
    EXPECT_STR(a.failed[3].kind, "permission");
    EXPECT(a.failed[3].reproduced);
    EXPECT_CONTAINS(a.failed[3].assumed, "EFER.NXE=1");
    kt_analysis_free(&a);
    kt_free(&t);
}

/* Many failing walks: the text shows the first 3 and the last 5, the JSON all of them. */
static void long_trace_text_is_bounded(void)
{
    const char *walk = HEAD "kvm_mmu_pagetable_walk: addr 133025 pferr 10 F\n" HEAD
                            "kvm_mmu_paging_element: pte bf9023 level 4\n" HEAD
                            "kvm_mmu_paging_element: pte a3 level 3\n" HEAD
                            "kvm_mmu_walker_error: pferr 9 P|RSVD\n";
    struct strbuf txt, sb;
    struct kt_trace t;
    struct kt_analysis a;
    size_t n = 0;

    sb_init(&txt);
    for (int i = 0; i < 20; i++)
        sb_puts(&txt, walk);
    EXPECT_EQ(parse_str(sb_str(&txt), &t), 0);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT_EQ(a.nfailed, 20);
    sb_init(&sb);
    kt_render_text(&t, &a, &sb);
    for (const char *p = sb_str(&sb); (p = strstr(p, "faulted:")); p++)
        n++;
    EXPECT_EQ(n, 8);
    EXPECT_CONTAINS(sb_str(&sb), "... 12 more failing walks");
    EXPECT_CONTAINS(sb_str(&sb), "line 77:"); /* the last walk is always shown */
    sb_reset(&sb);
    kt_render_json(&t, &a, &sb);
    n = 0;
    for (const char *p = sb_str(&sb); (p = strstr(p, "\"error_code\":\"0x9\"")); p++)
        n++;
    EXPECT_EQ(n, 20);
    sb_free(&sb);
    sb_free(&txt);
    kt_analysis_free(&a);
    kt_free(&t);
}

/* PAE (PDPTE register traced as level 3), 32-bit 4 MiB pages, and 5-level walks. */
static void explain_other_modes(void)
{
    struct kt_trace t;
    struct kt_analysis a;
    const char *trace = HEAD
        "kvm_mmu_pagetable_walk: addr 133025 pferr 2 W\n" HEAD
        "kvm_mmu_paging_element: pte 0 level 3\n" HEAD "kvm_mmu_walker_error: pferr 2 W\n" HEAD
        "kvm_mmu_pagetable_walk: addr 133025 pferr 0 \n" HEAD
        "kvm_mmu_paging_element: pte 3001 level 3\n" HEAD
        "kvm_mmu_paging_element: pte 4000000000004027 level 2\n" HEAD
        "kvm_mmu_walker_error: pferr 9 P|RSVD\n" HEAD
        "kvm_mmu_pagetable_walk: addr 533025 pferr 0 \n" HEAD
        "kvm_mmu_paging_element: pte 420083 level 2\n" HEAD
        "kvm_mmu_walker_error: pferr 9 P|RSVD\n" HEAD
        "kvm_mmu_pagetable_walk: addr 1000133025 pferr 0 \n" HEAD
        "kvm_mmu_paging_element: pte 20a7 level 5\n" HEAD "kvm_mmu_walker_error: pferr 9 P|RSVD\n";

    EXPECT_EQ(parse_str(trace, &t), 0);
    EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
    EXPECT_EQ(a.nfailed, 4);
    EXPECT_STR(a.failed[0].mode, "PAE");
    EXPECT_STR(a.failed[0].kind, "not present");
    EXPECT(a.failed[0].reproduced);
    EXPECT_STR(a.failed[1].mode, "PAE");
    EXPECT_EQ(a.failed[1].rsvd_bits, 1ULL << 62); /* PAE reserves 62:M, 4-level does not */
    EXPECT(a.failed[1].reproduced);
    EXPECT_STR(a.failed[2].mode, "32-bit");
    EXPECT_EQ(a.failed[2].rsvd_bits, 1ULL << 17); /* PSE-36: bits 21:17 reserved */
    EXPECT(a.failed[2].reproduced);
    EXPECT(!strstr(a.failed[2].assumed, "1 GiB"));
    EXPECT_STR(a.failed[3].mode, "5-level");
    EXPECT_EQ(a.failed[3].fail_level, 5);
    EXPECT(a.failed[3].reproduced);
    kt_analysis_free(&a);
    kt_free(&t);
}

static void event_forms(void)
{
    struct kt_event ev;
    const char *l;

#define LINE(s) (l = HEAD s, kt_parse_line(l, strlen(l), 1, &ev, err))
    EXPECT_EQ(LINE("kvm_exit:             reason UNKNOWN (33) rip 0x10 info 0 0"), 1);
    EXPECT(ev.u.exit.code_known);
    EXPECT_EQ(ev.u.exit.code, 33);
    EXPECT_EQ(LINE("kvm_exit: reason EPT_MISCONFIG rip 0x133025 vmlinux_func info 0 0"), 1);
    EXPECT_EQ(ev.u.exit.rip, 0x133025);
    EXPECT_EQ(LINE("kvm_exit: vcpu 1 reason EPT_VIOLATION rip 0x401000 info1 0x0000000000000181 "
                   "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000"),
              1);
    EXPECT_EQ(ev.u.exit.vcpu, 1);
    EXPECT_EQ(ev.u.exit.info1, 0x181);
    EXPECT_EQ(LINE("kvm_entry: vcpu 0, rip 0x1000 [immediate exit]"), 1);
    EXPECT(ev.u.entry.immediate_exit);
    EXPECT_EQ(LINE("kvm_entry: vcpu 3"), 1);
    EXPECT_EQ(ev.u.entry.vcpu, 3);
    EXPECT_EQ(LINE("kvm_inj_exception: #GP (0x0)"), 1);
    EXPECT_EQ(ev.u.inj.vector, 13);
    EXPECT_EQ(LINE("kvm_inj_exception: #UD"), 1);
    EXPECT(!ev.u.inj.has_error_code);
    EXPECT_EQ(LINE("kvm_inj_exception: #PF (0x9) [reinjected]"), 1);
    EXPECT(ev.u.inj.reinjected);
    EXPECT_EQ(LINE("kvm_page_fault: vcpu 0 rip 0x1000 address 0x0000000000133025 error_code 0x9"),
              1);
    EXPECT_EQ(ev.u.pf.address, 0x133025);
    EXPECT_EQ(ev.u.pf.error_code, 9);
    EXPECT_EQ(LINE("kvm_page_fault: address 133025 error_code 9"), 1);
    EXPECT_EQ(ev.u.pf.address, 0x133025);
    EXPECT_EQ(LINE("kvm_mmio: mmio unsatisfied-read len 4 gpa 0xfee00030 val 0x0"), 1);
    EXPECT_EQ(ev.u.mmio.kind, 2);
    EXPECT_EQ(ev.u.mmio.gpa, 0xfee00030);
    EXPECT_EQ(LINE("kvm_fast_mmio: fast mmio at gpa 0xfe000000"), 1);
    EXPECT_EQ(ev.u.fast_mmio.gpa, 0xfe000000);
    EXPECT_EQ(LINE("kvm_userspace_exit: reason restart (4)"), 1);
    EXPECT_EQ(LINE("kvm_userspace_exit: reason error (-14)"), 1);
    EXPECT_EQ(ev.u.uexit.code, -14);
    EXPECT_EQ(LINE("kvm_emulate_insn: 0:133025:ec (prot64) failed"), 1);
    EXPECT(ev.u.emul.failed && !ev.u.emul.plugin_form);
    EXPECT_EQ(LINE("kvm_emulate_insn: f0000:a962: inb %dx, %al"), 1); /* udis86 text */
    EXPECT_EQ(ev.u.emul.len, 0);
    EXPECT_EQ(LINE("kvm_mmu_set_dirty_bit: gpa 4998"), 1);
    EXPECT_EQ(ev.u.ad.gpa, 0x4998);
    EXPECT_EQ(LINE("sched_switch: prev_comm=a prev_pid=1"), 1);
    EXPECT_EQ(ev.type, KT_OTHER);
    /* TGID column and -l heads. */
    l = "           bash-1234  (   1234) [002] d..2.   123.456789: kvm_entry: vcpu 0, rip 0x10";
    EXPECT_EQ(kt_parse_line(l, strlen(l), 1, &ev, err), 1);
    EXPECT_EQ(ev.pid, 1234);
    EXPECT_EQ(ev.cpu, 2);
    l = "   <...>-4242    3d..1. 1234567.890125: kvm_exit:             reason HLT rip 0x1006 info "
        "0 0";
    EXPECT_EQ(kt_parse_line(l, strlen(l), 1, &ev, err), 1);
    EXPECT_EQ(ev.cpu, 3);
    /* Not events. */
    l = "cpus=2";
    EXPECT_EQ(kt_parse_line(l, strlen(l), 1, &ev, err), 0);
    l = "# tracer: nop";
    EXPECT_EQ(kt_parse_line(l, strlen(l), 1, &ev, err), 0);
#undef LINE
}

static void malformed_traces(void)
{
    struct kt_trace t;

    EXPECT_EQ(parse_str(HEAD "kvm_exit: reason HLT rip 0x1 info 0 0\n"
                             " qemu-system-x86-100   [000] .....   10.0000",
                        &t),
              -EINVAL);
    EXPECT_CONTAINS(err, "line 2: not a trace event line");
    kt_free(&t);
    EXPECT_EQ(parse_str(HEAD "kvm_exit: banana\n", &t), -EINVAL);
    EXPECT_CONTAINS(err, "line 1: kvm_exit: cannot parse 'banana'");
    kt_free(&t);
    EXPECT_EQ(parse_str(HEAD "kvm_mmu_paging_element: pte 83 level 9\n", &t), -EINVAL);
    kt_free(&t);
    EXPECT_EQ(parse_str(HEAD "kvm_mmu_pagetable_walk: addr zz pferr 0\n", &t), -EINVAL);
    kt_free(&t);
    EXPECT_EQ(parse_str(HEAD "kvm_emulate_insn: 0:1:aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 "
                             "99 (prot64)\n",
                        &t),
              -EINVAL); /* 16 bytes: more than an instruction */
    kt_free(&t);
    EXPECT_EQ(parse_str("", &t), -ENOENT);
    kt_free(&t);
    EXPECT_EQ(parse_str("# tracer: nop\n#\ncpus=1\n", &t), -ENOENT);
    kt_free(&t);
    EXPECT_EQ(kt_parse_text("a\0b\n", 4, &t, err), -EINVAL);
    EXPECT_CONTAINS(err, "NUL");
    kt_free(&t);
    EXPECT_EQ(parse_str(HEAD "kvm_entry: vcpu 0, rip 0x1\nCPU:0 [12 EVENTS DROPPED]\n"
                             "CPU:1 [LOST 3 EVENTS]\nCPU 1 is empty\n",
                        &t),
              0);
    EXPECT_EQ(t.dropped_events, 15);
    kt_free(&t);
}

/* Prefixes and byte flips of every fixture: documented results only, analysis never crashes. */
static void truncation_and_noise(void)
{
    static const char *const names[] = {"kvm_pvm_1g_pages_triple_fault.trace.txt",
                                        "tracecmd316_report_kvm_synthetic.txt",
                                        "seed_1gb_pages.trace.txt"};
    unsigned seed = 99;

    for (size_t f = 0; f < KS_ARRAY_SIZE(names); f++) {
        size_t len;
        char *txt = fixture_read(names[f], &len);
        EXPECT(txt != NULL);
        if (!txt)
            continue;
        for (int round = 0; round < 400; round++) {
            char *c = malloc(len);
            size_t cut = round < 100 ? (len * (size_t)round) / 100 : len;
            struct kt_trace t;
            memcpy(c, txt, len);
            for (int k = 0; round >= 100 && k < 3; k++) {
                seed = seed * 1103515245 + 12345;
                c[(seed >> 8) % len] = (char)(seed >> 20);
            }
            int rc = kt_parse_text(c, cut, &t, err);
            EXPECT(rc == 0 || rc == -EINVAL || rc == -ENOENT);
            if (rc == 0) {
                struct kt_analysis a;
                struct strbuf sb;
                EXPECT_EQ(kt_analyze(&t, &unknown, &a), 0);
                sb_init(&sb);
                kt_render_text(&t, &a, &sb);
                kt_render_json(&t, &a, &sb);
                sb_free(&sb);
                kt_analysis_free(&a);
            }
            kt_free(&t);
            free(c);
        }
        free(txt);
    }
}

/* The 7 MB synthetic trace.dat stays in the shared samples; it is not copied into the repo. */
static void trace_dat(void)
{
    static const char *path = "../shared/samples/synthetic_kvm_trace.dat";
    const char *alt = "/work/shared/samples/synthetic_kvm_trace.dat";
    struct kt_trace t;
    const struct kt_event *e;

    if (!kt_dat_supported())
        SKIP("built without libtracecmd");
    if (access(path, R_OK))
        path = alt;
    if (access(path, R_OK))
        SKIP("shared/samples/synthetic_kvm_trace.dat not present");
    EXPECT_EQ(kt_read_dat(path, &t, err), 0);
    EXPECT_EQ(t.source, KT_SRC_DAT);
    EXPECT_EQ(t.n, 7);
    e = nth(&t, KT_EXIT, 0);
    EXPECT_STR(e->u.exit.reason, "IO_INSTRUCTION");
    EXPECT_EQ(e->ts_ns, 1234567890124956ULL);
    EXPECT_EQ(e->u.exit.info1, 0x3f80008);
    EXPECT_STR(nth(&t, KT_EXIT, 2)->u.exit.reason, "npf");
    EXPECT_EQ(nth(&t, KT_PIO, 0)->u.pio.port, 0x3f8);
    kt_free(&t);
    EXPECT_EQ(kt_read_dat("tests/data/seed_1gb_pages.trace.txt", &t, err), -EINVAL);
    kt_free(&t);
}

int main(void)
{
    RUN(report_renderings);
    RUN(tracefs_pvm_capture);
    RUN(explain_pvm_triple_fault);
    RUN(perf_script_capture);
    RUN(explain_seed_internal_error);
    RUN(explain_fetch_from_non_ram);
    RUN(explain_other_walk_failures);
    RUN(explain_other_modes);
    RUN(long_trace_text_is_bounded);
    RUN(event_forms);
    RUN(malformed_traces);
    RUN(truncation_and_noise);
    RUN(trace_dat);
    return t_done();
}
