; A kernel that handles its own #UD: the handler skips the 2-byte ud2 and
; returns; the kernel then exits cleanly. No cause must be reported.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    mov edi, 6
    mov esi, ud_handler
    call zoo_set_gate
    zoo_load_idt idt, 0xfff
    ud2
    jmp zoo_exit_ok
ud_handler:
    add qword [rsp], 2
    iretq
%endmacro
%include "zoo.inc"
