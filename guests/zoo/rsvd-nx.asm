; rsvd-nx: the kernel marks its data pages execute-disable (bit 63) but never
; sets EFER.NXE, so bit 63 is reserved. The read of the victim page faults
; (#PF 0x9, level 1) and so does the read of the IDT page: triple fault.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    mov eax, victim
    shr eax, 12
    or dword [pt + rax * 8 + 4], 0x80000000
    mov eax, idt
    shr eax, 12
    or dword [pt + rax * 8 + 4], 0x80000000
    zoo_flush
    mov rax, [victim]
%endmacro
%include "zoo.inc"
