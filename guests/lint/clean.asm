; The base layout only (lint.inc): code read-only, data no-execute, no large
; page a CPU model could reject. Every lint must stay silent here.
%define LINT_MSG "lint-clean: long mode, no W+X, no reserved bits"
%include "lint.inc"
