; Exercises the 16550 registers the way drivers probe them (Linux
; autoconfig, kvm-unit-tests): scratch register, divisor latch, IER, LCR,
; MCR loopback -> MSR, IIR with FIFOs; exits with 0x55 when all behave,
; otherwise with the number of the first failing check.
%include "vmm.inc"

%macro CHECK 2                      ; AL must equal %1, else exit %2
    cmp al, %1
    je %%ok
    EXIT %2
%%ok:
%endmacro

start:
    mov esp, 0x90000
    mov dx, COM1 + 7                ; SCR
    mov al, 0x5a
    out dx, al
    in al, dx
    CHECK 0x5a, 1
    mov dx, COM1 + 3                ; LCR: DLAB
    mov al, 0x80
    out dx, al
    mov dx, COM1                    ; DLL / DLM = 1 (115200 baud)
    mov al, 0x01
    out dx, al
    mov dx, COM1 + 1
    mov al, 0x00
    out dx, al
    mov dx, COM1
    in al, dx
    CHECK 0x01, 2
    mov dx, COM1 + 3
    mov al, 0x03                    ; 8N1, DLAB off
    out dx, al
    in al, dx
    CHECK 0x03, 3
    mov dx, COM1 + 1                ; IER
    mov al, 0x05
    out dx, al
    in al, dx
    CHECK 0x05, 4
    mov al, 0
    out dx, al
    mov dx, COM1 + 4                ; MCR: loopback with RTS+OUT2 -> MSR CTS+DCD
    mov al, 0x1a
    out dx, al
    mov dx, COM1 + 6
    in al, dx
    and al, 0xf0
    CHECK 0x90, 5
    mov dx, COM1 + 4                ; loopback off: DCD, DSR, CTS
    mov al, 0x0b
    out dx, al
    mov dx, COM1 + 6
    in al, dx
    CHECK 0xb0, 6
    mov dx, COM1 + 2                ; FCR: FIFOs on -> IIR 0xc1 (no interrupt)
    mov al, 0x07
    out dx, al
    in al, dx
    CHECK 0xc1, 7
    mov dx, COM1 + 5                ; LSR: THRE | TEMT, no data
    in al, dx
    CHECK 0x60, 8
    mov dx, COM1                    ; RBR: nothing received
    in al, dx
    CHECK 0x00, 9
    mov dx, COM1 + 1                ; THRI raises the THR-empty identification once
    mov al, 0x02
    out dx, al
    mov dx, COM1 + 2
    in al, dx
    CHECK 0xc2, 10
    in al, dx
    CHECK 0xc1, 11
    PUTS ok
    EXIT 0x55
COMMON
ok: db "uart: registers ok", 10, 0
