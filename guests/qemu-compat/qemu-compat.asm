; A Multiboot1 ELF32 kernel written for QEMU's -kernel, used to check that
; kvmscope run boots it the same way: it prints the command line and the
; modules from the Multiboot information, then the fw_cfg signature, the CPU
; count (FW_CFG_NB_CPUS, key 5) and the RAM size (FW_CFG_RAM_SIZE, key 3) read
; through the fw_cfg I/O ports (selector 0x510, 16-bit write; data 0x511,
; byte reads, little-endian values). Exits with value 0x10 (status 33).
%include "multiboot1.inc"

%define FW_CFG_SELECTOR 0x510
%define FW_CFG_DATA 0x511
%define FW_CFG_SIGNATURE 0x00
%define FW_CFG_RAM_SIZE 0x03
%define FW_CFG_NB_CPUS 0x05

bits 32
section .text
global start
start:
    mov esp, stack_top
    mov ebp, ebx
    cmp eax, MB1_BOOT_MAGIC
    jne .bad
    mov esi, s_hello
    call puts
    mov esi, [ebp + 16]
    call puts
    mov esi, s_quote_nl
    call puts
    call print_mb1_modules

    ; fw_cfg: signature (4 bytes, "QEMU"), printed as characters
    mov esi, s_sig
    call puts
    mov ax, FW_CFG_SIGNATURE
    mov ecx, 4
    call fw_cfg_read
    mov ecx, 4
    mov esi, fw_buf
.sig:
    lodsb
    cmp al, 0x20
    jb .sig_dot
    cmp al, 0x7e
    jbe .sig_put
.sig_dot:
    mov al, '.'
.sig_put:
    call putc
    sub ecx, 1
    jnz .sig

    mov esi, s_cpus
    call puts
    mov ax, FW_CFG_NB_CPUS
    mov ecx, 2
    call fw_cfg_read
    movzx eax, word [fw_buf]
    call puthex

    mov esi, s_ram
    call puts
    mov ax, FW_CFG_RAM_SIZE
    mov ecx, 8
    call fw_cfg_read
    mov eax, [fw_buf]
    mov edx, [fw_buf + 4]
    shrd eax, edx, 20       ; bytes -> MiB
    call puthex
    mov al, 10
    call putc

    mov eax, 0x10
    jmp exit
.bad:
    mov esi, s_bad
    jmp die

; ax = key, ecx = bytes to read into fw_buf (at most 8)
fw_cfg_read:
    mov dx, FW_CFG_SELECTOR
    out dx, ax
    mov dx, FW_CFG_DATA
    mov edi, fw_buf
.byte:
    in al, dx
    mov [edi], al
    add edi, 1
    sub ecx, 1
    jnz .byte
    ret

%include "serial.inc"
%include "mb1info.inc"

section .rodata
s_hello: db "qemu-compat: cmdline='", 0
s_quote_nl: db "'", 10, 0
s_sig: db "fw_cfg: signature=", 0
s_cpus: db " cpus=", 0
s_ram: db " ram_mib=", 0
s_bad: db "qemu-compat: bad boot magic", 10, 0

section .bss
fw_buf: resb 8
alignb 16
    resb 4096
stack_top:
