/*
 * The VMM's devices, each attached explicitly (no constructors), each in
 * its own file under vmm/devices/. Every device accepts any access size
 * and any offset in its range: a hostile guest cannot crash the VMM.
 * Device state is freed by vmm_destroy().
 */
#ifndef KS_VMM_DEV_H
#define KS_VMM_DEV_H

#include "ks/vmm.h"

#include <stdio.h>

/*
 * A 16550A UART (National Semiconductor PC16550D datasheet; QEMU
 * hw/char/serial.c) at ports [base, base+8). THR bytes go to (out). LSR
 * always reports THRE|TEMT so polling kernels never wait; IER, LCR, MCR,
 * SCR and the divisor latch (DLAB) read back what was written; nothing is
 * ever received. Returns 0 or -errno.
 */
#define COM1_BASE 0x3f8
int serial_attach(struct vmm *vm, uint16_t base, FILE *out);

/* Bochs/QEMU debug console: every byte written to (port) (0xe9) goes to (out); reads 0xe9. */
#define DEBUGCON_PORT 0xe9
int debugcon_attach(struct vmm *vm, uint16_t port, FILE *out);

/*
 * QEMU's isa-debug-exit at (port) (0xf4): a write of any size stops the
 * VM with VMM_OUT_DEBUG_EXIT and code = the value written; QEMU exits with
 * status (value << 1) | 1 (hw/misc/debugexit.c).
 */
#define DEBUG_EXIT_PORT 0xf4
int debugexit_attach(struct vmm *vm, uint16_t port);

/*
 * QEMU's fw_cfg, legacy I/O interface (docs/specs/fw_cfg.rst): a 16-bit
 * selector at 0x510 and a byte-wide data port at 0x511. Items: signature
 * "QEMU" (0x00), id 1 = traditional interface only (0x01), RAM size
 * (0x03), NB_CPUS 1 (0x05), MAX_CPUS 1 (0x0f), the highest RAM address + 1
 * (0x11, see docs/run.md), and an empty file directory (0x19).
 */
#define FW_CFG_PORT 0x510
int fwcfg_attach(struct vmm *vm);

/*
 * The VGA text buffer at 0xb8000 as emulated MMIO: 80x25 cells of
 * character + attribute, stored and read back. (The rest of
 * 0xa0000-0xbffff is registered too and reads as 0xff.)
 */
#define VGA_TEXT_BASE 0xb8000
#define VGA_COLS      80
#define VGA_ROWS      25
struct vga_text;
int vga_attach(struct vmm *vm, struct vga_text **out);
/* Write the screen as text to (f): trailing blanks trimmed, trailing empty rows dropped. */
void vga_print(const struct vga_text *v, FILE *f);
/* Whether the guest wrote anything to the text buffer. */
bool vga_touched(const struct vga_text *v);
/* The cell at (row, col): character in bits 7:0, attribute in 15:8. */
uint16_t vga_cell(const struct vga_text *v, unsigned row, unsigned col);

#endif
