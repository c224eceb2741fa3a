; rsvd-nx: the kernel marks its data pages execute-disable (bit 63) but never
; sets EFER.NXE, so bit 63 is reserved. The read of the victim page faults
; (#PF 0x9, level 1) and so does the read of the IDT page: triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    zoo_load_idt idt, 0xfff
    zoo_pte_nx victim
    zoo_pte_nx idt
    zoo_flush
    mov rax, [victim]
%endmacro
%include "zoo.inc"
