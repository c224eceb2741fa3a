# The VMM's own test guests (guests/vmm/*.asm): flat 32-bit binaries for
# `kvmscope run --entry 0x100000`, built with nasm into $(BUILD)/guests/vmm/.
VMM_GUEST_SRCS := $(wildcard guests/vmm/*.asm)
VMM_GUESTS := $(VMM_GUEST_SRCS:guests/vmm/%.asm=$(BUILD)/guests/vmm/%.bin)

$(BUILD)/guests/vmm/%.bin: guests/vmm/%.asm guests/vmm/vmm.inc
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $@"
	$(Q)nasm -f bin -Iguests/vmm/ -o $@ $<

GUEST_TARGETS += $(VMM_GUESTS)
