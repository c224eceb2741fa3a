; A 32-bit IRETD at CPL0 to the next instruction: architecturally a no-op
; return. This PVM host emulates every CPL0 instruction and its emulator
; refuses this one, so `kvmscope run` ends with KVM_EXIT_INTERNAL_ERROR
; (suberror 1) and must explain it as `emulation-failure`. Flat binary, run
; with --entry 0x100000.
bits 32
org 0x100000
start:
    pushfd
    push cs
    push .next
    iretd
.next:
    mov eax, 0
    out 0xf4, eax
