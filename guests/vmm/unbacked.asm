; Jumps into the 640K-1M hole, where there is no memory: KVM cannot fetch, internal error.
%include "vmm.inc"
start:
    mov esp, 0x90000
    mov eax, 0xd0000
    jmp eax
COMMON
