; HLT with interrupts on but nothing to raise one (no --irqchip).
%include "vmm.inc"
start:
    mov esp, 0x90000
    sti
    hlt
    EXIT 0x7
COMMON
