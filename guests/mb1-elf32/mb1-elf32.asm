; Multiboot1 ELF32: checks the boot magic, prints the command line and the
; module list from the information structure, exits with value 0.
%include "multiboot1.inc"

bits 32
section .text
global start
start:
    mov esp, stack_top
    mov ebp, ebx
    cmp eax, MB1_BOOT_MAGIC
    jne bad_magic
    ; cmdline (flags bit 2) and mods (bit 3) must be there
    mov eax, [ebp]
    and eax, 0xc
    cmp eax, 0xc
    jne bad_flags
    mov esi, s_hello
    call puts
    mov esi, [ebp + 16]
    call puts
    mov esi, s_quote_nl
    call puts
    call print_mb1_modules
    mov esi, s_done
    call puts
    xor eax, eax
    jmp exit
bad_magic:
    mov esi, s_bad_magic
    jmp die
bad_flags:
    mov esi, s_bad_flags
    call puts
    mov eax, 4
    jmp exit

%include "serial.inc"
%include "mb1info.inc"

section .rodata
s_hello: db "mb1-elf32: cmdline='", 0
s_quote_nl: db "'", 10, 0
s_done: db "mb1-elf32: done", 10, 0
s_bad_magic: db "mb1-elf32: bad boot magic", 10, 0
s_bad_flags: db "mb1-elf32: no cmdline/mods in the info flags", 10, 0

section .bss
alignb 16
    resb 4096
stack_top:
