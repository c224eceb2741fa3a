; stack-fault: the kernel unmaps its own stack page. The push faults (#PF 0x2,
; level 1); delivery pushes to the same stack: #PF, #DF, #PF: triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    zoo_load_idt idt, 0xfff
    zoo_pte mov, stack, 0
    zoo_flush
    push rax
%endmacro
%include "zoo.inc"
