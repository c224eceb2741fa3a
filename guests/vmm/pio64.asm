; 64-bit mode with paging, then 60000 port writes: the trace reads instruction
; bytes through the page tables on every exit (the cost docs/run.md measures).
%include "vmm.inc"
start:
    mov esp, 0x90000
    LONG_MODE long_start
bits 64
long_start:
    mov ecx, 60000
    mov dx, 0x500
.l:
    out dx, al
    loop .l
    mov eax, 0
    out DEBUG_EXIT, eax
bits 32
COMMON
