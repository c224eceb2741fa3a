; rsvd-large-page: PD[1] maps a 2 MiB page whose frame is not 2 MiB aligned
; (bit 13 set: 0x202000), which is reserved in a PDE with PS=1. The IDT lives
; there: #PF 0x9 at level 2, then the IDT reads: triple fault.
%macro zoo_main 0
    zoo_load_idt 0x200000, 0xfff
    zoo_idt_fill 0x08, 0x8e
    or dword [pd + 8], 0x2000
    zoo_flush
    mov rax, [0x201000]
%endmacro
%include "zoo.inc"
