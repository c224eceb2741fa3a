/*
 * 16550A UART, output only (PC16550D datasheet, register table; QEMU
 * hw/char/serial.c for the reset values and the loopback wiring).
 */
#include "../vmm_int.h"

#include "ks/vmm_dev.h"

#include <errno.h>
#include <stdlib.h>

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define LCR_DLAB    0x80
#define MCR_LOOP    0x10
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define IER_THRI    0x02
#define IIR_NO_INT  0x01
#define IIR_THRI    0x02
#define IIR_FIFO    0xc0
#define FCR_FIFO_EN 0x01

struct serial {
    FILE *out;
    uint16_t base;
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    bool thri_pending; /* "THR empty" interrupt identification, cleared by reading IIR */
};

static uint8_t modem_status(const struct serial *s)
{
    uint8_t m = s->mcr;

    /* Loopback (datasheet §8.6): CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2. */
    if (m & MCR_LOOP)
        return (uint8_t)(((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
                         ((m & 0x08) << 4));
    return 0xb0; /* DCD, DSR, CTS: a terminal is attached */
}

static uint8_t reg_read(struct serial *s, unsigned reg)
{
    switch (reg) {
    case RBR_THR:
        return (s->lcr & LCR_DLAB) ? s->dll : 0;
    case IER:
        return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
    case IIR_FCR: {
        uint8_t iir = (s->fcr & FCR_FIFO_EN) ? IIR_FIFO : 0;

        if (s->thri_pending && (s->ier & IER_THRI)) {
            s->thri_pending = false;
            return iir | IIR_THRI;
        }
        return iir | IIR_NO_INT;
    }
    case LCR:
        return s->lcr;
    case MCR:
        return s->mcr;
    case LSR:
        return LSR_THRE | LSR_TEMT; /* nothing received, transmitter always empty */
    case MSR:
        return modem_status(s);
    default:
        return s->scr;
    }
}

static void reg_write(struct serial *s, unsigned reg, uint8_t v)
{
    switch (reg) {
    case RBR_THR:
        if (s->lcr & LCR_DLAB) {
            s->dll = v;
        } else {
            if (!(s->mcr & MCR_LOOP) && s->out)
                fputc(v, s->out);
            s->thri_pending = true;
        }
        break;
    case IER:
        if (s->lcr & LCR_DLAB) {
            s->dlm = v;
        } else {
            /* Enabling THRI with an empty THR raises the interrupt at once. */
            if ((v & IER_THRI) && !(s->ier & IER_THRI))
                s->thri_pending = true;
            s->ier = v & 0x0f;
        }
        break;
    case IIR_FCR:
        s->fcr = v & 0xc9;
        break;
    case LCR:
        s->lcr = v;
        break;
    case MCR:
        s->mcr = v & 0x1f;
        break;
    case SCR:
        s->scr = v;
        break;
    default: /* LSR and MSR are read-only */
        break;
    }
}

/* A wider access touches consecutive registers, as on the ISA bus. */
static int serial_io(void *opaque, uint64_t addr, bool write, uint8_t *data, unsigned size,
                     uint64_t *code)
{
    struct serial *s = opaque;

    (void)code;
    for (unsigned i = 0; i < size; i++) {
        uint64_t reg = addr + i - s->base;

        if (reg > SCR) {
            if (!write)
                data[i] = 0xff;
            continue;
        }
        if (write)
            reg_write(s, (unsigned)reg, data[i]);
        else
            data[i] = reg_read(s, (unsigned)reg);
    }
    return VMM_IO_OK;
}

int serial_attach(struct vmm *vm, uint16_t base, FILE *out)
{
    struct serial *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        return -ENOMEM;
    s->out = out;
    s->base = base;
    s->dll = 0x0c; /* 9600 baud, QEMU's reset divisor */
    s->lcr = 0x03;
    s->mcr = 0x08; /* OUT2 */
    rc = vmm_register_pio(vm, base, 8, serial_io, s);
    if (!rc)
        rc = vmm_on_destroy(vm, free, s);
    if (rc)
        free(s);
    return rc;
}
