; smep: CR4.SMEP although the vCPU's CPUID has no smep (this host's KVM
; accepts it and enforces it). The kernel jumps to code in a user page:
; #PF 0x11 (F is reported because SMEP is on). No IDT either (limit 0), so
; the #PF becomes #GP, #DF, triple fault: smep first, idt-limit second.
%macro zoo_main 0
    zoo_no_idt
    zoo_user_tables
    zoo_pte or, %%user_code, 4
    zoo_flush
    mov rax, cr4
    bts rax, 20
    mov cr4, rax
    jmp %%user_code
align 4096
%%user_code:
    nop
    jmp zoo_exit_ok
%endmacro
%include "zoo.inc"
