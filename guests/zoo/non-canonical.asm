; non-canonical: RSP is set to 0x0000900000000000, which is not canonical.
; The push raises #SS(0); delivery pushes to the same RSP (#SS), then #DF
; does too: triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    zoo_load_idt idt, 0xfff
    mov rsp, 0x0000900000000000
    push rax
%endmacro
%include "zoo.inc"
