; nx-fetch: EFER.NXE=1 and the kernel jumps into a page it marked
; execute-disable: #PF 0x11 (P|F) at level 1. No IDT (limit 0), so the #PF
; becomes #GP, #DF, triple fault: nx-fetch first, idt-limit second.
%define ZOO_EFER 0x800
%macro zoo_main 0
    zoo_no_idt
    zoo_pte_nx %%data_code
    zoo_flush
    jmp %%data_code
align 4096
%%data_code:
    nop
    jmp zoo_exit_ok
%endmacro
%include "zoo.inc"
