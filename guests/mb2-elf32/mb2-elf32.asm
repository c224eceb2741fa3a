; Multiboot2 ELF32: checks the boot magic, finds the command-line tag and
; counts the module tags, exits with value 0.
%include "multiboot2.inc"

bits 32
section .text
global start
start:
    mov esp, stack_top
    mov ebp, ebx
    cmp eax, MB2_BOOT_MAGIC
    jne .bad
    mov esi, s_hello
    call puts
    mov ecx, 1
    call mb2_find
    test edi, edi
    jz .nocmd
    lea esi, [edi + 8]
    call puts
.nocmd:
    mov esi, s_mods
    call puts
    call mb2_count_modules
    call puthex
    jmp exit_ok
.bad:
    mov esi, s_bad
    jmp die

%include "serial.inc"
%include "mb2info.inc"

section .rodata
s_hello: db "mb2-elf32: cmdline='", 0
s_mods: db "' mods=", 0
s_bad: db "mb2-elf32: bad boot magic", 10, 0

section .bss
alignb 16
    resb 4096
stack_top:
