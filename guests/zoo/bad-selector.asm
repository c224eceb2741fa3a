; bad-selector: the IDT was built for a bigger GDT: every gate names code
; selector 0x28, beyond the GDT limit 0x1f. ud2: #UD -> #GP(0x29) ->
; #GP(0x29) -> #DF -> #GP(0x29): triple fault.
%macro zoo_main 0
    mov esi, zoo_unexpected
    mov edx, 0x28
    mov ecx, 0x8e
    call zoo_idt_all
    mov edi, idt
    mov esi, 0xfff
    call zoo_lidt
    ud2
%endmacro
%include "zoo.inc"
