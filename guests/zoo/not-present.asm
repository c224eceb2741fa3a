; not-present: the IDT and a data page sit at 1 GiB, where PDPT[1] maps
; nothing. The read faults (#PF 0, level 3), reading the #PF gate faults
; the same way (#DF), and so does the #DF gate: triple fault.
%macro zoo_main 0
    zoo_load_idt 0x40000000, 0xfff
    mov rax, [0x40001000]
%endmacro
%include "zoo.inc"
