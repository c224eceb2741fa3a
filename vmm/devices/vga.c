/*
 * The VGA text buffer (IBM VGA Technical Reference: mode 3 at 0xb8000,
 * character byte then attribute byte per cell). The whole legacy VGA
 * window 0xa0000-0xbffff is claimed so that graphics writes are not
 * "unhandled"; only the text window is stored.
 */
#include "../vmm_int.h"

#include "ks/vmm_dev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VGA_WINDOW     0xa0000
#define VGA_WINDOW_LEN 0x20000
#define TEXT_LEN       0x8000 /* 0xb8000-0xbffff: eight 4 KiB text pages */

struct vga_text {
    uint8_t mem[TEXT_LEN];
    bool touched;
};

static int vga_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                  uint64_t *code)
{
    struct vga_text *v = opaque;

    (void)code;
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = addr + i;

        if (a < VGA_TEXT_BASE || a - VGA_TEXT_BASE >= TEXT_LEN) {
            if (!write)
                data[i] = 0xff;
            continue;
        }
        if (write) {
            v->mem[a - VGA_TEXT_BASE] = data[i];
            v->touched = true;
        } else {
            data[i] = v->mem[a - VGA_TEXT_BASE];
        }
    }
    return VMM_IO_OK;
}

int vga_attach(struct vmm *vm, struct vga_text **out)
{
    struct vga_text *v = calloc(1, sizeof(*v));
    int rc;

    if (!v)
        return -ENOMEM;
    rc = vmm_register_mmio(vm, VGA_WINDOW, VGA_WINDOW_LEN, vga_io, v);
    if (!rc)
        rc = vmm_on_destroy(vm, free, v);
    if (rc) {
        free(v);
        return rc;
    }
    if (out)
        *out = v;
    return 0;
}

uint16_t vga_cell(const struct vga_text *v, unsigned row, unsigned col)
{
    unsigned off;

    if (row >= VGA_ROWS || col >= VGA_COLS)
        return 0;
    off = (row * VGA_COLS + col) * 2;
    return (uint16_t)(v->mem[off] | (v->mem[off + 1] << 8));
}

bool vga_touched(const struct vga_text *v)
{
    return v->touched;
}

void vga_print(const struct vga_text *v, FILE *f)
{
    char line[VGA_ROWS][VGA_COLS + 1];
    int last_row = -1;

    for (unsigned r = 0; r < VGA_ROWS; r++) {
        int end = 0;

        for (unsigned c = 0; c < VGA_COLS; c++) {
            uint8_t ch = (uint8_t)vga_cell(v, r, c);

            /* Code page 437 graphics and controls become '.', NUL and blanks ' '. */
            if (ch == 0 || ch == ' ')
                ch = ' ';
            else if (ch < 0x20 || ch >= 0x7f)
                ch = '.';
            line[r][c] = (char)ch;
            if (ch != ' ')
                end = (int)c + 1;
        }
        line[r][end] = '\0';
        if (end)
            last_row = (int)r;
    }
    for (int r = 0; r <= last_row; r++)
        fprintf(f, "%s\n", line[r]);
}
