/*
 * QEMU's x86 CPU models as CPUID tables, and the -cpu argument parser.
 *
 * Facts (feature names, bit positions, model family/model/stepping, levels
 * and feature sets) follow QEMU's target/i386/cpu.c (feature_word_info[] and
 * builtin_x86_defs[], v7.2) and the Intel SDM Vol. 2A CPUID tables; the
 * choices where a VMM has freedom are listed in docs/cpu-models.md.
 */
#include "cpumodel_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compare a user-given name with a table name, treating '_' as '-' (QEMU does). */
static bool name_eq(const char *user, const char *name)
{
    for (; *user && *name; user++, name++) {
        char c = *user == '_' ? '-' : *user;
        if (c != *name)
            return false;
    }
    return !*user && !*name;
}

const struct cpu_feature *cpu_feature_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < cpumodel_naliases; i++)
        if (name_eq(name, cpumodel_aliases[i].alias)) {
            name = cpumodel_aliases[i].name;
            break;
        }
    for (size_t i = 0; i < cpumodel_nfeatures; i++)
        if (name_eq(name, cpumodel_features[i].name))
            return &cpumodel_features[i];
    return NULL;
}

const struct cpu_feature *cpu_features(unsigned *count)
{
    *count = (unsigned)cpumodel_nfeatures;
    return cpumodel_features;
}

const struct cpu_model *cpu_model_find(const char *name)
{
    if (!name)
        return NULL;
    /* QEMU model names are case-sensitive; so are ours. */
    for (size_t i = 0; i < cpumodel_nmodels; i++)
        if (!strcmp(name, cpumodel_models[i].name))
            return &cpumodel_models[i];
    return NULL;
}

const struct cpu_model *cpu_models(unsigned *count)
{
    *count = (unsigned)cpumodel_nmodels;
    return cpumodel_models;
}

const struct cpuid_entry *cpuid_find_const(const struct cpuid_table *t, uint32_t function,
                                           uint32_t index)
{
    for (unsigned i = 0; i < t->n && i < CPUID_MAX_ENTRIES; i++) {
        const struct cpuid_entry *e = &t->e[i];
        if (e->function == function && (!(e->flags & 1) || e->index == index))
            return e;
    }
    return NULL;
}

struct cpuid_entry *cpuid_find(struct cpuid_table *t, uint32_t function, uint32_t index)
{
    return (struct cpuid_entry *)(uintptr_t)cpuid_find_const(t, function, index);
}

/* Leaves whose sub-leaf index is significant (SDM Vol. 2A, CPUID). */
static bool indexed_leaf(uint32_t function)
{
    return function == 4 || function == 7 || function == 0xb || function == 0xd ||
           function == 0xf || function == 0x10 || function == 0x12 || function == 0x14 ||
           function == 0x1f || function == 0x8000001d;
}

static struct cpuid_entry *add_entry(struct cpuid_table *t, uint32_t function, uint32_t index)
{
    struct cpuid_entry *e = cpuid_find(t, function, index);

    if (e)
        return e;
    if (t->n >= CPUID_MAX_ENTRIES)
        return NULL;
    e = &t->e[t->n++];
    memset(e, 0, sizeof(*e));
    e->function = function;
    e->index = index;
    e->flags = indexed_leaf(function) ? 1 : 0;
    return e;
}

bool cpuid_has(const struct cpuid_table *t, const struct cpu_feature *f)
{
    const struct cpuid_entry *e = cpuid_find_const(t, f->function, f->index);

    return e && (e->reg[f->reg] >> f->bit) & 1;
}

void cpuid_set(struct cpuid_table *t, const struct cpu_feature *f, bool on)
{
    struct cpuid_entry *e =
        on ? add_entry(t, f->function, f->index) : cpuid_find(t, f->function, f->index);

    if (!e)
        return;
    if (on)
        e->reg[f->reg] |= 1u << f->bit;
    else
        e->reg[f->reg] &= ~(1u << f->bit);
}

static uint32_t vendor_word(const char *v, int i)
{
    uint32_t w;

    memcpy(&w, v + 4 * i, 4);
    return w;
}

/* CPUID.01H:EAX layout (SDM Vol. 2A Figure 3-6): extended family/model above 0xf. */
static uint32_t version_eax(const struct cpu_model *m)
{
    uint32_t fam = m->family, eax = m->stepping & 0xf;

    eax |= (m->model & 0xf) << 4 | ((m->model >> 4) & 0xf) << 16;
    if (fam > 0xf)
        eax |= 0xf << 8 | ((fam - 0xf) & 0xff) << 20;
    else
        eax |= fam << 8;
    return eax;
}

static void set_phys_bits(struct cpuid_table *t, unsigned phys_bits)
{
    struct cpuid_entry *e = cpuid_find(t, 0x80000008, 0);
    const struct cpu_feature *la57 = cpu_feature_find("la57");

    if (!e)
        return;
    /* EAX[7:0] physical, EAX[15:8] linear address bits (48, or 57 with LA57). */
    e->reg[CPUID_EAX] = (phys_bits & 0xff) | (cpuid_has(t, la57) ? 57u : 48u) << 8;
}

/* Build the CPUID table of a named model, before any -cpu modifications. */
static void build_table(const struct cpu_model *m, struct cpuid_table *t)
{
    struct cpuid_entry *e;

    memset(t, 0, sizeof(*t));
    e = add_entry(t, 0, 0);
    e->reg[CPUID_EAX] = m->level;
    e->reg[CPUID_EBX] = vendor_word(m->vendor, 0);
    e->reg[CPUID_EDX] = vendor_word(m->vendor, 1);
    e->reg[CPUID_ECX] = vendor_word(m->vendor, 2);
    e = add_entry(t, 1, 0);
    e->reg[CPUID_EAX] = version_eax(m);
    e->reg[CPUID_EBX] = 8u << 8; /* CLFLUSH line size 64 bytes, in 8-byte units */
    if (m->level >= 7)
        add_entry(t, 7, 0); /* EAX = 0: sub-leaf 0 is the only one */
    e = add_entry(t, 0x80000000, 0);
    e->reg[CPUID_EAX] = m->xlevel;
    e->reg[CPUID_EBX] = vendor_word(m->vendor, 0);
    e->reg[CPUID_EDX] = vendor_word(m->vendor, 1);
    e->reg[CPUID_ECX] = vendor_word(m->vendor, 2);
    e = add_entry(t, 0x80000001, 0);
    e->reg[CPUID_EAX] = version_eax(m); /* QEMU cpu_x86_cpuid() repeats leaf 1 EAX here */
    for (uint32_t leaf = 0x80000002; leaf <= 0x80000004 && leaf <= m->xlevel; leaf++) {
        char brand[48] = {0};

        e = add_entry(t, leaf, 0);
        strncpy(brand, m->model_id, sizeof(brand) - 1);
        memcpy(e->reg, brand + 16 * (leaf - 0x80000002), 16);
    }
    if (m->xlevel >= 0x80000008)
        add_entry(t, 0x80000008, 0);

    for (const char *const *n = m->features; *n; n++) {
        const struct cpu_feature *f = cpu_feature_find(*n);
        if (f)
            cpuid_set(t, f, true);
    }
    /* QEMU's KVM accelerator defaults (kvm_default_props; x86_cpu_load_model). */
    for (const char *const *n = cpumodel_kvm_on; *n; n++)
        cpuid_set(t, cpu_feature_find(*n), true);
    for (const char *const *n = cpumodel_kvm_off; *n; n++)
        cpuid_set(t, cpu_feature_find(*n), false);
    set_phys_bits(t, CPU_DEFAULT_PHYS_BITS);
}

/* Put a 12-character vendor string into leaves 0 and 0x80000000 (EBX, EDX, ECX). */
static void set_vendor(struct cpuid_table *t, const char *vendor)
{
    static const uint32_t leaves[] = {0, 0x80000000};

    for (size_t i = 0; i < KS_ARRAY_SIZE(leaves); i++) {
        struct cpuid_entry *e = cpuid_find(t, leaves[i], 0);
        if (!e)
            continue;
        e->reg[CPUID_EBX] = vendor_word(vendor, 0);
        e->reg[CPUID_EDX] = vendor_word(vendor, 1);
        e->reg[CPUID_ECX] = vendor_word(vendor, 2);
    }
}

/* AMD: 0x80000001 EDX repeats leaf-1 EDX bits (APM Vol. 3 E.4.2; QEMU does the same). */
static void mirror_amd_aliases(struct cpuid_table *t, const char *vendor)
{
    struct cpuid_entry *l1 = cpuid_find(t, 1, 0), *x1 = cpuid_find(t, 0x80000001, 0);

    if (strcmp(vendor, CPUMODEL_AMD) || !l1 || !x1)
        return;
    x1->reg[CPUID_EDX] = (x1->reg[CPUID_EDX] & ~CPUMODEL_AMD_EXT2_ALIASES) |
                         (l1->reg[CPUID_EDX] & CPUMODEL_AMD_EXT2_ALIASES);
}

static void note(struct cpu_spec *s, const struct cpu_feature *f, bool on)
{
    /* Replace an earlier mention: the list says what was finally asked for. */
    for (unsigned i = 0; i < s->n_on; i++)
        if (s->on[i] == f)
            s->on[i] = s->on[--s->n_on];
    for (unsigned i = 0; i < s->n_off; i++)
        if (s->off[i] == f)
            s->off[i] = s->off[--s->n_off];
    if (on)
        s->on[s->n_on++] = f;
    else
        s->off[s->n_off++] = f;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes"}, *const no[] = {"off", "false", "no"};

    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(v, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(v, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_phys_bits(const char *v, unsigned *out)
{
    char *end;
    unsigned long n;

    if (!*v || *v < '0' || *v > '9')
        return -EINVAL;
    n = strtoul(v, &end, 10);
    /* QEMU accepts 32..52 (TARGET_PHYS_ADDR_SPACE_BITS) for phys-bits. */
    if (*end || n < 32 || n > 52)
        return -EINVAL;
    *out = (unsigned)n;
    return 0;
}

/* How a feature was last named; a higher rank is never overridden by a lower one. */
enum how { HOW_NONE, HOW_ASSIGN, HOW_PLUS, HOW_MINUS };

/* One comma-separated item after the model name. Returns 0 or -EINVAL. */
static int parse_item(char *item, struct cpu_spec *s, enum how *how, char err[KS_ERR_LEN])
{
    const struct cpu_feature *f;
    char *eq = strchr(item, '=');
    bool on = true;

    if (item[0] == '+' || item[0] == '-') {
        f = cpu_feature_find(item + 1);
        if (!f) {
            snprintf(err, KS_ERR_LEN, "unknown CPU feature '%s' in '%s'", item + 1, item);
            return -EINVAL;
        }
        /* QEMU applies plus_features, then minus_features: -feat beats +feat. */
        if (item[0] == '-' || how[f - cpumodel_features] != HOW_MINUS) {
            how[f - cpumodel_features] = item[0] == '+' ? HOW_PLUS : HOW_MINUS;
            note(s, f, item[0] == '+');
        }
        return 0;
    }
    if (eq)
        *eq = '\0';
    if (!strcmp(item, "vendor")) {
        /* QEMU's vendor property: exactly 12 characters (CPUID_VENDOR_SZ). */
        if (!eq || strlen(eq + 1) != 12) {
            snprintf(err, KS_ERR_LEN,
                     "vendor needs exactly 12 characters, e.g. GenuineIntel, "
                     "not '%s'",
                     eq ? eq + 1 : "");
            return -EINVAL;
        }
        memcpy(s->vendor, eq + 1, 13);
        return 0;
    }
    if (name_eq(item, "phys-bits")) {
        if (!eq || parse_phys_bits(eq + 1, &s->phys_bits)) {
            snprintf(err, KS_ERR_LEN, "phys-bits needs a number from 32 to 52, not '%s'",
                     eq ? eq + 1 : "");
            return -EINVAL;
        }
        return 0;
    }
    f = cpu_feature_find(item);
    if (!f) {
        snprintf(err, KS_ERR_LEN, "unknown CPU feature '%s'", item);
        return -EINVAL;
    }
    if (eq && parse_bool(eq + 1, &on)) {
        snprintf(err, KS_ERR_LEN, "feature '%s' takes on or off, not '%s'", item, eq + 1);
        return -EINVAL;
    }
    /* QEMU: +feat/-feat win over feat=on|off whatever the order. */
    if (how[f - cpumodel_features] <= HOW_ASSIGN) {
        how[f - cpumodel_features] = HOW_ASSIGN;
        note(s, f, on);
    }
    return 0;
}

static void list_models(char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < cpumodel_nmodels && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", cpumodel_models[i].name);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

int cpu_spec_parse(const char *arg, struct cpu_spec *out, char err[KS_ERR_LEN])
{
    char buf[1024], *item, *save = NULL;
    enum how how[CPUMODEL_MAX_FEATURES] = {HOW_NONE};

    memset(out, 0, sizeof(*out));
    if (!arg || !*arg) {
        snprintf(err, KS_ERR_LEN, "empty CPU model");
        return -EINVAL;
    }
    if (strlen(arg) >= sizeof(buf)) {
        snprintf(err, KS_ERR_LEN, "CPU specification too long (%zu bytes)", strlen(arg));
        return -EINVAL;
    }
    strcpy(buf, arg);
    item = strtok_r(buf, ",", &save);
    out->model = item ? cpu_model_find(item) : NULL;
    if (!out->model) {
        char known[256];

        list_models(known, sizeof(known));
        snprintf(err, KS_ERR_LEN, "unknown CPU model '%s' (known: %s)", item ? item : "", known);
        return -EINVAL;
    }
    out->host_based = out->model->host_based;
    while ((item = strtok_r(NULL, ",", &save))) {
        if (out->n_on + out->n_off >= KS_ARRAY_SIZE(out->on)) {
            snprintf(err, KS_ERR_LEN, "too many feature changes (at most %zu)",
                     KS_ARRAY_SIZE(out->on));
            return -EINVAL;
        }
        if (parse_item(item, out, how, err))
            return -EINVAL;
    }
    if (out->host_based)
        return 0;

    build_table(out->model, &out->cpuid);
    for (unsigned i = 0; i < out->n_on; i++)
        cpuid_set(&out->cpuid, out->on[i], true);
    for (unsigned i = 0; i < out->n_off; i++)
        cpuid_set(&out->cpuid, out->off[i], false);
    if (out->vendor[0])
        set_vendor(&out->cpuid, out->vendor);
    mirror_amd_aliases(&out->cpuid, out->vendor[0] ? out->vendor : out->model->vendor);
    if (out->phys_bits) {
        if (!cpuid_find(&out->cpuid, 0x80000008, 0)) {
            snprintf(err, KS_ERR_LEN,
                     "phys-bits: model %s has no CPUID leaf 0x80000008 (KVM then uses 36)",
                     out->model->name);
            return -EINVAL;
        }
        set_phys_bits(&out->cpuid, out->phys_bits);
    } else {
        /* Re-derive the linear-address width in case la57 was toggled. */
        const struct cpuid_entry *e = cpuid_find_const(&out->cpuid, 0x80000008, 0);
        if (e)
            set_phys_bits(&out->cpuid, e->reg[CPUID_EAX] & 0xff);
    }
    return 0;
}

void cpuid_pt_cpu(const struct cpuid_table *t, bool host_gbpages, struct pt_cpu *out)
{
    const struct cpuid_entry *e = cpuid_find_const(t, 0x80000000, 0);
    const struct cpuid_entry *v = cpuid_find_const(t, 0, 0);

    /* KVM cpuid_query_maxphyaddr(): 0x80000008 EAX[7:0] if reachable, else 36. */
    out->maxphyaddr = 36;
    if (e && e->reg[CPUID_EAX] >= 0x80000008) {
        const struct cpuid_entry *p = cpuid_find_const(t, 0x80000008, 0);
        if (p)
            out->maxphyaddr = p->reg[CPUID_EAX] & 0xff;
    }
    /* KVM is_amd_compatible(): vendor AuthenticAMD or HygonGenuine (CPUID.0 EBX-EDX-ECX). */
    out->amd = false;
    if (v) {
        char vendor[13];

        memcpy(vendor, &v->reg[CPUID_EBX], 4);
        memcpy(vendor + 4, &v->reg[CPUID_EDX], 4);
        memcpy(vendor + 8, &v->reg[CPUID_ECX], 4);
        vendor[12] = '\0';
        out->amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
    }
    /* Kernels >= 6.14: guest CPUID.80000001H:EDX[26] AND KVM's own caps (spec §2.6). */
    out->gbpages = cpuid_has(t, cpu_feature_find("pdpe1gb")) && host_gbpages;
}
