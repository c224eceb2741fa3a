; Interrupt-driven: the 8259 PIC and the 8254 PIT of --irqchip raise IRQ0
; (vector 0x20) about 100 times a second; after 3 ticks, exit with 5.
; The handler does not IRET: on the PVM host every CPL0 instruction is
; emulated and KVM's emulator cannot emulate a protected-mode IRET (em_iret
; handles real mode only), which gives an emulation failure. It drops the
; interrupt frame and jumps back to the sti/hlt loop instead.
%include "vmm.inc"
start:
    mov esp, 0x90000
    ; IDT gate 0x20 -> irq0, a 32-bit interrupt gate (SDM Vol. 3A §6.11, Figure 6-2)
    mov eax, irq0
    mov word [idt + 0x20 * 8], ax
    mov word [idt + 0x20 * 8 + 2], 0x08
    mov word [idt + 0x20 * 8 + 4], 0x8e00
    shr eax, 16
    mov word [idt + 0x20 * 8 + 6], ax
    lidt [idtr]
    ; PIC: ICW1 edge+ICW4, ICW2 base 0x20, ICW3 slave on IRQ2, ICW4 8086 mode; unmask IRQ0 only
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    ; PIT channel 0, lobyte/hibyte, mode 2, divisor 11932 (~100 Hz)
    mov al, 0x34
    out 0x43, al
    mov ax, 11932
    out 0x40, al
    mov al, ah
    out 0x40, al
    PUTS msg
wait_irq:
    cmp dword [ticks], 3
    jae .enough
    sti
    hlt
    jmp wait_irq
.enough:
    cli
    PUTS done
    EXIT 5
irq0:
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    add esp, 12             ; EIP, CS, EFLAGS of the interrupted hlt loop
    jmp wait_irq
COMMON
msg: db "pit: waiting for 3 timer interrupts", 10, 0
done: db "pit: 3 ticks", 10, 0
align 4
ticks: dd 0
idtr: dw 0x20 * 8 + 7
      dd idt
align 8
idt: times 0x21 * 8 db 0
