; user-supervisor: the kernel drops to CPL 3 (iretq through a GDT with user
; segments) into a user page, and the user code reads a supervisor page:
; #PF 0x5 (P|U) at level 1. No IDT (limit 0): #GP, #DF, triple fault, so
; user-supervisor first and idt-limit second.
%macro zoo_main 0
    lgdt [%%gdt_ptr]
    zoo_no_idt
    zoo_user_tables
    zoo_pte or, %%user_code, 4
    zoo_flush
    push 0x33                   ; SS: user data, RPL 3
    push 0                      ; RSP (never used)
    push 0x2                    ; RFLAGS
    push 0x3b                   ; CS: user 64-bit code, RPL 3
    mov eax, %%user_code
    push rax
    iretq
align 8
%%gdt:
    dq 0
    dq 0x00af9a000000ffff       ; 0x08: 64-bit code
    dq 0x00cf92000000ffff       ; 0x10: data
    dq 0x00cf9a000000ffff       ; 0x18: 32-bit code
    dq 0, 0                     ; 0x20: (no TSS)
    dq 0x00cff2000000ffff       ; 0x30: user data, DPL 3
    dq 0x00affa000000ffff       ; 0x38: user 64-bit code, DPL 3
%%gdt_end:
%%gdt_ptr:
    dw %%gdt_end - %%gdt - 1
    dd %%gdt, 0
align 4096
%%user_code:
    mov rax, [victim]
    jmp $
%endmacro
%include "zoo.inc"
