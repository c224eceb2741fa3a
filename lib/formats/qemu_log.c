/*
 * The log lines around a QEMU register dump: TCG `-d int` exception headers
 * (target/i386/tcg/seg_helper.c, formats.md §1.8) and the KVM error messages
 * of accel/kvm/kvm-all.c (formats.md §1.7).
 */
#include "qemu_regs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * "     0: v=0e e=0000 i=0 cpl=0 IP=0008:00000000001000ee pc=00000000001000ee
 *  SP=0010:0000000000107000 CR2=00000deadbf11220" (formats.md §1.8).
 */
int qr_exception_header(struct parser *ps, struct cur *c)
{
    struct qemu_exception ex;
    uint64_t v, cs, ss;

    memset(&ex, 0, sizeof(ex));
    ex.line = ps->lineno;
    ex.check_old = ps->check_old;
    ps->check_old = -1;
    cur_spaces(c);
    if (!cur_dec(c, &v) || v > 0xffffffffu || !cur_lit(c, ":"))
        return qr_fail(ps, "malformed exception header counter");
    ex.counter = (unsigned)v;
    if (!cur_spaces(c) || !cur_lit(c, "v=") || !cur_hex(c, &v, NULL) || v > 0xff)
        return qr_fail(ps, "malformed v= in exception header");
    ex.vector = (unsigned)v;
    if (!cur_spaces(c) || !cur_lit(c, "e=") || !cur_hex(c, &v, NULL) || v > 0xffffffffu)
        return qr_fail(ps, "malformed e= in exception header");
    ex.error_code = (uint32_t)v;
    if (!cur_spaces(c) || !cur_lit(c, "i=") || !cur_dec(c, &v) || v > 1)
        return qr_fail(ps, "malformed i= in exception header");
    ex.software = v;
    if (!cur_spaces(c) || !cur_lit(c, "cpl=") || !cur_dec(c, &v) || v > 3)
        return qr_fail(ps, "malformed cpl= in exception header");
    ex.cpl = (unsigned)v;
    if (!cur_spaces(c) || !cur_lit(c, "IP=") || !cur_hex(c, &cs, NULL) || cs > 0xffff ||
        !cur_lit(c, ":") || !cur_hex(c, &ex.rip, NULL))
        return qr_fail(ps, "malformed IP=cs:rip in exception header");
    if (!cur_spaces(c) || !cur_lit(c, "pc=") || !cur_hex(c, &ex.pc, NULL))
        return qr_fail(ps, "malformed pc= in exception header");
    if (!cur_spaces(c) || !cur_lit(c, "SP=") || !cur_hex(c, &ss, NULL) || ss > 0xffff ||
        !cur_lit(c, ":") || !cur_hex(c, &ex.rsp, NULL))
        return qr_fail(ps, "malformed SP=ss:rsp in exception header");
    ex.cs = (uint16_t)cs;
    ex.ss = (uint16_t)ss;
    if (!cur_spaces(c))
        return qr_fail(ps, "exception header ends early (no CR2= or EAX= field)");
    if (cur_lit(c, "CR2=")) {
        if (!cur_hex(c, &ex.cr2, NULL))
            return qr_fail(ps, "malformed CR2= in exception header");
        ex.has_cr2 = true;
    } else if (cur_lit(c, "env->regs[R_EAX]=")) {
        if (!cur_hex(c, &ex.rax, NULL))
            return qr_fail(ps, "malformed EAX= in exception header");
        ex.has_rax = true;
    } else {
        return qr_fail(ps, "expected CR2= or env->regs[R_EAX]= in exception header");
    }
    if (qr_expect_end(ps, c, "the exception header"))
        return -EINVAL;
    if (ps->info->nexc < QEMU_MAX_EXCEPTIONS)
        ps->info->exc[ps->info->nexc++] = ex;
    else
        ps->info->exc_dropped++;
    return 0;
}

static void set_kvm_message(struct parser *ps, const char *line)
{
    if (!ps->info->kvm_message[0])
        snprintf(ps->info->kvm_message, sizeof(ps->info->kvm_message), "%.150s", line);
}

/* The KVM error messages of accel/kvm/kvm-all.c (formats.md §1.7). */
int qr_kvm_line(struct parser *ps, struct cur *c, const char *line, bool *handled)
{
    uint64_t v, idx;

    *handled = true;
    if (cur_lit(c, "KVM internal error. Suberror: ")) {
        if (!cur_dec(c, &v) || v > 0xffffffffu || qr_expect_end(ps, c, "the suberror"))
            return qr_fail(ps, "malformed suberror number");
        qr_dump_end(ps);
        ps->pend_error = true;
        ps->pend_event = SNAP_EV_INTERNAL_ERROR;
        ps->pend_suberror = (uint32_t)v;
        ps->pend_ndata = 0;
        memset(ps->pend_data, 0, sizeof(ps->pend_data));
        set_kvm_message(ps, line);
        return 0;
    }
    if (cur_lit(c, "extra data[")) {
        if (!ps->pend_error || ps->pend_event != SNAP_EV_INTERNAL_ERROR)
            return qr_fail(ps, "'extra data' without a preceding 'KVM internal error'");
        if (!cur_dec(c, &idx) || !cur_lit(c, "]: ") || !cur_0xhex(c, &v) ||
            qr_expect_end(ps, c, "the extra data"))
            return qr_fail(ps, "malformed 'extra data[i]: 0x...' line");
        /* run->internal.data has 16 slots (struct kvm_run, include/uapi/linux/kvm.h). */
        if (idx >= KS_ARRAY_SIZE(ps->pend_data))
            return qr_fail(ps, "extra data index %llu is beyond KVM's 16", (unsigned long long)idx);
        if (idx != ps->pend_ndata)
            return qr_fail(ps, "extra data[%llu] out of order (expected [%u])",
                           (unsigned long long)idx, ps->pend_ndata);
        ps->pend_data[ps->pend_ndata++] = v;
        return 0;
    }
    if (cur_lit(c, "emulation failure")) {
        ps->info->emulation_failure = true;
        return 0;
    }
    if (cur_lit(c, "KVM: entry failed, hardware error ")) {
        qr_dump_end(ps);
        ps->pend_error = true;
        ps->pend_event = SNAP_EV_FAIL_ENTRY;
        ps->pend_ndata = 0;
        if (!cur_0xhex(c, &v))
            return qr_fail(ps, "malformed hardware error number");
        ps->pend_ndata = 1;
        ps->pend_data[0] = v;
        set_kvm_message(ps, line);
        return 0;
    }
    if (cur_lit(c, "error: kvm run failed") || cur_lit(c, "KVM: unknown exit") ||
        cur_lit(c, "KVM: exception ")) {
        qr_dump_end(ps);
        ps->pend_error = true;
        ps->pend_event = qr_starts(line, strlen(line), "KVM: exception ") ? SNAP_EV_EXCEPTION
                                                                          : SNAP_EV_INTERNAL_ERROR;
        ps->pend_suberror = 0;
        ps->pend_ndata = 0;
        set_kvm_message(ps, line);
        return 0;
    }
    *handled = false;
    return 0;
}

bool qr_is_exception_header(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] == ' ')
        i++;
    if (i == n || s[i] < '0' || s[i] > '9')
        return false;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return n - i >= 4 && !memcmp(s + i, ": v=", 4);
}
