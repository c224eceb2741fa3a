# Hostile guests (guests/hostile/): flat images run with --entry 0x100000, and
# a.out-kludge kernels whose Multiboot header lies. See docs/robustness.md.

HOSTILE_DIR := $(BUILD)/guests/hostile

define hostile_bin
$(HOSTILE_DIR)/$(1).bin: guests/hostile/$(2).asm guests/hostile/hostile.inc
	@mkdir -p $$(dir $$@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $$@"
	$(Q)$(NASM) -f bin -Iguests/hostile/ $(3) -o $$@ $$<
GUEST_TARGETS += $(HOSTILE_DIR)/$(1).bin
endef

$(eval $(call hostile_bin,ports,ports,))
$(eval $(call hostile_bin,exit-storm,exit-storm,))
$(eval $(call hostile_bin,pt-cycle,pt-cycle,))
$(eval $(call hostile_bin,dt-end,dt-end,))
$(eval $(call hostile_bin,mb-lie-header,mb-lie,-DLIE_HEADER_ADDR))
$(eval $(call hostile_bin,mb-lie-load-end,mb-lie,-DLIE_LOAD_END))
$(eval $(call hostile_bin,mb-lie-backwards,mb-lie,-DLIE_LOAD_BACKWARDS))
$(eval $(call hostile_bin,mb-lie-bss,mb-lie,-DLIE_BSS))
$(eval $(call hostile_bin,mb-lie-entry,mb-lie,-DLIE_ENTRY))
$(eval $(call hostile_bin,mb-truth,mb-lie,))
