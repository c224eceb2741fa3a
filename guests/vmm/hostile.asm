; Hammers every port below 0x1000 with byte/word/dword reads and writes, and the
; legacy hole with MMIO, then exits with 0x42. The VMM must survive it.
%include "vmm.inc"
start:
    mov esp, 0x90000
    xor ecx, ecx
.port:
    mov edx, ecx
    cmp dx, DEBUG_EXIT
    je .next
    in al, dx
    out dx, al
    in ax, dx
    mov ax, 0xa5a5
    out dx, ax
    in eax, dx
    mov eax, 0x5a5a5a5a
    out dx, eax
.next:
    inc ecx
    cmp ecx, 0x1000
    jb .port
    ; fw_cfg with absurd keys and long reads
    mov dx, 0x510
    mov ax, 0xffff
    out dx, ax
    mov dx, 0x511
    in eax, dx
    ; MMIO over the hole: VGA window and the unbacked BIOS area, all sizes
    mov edi, 0xa0000
.mmio:
    mov eax, [edi]
    mov [edi], eax
    mov ax, [edi + 0xffe]
    mov [edi + 0xfff], al
    add edi, 0x1000
    cmp edi, 0x100000
    jb .mmio
    ; Above RAM
    mov eax, [0xfee00000]
    mov [0xfec00000], eax
    EXIT 0x42
COMMON
