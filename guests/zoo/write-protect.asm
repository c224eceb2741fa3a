; write-protect: the kernel maps its own stack read-only (CR0.WP=1). The push
; faults (#PF 0x3, level 1); delivering the #PF pushes to the same stack:
; #PF, #DF, #PF: triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    zoo_load_idt idt, 0xfff
    zoo_pte and, stack, ~2
    zoo_flush
    push rax
%endmacro
%include "zoo.inc"
