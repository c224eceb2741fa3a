; rsvd-large-page: PD[1] maps a 2 MiB page whose frame is not 2 MiB aligned
; (bit 13 set: 0x202000), which is reserved in a PDE with PS=1. The IDT lives
; there: #PF 0x9 at level 2, then the IDT reads: triple fault.
%macro zoo_main 0
    mov edi, 0x200000
    mov esi, 0xfff
    call zoo_lidt
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x8e
    call zoo_idt_all
    or dword [pd + 8], 0x2000
    zoo_flush
    mov rax, [0x201000]
%endmacro
%include "zoo.inc"
