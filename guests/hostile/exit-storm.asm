; Never stops: an endless stream of port exits. Only --timeout ends it.
%include "hostile.inc"
start:
    xor eax, eax
.loop:
    out 0x80, al
    inc eax
    jmp .loop
