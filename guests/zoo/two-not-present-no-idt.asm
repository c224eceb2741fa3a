; Two reasons at once: a read of an unmapped page (PDPT[1] = 0: #PF 0,
; level 3) and no IDT (limit 0): #PF -> #GP(0x73) -> #DF -> #GP(0x43).
%macro zoo_main 0
    zoo_no_idt
    mov rax, [0x40001000]
%endmacro
%include "zoo.inc"
