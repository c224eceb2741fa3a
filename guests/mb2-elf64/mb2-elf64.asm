; Multiboot2 in an ELF64 file: the entry is 32-bit code (as Multiboot2
; promises), which switches to long mode; the 64-bit part prints the command
; line from the MBI and exits with value 0.
%include "multiboot2.inc"

bits 32
section .text
global start
start:
    mov esp, stack_top
    mov [mbi], ebx
    cmp eax, MB2_BOOT_MAGIC
    jne .bad
    jmp enter_long_mode
.bad:
    mov esi, s_bad
    jmp die

%include "serial.inc"
%include "mb2info.inc"
%include "longmode.inc"

bits 64
long_start:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top
    mov ebp, [mbi]
    mov esi, s_hello
    call puts
    mov ecx, 1
    call mb2_find
    test edi, edi
    jz .nocmd
    lea esi, [rdi + 8]
    call puts
.nocmd:
    mov esi, s_end
    call puts
    xor eax, eax
    jmp exit

section .rodata
s_hello: db "mb2-elf64: long mode, cmdline='", 0
s_end: db "'", 10, 0
s_bad: db "mb2-elf64: bad boot magic", 10, 0

section .bss
mbi: resd 1
alignb 16
    resb 4096
stack_top:
