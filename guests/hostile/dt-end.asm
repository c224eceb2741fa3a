; Descriptor tables at the very end of guest memory: the GDT and IDT bases
; sit 8 bytes below the end of RAM with 64 KiB limits, so most descriptors
; lie beyond memory. Then a #UD forces the CPU (and the explainer) to read
; them. No guest memory read may go out of bounds in the VMM.
%include "hostile.inc"
start:
    ; RAM ends at 128 MiB with the default -m 128M.
    mov eax, 0x8000000 - 8
    mov [gdtr + 2], eax
    mov [idtr + 2], eax
    lgdt [gdtr]
    lidt [idtr]
    ud2
    EXIT 0x7f
gdtr:
    dw 0xffff
    dd 0
idtr:
    dw 0xffff
    dd 0
