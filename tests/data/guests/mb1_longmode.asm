; A tiny Multiboot1 kernel (a.out kludge, so QEMU -kernel loads the flat
; binary) used by the lib/formats real-QEMU tests. It enters long mode with
; identity paging and halts with known register values:
;   - default build: 2 MiB pages, ends in a 64-bit `hlt` loop;
;   - -DGB1: the first GiB mapped with one 1 GiB page (PDPTE.PS=1) and no
;     IDT, the seed's bug: on a KVM without 1 GiB pages the first fetch after
;     CR0.PG faults with P|RSVD, then #DF, then a triple fault;
;   - -DUNBACKED: 128 MiB identity-mapped, then a jump to GPA 0x6000000,
;     which has no RAM behind it (run with -m 16): KVM cannot fetch the
;     instruction and QEMU prints "KVM internal error. Suberror: 1".
; Multiboot 1 header: Multiboot Specification 0.6.96 §3.1.1.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010003            ; page-align, memory info, address fields valid

mb_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd mb_header                   ; header_addr
    dd 0x100000                    ; load_addr
    dd load_end                    ; load_end_addr
    dd bss_end                     ; bss_end_addr
    dd start                       ; entry_addr

start:
    cli
    mov esp, stack_top
    ; zero the page tables (QEMU's loader zeroes bss too; be explicit)
    mov edi, pml4
    mov ecx, 3 * 4096 / 4
    xor eax, eax
    rep stosd
    mov dword [pml4], pdpt + 3     ; P|W
%ifdef GB1
    mov dword [pdpt], 0x83         ; P|W|PS: a 1 GiB page at 0
%elifdef UNBACKED
    mov dword [pdpt], pd + 3
    xor ecx, ecx                   ; 64 2 MiB pages: 0..128 MiB
.map:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [pd + ecx * 8], eax
    inc ecx
    cmp ecx, 64
    jne .map
%else
    mov dword [pdpt], pd + 3
    mov dword [pd], 0x83           ; 2 MiB pages at 0 and 2 MiB
    mov dword [pd + 8], 0x200083
%endif
    mov eax, pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                 ; CR4.PAE
    mov cr4, eax
    mov ecx, 0xC0000080            ; IA32_EFER
    rdmsr
    or eax, 1 << 8                 ; LME
    wrmsr
    mov eax, cr0
    or eax, 1 << 31                ; PG: now in compatibility mode (SDM Vol. 3A §10.8.5)
    mov cr0, eax
    lgdt [gdt_desc]
    jmp 0x08:long_mode

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rax, 0x1111111111111111
    mov rbx, 0x2222222222222222
    mov rcx, 0x3333333333333333
    mov rdx, 0x4444444444444444
    mov rsi, 0x5555555555555555
    mov rdi, 0x6666666666666666
    mov rbp, 0x7777777777777777
    mov r8, 0x8888
    mov r9, 0x9999
    mov r15, 0xf00dfeed
    mov dword [marker], 0xC0FFEE42
%ifdef UNBACKED
    mov rcx, 0x6000000
    jmp rcx
%endif
halt:
    hlt
    jmp halt

align 8
gdt:
    dq 0
    dq 0x00209A0000000000          ; 0x08: 64-bit code, DPL 0
    dq 0x0000920000000000          ; 0x10: data
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt

align 4
marker:
    dd 0
load_end:

section .bss
alignb 4096
pml4: resb 4096
pdpt: resb 4096
pd: resb 4096
stack: resb 4096
stack_top:
bss_end:
