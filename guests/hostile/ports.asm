; Writes a pseudo-random value of every size to every port except the exit
; port, reads every port back, then does loads and stores of every size at
; pseudo-random addresses across the whole 4 GiB physical space (RAM, the
; VGA window, the BIOS hole, unbacked MMIO, the APIC pages). The VMM must
; survive all of it and still honour the final debug exit.
%include "hostile.inc"
start:
    mov esp, 0x90000
    mov eax, 0x12345678
    xor ecx, ecx
.port:
    mov edx, ecx
    cmp dx, DEBUG_EXIT
    je .next
    LFSR
    mov ebx, ecx
    and ebx, 3
    jz .byte
    dec ebx
    jz .word
    out dx, eax
    jmp .read
.byte:
    out dx, al
    jmp .read
.word:
    out dx, ax
.read:
    mov ebp, eax
    in al, dx
    mov eax, ebp
.next:
    inc ecx
    cmp ecx, 0x10000
    jb .port

    ; 4096 random physical addresses, every access size; skip our own code
    ; and stack (0x80000-0x110000) so that the guest keeps running.
    mov ecx, 4096
.mmio:
    LFSR
    mov edi, eax
    cmp edi, 0x80000
    jb .go
    cmp edi, 0x110000
    jb .skip
.go:
    mov ebp, eax
    mov bl, [edi]
    mov [edi], bl
    mov bx, [edi]
    mov [edi], bx
    mov ebx, [edi]
    mov [edi], ebp
    mov eax, ebp
.skip:
    dec ecx
    jnz .mmio
    EXIT 0x21
