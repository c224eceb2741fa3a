; Bench guest: Multiboot1 ELF32 (Multiboot 0.6.96 §3.1.1, flags 0). Prints one
; line on COM1 the way guests/trivial does (poll LSR 0x3fd, write THR 0x3f8),
; then reads COM1 LSR NREADS more times (one PIO exit each, a port every VMM
; here serves without output), then leaves through isa-debug-exit (0xf4) with
; value 0. Build with nasm -f elf32 -DNREADS=N. NREADS=0 is the
; start-to-exit baseline the per-exit cost is computed against.
%ifndef NREADS
%define NREADS 0
%endif

section .multiboot progbits alloc noexec nowrite align=4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

bits 32
section .text
global start
start:
    mov esi, msg
.puts:
    lodsb
    test al, al
    jz .loop_start
    mov ah, al
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp .puts
.loop_start:
    mov ecx, NREADS
    mov dx, 0x3fd
    jecxz .done
.loop:
    in al, dx
    loop .loop
.done:
    xor eax, eax
    mov dx, 0xf4
    out dx, eax
.halt:
    cli
    hlt
    jmp .halt

section .rodata
msg: db "pioloop: hello", 10, 0
