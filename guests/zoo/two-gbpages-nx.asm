; Two reasons at once in one entry: PDPT[0] is a 1 GiB page (PS=1, no
; pdpe1gb) and also has bit 63 set while EFER.NXE=0. Both bits are reserved;
; the root is the 1 GiB page, the second the XD bit.
%macro zoo_tables 0
    mov dword [pdpt], 0x83
    mov dword [pdpt + 4], 0x80000000
    zoo_reset_idt
%endmacro
%macro zoo_main 0
%endmacro
%include "zoo.inc"
