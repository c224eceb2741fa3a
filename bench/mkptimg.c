/*
 * mkptimg: write a raw guest-physical memory image (file offset = physical
 * address) holding x86-64 4-level page tables that identity-map
 * [0, GIB GiB) with 4 KiB pages, for the page-table scan benchmark.
 *
 *   mkptimg [-g GIB] [-b BASE] [-t] OUT.img
 *
 * Layout from BASE (default 16 MiB; everything below is a hole, so the file
 * is sparse): the PML4, then the PDPTs, then the page directories, then the
 * page tables. 64 GiB needs 1 + 1 + 64 + 32768 table pages (about 134 MB) and
 * holds 16,777,216 PTEs. Prints "cr3=0x..." and the entry counts.
 *
 * Entries follow SDM Vol. 3A §4.5 (Tables 4-15, 4-17, 4-19): P|RW on every
 * table entry, P|RW|A|D on the leaves, plus NX on every leaf above 4 GiB and
 * U/S on the leaves of every odd GiB, so a dump shows more than one
 * attribute run. No reserved bits are set (MAXPHYADDR 48 here, spec/host.md).
 *
 * -t writes the tables only (file offset 0 = BASE), for QEMU's
 * `-device loader,file=OUT,addr=BASE`: a full image loaded at 0 would
 * overwrite the firmware's low memory at reset.
 */
#include "ks/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096ull
#define P    0x1ull
#define RW   0x2ull
#define US   0x4ull
#define A    0x20ull
#define D    0x40ull
#define NX   (1ull << 63)

static uint64_t file_base; /* physical address of file offset 0 */

static void put(int fd, const uint64_t *page, uint64_t pa)
{
    if (pwrite(fd, page, PAGE, (off_t)(pa - file_base)) != (ssize_t)PAGE) {
        fprintf(stderr, "mkptimg: write at 0x%llx: %s\n", (unsigned long long)pa, strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    uint64_t gib = 64, base = 16ull << 20;
    uint64_t page[512];
    int opt, fd;

    bool tables_only = false;

    while ((opt = getopt(argc, argv, "g:b:t")) != -1) {
        if (opt == 't') {
            tables_only = true;
        } else if (opt == 'g' || opt == 'b') {
            if (parse_u64(optarg, opt == 'g' ? &gib : &base)) {
                fprintf(stderr, "mkptimg: -%c: '%s' is not a number\n", opt, optarg);
                return 2;
            }
        } else {
            return 2;
        }
    }
    if (optind != argc - 1 || gib == 0 || gib > 512 || (base & (PAGE - 1))) {
        fprintf(stderr, "usage: mkptimg [-g GIB (1..512)] [-b BASE (page aligned)] [-t] OUT.img\n");
        return 2;
    }
    uint64_t npd = gib, npt = gib * 512;
    uint64_t pml4 = base, pdpt = base + PAGE, pd0 = pdpt + PAGE, pt0 = pd0 + npd * PAGE;
    uint64_t end = pt0 + npt * PAGE;

    if (tables_only)
        file_base = base;
    fd = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)(end - file_base)) < 0) {
        fprintf(stderr, "mkptimg: %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    memset(page, 0, sizeof(page));
    page[0] = pdpt | P | RW | US;
    put(fd, page, pml4);
    memset(page, 0, sizeof(page));
    for (uint64_t i = 0; i < npd; i++)
        page[i] = (pd0 + i * PAGE) | P | RW | US;
    put(fd, page, pdpt);
    for (uint64_t d = 0; d < npd; d++) {
        for (uint64_t i = 0; i < 512; i++)
            page[i] = (pt0 + (d * 512 + i) * PAGE) | P | RW | US;
        put(fd, page, pd0 + d * PAGE);
    }
    for (uint64_t t = 0; t < npt; t++) {
        uint64_t va = t << 21, gb = va >> 30;
        uint64_t flags = P | RW | A | D | (gb >= 4 ? NX : 0) | ((gb & 1) ? US : 0);

        for (uint64_t i = 0; i < 512; i++)
            page[i] = (va + i * PAGE) | flags;
        put(fd, page, pt0 + t * PAGE);
    }
    if (close(fd) < 0) {
        perror("mkptimg: close");
        return 1;
    }
    printf("cr3=0x%llx tables=%llu ptes=%llu size=%llu\n", (unsigned long long)pml4,
           (unsigned long long)(2 + npd + npt), (unsigned long long)(npt * 512),
           (unsigned long long)end);
    return 0;
}
