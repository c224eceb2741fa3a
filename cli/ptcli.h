/*
 * What `kvmscope walk` and `kvmscope pt` share: the raw physical-memory
 * image, the register/CPU flags and their validation (docs/paging.md).
 */
#ifndef KS_CLI_PTCLI_H
#define KS_CLI_PTCLI_H

#include "ks/cpumodel.h"
#include "ks/gmem.h"
#include "ks/paging.h"

#include <getopt.h>

/* Register defaults: 4-level paging (CR0.PE|ET|PG, CR4.PAE, EFER.LME|LMA). */
#define PTCLI_CR0  0x80000011ULL
#define PTCLI_CR4  0x20ULL
#define PTCLI_EFER 0x500ULL
/* QEMU's default CPU model, the one the seed guest ran on. */
#define PTCLI_CPU "qemu64"

struct ptcli_opts {
    const char *image;
    const char *cpu;
    uint64_t cr0, cr3, cr4, efer, rflags, pkru;
    bool have_cr3;
    int maxphyaddr; /* -1: from the CPU model */
    int gbpages;    /* -1: from the CPU model, else 0/1 */
    bool amd, json;
};

/* An image mapped read-only as guest memory at GPA 0. */
struct ptcli_image {
    struct gmem mem;
    void *map;
    uint64_t size;
};

/* The long options every paging command takes; (ptcli_opt) handles them. */
#define PTCLI_LONGOPTS                                                                             \
    {"image", required_argument, NULL, 'i'}, {"cr0", required_argument, NULL, 0x100},              \
        {"cr3", required_argument, NULL, 0x103}, {"cr4", required_argument, NULL, 0x104},          \
        {"efer", required_argument, NULL, 0x105}, {"cpu", required_argument, NULL, 0x106},         \
        {"maxphyaddr", required_argument, NULL, 0x107},                                            \
        {"gbpages", required_argument, NULL, 0x108}, {"amd", no_argument, NULL, 0x109},            \
        {"json", no_argument, NULL, 0x10a}, {"rflags", required_argument, NULL, 0x10b},            \
    {                                                                                              \
        "pkru", required_argument, NULL, 0x10c                                                     \
    }

void ptcli_defaults(struct ptcli_opts *o);
/*
 * Handle one getopt_long result (opt, optarg). Returns 1 if handled, 0 if
 * not one of PTCLI_LONGOPTS, or -1 after printing an error line (usage).
 */
int ptcli_opt(const char *cmd, int opt, const char *arg, struct ptcli_opts *o);
/* The error line for an unknown option or a missing argument (getopt's '?'/':'). */
void ptcli_bad_option(const char *cmd, char **argv, int optopt_val);

/*
 * The option loop of a paging command: getopt_long(":h", longopts) with
 * PTCLI_LONGOPTS stored in (o) by ptcli_opt. Returns the next option the
 * command handles itself (its own entries in longopts, 'h'), -1 when the
 * options end, or PTCLI_OPT_ERROR after one error line (usage). Set
 * optind = 1 and opterr = 0 before the first call.
 */
#define PTCLI_OPT_ERROR (-2)
int ptcli_next_opt(const char *cmd, int argc, char **argv, const struct option *longopts,
                   struct ptcli_opts *o);

/*
 * Build the walk context; prints one error line. Returns CLI_OK or CLI_USAGE.
 * (notes) gets "note: ..." lines (or "") for register bits the CPU model
 * does not offer, which KVM refuses once KVM_SET_CPUID2 was called.
 */
int ptcli_ctx(const char *cmd, const struct ptcli_opts *o, const struct ptcli_image *img,
              struct pt_ctx *c, char *notes, size_t len);
/* Map the image; prints one error line. Returns CLI_OK or CLI_INPUT. */
int ptcli_image_open(const char *cmd, const char *path, struct ptcli_image *img);
void ptcli_image_close(struct ptcli_image *img);
/*
 * PAE: load and validate the PDPTE registers from CR3 as the MOV to CR3
 * would (spec §2.5) into (c). An invalid PDPTE is reported on stdout as the
 * #GP(0) it causes (JSON with --json; (va) is the walked address or NULL).
 * Returns CLI_OK, CLI_FOUND (#GP) or CLI_INPUT (truncated image).
 */
int ptcli_load_pae(const char *cmd, const struct ptcli_opts *o, const struct ptcli_image *img,
                   const gva_t *va, struct pt_ctx *c);
/* A one-line description of the paging setup, e.g. for the header of the output. */
void ptcli_describe(const struct pt_ctx *c, const char *cpu, char *buf, size_t len);

#endif
