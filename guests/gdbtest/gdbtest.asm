; gdbtest: the guest the GDB tests debug (docs/gdb.md). A Multiboot1 ELF32
; kernel that switches to long mode, calls target_function three times
; (each call increments watched_var), then either exits through QEMU's
; isa-debug-exit port or, when crash_mode is non-zero (a debugger sets it),
; triple-faults: no IDT, then a load from an unmapped address (#PF -> #DF
; -> shutdown; SDM Vol. 3A §6.15, "Double Fault Exception").
; With "spin" in its command line (kvmscope run --append spin) it loops in
; spin_loop until a debugger clears spin_mode, so GDB can attach to a
; running guest.
; Tiny on purpose: CPL0 code is emulated one instruction at a time on PVM hosts.

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0
DEBUGCON equ 0xe9
DEBUG_EXIT equ 0xf4

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, (-(MB_MAGIC + MB_FLAGS)) & 0xffffffff

section .text
bits 32
global _start
_start:
    mov esp, stack_top
    ; Multiboot: EBX = boot information; flags bit 2 = cmdline at offset 16.
    test dword [ebx], 1 << 2
    jz .no_cmdline
    mov esi, [ebx + 16]
.scan:
    mov eax, [esi]
    test al, al
    jz .no_cmdline
    cmp eax, 'spin'
    je .want_spin
    inc esi
    jmp .scan
.want_spin:
    mov byte [spin_mode], 1
.no_cmdline:
    ; Identity-map the first 4 MiB with two 2 MiB pages (SDM Vol. 3A §4.5).
    mov dword [pml4], pdpt + 3
    mov dword [pdpt], pd + 3
    mov dword [pd], 0x83
    mov dword [pd + 8], 0x200083
    mov eax, pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                  ; CR4.PAE
    mov cr4, eax
    mov ecx, 0xc0000080             ; IA32_EFER
    rdmsr
    or eax, 1 << 8                  ; EFER.LME
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1           ; CR0.PG | CR0.PE: activates IA-32e mode (§9.8.5)
    mov cr0, eax
    lgdt [gdt_ptr]
global to_long_mode
to_long_mode:
    jmp 0x08:long_entry

bits 64
global long_entry
long_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top               ; zero-extends into rsp
    mov ecx, 3
.again:
    push rcx
    call target_function
    pop rcx
    dec ecx
    jnz .again
global spin_loop
spin_loop:
    cmp byte [spin_mode], 0
    jne spin_loop
    cmp byte [crash_mode], 0
    jne crash
    lea rsi, [done_msg]
.print:
    lodsb
    test al, al
    jz exit_path
    out DEBUGCON, al
    jmp .print
global exit_path
exit_path:
    mov al, 0x10
    out DEBUG_EXIT, al
    hlt

global target_function
target_function:
    mov rax, [watched_var]
    add rax, 1
    mov [watched_var], rax
    ret

global crash
crash:
    lidt [null_idt]
    mov rbx, 0xdead000000
    mov rax, [rbx]                  ; not mapped: #PF
    hlt

section .data
align 8
global watched_var
watched_var: dq 0
global crash_mode
crash_mode: dq 0
global spin_mode
spin_mode: dq 0
done_msg: db "gdbtest: done", 10, 0
align 8
gdt:
    dq 0
    dq 0x00af9a000000ffff           ; 0x08: 64-bit code, DPL0 (L=1, D=0)
    dq 0x00cf92000000ffff           ; 0x10: flat data
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
null_idt:
    dw 0
    dq 0

section .bss
align 4096
pml4: resb 4096
pdpt: resb 4096
pd: resb 4096
stack: resb 4096
stack_top:
