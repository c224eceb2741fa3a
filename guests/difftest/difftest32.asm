; kvmscope paging difftest guest for the legacy modes: 32-bit paging and PAE
; paging (spec/paging.md §1), same protocol as difftest.asm. The host enters
; at DT_LOAD in 32-bit protected mode, CPL0, paging off, ESP = DT_KSTACK_TOP,
; GDTR/IDTR/TR set. Paging is only on between the CR0 load of a case and its
; end, so the harness needs no mapping of its own beyond the first 4 MiB
; (PDE 0 in 32-bit mode; PDPTE 0 -> PDE 0 in PAE mode, preset in every
; directory the host hands out), and the page-table stores run unpaged.

%include "abi.inc"

bits 32
org DT_LOAD

CMD_WSIZE equ DT_CMD + 0x140    ; 4 or 8: size of each entry store

start:
    xor ecx, ecx
.idt:
    mov eax, ecx                    ; stub i = stubs + 16*i
    shl eax, 4
    add eax, stubs
    mov edx, ecx
    shl edx, 3
    add edx, DT_IDT
    mov [edx], ax
    mov word [edx + 2], DT_SEL_KCODE
    mov word [edx + 4], 0x8e00      ; present, DPL0, 32-bit interrupt gate
    shr eax, 16
    mov [edx + 6], ax
    inc ecx
    cmp ecx, 32
    jb .idt

main_loop:
    mov dx, DT_PORT
    out dx, al
    mov esi, CMD_WRITES
    mov ecx, [CMD_NWRITE]
    mov ebx, [CMD_WSIZE]
    jecxz .written
.write:
    mov edi, [esi]
    mov eax, [esi + 8]
    mov [edi], eax
    cmp ebx, 8
    jne .next
    mov eax, [esi + 12]
    mov [edi + 4], eax
.next:
    add esi, 16
    loop .write
.written:
    mov dword [RES_PHASE], 1
    mov eax, [CMD_CR4]
    mov cr4, eax
    mov ecx, 0xc0000080             ; IA32_EFER
    mov eax, [CMD_EFER]
    xor edx, edx
    wrmsr
    mov eax, [CMD_CR3]
    mov cr3, eax
    mov eax, [CMD_CR0]
    mov cr0, eax                    ; paging on; PAE loads (and checks) the PDPTEs here
    mov edi, [CMD_GVA]
    invlpg [edi]
    mov eax, [CMD_WVAL]
    mov ebx, [CMD_KIND]
    mov dword [RES_PHASE], 2
    push dword [CMD_RFLAGS]
    popfd
    cmp ebx, 1
    jb .read
    je .write_access
    cmp ebx, 2
    je .fetch
    sub ebx, 4                      ; CPL3: iret to user stub (kind-4)*16, back through #UD
    shl ebx, 4
    add ebx, DT_USER_CODE
    push DT_SEL_UDATA32 | 3
    push DT_USER_STACK
    push dword [CMD_RFLAGS]
    push DT_SEL_UCODE32 | 3
    push ebx
    iret
.read:
    mov eax, [edi]                  ; first, so that a fault reports CR2 = the address
    mov edx, [edi + 4]
    jmp access_done
.write_access:
    mov [edi], eax
    jmp access_done
.fetch:
    call edi                        ; the data page holds "mov eax, imm32; ret"
access_done:
    mov [RES_VALUE], eax
    mov [RES_VALUE + 4], edx
    mov dword [RES_VECTOR], DT_NO_VECTOR
    mov dword [RES_VECTOR + 4], 0
finish:
    mov esp, DT_KSTACK_TOP
    mov eax, cr0
    and eax, 0x7fffffff             ; paging off until the next case
    mov cr0, eax
    jmp main_loop

; Frame after a stub: [esp] vector, [esp+4] error code (0 if none), [esp+8] eip.
exception:
    mov [RES_VALUE], eax            ; a user stub's result, when it ends in UD2
    mov [RES_VALUE + 4], edx
    pop dword [RES_VECTOR]
    mov dword [RES_VECTOR + 4], 0
    pop dword [RES_ERR]
    pop dword [RES_RIP]
    mov eax, cr2
    mov [RES_CR2], eax
    jmp finish

align 16
stubs:
%assign v 0
%rep 32
    align 16
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
    push dword v
%else
    push dword 0
    push dword v
%endif
    jmp exception
%assign v v+1
%endrep

    times DT_USER_CODE - DT_LOAD - ($ - $$) db 0
user_stubs:                         ; edi = address, eax = value to write
    mov eax, [edi]
    mov edx, [edi + 4]
    times DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    mov [edi], eax
    times 16 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2
    align 16, db 0xcc
    call edi
    times 32 + DT_USER_UD2 - ($ - user_stubs) nop
    ud2

    times DT_GDT - DT_LOAD - ($ - $$) db 0
gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; 0x08 kernel code, 32-bit flat
    dq 0x00cf92000000ffff           ; 0x10 kernel data
    dq 0x00cff2000000ffff           ; 0x18 user data, DPL3
    dq 0x00cffa000000ffff           ; 0x20 user code, 32-bit, DPL3
    ; 0x28 32-bit TSS: base DT_TSS, limit 0x67, busy
    dw 0x67
    dw DT_TSS & 0xffff
    db (DT_TSS >> 16) & 0xff
    db 0x8b
    db 0
    db (DT_TSS >> 24) & 0xff

    times DT_TSS - DT_LOAD - ($ - $$) db 0
tss:
    dd 0
    dd DT_KSTACK_TOP                ; ESP0
    dd DT_SEL_KDATA                 ; SS0
    times 0x66 - ($ - tss) db 0
    dw 0x68

    times DT_IMAGE_END - DT_LOAD - ($ - $$) db 0
