# lib/formats: the tiny Multiboot kernels of the real-QEMU tests, and
# trace.dat support through libtracecmd when its development files exist.

FORMATS_GUEST_DIR := $(BUILD)/guests/formats
GUEST_TARGETS += $(FORMATS_GUEST_DIR)/mb1_longmode.bin $(FORMATS_GUEST_DIR)/mb1_gb1.bin \
	$(FORMATS_GUEST_DIR)/mb1_unbacked.bin

$(FORMATS_GUEST_DIR)/mb1_longmode.bin: tests/data/guests/mb1_longmode.asm
	@mkdir -p $(dir $@)
	$(Q)nasm -f bin -o $@ $<

$(FORMATS_GUEST_DIR)/mb1_gb1.bin: tests/data/guests/mb1_longmode.asm
	@mkdir -p $(dir $@)
	$(Q)nasm -f bin -DGB1 -o $@ $<

$(FORMATS_GUEST_DIR)/mb1_unbacked.bin: tests/data/guests/mb1_longmode.asm
	@mkdir -p $(dir $@)
	$(Q)nasm -f bin -DUNBACKED -o $@ $<

FORMATS_TRACE_PKGS := libtracecmd libtraceevent libtracefs
FORMATS_HAVE_TRACECMD := $(shell pkg-config --exists $(FORMATS_TRACE_PKGS) 2>/dev/null && echo 1)
ifeq ($(FORMATS_HAVE_TRACECMD),1)
$(BUILD)/obj/lib/formats/ktrace_dat.o: ALL_CFLAGS += -DKS_HAVE_TRACECMD \
	$(shell pkg-config --cflags $(FORMATS_TRACE_PKGS))
# Loaded with dlopen() when a trace.dat is read (see ktrace_dat.c), not linked.
LDLIBS += -ldl
endif
