/* CPU models, feature names, -cpu parsing and the page-walk features KVM derives. */
#include "harness.h"

#include "ks/cpumodel.h"

#include <errno.h>

static const struct cpuid_entry *leaf(const struct cpu_spec *s, uint32_t fn)
{
    return cpuid_find_const(&s->cpuid, fn, 0);
}

static bool has(const struct cpu_spec *s, const char *name)
{
    return cpuid_has(&s->cpuid, cpu_feature_find(name));
}

static void parse_ok(const char *arg, struct cpu_spec *s)
{
    char err[KS_ERR_LEN] = "";

    if (cpu_spec_parse(arg, s, err)) {
        printf("  cpu_spec_parse(\"%s\"): %s\n", arg, err);
        t_case_failed = 1;
    }
}

static void feature_table(void)
{
    unsigned n;
    const struct cpu_feature *f = cpu_features(&n), *p;

    EXPECT(n > 150);
    for (unsigned i = 0; i < n; i++) {
        EXPECT(f[i].what && f[i].what[0]);
        EXPECT(f[i].bit < 32);
        for (unsigned j = i + 1; j < n; j++) {
            EXPECT(strcmp(f[i].name, f[j].name) != 0);
            EXPECT(!(f[i].function == f[j].function && f[i].index == f[j].index &&
                     f[i].reg == f[j].reg && f[i].bit == f[j].bit));
        }
    }
    p = cpu_feature_find("pdpe1gb");
    EXPECT(p && p->function == 0x80000001 && p->reg == CPUID_EDX && p->bit == 26);
    EXPECT(cpu_feature_find("pdpe1g") == p);
    p = cpu_feature_find("nx");
    EXPECT(p && p->function == 0x80000001 && p->reg == CPUID_EDX && p->bit == 20);
    EXPECT(cpu_feature_find("xd") == p);
    p = cpu_feature_find("lm");
    EXPECT(p && p->bit == 29 && cpu_feature_find("i64") == p);
    p = cpu_feature_find("syscall");
    EXPECT(p && p->function == 0x80000001 && p->bit == 11);
    p = cpu_feature_find("smep");
    EXPECT(p && p->function == 7 && p->reg == CPUID_EBX && p->bit == 7);
    p = cpu_feature_find("smap");
    EXPECT(p && p->function == 7 && p->reg == CPUID_EBX && p->bit == 20);
    p = cpu_feature_find("pku");
    EXPECT(p && p->function == 7 && p->reg == CPUID_ECX && p->bit == 3);
    p = cpu_feature_find("la57");
    EXPECT(p && p->function == 7 && p->reg == CPUID_ECX && p->bit == 16);
    p = cpu_feature_find("umip");
    EXPECT(p && p->reg == CPUID_ECX && p->bit == 2);
    p = cpu_feature_find("pcid");
    EXPECT(p && p->function == 1 && p->reg == CPUID_ECX && p->bit == 17);
    p = cpu_feature_find("invpcid");
    EXPECT(p && p->function == 7 && p->bit == 10);
    p = cpu_feature_find("fsgsbase");
    EXPECT(p && p->function == 7 && p->bit == 0);
    p = cpu_feature_find("x2apic");
    EXPECT(p && p->function == 1 && p->reg == CPUID_ECX && p->bit == 21);
    p = cpu_feature_find("hypervisor");
    EXPECT(p && p->function == 1 && p->reg == CPUID_ECX && p->bit == 31);
    p = cpu_feature_find("pse36");
    EXPECT(p && p->function == 1 && p->reg == CPUID_EDX && p->bit == 17);
    EXPECT(cpu_feature_find("spec-ctrl")->reg == CPUID_EDX);
    /* QEMU spellings: '_' for '-', legacy aliases. */
    EXPECT(cpu_feature_find("lahf_lm") == cpu_feature_find("lahf-lm"));
    EXPECT(cpu_feature_find("sse4_1") == cpu_feature_find("sse4.1"));
    EXPECT(cpu_feature_find("sse3") == cpu_feature_find("pni"));
    EXPECT(cpu_feature_find("bogus") == NULL);
    EXPECT(cpu_feature_find("") == NULL);
    EXPECT(cpu_feature_find("PDPE1GB") == NULL); /* QEMU names are lower case */
}

static void every_model_builds(void)
{
    unsigned n;
    const struct cpu_model *m = cpu_models(&n);
    const char *want[] = {"qemu64",
                          "kvm64",
                          "qemu32",
                          "Haswell",
                          "Skylake-Client",
                          "Skylake-Server",
                          "Icelake-Server",
                          "EPYC",
                          "EPYC-Rome",
                          "host",
                          "max"};

    for (size_t i = 0; i < KS_ARRAY_SIZE(want); i++)
        EXPECT(cpu_model_find(want[i]) != NULL);
    EXPECT(cpu_model_find("haswell") == NULL);
    for (unsigned i = 0; i < n; i++) {
        struct cpu_spec s;

        /* Every feature a model lists must be a known name (a typo would vanish silently). */
        for (const char *const *f = m[i].features; *f; f++)
            if (!cpu_feature_find(*f)) {
                printf("  model %s: unknown feature %s\n", m[i].name, *f);
                t_case_failed = 1;
            }
        parse_ok(m[i].name, &s);
        EXPECT(s.model == &m[i]);
        EXPECT_EQ(s.host_based, m[i].host_based);
        if (m[i].host_based) {
            EXPECT_EQ(s.cpuid.n, 0);
            continue;
        }
        EXPECT_EQ(leaf(&s, 0)->reg[CPUID_EAX], m[i].level);
        EXPECT_EQ(leaf(&s, 0x80000000)->reg[CPUID_EAX], m[i].xlevel);
        EXPECT(has(&s, "hypervisor")); /* QEMU sets it for every model under KVM */
        EXPECT(!has(&s, "svm"));       /* kvm_default_props: svm=off */
    }
}

static void model_tables(void)
{
    struct cpu_spec s;
    const struct cpuid_entry *e;

    parse_ok("Haswell", &s);
    e = leaf(&s, 0);
    EXPECT_EQ(e->reg[CPUID_EBX], 0x756e6547);                /* "Genu" */
    EXPECT_EQ(e->reg[CPUID_EDX], 0x49656e69);                /* "ineI" */
    EXPECT_EQ(e->reg[CPUID_ECX], 0x6c65746e);                /* "ntel" */
    EXPECT_EQ(leaf(&s, 1)->reg[CPUID_EAX], 0x306c4);         /* family 6 model 60 stepping 4 */
    EXPECT_EQ(leaf(&s, 0x80000008)->reg[CPUID_EAX], 0x3028); /* 40 physical, 48 linear */
    EXPECT(!has(&s, "pdpe1gb"));
    EXPECT(has(&s, "nx") && has(&s, "lm") && has(&s, "smep") && has(&s, "pcid"));
    EXPECT(!has(&s, "smap") && !has(&s, "pku"));
    EXPECT(!memcmp(leaf(&s, 0x80000002)->reg, "Intel Core Processor (Haswell)", 16));

    parse_ok("EPYC", &s);
    EXPECT_EQ(leaf(&s, 1)->reg[CPUID_EAX], 0x800f12); /* family 0xf+8, model 1, stepping 2 */
    EXPECT_EQ(leaf(&s, 0x80000001)->reg[CPUID_EAX], 0x800f12);
    EXPECT(has(&s, "pdpe1gb") && has(&s, "smap") && !has(&s, "pku"));
    /* AMD mirrors leaf-1 EDX (fpu, pse, pae, ...) into 0x80000001 EDX. */
    EXPECT_EQ(leaf(&s, 0x80000001)->reg[CPUID_EDX] & 0x49, 0x49);

    parse_ok("EPYC-Rome", &s);
    EXPECT_EQ(leaf(&s, 1)->reg[CPUID_EAX], 0x830f10); /* model 49 = 0x31 */
    EXPECT(has(&s, "umip") && has(&s, "rdpid") && has(&s, "clwb"));

    parse_ok("Icelake-Server", &s);
    EXPECT(has(&s, "la57") && has(&s, "pku") && has(&s, "pdpe1gb"));
    EXPECT_EQ(leaf(&s, 0x80000008)->reg[CPUID_EAX], 0x3928); /* 57-bit linear with LA57 */
    parse_ok("Icelake-Server,-la57", &s);
    EXPECT_EQ(leaf(&s, 0x80000008)->reg[CPUID_EAX], 0x3028);

    parse_ok("Skylake-Server", &s);
    EXPECT(has(&s, "pdpe1gb") && has(&s, "pku") && has(&s, "smap"));
    parse_ok("Skylake-Client", &s);
    EXPECT(!has(&s, "pdpe1gb") && has(&s, "smap"));

    parse_ok("qemu64", &s);
    EXPECT_EQ(leaf(&s, 0)->reg[CPUID_EBX], 0x68747541); /* "Auth" */
    EXPECT(has(&s, "nx") && has(&s, "lm") && !has(&s, "pdpe1gb"));
    parse_ok("kvm64", &s);
    EXPECT_EQ(leaf(&s, 1)->reg[CPUID_EAX], 0xf61);
    parse_ok("qemu32", &s);
    EXPECT(leaf(&s, 0x80000008) == NULL);
    EXPECT(leaf(&s, 7) == NULL); /* level 4 */
    EXPECT(!has(&s, "lm") && has(&s, "pae"));
}

static void spec_parsing(void)
{
    struct cpu_spec s;
    char err[KS_ERR_LEN];

    parse_ok("Haswell,+pdpe1gb,-nx,smep=on", &s);
    EXPECT(has(&s, "pdpe1gb") && !has(&s, "nx") && has(&s, "smep"));
    EXPECT_EQ(s.n_on, 2);
    EXPECT_EQ(s.n_off, 1);
    EXPECT(s.off[0] == cpu_feature_find("nx"));

    /* -feat beats +feat in either order; +/- beat feat=on|off wherever they are. */
    parse_ok("Haswell,-nx,+nx", &s);
    EXPECT(!has(&s, "nx"));
    parse_ok("Haswell,+nx,-nx", &s);
    EXPECT(!has(&s, "nx"));
    parse_ok("Haswell,-x2apic,x2apic=on", &s);
    EXPECT(!has(&s, "x2apic"));
    EXPECT_EQ(s.n_on, 0);
    parse_ok("Haswell,smap", &s); /* bare name = on */
    EXPECT(has(&s, "smap"));
    parse_ok("Haswell,smap=on,smap=off", &s); /* last assignment wins */
    EXPECT(!has(&s, "smap"));
    EXPECT_EQ(s.n_off, 1);
    parse_ok("EPYC,pdpe1gb=false,lahf_lm=off,xd=off", &s);
    EXPECT(!has(&s, "pdpe1gb") && !has(&s, "lahf-lm") && !has(&s, "nx"));
    parse_ok("Haswell,phys-bits=46", &s);
    EXPECT_EQ(leaf(&s, 0x80000008)->reg[CPUID_EAX] & 0xff, 46);

    parse_ok("host,+pdpe1gb,-la57", &s);
    EXPECT(s.host_based);
    EXPECT_EQ(s.cpuid.n, 0);
    EXPECT(s.n_on == 1 && s.on[0] == cpu_feature_find("pdpe1gb"));
    EXPECT(s.n_off == 1 && s.off[0] == cpu_feature_find("la57"));

    EXPECT_EQ(cpu_spec_parse("Haswel", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "unknown CPU model 'Haswel'");
    EXPECT_CONTAINS(err, "Skylake-Server");
    EXPECT_EQ(cpu_spec_parse("Haswell,+bogus", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "unknown CPU feature 'bogus'");
    EXPECT_EQ(cpu_spec_parse("Haswell,bogus=on", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "unknown CPU feature 'bogus'");
    EXPECT_EQ(cpu_spec_parse("Haswell,smep=maybe", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "'smep' takes on or off, not 'maybe'");
    EXPECT_EQ(cpu_spec_parse("", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "empty");
    EXPECT_EQ(cpu_spec_parse(",nx", &s, err), -EINVAL);
    EXPECT_EQ(cpu_spec_parse("Haswell,phys-bits=99", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "phys-bits");
    EXPECT_EQ(cpu_spec_parse("Haswell,phys-bits=4x", &s, err), -EINVAL);
    EXPECT_EQ(cpu_spec_parse("Haswell,vendor=Intel", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "vendor needs exactly 12 characters");
    EXPECT_EQ(cpu_spec_parse("qemu32,phys-bits=40", &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "0x80000008");
}

static void too_long_or_many(void)
{
    char arg[2048], err[KS_ERR_LEN];
    struct cpu_spec s;
    unsigned n;
    const struct cpu_feature *f = cpu_features(&n);
    size_t off;

    memset(arg, 'a', sizeof(arg) - 1);
    arg[sizeof(arg) - 1] = '\0';
    EXPECT_EQ(cpu_spec_parse(arg, &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "too long");
    off = (size_t)snprintf(arg, sizeof(arg), "kvm64");
    for (unsigned i = 0; i < 70 && i < n; i++)
        off += (size_t)snprintf(arg + off, sizeof(arg) - off, ",+%s", f[i].name);
    EXPECT_EQ(cpu_spec_parse(arg, &s, err), -EINVAL);
    EXPECT_CONTAINS(err, "too many");
}

static void walk_features(void)
{
    struct cpu_spec s;
    struct pt_cpu c;
    struct cpuid_table t;

    parse_ok("Haswell", &s);
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT_EQ(c.maxphyaddr, 40);
    EXPECT(!c.gbpages && !c.amd);
    parse_ok("Haswell,+pdpe1gb", &s);
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT(c.gbpages);
    cpuid_pt_cpu(&s.cpuid, false, &c); /* host without 1 GiB pages (this project's PVM host) */
    EXPECT(!c.gbpages);
    parse_ok("EPYC,phys-bits=48", &s);
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT(c.amd && c.gbpages);
    EXPECT_EQ(c.maxphyaddr, 48);
    /* QEMU+KVM on an AMD host gives every model the host's vendor: vendor= models it. */
    parse_ok("Haswell,vendor=AuthenticAMD", &s);
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT(c.amd);
    EXPECT_EQ(leaf(&s, 0x80000000)->reg[CPUID_EBX], 0x68747541); /* "Auth" */
    EXPECT_EQ(leaf(&s, 0x80000001)->reg[CPUID_EDX] & 0x1, 0x1);  /* AMD mirrors fpu */
    parse_ok("EPYC,vendor=GenuineIntel", &s);
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT(!c.amd);
    EXPECT_EQ(leaf(&s, 0x80000001)->reg[CPUID_EDX] & 0x1, 0); /* no mirroring for Intel */
    parse_ok("qemu32", &s); /* no leaf 0x80000008: KVM's default */
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT_EQ(c.maxphyaddr, 36);

    /* Leaf 0x80000008 present but 0x80000000 too low: still 36 (cpuid_query_maxphyaddr). */
    parse_ok("kvm64", &s);
    cpuid_find(&s.cpuid, 0x80000000, 0)->reg[CPUID_EAX] = 0x80000004;
    cpuid_pt_cpu(&s.cpuid, true, &c);
    EXPECT_EQ(c.maxphyaddr, 36);

    memset(&t, 0, sizeof(t));
    cpuid_pt_cpu(&t, true, &c); /* nothing at all: before KVM_SET_CPUID2 */
    EXPECT_EQ(c.maxphyaddr, 36);
    EXPECT(!c.amd && !c.gbpages);
    t.n = 1;
    t.e[0].function = 0;
    memcpy(&t.e[0].reg[CPUID_EBX], "Hygo", 4);
    memcpy(&t.e[0].reg[CPUID_EDX], "nGen", 4);
    memcpy(&t.e[0].reg[CPUID_ECX], "uine", 4);
    cpuid_pt_cpu(&t, true, &c);
    EXPECT(c.amd);
}

static void set_and_find(void)
{
    struct cpuid_table t;
    const struct cpu_feature *smep = cpu_feature_find("smep");

    memset(&t, 0, sizeof(t));
    EXPECT(!cpuid_has(&t, smep));
    cpuid_set(&t, smep, false); /* clearing an absent leaf adds nothing */
    EXPECT_EQ(t.n, 0);
    cpuid_set(&t, smep, true);
    EXPECT_EQ(t.n, 1);
    EXPECT(cpuid_has(&t, smep));
    EXPECT_EQ(t.e[0].flags, 1); /* leaf 7 is indexed */
    EXPECT(cpuid_find(&t, 7, 1) == NULL);
    cpuid_set(&t, smep, false);
    EXPECT(!cpuid_has(&t, smep));
}

int main(void)
{
    RUN(feature_table);
    RUN(every_model_builds);
    RUN(model_tables);
    RUN(spec_parsing);
    RUN(too_long_or_many);
    RUN(walk_features);
    RUN(set_and_find);
    return t_done();
}
