# Test kernels (guests/): built with nasm, linked with ld where an ELF is wanted.
# Each guest prints on COM1 and leaves through isa-debug-exit (0xf4); see docs/boot.md.
# Images land in $(BUILD)/guests/: NAME.elf (ELF32/ELF64) or NAME.bin (flat / a.out kludge).

NASM ?= nasm
GUEST_LD ?= ld
GUEST_DIR := $(BUILD)/guests
GUEST_COMMON := $(wildcard guests/common/*)
GUEST_LDFLAGS := -n -z noexecstack --no-warn-rwx-segments

# name, source dir, nasm output format, ld emulation[, linker script (default link.ld)]
define guest_elf
$(GUEST_DIR)/$(1).elf: guests/$(2)/$(1).asm $(wildcard guests/$(2)/*.asm) $(GUEST_COMMON)
	@mkdir -p $$(dir $$@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $$@"
	$(Q)$(NASM) -f $(3) -Iguests/common/ -Iguests/$(2)/ -o $$@.o $$<
	$(Q)$(GUEST_LD) -m $(4) $(GUEST_LDFLAGS) -T guests/common/$(or $(5),link.ld) -o $$@ $$@.o
GUEST_TARGETS += $(GUEST_DIR)/$(1).elf
endef

# name, source dir: a raw image (nasm -f bin) with its own org
define guest_bin
$(GUEST_DIR)/$(1).bin: guests/$(2)/$(1).asm $(GUEST_COMMON)
	@mkdir -p $$(dir $$@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $$@"
	$(Q)$(NASM) -f bin -Iguests/common/ -Iguests/$(2)/ -o $$@ $$<
GUEST_TARGETS += $(GUEST_DIR)/$(1).bin
endef

$(eval $(call guest_elf,trivial,trivial,elf32,elf_i386))
$(eval $(call guest_elf,mb1-elf32,mb1-elf32,elf32,elf_i386))
$(eval $(call guest_elf,mb2-elf32,mb2-elf32,elf32,elf_i386))
$(eval $(call guest_elf,qemu-compat,qemu-compat,elf32,elf_i386))
$(eval $(call guest_elf,mb2-elf64,mb2-elf64,elf64,elf_x86_64))
$(eval $(call guest_elf,pvh-elf64,pvh-elf64,elf64,elf_x86_64,link-note.ld))
$(eval $(call guest_elf,seed,seed,elf64,elf_x86_64))
$(eval $(call guest_elf,seed-2m,seed,elf64,elf_x86_64))
$(eval $(call guest_bin,mb1-aout,mb1-aout))
$(eval $(call guest_bin,flat,flat))

# Malformed kernels for the rejection tests: guests/bad/bad.asm with one BAD_* define each.
define guest_bad
$(GUEST_DIR)/bad-$(1).elf: guests/bad/bad.asm
	@mkdir -p $$(dir $$@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $$@"
	$(Q)$(NASM) -f bin $(2) -o $$@ $$<
GUEST_TARGETS += $(GUEST_DIR)/bad-$(1).elf
endef

$(eval $(call guest_bad,good,))
$(eval $(call guest_bad,overlap,-DBAD_OVERLAP))
$(eval $(call guest_bad,entry,-DBAD_ENTRY))
$(eval $(call guest_bad,checksum,-DBAD_CHECKSUM))
$(eval $(call guest_bad,huge,-DBAD_HUGE))
$(eval $(call guest_bad,phnum,-DBAD_PHNUM))
$(eval $(call guest_bad,hole,-DBAD_HOLE))
