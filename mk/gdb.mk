# The GDB stub's test guest: an ELF32 Multiboot kernel with symbols that
# switches to long mode (guests/gdbtest), and its 64-bit symbol copy for
# GDB sessions that load symbols without `set architecture` (docs/gdb.md).
GDBTEST_DIR := $(BUILD)/guests
GDBTEST_ELF := $(GDBTEST_DIR)/gdbtest.elf
GDBTEST_ELF64 := $(GDBTEST_DIR)/gdbtest64.elf

$(GDBTEST_DIR)/gdbtest.o: guests/gdbtest/gdbtest.asm
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  NASM    $<"
	$(Q)nasm -f elf32 -g -o $@ $<

$(GDBTEST_ELF): $(GDBTEST_DIR)/gdbtest.o guests/gdbtest/gdbtest.ld
	$(Q)ld -m elf_i386 --no-warn-rwx-segments -T guests/gdbtest/gdbtest.ld -o $@ $<

$(GDBTEST_ELF64): $(GDBTEST_ELF)
	$(Q)objcopy -O elf64-x86-64 $< $@

GUEST_TARGETS += $(GDBTEST_ELF) $(GDBTEST_ELF64)
