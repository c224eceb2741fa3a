; A kernel that handles its own #UD: the handler skips the 2-byte ud2 and
; returns; the kernel then exits cleanly. No cause must be reported.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, 6
    mov esi, ud_handler
    call zoo_set_gate
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    ud2
    jmp zoo_exit_ok
ud_handler:
    add qword [rsp], 2
    iretq
%endmacro
%include "zoo.inc"
