; 64-bit code, no IDT: ud2 -> triple fault, dumped in QEMU's 64-bit form.
%include "vmm.inc"
start:
    mov esp, 0x90000
    PUTS msg
    LONG_MODE long_start
bits 64
long_start:
    mov rax, 0x1122334455667788
    mov r15, 0xf00dfeed
    lidt [rel idtr]
    ud2
idtr:
    dw 0
    dq 0
bits 32
COMMON
msg: db "triple64: entering long mode", 10, 0
