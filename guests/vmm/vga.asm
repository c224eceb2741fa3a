; Writes two lines to the VGA text buffer (emulated MMIO at 0xb8000) and reads a cell back.
%include "vmm.inc"
start:
    mov esp, 0x90000
    mov esi, line1
    mov edi, 0xb8000
    call vga_line
    mov esi, line2
    mov edi, 0xb8000 + 160 * 2        ; row 2
    call vga_line
    mov ax, [0xb8000]                 ; 'V' with attribute 0x1f
    cmp ax, 0x1f56
    jne .bad
    EXIT 0
.bad:
    EXIT 1
vga_line:
    lodsb
    test al, al
    jz .done
    mov ah, 0x1f
    mov [edi], ax
    add edi, 2
    jmp vga_line
.done:
    ret
COMMON
line1: db "VGA text works", 0
line2: db "third row", 0
