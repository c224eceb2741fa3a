; Multiboot1 with the a.out kludge (header flag bit 16): a raw image whose
; header gives the load range, the bss end and the entry; no ELF at all.
bits 32
org 0x100000

file_start:
mb_header:
    dd 0x1BADB002
    dd 0x00010000
    dd -(0x1BADB002 + 0x00010000)
    dd mb_header            ; header_addr
    dd file_start           ; load_addr
    dd load_end             ; load_end_addr
    dd bss_end              ; bss_end_addr: the stack lives in the zeroed bss
    dd start                ; entry_addr

start:
    mov esp, bss_end
    cmp eax, 0x2BADB002
    jne .bad
    mov esi, msg
    call puts
    xor eax, eax
    jmp exit
.bad:
    mov eax, 3
    jmp exit

%include "serial.inc"

msg: db "mb1-aout: hello from the a.out kludge", 10, 0
align 4
load_end:
bss_end equ load_end + 0x1000
