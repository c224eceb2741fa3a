# Kernels that exercise KVM's instruction emulator (guests/emulation/).
$(BUILD)/guests/emulation/%.bin: guests/emulation/%.asm
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $@"
	$(Q)$(NASM) -f bin -o $@ $<
GUEST_TARGETS += $(BUILD)/guests/emulation/iret32.bin
