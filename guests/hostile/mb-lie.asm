; A Multiboot1 a.out-kludge kernel whose header lies, one lie per LIE_*
; define: the loader must reject each with its own message, never load
; out of bounds.
bits 32
org 0x100000

file_start:
mb_header:
    dd 0x1BADB002
    dd 0x00010000
    dd -(0x1BADB002 + 0x00010000)
%ifdef LIE_HEADER_ADDR
    dd 0x100000 - 0x1000    ; header_addr before load_addr: offset underflows
%else
    dd mb_header
%endif
    dd file_start           ; load_addr
%ifdef LIE_LOAD_END
    dd 0xfffff000           ; load_end_addr far beyond the file
%elifdef LIE_LOAD_BACKWARDS
    dd 0x0ff000             ; load_end_addr before load_addr
%else
    dd load_end
%endif
%ifdef LIE_BSS
    dd 0xfffffff0           ; bss_end_addr beyond any RAM
%else
    dd load_end + 0x1000
%endif
%ifdef LIE_ENTRY
    dd 0x7fff0000           ; entry_addr outside the loaded image
%else
    dd start
%endif

start:
    mov eax, 0
    out 0xf4, eax
align 4
load_end:
