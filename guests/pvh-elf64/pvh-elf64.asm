; An ELF64 kernel with only a PVH entry (Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY,
; type 18, a 32-bit physical entry). Checks hvm_start_info (magic 0x336ec578,
; version >= 1), prints its command line and module count, exits with value 0.

section .note.Xen note alloc noexec nowrite align=4
    dd 4                    ; namesz
    dd 4                    ; descsz
    dd 18                   ; XEN_ELFNOTE_PHYS32_ENTRY
    db "Xen", 0
    dd start

bits 32
section .text
global start
start:
    mov esp, stack_top
    mov ebp, ebx
    cmp dword [ebp], 0x336ec578
    jne .bad
    cmp dword [ebp + 4], 1
    jb .bad
    mov esi, s_hello
    call puts
    mov esi, [ebp + 24]     ; cmdline_paddr (low half; we are below 4 GiB)
    test esi, esi
    jz .nocmd
    call puts
.nocmd:
    mov esi, s_mods
    call puts
    mov eax, [ebp + 12]     ; nr_modules
    call puthex
    jmp exit_ok
.bad:
    mov esi, s_bad
    jmp die

%include "serial.inc"

section .rodata
s_hello: db "pvh-elf64: start_info ok, cmdline='", 0
s_mods: db "' modules=", 0
s_bad: db "pvh-elf64: bad start_info", 10, 0

section .bss
alignb 16
    resb 4096
stack_top:
