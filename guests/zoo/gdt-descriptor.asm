; gdt-descriptor: every gate names selector 0x18, a 32-bit code segment
; (L=0), but IA-32e handlers must run in 64-bit code. ud2: #UD -> #GP(0x19)
; -> #GP(0x19) -> #DF -> #GP(0x19): triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x18, 0x8e
    zoo_load_idt idt, 0xfff
    ud2
%endmacro
%include "zoo.inc"
