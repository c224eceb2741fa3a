# The paging difftest (docs/difftest.md): a nasm guest plus a KVM test whose
# helper sources live in tests/kvm/difftest/. `make difftest N=... SEED=...`
# runs a long campaign and fails on any disagreement with the model.

DT_GUEST := $(BUILD)/guests/difftest/difftest.bin
DT_GUEST32 := $(BUILD)/guests/difftest/difftest32.bin
DT_SRCS := $(sort $(wildcard tests/kvm/difftest/*.c))
DT_OBJS := $(DT_SRCS:%.c=$(BUILD)/obj/%.o)
GUEST_TARGETS += $(DT_GUEST) $(DT_GUEST32)

$(BUILD)/guests/difftest/%.bin: guests/difftest/%.asm guests/difftest/abi.inc
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  NASM    $@"
	$(Q)nasm -f bin -Iguests/difftest/ -o $@ $<

$(DT_OBJS): ALL_CFLAGS += -Itests/kvm

# An explicit rule beats the Makefile's single-source pattern rule for tests/kvm.
$(BUILD)/tests/kvm/test_difftest: tests/kvm/test_difftest.c $(DT_OBJS) $(LIBVMM) $(LIBKS) \
		tests/harness.h $(DT_GUEST) $(DT_GUEST32)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -Itests/kvm -o $@ $< $(DT_OBJS) $(LIBVMM) $(LIBKS) \
		$(LDLIBS) $(ALL_LDFLAGS)

-include $(DT_OBJS:.o=.d)

N ?= 10000
SEED ?= random
CPUS ?= host;qemu64,phys-bits=36;kvm64
# TRACE=1 also compares KVM's kvmmmu trace of every walk (root, tracefs).
TRACE ?= 0
difftest: $(BUILD)/tests/kvm/test_difftest
	$(Q)BUILD=$(BUILD) DIFFTEST_N=$(N) DIFFTEST_SEED=$(SEED) DIFFTEST_CPUS="$(CPUS)" \
		DIFFTEST_TRACE=$(TRACE) DIFFTEST_SUMMARY=1 $(BUILD)/tests/kvm/test_difftest
