; A W+X supervisor mapping: PD0[2] (VA 0x400000-0x600000) is a 2 MiB page
; that is writable and executable (no XD bit). The only finding:
;   wx, level 2, entry at GPA 0x202010 = 0x400083.
%define LINT_MSG "lint-wx: long mode with a W+X 2 MiB page at 0x400000"
%macro lint_tables 0
    mov dword [PD0 + 2 * 8 + 4], 0
%endmacro
%include "lint.inc"
