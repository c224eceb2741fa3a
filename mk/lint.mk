# Lint kernels (guests/lint, docs/lint.md): Multiboot 1 ELF32 kernels with
# known page-table findings, built into $(BUILD)/guests/lint/.
LINT_GUEST_SRCS := guests/lint/latent.asm guests/lint/wx.asm guests/lint/clean.asm
LINT_GUEST_ELFS := $(LINT_GUEST_SRCS:guests/lint/%.asm=$(BUILD)/guests/lint/%.elf)

$(BUILD)/guests/lint/%.elf: guests/lint/%.asm guests/lint/lint.inc guests/lint/lint.ld
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  NASM    $<"
	$(Q)nasm -f elf32 -Iguests/lint/ -o $(@:.elf=.o) $<
	$(Q)ld -m elf_i386 --no-warn-rwx-segments -T guests/lint/lint.ld -o $@ $(@:.elf=.o)

GUEST_TARGETS += $(LINT_GUEST_ELFS)
