; Spins forever at CPL0: only --timeout ends it.
%include "vmm.inc"
start:
    mov esp, 0x90000
    PUTS msg
.spin:
    jmp .spin
COMMON
msg: db "loop: spinning", 10, 0
