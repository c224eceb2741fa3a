; idt-gate: an IDT whose gates are all marked not present (P=0), and a ud2:
; #UD -> #NP(0x33) -> #NP(0x5b) -> #DF -> #NP(0x43): triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x0e
    zoo_load_idt idt, 0xfff
    ud2
%endmacro
%include "zoo.inc"
