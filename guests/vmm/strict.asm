; Reads port 0x99, where there is no device: 0xff normally, fatal with --strict.
%include "vmm.inc"
start:
    mov esp, 0x90000
    PUTS msg
    in al, 0x99
    cmp al, 0xff
    jne .bad
    PUTS ok
    EXIT 0x10
.bad:
    EXIT 0x11
COMMON
msg: db "strict: reading port 0x99", 10, 0
ok: db "strict: got 0xff", 10, 0
