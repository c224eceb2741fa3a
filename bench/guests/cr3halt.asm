; Bench guest for the QEMU page-table peers: Multiboot1 ELF32 that enters
; IA-32e mode (SDM Vol. 3A §10.8.5: CR4.PAE, CR3, EFER.LME, then CR0.PG) on
; the tables mkptimg wrote at CR3 (nasm -DCR3=...), prints "ready" on COM1
; and halts with interrupts off, so the monitor's `info mem` / `info tlb` walk
; those tables. The tables identity-map this code (1 MiB), so the fetch after
; CR0.PG works; CS stays a 32-bit segment, i.e. compatibility mode.
%ifndef CR3
%define CR3 0x1000000
%endif

section .multiboot progbits alloc noexec nowrite align=4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

bits 32
section .text
global start
start:
    cli
    mov eax, cr4
    or eax, 1 << 5          ; PAE
    mov cr4, eax
    mov eax, CR3
    mov cr3, eax
    mov ecx, 0xc0000080     ; IA32_EFER
    rdmsr
    or eax, (1 << 8) | (1 << 11) ; LME, NXE (the tables use NX)
    wrmsr
    mov eax, cr0
    or eax, 1 << 31         ; PG
    mov cr0, eax
    mov esi, msg
.puts:
    lodsb
    test al, al
    jz .halt
    mov dx, 0x3f8
    out dx, al
    jmp .puts
.halt:
    hlt
    jmp .halt

section .rodata
msg: db "ready", 10, 0
