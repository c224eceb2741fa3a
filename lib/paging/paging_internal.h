/* Helpers shared by the files of lib/paging/ (not a public interface). */
#ifndef KS_PAGING_INTERNAL_H
#define KS_PAGING_INTERNAL_H

#include "ks/paging.h"

#include <string.h>

/* Table address bits of an entry: 51:12 for 8-byte entries, 31:12 for 4-byte ones. */
#define PT64_ADDR_MASK KS_BITS(12, 51)
#define PT32_ADDR_MASK 0xfffff000ULL

/* A paging entry of (size) 4 or 8 bytes from host memory the caller bounds-checked. */
static inline uint64_t pt_load_entry(const void *p, unsigned size)
{
    if (size == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* (entry) & its reserved mask at (level) of (mode); the rules hit go to (why). */
uint64_t pt_rsvd_check(const struct pt_ctx *c, enum pt_mode mode, int level, uint64_t entry,
                       uint32_t *why);
/* All masks of (mode): table[bit7][level], level 1..5 (index 0 unused). */
void pt_rsvd_table(const struct pt_ctx *c, enum pt_mode mode, uint64_t table[2][6]);
/* KVM pdptr_rsvd_bits(): reserved bits of a present PAE PDPTE register. */
uint64_t pt_pdpte_rsvd_mask(const struct pt_ctx *c);

/*
 * The permission rules of spec §3.3 for effective rights (user_page,
 * writable, executable) and the leaf's (pkey); (wide) = 8-byte entries.
 * Returns 0 or the #PF code part P[|PK]; the rules hit go to (why).
 */
uint32_t pt_perm_check(const struct pt_ctx *c, bool wide, uint32_t access, bool user_page,
                       bool writable, bool executable, unsigned pkey, uint32_t *why);

#endif
