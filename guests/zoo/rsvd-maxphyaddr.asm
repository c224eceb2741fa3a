; rsvd-maxphyaddr: the 2 MiB page at 2 MiB (PD[1]) gets address bit 51 set,
; above any MAXPHYADDR. The IDT lives in that page: the read faults (#PF 0x9,
; level 2), then the IDT reads: triple fault.
%macro zoo_main 0
    zoo_load_idt 0x200000, 0xfff
    zoo_idt_fill 0x08, 0x8e
    or dword [pd + 8 + 4], 0x00080000
    zoo_flush
    mov rax, [0x201000]
%endmacro
%include "zoo.inc"
