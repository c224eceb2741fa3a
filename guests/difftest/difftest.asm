; kvmscope paging difftest guest: performs one host-described memory access
; per mailbox round trip under host-written page tables and reports what the
; CPU (i.e. KVM's walker) did. The host enters at DT_LOAD in 64-bit mode,
; CPL0, CR3 = DT_HOME_CR3, RSP = DT_KSTACK_TOP, with GDTR/IDTR/TR pointing at
; the tables below (docs/difftest.md). Every CPL0 instruction is emulated on
; this project's PVM host, so the per-case path is kept short.

%include "abi.inc"

bits 64
org DT_LOAD

start:
    ; Build the IDT: vectors 0..31 to the stubs.
    xor ecx, ecx
.idt:
    mov rax, rcx                    ; stub i = stubs + 16*i
    shl rax, 4
    add rax, stubs
    mov rdx, rcx
    shl rdx, 4
    add rdx, DT_IDT
    mov ebx, 0x8e00                 ; present, DPL0, 64-bit interrupt gate
    call set_gate
    inc ecx
    cmp ecx, 32
    jb .idt

main_loop:
    mov dx, DT_PORT
    out dx, al                      ; the host checks the last result and writes the next case
    ; Write the case's page-table entries through the harness mapping, so that
    ; KVM sees (and write-tracks) every change exactly like a guest kernel's.
    mov rsi, CMD_WRITES
    mov rcx, [CMD_NWRITE]
    jrcxz .written
.write:
    mov rax, [rsi]
    mov rdx, [rsi + 8]
    mov [rax], rdx
    add rsi, 16
    loop .write
.written:
    mov qword [RES_PHASE], 1
    mov rax, [CMD_CR4]
    mov cr4, rax
    mov ecx, 0xc0000080             ; IA32_EFER
    mov eax, [CMD_EFER]
    xor edx, edx
    wrmsr
    mov rax, [CMD_CR0]
    mov cr0, rax
    mov rax, [CMD_CR3]
    mov cr3, rax
    mov rdi, [CMD_GVA]
    invlpg [rdi]
    mov rax, [CMD_WVAL]
    mov rbx, [CMD_KIND]
    mov qword [RES_PHASE], 2
    push qword [CMD_RFLAGS]
    popfq
    test ebx, DT_KIND_USER
    jnz .user
    test ebx, DT_KIND_TWICE
    jz .once
    mov rdx, [rdi]                  ; "twice": a read first, as access.c does
.once:
    and ebx, 3
    cmp ebx, 1
    jb .read
    je .write_access
    jmp .fetch
.user:
    ; CPL3: iretq to user stub (kind & 3), or 3 further on for "twice" (16
    ; bytes each); the stub comes back through #UD.
    mov ecx, ebx
    and ecx, 3
    test ebx, DT_KIND_TWICE
    jz .user_go
    add ecx, 3
.user_go:
    shl ecx, 4
    add rcx, DT_USER_CODE
    push DT_SEL_UDATA | 3
    push DT_USER_STACK
    push qword [CMD_RFLAGS]
    push DT_SEL_UCODE | 3
    push rcx
    iretq
.read:
    mov rax, [rdi]
    jmp access_done
.write_access:
    mov [rdi], rax
    jmp access_done
.fetch:
    call rdi                        ; the data page holds "mov eax, imm32; ret"
access_done:
    mov [RES_VALUE], rax
    mov qword [RES_VECTOR], DT_NO_VECTOR
finish:
    mov rsp, DT_KSTACK_TOP
    mov rax, DT_HOME_CR3
    mov cr3, rax
    jmp main_loop

; Frame after a stub: [rsp] vector, [rsp+8] error code (0 if none), [rsp+16] rip.
exception:
    mov [RES_VALUE], rax            ; a user stub's result, when it ends in UD2
    pop qword [RES_VECTOR]
    pop qword [RES_ERR]
    pop qword [RES_RIP]
    mov rax, cr2
    mov [RES_CR2], rax
    jmp finish

; rax = handler, rdx = gate address, ebx = type/attribute word.
set_gate:
    mov [rdx], ax
    mov word [rdx + 2], DT_SEL_KCODE
    mov [rdx + 4], bx
    shr rax, 16
    mov [rdx + 6], ax
    shr rax, 16
    mov [rdx + 8], eax
    mov dword [rdx + 12], 0
    ret

; 16-byte exception stubs; vectors with a CPU-pushed error code skip the dummy push.
align 16
stubs:
%assign v 0
%rep 32
    align 16
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
    push qword v
%else
    push qword 0
    push qword v
%endif
    jmp exception
%assign v v+1
%endrep

    times DT_USER_CODE - DT_LOAD - ($ - $$) db 0
user_stubs:                         ; rdi = address, rax = value to write
    ; INT n from CPL3 gets #UD on the PVM host (it is emulated, and KVM's
    ; emulator has no protected-mode INT: emulate.c emulate_int), so each
    ; stub comes back with a #UD from a UD2 at offset DT_USER_UD2.
    mov rax, [rdi]
    times DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    mov [rdi], rax
    times 16 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    call rdi
    times 32 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    mov rdx, [rdi]                  ; "twice": a read first
    mov rax, [rdi]
    times 48 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    mov rdx, [rdi]
    mov [rdi], rax
    times 64 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    mov rdx, [rdi]
    call rdi
    times 80 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2

    times DT_GDT - DT_LOAD - ($ - $$) db 0
gdt:
    dq 0
    dq 0x00209a0000000000           ; 0x08 kernel code, 64-bit
    dq 0x0000920000000000           ; 0x10 kernel data
    dq 0x0000f20000000000           ; 0x18 user data, DPL3
    dq 0x0020fa0000000000           ; 0x20 user code, 64-bit, DPL3
    ; 0x28 64-bit TSS descriptor: base DT_TSS, limit 0x67, type 9 (available)
    dw 0x67
    dw DT_TSS & 0xffff
    db (DT_TSS >> 16) & 0xff
    db 0x8b                         ; busy, as KVM_SET_SREGS loads TR
    db 0
    db (DT_TSS >> 24) & 0xff
    dd 0
    dd 0

    times DT_TSS - DT_LOAD - ($ - $$) db 0
tss:
    dd 0
    dq DT_KSTACK_TOP                ; RSP0
    times 0x66 - ($ - tss) db 0
    dw 0x68                         ; no I/O bitmap: CPL3 port I/O faults

    times DT_IMAGE_END - DT_LOAD - ($ - $$) db 0
