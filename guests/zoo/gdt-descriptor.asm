; gdt-descriptor: every gate names selector 0x18, a 32-bit code segment
; (L=0), but IA-32e handlers must run in 64-bit code. ud2: #UD -> #GP(0x19)
; -> #GP(0x19) -> #DF -> #GP(0x19): triple fault.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x18
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    ud2
%endmacro
%include "zoo.inc"
