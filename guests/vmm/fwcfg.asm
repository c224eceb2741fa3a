; Reads QEMU's fw_cfg items through the port interface and prints them:
; "sig=QEMU id=... ram=... cpus=... max=... ramend=... files=...".
%include "vmm.inc"

; Select key %1, then read a little-endian dword into EAX.
%macro FWREAD32 1
    mov ax, %1
    mov dx, 0x510
    out dx, ax
    call fw_dword
%endmacro

start:
    mov esp, 0x90000
    PUTS s_sig
    mov ax, 0
    mov dx, 0x510
    out dx, ax
    mov ecx, 4
.sig:
    mov dx, 0x511
    in al, dx
    mov ah, al
    mov dx, COM1
    mov al, ah
    out dx, al
    loop .sig
    PUTS s_id
    FWREAD32 0x01
    call vmm_puthex
    PUTS s_ram                      ; RAM size: 8 bytes, high dword first in the output
    FWREAD32 0x03
    push eax
    call fw_dword
    call vmm_puthex
    pop eax
    call vmm_puthex
    PUTS s_cpus
    FWREAD32 0x05
    and eax, 0xffff
    call vmm_puthex
    PUTS s_max
    FWREAD32 0x0f
    and eax, 0xffff
    call vmm_puthex
    PUTS s_end
    FWREAD32 0x11
    push eax
    call fw_dword
    call vmm_puthex
    pop eax
    call vmm_puthex
    PUTS s_files                    ; the directory's count is big-endian
    FWREAD32 0x19
    bswap eax
    call vmm_puthex
    PUTS s_unknown                  ; unknown keys read as zero
    FWREAD32 0x4242
    call vmm_puthex
    PUTS s_nl
    EXIT 0

; Read 4 bytes from the data port into EAX (little-endian).
fw_dword:
    push ecx
    push edx
    xor ecx, ecx
    mov dx, 0x511
    in al, dx
    mov cl, al
    in al, dx
    mov ch, al
    in al, dx
    shl eax, 16
    mov ax, cx
    mov ecx, eax
    in al, dx
    shl eax, 24
    and ecx, 0x00ffffff
    or eax, ecx
    pop edx
    pop ecx
    ret
COMMON
PUTHEX_FN
s_sig: db "sig=", 0
s_id: db " id=", 0
s_ram: db " ram=", 0
s_cpus: db " cpus=", 0
s_max: db " max=", 0
s_end: db " ramend=", 0
s_files: db " files=", 0
s_unknown: db " unknown=", 0
s_nl: db 10, 0
