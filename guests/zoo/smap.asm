; smap: CR4.SMAP although the vCPU's CPUID has no smap (this host's KVM
; accepts the MOV to CR4 and its walker enforces it, see docs/causes.md).
; Every page is user-accessible, so the supervisor read of the victim page
; faults (#PF 0x1), and so does the implicit IDT read of delivery (SMAP
; ignores RFLAGS.AC for implicit accesses): #PF, #PF, #DF, #PF, triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x08, 0x8e
    zoo_load_idt idt, 0xfff
    zoo_user_tables
    xor ecx, ecx
%%user:
    or dword [pt + rcx * 8], 4
    inc ecx
    cmp ecx, 512
    jb %%user
    zoo_flush
    mov rax, cr4
    bts rax, 21
    mov cr4, rax
    mov rax, [victim]
%endmacro
%include "zoo.inc"
