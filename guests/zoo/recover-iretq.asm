; recover-iretq: an IRETQ at CPL0 back to the next instruction, then a clean
; exit. In 64-bit mode this host's KVM emulates it fine (unlike a 32-bit IRETD
; at CPL0, see guests/emulation/iret32.asm): no crash, no false alarm.
%macro zoo_main 0
    mov rax, rsp
    push 0x10
    push rax
    pushfq
    push 0x08
    lea rax, [rel .back]
    push rax
    iretq
.back:
    jmp zoo_exit_ok
%endmacro
%include "zoo.inc"
