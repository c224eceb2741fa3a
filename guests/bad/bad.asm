; Hand-made ELF32 Multiboot1 kernels for tests/cli/test_boot.sh. Without a
; define this is a valid kernel that exits with value 0; each BAD_* define
; breaks exactly one rule the loader must reject:
;   BAD_OVERLAP   a second PT_LOAD overlapping the first
;   BAD_ENTRY     e_entry outside every segment
;   BAD_CHECKSUM  Multiboot1 checksum off by one
;   BAD_HUGE      memsz far beyond guest RAM
;   BAD_PHNUM     e_phnum 0xfff0 (absurd)
;   BAD_HOLE      a segment loaded into the 0xa0000-0x100000 hole
bits 32
org 0

%ifdef BAD_HOLE
%define BASE 0xa0000
%else
%define BASE 0x100000
%endif
%ifdef BAD_ENTRY
%define ENTRY 0x500000
%else
%define ENTRY BASE + (code - ehdr)
%endif
%ifdef BAD_OVERLAP
%define PHNUM 2
%elifdef BAD_PHNUM
%define PHNUM 0xfff0
%else
%define PHNUM 1
%endif
%ifdef BAD_HUGE
%define MEMSZ 0x7fff0000
%else
%define MEMSZ file_end - ehdr
%endif
%ifdef BAD_CHECKSUM
%define CHECKSUM -0x1BADB002 + 1
%else
%define CHECKSUM -0x1BADB002
%endif

ehdr:
    db 0x7f, "ELF", 1, 1, 1, 0      ; ELF32, little-endian, version 1
    times 8 db 0
    dw 2                            ; ET_EXEC
    dw 3                            ; EM_386
    dd 1
    dd ENTRY
    dd phdrs - ehdr                 ; e_phoff
    dd 0                            ; e_shoff
    dd 0                            ; e_flags
    dw 52                           ; e_ehsize
    dw 32                           ; e_phentsize
    dw PHNUM
    dw 40, 0, 0
phdrs:
    ; type, offset, vaddr, paddr, filesz, memsz, flags, align
    dd 1, 0, BASE, BASE, file_end - ehdr, MEMSZ, 7, 0x1000
%ifdef BAD_OVERLAP
    dd 1, 0, BASE + 0x40, BASE + 0x40, file_end - ehdr, file_end - ehdr, 7, 0x1000
%endif
align 4, db 0
    dd 0x1BADB002, 0, CHECKSUM      ; Multiboot1 header, flags 0
code:
    mov dx, 0xf4
    xor eax, eax
    out dx, eax
    cli
    hlt
file_end:
