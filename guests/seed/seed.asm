; The kernel of the seed story (shared/seed/kvm-1gb-pages.txt): a Multiboot2
; kernel that enters long mode with a PML4 whose first entry points at a PDPT
; mapping the first 32 GiB with 1 GiB pages (PS=1 in PDPTEs 0..31), no IDT,
; a serial line before paging, and a VGA store "movw $0x248, 0xb8000(%rip)"
; as its first 64-bit instruction.
;
; Where the vCPU has no 1 GiB pages (pdpe1gb, CPUID 0x80000001 EDX bit 26;
; this host), a PDPTE with PS=1 has a reserved bit set (SDM Vol. 3A §4.5.4,
; Table 4-17 note), so the first instruction fetch after CR0.PG faults with
; #PF error code P|RSVD (0x9); with no IDT the #PF cannot be delivered (#GP,
; then #DF), and the CPU shuts down: a triple fault.
;
; Assembled with SEED_2M (seed-2m.asm), it maps the first 1 GiB with 2 MiB
; pages instead, which every x86-64 CPU supports, and exits cleanly.
%include "multiboot2.inc"

bits 32
section .text
global start
start:
    mov esp, stack_top
    cmp eax, MB2_BOOT_MAGIC
    jne bad_magic
    mov esi, s_before
    call puts

    ; map P4 entry 0 to the P3 table
    mov eax, p3_table
    or eax, 0b11            ; present + writable
    mov [p4_table], eax
%ifdef SEED_2M
    mov eax, p2_table
    or eax, 0b11
    mov [p3_table], eax
    xor ecx, ecx
.map_p2_table:
    mov eax, 0x200000       ; 2 MiB
    mul ecx
    or eax, 0b10000011      ; present + writable + huge
    mov [p2_table + ecx * 8], eax
    add ecx, 1
    cmp ecx, 512            ; 512 x 2 MiB = the first 1 GiB
    jne .map_p2_table
%else
    ; map each P3 entry to a huge 1 GiB page that starts at 1 GiB * ecx
    xor ecx, ecx
.map_p3_table:
    mov eax, 1 << 30
    mul ecx                 ; edx:eax = start address of the ecx-th page
    or eax, 0b10000011      ; present + writable + huge
    mov [p3_table + ecx * 8], eax
    mov [p3_table + ecx * 8 + 4], edx
    add ecx, 1
    cmp ecx, 0x20           ; 32 entries: the first 32 GiB
    jne .map_p3_table
%endif

    mov eax, p4_table
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5          ; PAE
    mov cr4, eax
    mov ecx, 0xC0000080     ; EFER
    rdmsr
    or eax, 1 << 8          ; LME
    wrmsr
    mov eax, cr0
    or eax, 1 << 31         ; PG: the next fetch walks the tables above
    mov cr0, eax
    lgdt [gdt64.pointer]
    jmp gdt64.code:long_mode_start

bad_magic:
    mov esi, s_bad
    jmp die

%include "serial.inc"

bits 64
long_mode_start:
    mov ax, gdt64.data
    mov ss, ax
    mov ds, ax
    mov es, ax
    ; movw $0x248, 0xb8000(%rip): the instruction the seed's register dump points at
    db 0x66, 0xc7, 0x05, 0x00, 0x80, 0x0b, 0x00, 0x48, 0x02
    mov esi, s_after
    call puts
    xor eax, eax
    jmp exit

section .rodata
align 8
gdt64:
    dq 0
.code: equ $ - gdt64
    dq 0x00af9b000000ffff   ; 64-bit code
.data: equ $ - gdt64
    dq 0x00cf93000000ffff
.pointer:
    dw $ - gdt64 - 1
    dd gdt64
%ifdef SEED_2M
s_before: db "seed-2m: entering long mode, first 1 GiB mapped with 2 MiB pages", 10, 0
s_after: db "seed-2m: in long mode, VGA store done", 10, 0
%else
s_before: db "seed: entering long mode, first 32 GiB mapped with 1 GiB pages", 10, 0
s_after: db "seed: in long mode, VGA store done", 10, 0
%endif
s_bad: db "seed: bad boot magic", 10, 0

section .bss
alignb 4096
p4_table: resb 4096
p3_table: resb 4096
%ifdef SEED_2M
p2_table: resb 4096
%endif
alignb 16
    resb 4096
stack_top:
