; The seed kernel fixed: 2 MiB pages instead of 1 GiB pages (see seed.asm).
%define SEED_2M
%include "seed.asm"
