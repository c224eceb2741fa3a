; rsvd-gbpages: the seed. PDPT[0] maps the first GiB with one 1 GiB page
; (PS=1), which the CPU accepts but KVM's walker rejects when the vCPU lacks
; pdpe1gb (always on this host). The first fetch after CR0.PG faults
; (#PF 0x9 at level 3); the IDT (base 0, limit 0xfff, as after reset) is read
; through the same PDPTE: #PF, #DF, triple fault, as in
; shared/samples/kvm_pvm_1g_pages_triple_fault.trace.txt.
%macro zoo_tables 0
    mov dword [pdpt], 0x83
    zoo_reset_idt
%endmacro
%macro zoo_main 0
%endmacro
%include "zoo.inc"
