; The benchmark kernel: Multiboot1 ELF32, one line on COM1, exit status 1 (value 0).
%include "multiboot1.inc"

bits 32
section .text
global start
start:
    mov esp, stack_top
    mov esi, msg
    call puts
    xor eax, eax
    jmp exit

%include "serial.inc"

section .rodata
msg: db "trivial: hello", 10, 0

section .bss
alignb 16
    resb 1024
stack_top:
