; Page tables with cycles: PML4[1] points back at the PML4 itself, PML4[2]
; at a PDPT whose entry 0 points at the PML4 again (a cycle across levels),
; and PML4[3] at a PDPT that points at itself. Code and stack are identity
; mapped with one 2 MiB page so the guest can enter long mode; then it
; stores through the cycle to an address whose final entry is not present.
; There is no IDT, so the #PF ends in a triple fault. Walks, lints and the
; explainer must terminate on these tables.
%include "hostile.inc"
%define PML4 0x200000
%define PDPT0 0x201000
%define PD0 0x202000
%define PDPT2 0x203000
%define PDPT3 0x204000
start:
    mov esp, 0x90000
    mov edi, PML4
    xor eax, eax
    mov ecx, 5 * 1024
    rep stosd
    mov dword [PML4 + 0*8], PDPT0 | 0x3
    mov dword [PML4 + 1*8], PML4 | 0x3
    mov dword [PML4 + 2*8], PDPT2 | 0x3
    mov dword [PML4 + 3*8], PDPT3 | 0x7
    mov dword [PDPT0 + 0*8], PD0 | 0x3
    mov dword [PD0 + 0*8], 0x83
    mov dword [PDPT2 + 0*8], PML4 | 0x3
    mov dword [PDPT3 + 0*8], PDPT3 | 0x7
    mov dword [PDPT3 + 511*8], PDPT3 | 0x7
    mov eax, PML4
    mov cr3, eax
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    ; Still 32-bit code (compatibility mode). A 32-bit address only reaches
    ; PML4[0]; the store below walks PML4[0] -> PDPT0[1], which is empty.
    mov dword [0x40000000], 0xdead
    EXIT 0x7f
