/*
 * Register dumps for `kvmscope run`: QEMU's exact text format
 * (target/i386/cpu-dump.c x86_cpu_dump_state, spec/formats.md §1.2-1.4)
 * and the "registers" JSON object.
 */
#ifndef KS_CLI_REGDUMP_H
#define KS_CLI_REGDUMP_H

#include "ks/snapshot.h"
#include "ks/strbuf.h"

/*
 * QEMU's dump of (snap): 64-bit GPR/segment form when CS.L=1 and
 * EFER.LMA=1, 64-bit GDT/CR form when EFER.LMA=1, 32-bit forms otherwise
 * (QEMU keys the two parts on HF_CS64 and HF_LMA separately). (halted)
 * becomes HLT=1. Segment flags are those QEMU derives from KVM's
 * segments (target/i386/kvm/kvm.c get_seg), so the limit nibble is 0.
 */
void regdump_qemu(struct strbuf *sb, const struct snapshot *snap, bool halted);

/*
 * QEMU's "Code=" line: (n) bytes starting (before) bytes ahead of RIP;
 * (valid[i]) false prints "??"; the byte at RIP is wrapped in <..>.
 */
void regdump_code(struct strbuf *sb, const uint8_t *bytes, const bool *valid, unsigned n,
                  unsigned before);

/* {"rax":"0x..",...,"rip":..,"rflags":..,"cs":{...},...,"cr0":..,"efer":..} */
void regdump_json(struct strbuf *sb, const struct snapshot *snap);

#endif
