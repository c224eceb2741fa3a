; Bench guest, long-mode variant of pioloop.asm: a Multiboot1 ELF32 that
; builds a one-entry identity map (a 2 MiB page at 0, SDM Vol. 3A §4.5),
; enters 64-bit mode (§10.8.5: CR4.PAE, CR3, EFER.LME, CR0.PG, then a far
; jump to a 64-bit code segment), then does what pioloop does: one line on
; COM1, NREADS reads of COM1 LSR, value 0 to isa-debug-exit. Every exit then
; comes from paged 64-bit code, so a VMM that reads instruction bytes per
; exit has to walk the guest's page tables.
%ifndef NREADS
%define NREADS 0
%endif
%define PML4 0x200000
%define PDPT 0x201000
%define PD   0x202000

section .multiboot progbits alloc noexec nowrite align=4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

bits 32
section .text
global start
start:
    cli
    mov dword [PML4], PDPT | 3
    mov dword [PML4 + 4], 0
    mov dword [PDPT], PD | 3
    mov dword [PDPT + 4], 0
    mov dword [PD], 0x83            ; P | RW | PS: 2 MiB at 0
    mov dword [PD + 4], 0
    lgdt [gdt_desc]
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080             ; IA32_EFER
    rdmsr
    or eax, 1 << 8                  ; LME
    wrmsr
    mov eax, cr0
    or eax, 1 << 31                 ; PG
    mov cr0, eax
    jmp 0x08:long_mode

bits 64
long_mode:
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
    jrcxz .done
.loop:
    in al, dx
    loop .loop
.done:
    xor eax, eax
    mov dx, 0xf4
    out dx, eax
.halt:
    hlt
    jmp .halt

section .rodata
align 8
gdt:
    dq 0
    dq 0x00209a0000000000           ; 0x08: 64-bit code, DPL 0
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt
msg: db "pioloop: hello", 10, 0
