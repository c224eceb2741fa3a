; non-canonical: RSP is set to 0x0000900000000000, which is not canonical.
; The push raises #SS(0); delivery pushes to the same RSP (#SS), then #DF
; does too: triple fault.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    mov rsp, 0x0000900000000000
    push rax
%endmacro
%include "zoo.inc"
