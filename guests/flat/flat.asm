; A flat binary: no header at all. Load it at 0x200000 and enter at its first
; byte (kvmscope run --load 0x200000 --entry 0x200000). Exits with value 2.
bits 32
org 0x200000

start:
    mov esp, stack_top
    mov esi, msg
    call puts
    mov eax, 2
    jmp exit

%include "serial.inc"

msg: db "flat: hello from 0x200000", 10, 0
align 16
    times 256 db 0
stack_top:
