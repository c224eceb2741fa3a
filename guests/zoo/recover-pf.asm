; A kernel that handles its own page fault: it unmaps the victim page, reads
; it, and its #PF handler maps the page back and returns (iretq), after which
; the kernel exits cleanly through isa-debug-exit. No cause must be reported.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x08
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, 14
    mov esi, pf_handler
    call zoo_set_gate
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    mov eax, victim
    shr eax, 12
    and dword [pt + rax * 8], ~1
    zoo_flush
    mov rax, [victim]
    jmp zoo_exit_ok
pf_handler:
    push rax
    mov eax, victim
    shr eax, 12
    or dword [pt + rax * 8], 1
    zoo_flush
    pop rax
    add rsp, 8                  ; the error code
    iretq
%endmacro
%include "zoo.inc"
