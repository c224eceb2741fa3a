; The seed's latent bug (shared/seed/kvm-1gb-pages.txt), as it lives before
; it crashes: besides the 2 MiB pages it runs on, the kernel maps 4 GiB of
; extra memory with 1 GiB pages (PS in PDPTEs 0..3, writable, no-execute) in
; PML4 slot 1 (VA 0x8000000000-0x8100000000), which it never touches. On a
; vCPU without pdpe1gb those PDPTEs have a reserved bit (SDM Vol. 3A §4.5,
; Table 4-17); hardware with EPT and TCG walk them happily, KVM's software
; walker (shadow paging, emulation) faults with P|RSVD. It exits cleanly.
;   entries: level 3 at GPA 0x203000, 0x203008, 0x203010, 0x203018
%define LINT_MSG "lint-latent: long mode on 2 MiB pages; 1 GiB pages mapped at 0x8000000000"
%macro lint_tables 0
    mov dword [PML4 + 1 * 8], SPARE | 3
    xor ecx, ecx
%%gb:
    mov eax, ecx
    shl eax, 30
    or eax, 0x83                        ; P | W | PS: a 1 GiB page
    mov [SPARE + ecx * 8], eax
    mov dword [SPARE + ecx * 8 + 4], NX_HI
    inc ecx
    cmp ecx, 4
    jb %%gb
%endmacro
%include "lint.inc"
