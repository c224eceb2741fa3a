; bad-selector: the IDT was built for a bigger GDT: every gate names code
; selector 0x28, beyond the GDT limit 0x1f. ud2: #UD -> #GP(0x29) ->
; #GP(0x29) -> #DF -> #GP(0x29): triple fault.
%macro zoo_main 0
    zoo_idt_fill 0x28, 0x8e
    zoo_load_idt idt, 0xfff
    ud2
%endmacro
%include "zoo.inc"
