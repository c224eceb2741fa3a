; idt-gate: an IDT whose gates are all marked not present (P=0), and a ud2:
; #UD -> #NP(0x33) -> #NP(0x5b) -> #DF -> #NP(0x43): triple fault.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x0e
    call zoo_idt_all
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    ud2
%endmacro
%include "zoo.inc"
