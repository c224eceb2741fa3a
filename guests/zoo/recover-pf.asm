; A kernel that handles its own page fault: it unmaps the victim page, reads
; it, and its #PF handler maps the page back and returns (iretq), after which
; the kernel exits cleanly through isa-debug-exit. No cause must be reported.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    mov edi, 14
    mov esi, pf_handler
    call zoo_set_gate
    zoo_load_idt idt, 0xfff
    zoo_pte and, victim, ~1
    zoo_flush
    mov rax, [victim]
    jmp zoo_exit_ok
pf_handler:
    push rax
    zoo_pte or, victim, 1
    zoo_flush
    pop rax
    add rsp, 8                  ; the error code
    iretq
%endmacro
%include "zoo.inc"
