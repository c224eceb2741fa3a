; String port I/O: rep outsb to COM1 and to the debug console, rep insb from fw_cfg.
%include "vmm.inc"
start:
    mov esp, 0x90000
    cld
    mov esi, msg
    mov ecx, msg_len
    mov dx, COM1
    rep outsb
    mov esi, e9msg
    mov ecx, e9msg_len
    mov dx, 0xe9
    rep outsb
    ; fw_cfg signature (key 0) with rep insb
    mov ax, 0
    mov dx, 0x510
    out dx, ax
    mov edi, sig
    mov ecx, 4
    mov dx, 0x511
    rep insb
    cmp dword [sig], 'QEMU'
    jne .bad
    EXIT 3
.bad:
    EXIT 4
COMMON
msg: db "strpio: rep outsb to COM1", 10
msg_len equ $ - msg
e9msg: db "strpio: rep outsb to 0xe9", 10
e9msg_len equ $ - e9msg
sig: dd 0
