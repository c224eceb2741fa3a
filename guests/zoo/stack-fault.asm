; stack-fault: the kernel unmaps its own stack page. The push faults (#PF 0x2,
; level 1); delivery pushes to the same stack: #PF, #DF, #PF: triple fault.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    mov eax, stack
    shr eax, 12
    mov dword [pt + rax * 8], 0
    zoo_flush
    push rax
%endmacro
%include "zoo.inc"
