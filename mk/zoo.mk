# The bug zoo (guests/zoo): one tiny Multiboot 1 ELF32 kernel per crash cause
# this host's KVM can produce, built with nasm + ld into $(BUILD)/guests/zoo/.
ZOO_SRCS := $(sort $(wildcard guests/zoo/*.asm))
ZOO_ELFS := $(ZOO_SRCS:guests/zoo/%.asm=$(BUILD)/guests/zoo/%.elf)

$(BUILD)/guests/zoo/%.elf: guests/zoo/%.asm guests/zoo/zoo.inc guests/zoo/zoo.ld
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  NASM    $<"
	$(Q)nasm -f elf32 -Iguests/zoo/ -o $(@:.elf=.o) $<
	$(Q)ld -m elf_i386 --no-warn-rwx-segments -T guests/zoo/zoo.ld -o $@ $(@:.elf=.o)

GUEST_TARGETS += $(ZOO_ELFS)
