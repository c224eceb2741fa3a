; No IDT: #UD cannot be delivered, nor #DF, so the CPU shuts down (a triple fault).
%include "vmm.inc"
start:
    mov esp, 0x90000
    PUTS msg
    lidt [idtr]
    ud2
COMMON
msg: db "triple: ud2 without an IDT", 10, 0
idtr: dw 0
      dd 0
