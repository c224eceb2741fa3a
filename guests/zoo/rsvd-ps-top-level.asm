; rsvd-ps-top-level: PML4[1] has PS=1, as if x86 had 512 GiB pages. The IDT
; and the data live at 512 GiB + 2 MiB, behind that entry: #PF 0x9 at
; level 4, then the IDT reads: triple fault.
%macro zoo_main 0
    mov dword [pml4 + 8], 0x83
    zoo_flush
    mov rdi, 0x8000200000
    mov esi, 0xfff
    call zoo_lidt
    mov rax, 0x8000201000
    mov rax, [rax]
%endmacro
%include "zoo.inc"
