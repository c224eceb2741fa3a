/*
 * The offline loader: a register dump, a core, a raw image and a kernel ELF
 * combined into one struct snapshot for lib/diag (docs/offline.md).
 */
#include "ks/formats.h"
#include "ks/symtab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(struct offline *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct offline *o, const char *fmt, ...)
{
    size_t used = strlen(o->notes);
    va_list ap;

    if (used + 2 >= sizeof(o->notes))
        return;
    va_start(ap, fmt);
    vsnprintf(o->notes + used, sizeof(o->notes) - used, fmt, ap);
    va_end(ap);
    used = strlen(o->notes);
    if (used + 1 < sizeof(o->notes)) {
        o->notes[used] = '\n';
        o->notes[used + 1] = 0;
    }
}

static int load_text(const struct offline_inputs *in, struct offline *o, char err[KS_ERR_LEN])
{
    struct mapped_file mf;
    char why[KS_ERR_LEN];
    enum artifact_kind kind;
    int rc = mapped_file_open(in->regs_path, &mf, err);

    if (rc)
        return rc;
    kind = artifact_detect(mf.data, mf.size);
    if (kind != ARTIFACT_TEXT) {
        snprintf(err, KS_ERR_LEN, "%s: expected QEMU register-dump text, found %s", in->regs_path,
                 artifact_kind_name(kind));
        mapped_file_close(&mf);
        return -EINVAL;
    }
    rc = qemu_regs_parse((const char *)mf.data, mf.size, &o->snap, &o->info, why);
    mapped_file_close(&mf);
    if (rc) {
        snprintf(err, KS_ERR_LEN, "%.96s: %.150s", in->regs_path, why);
        return rc;
    }
    o->have_text = true;
    if (o->snap.have & SNAP_EFER_INFERRED)
        note(o,
             "EFER is not in the dump: inferred %s from the dump's layout; EFER.NXE unknown "
             "(taken as 0)",
             o->snap.s.efer ? "LMA|LME" : "0");
    if (o->info.ndumps > 1)
        note(o, "%u register dumps in %s: used the one at line %u", o->info.ndumps, in->regs_path,
             o->info.dump_line);
    return 0;
}

int offline_load(const struct offline_inputs *in, struct offline *o, char err[KS_ERR_LEN])
{
    int rc;

    memset(o, 0, sizeof(*o));
    snapshot_init(&o->snap);
    gmem_init(&o->rawmem);
    err[0] = 0;
    if (!in->regs_path && !in->core_path) {
        snprintf(err, KS_ERR_LEN, "need a register dump or a dump-guest-memory core");
        return -EINVAL;
    }
    if (in->core_path && in->mem_spec) {
        snprintf(err, KS_ERR_LEN, "give either a core or a raw memory image, not both");
        return -EINVAL;
    }
    if (in->regs_path && (rc = load_text(in, o, err)))
        return rc;
    if (in->core_path) {
        rc = elfcore_open(in->core_path, &o->core, err);
        if (rc)
            return rc;
        o->have_core = true;
        if (!o->have_text) {
            struct snapshot *s = &o->snap;
            rc = elfcore_snapshot(&o->core, in->cpu, s);
            if (rc) {
                snprintf(err, KS_ERR_LEN, "%s: no register notes for CPU %u (the core has %u)",
                         in->core_path, in->cpu, o->core.ncpus);
                return rc;
            }
            if (!o->core.cpu[in->cpu].have_qemu)
                note(o, "the core has no QEMU note: no segment, CR or descriptor-table state");
            else
                note(o,
                     "EFER is not in the core: inferred %s from %s; EFER.NXE unknown "
                     "(taken as 0)",
                     s->s.efer ? "LMA|LME" : "0",
                     s->s.seg[X86_SEG_CS].l ? "CS.L" : "the ELF machine type");
        } else {
            note(o, "registers from %s, memory from %s", in->regs_path, in->core_path);
        }
        o->snap.mem = &o->core.mem;
        o->snap.have |= SNAP_HAVE_MEM;
    } else if (in->mem_spec) {
        char path[4096];
        gpa_t base;
        char why[KS_ERR_LEN];

        rc = rawmem_parse_spec(in->mem_spec, path, sizeof(path), &base, err);
        if (rc)
            return rc;
        rc = mapped_file_open(path, &o->raw, err);
        if (rc)
            return rc;
        rc = rawmem_map(&o->raw, base, &o->rawmem, why);
        if (rc) {
            snprintf(err, KS_ERR_LEN, "%.96s: %.150s", path, why);
            return rc;
        }
        o->snap.mem = &o->rawmem;
        o->snap.have |= SNAP_HAVE_MEM;
        note(o, "memory: %s as raw RAM at GPA %#llx..%#llx (file offset = GPA - %#llx)", path,
             (unsigned long long)base, (unsigned long long)(base + o->raw.size - 1),
             (unsigned long long)base);
    }
    if (in->kernel_path) {
        rc = symtab_open(in->kernel_path, &o->syms, err);
        if (rc)
            return rc;
        o->snap.syms = o->syms;
    }
    return 0;
}

void offline_close(struct offline *o)
{
    elfcore_close(&o->core);
    mapped_file_close(&o->raw);
    symtab_free(o->syms);
    o->syms = NULL;
    o->snap.mem = NULL;
    o->snap.syms = NULL;
}
