; Prints a line and stops with HLT and interrupts off.
%include "vmm.inc"
start:
    mov esp, 0x90000
    PUTS msg
    cli
    hlt
    jmp start
COMMON
msg: db "halt: goodbye", 10, 0
