; idt-limit: no IDT (limit 0) and a BUG()-style ud2. #UD cannot be delivered
; (#GP 0x33: gate 6, IDT, EXT), nor the #GP (#GP 0x6b), which makes #DF,
; which cannot be delivered either: triple fault.
%macro zoo_main 0
    zoo_no_idt
    ud2
%endmacro
%include "zoo.inc"
