# kvmscope build. `make` builds build/kvmscope; see README.md for the targets.
# SAN=1 builds with ASan+UBSan into build-san/; WERROR=0 drops -Werror; V=1 is verbose.

SAN ?= 0
WERROR ?= 1
V ?= 0
CC ?= cc

ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
	-Wwrite-strings -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)
LDLIBS := -lZydis -lm

LIB_SRCS := $(sort $(shell find lib -name '*.c'))
VMM_SRCS := $(sort $(shell find vmm -name '*.c' 2>/dev/null))
CLI_SRCS := $(sort $(wildcard cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
KVMT_SRCS := $(sort $(wildcard tests/kvm/test_*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
VMM_OBJS := $(VMM_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
KVMT_BINS := $(KVMT_SRCS:tests/kvm/%.c=$(BUILD)/tests/kvm/%)

KVMSCOPE := $(BUILD)/kvmscope
LIBKS := $(BUILD)/libks.a
LIBVMM := $(BUILD)/libvmm.a

# Extra binaries and guest images that mk/*.mk fragments add.
EXTRA_TARGETS :=
GUEST_TARGETS :=

.PHONY: all tests guests check check-quick demo deps bench fuzz difftest format format-check \
	check-deps clean
.DEFAULT_GOAL := all

all: $(KVMSCOPE) $(EXTRA_TARGETS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBKS): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBVMM): $(VMM_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(KVMSCOPE): $(CLI_OBJS) $(LIBVMM) $(LIBKS)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBVMM) $(LIBKS) $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBKS) tests/harness.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(LIBKS) $(LDLIBS) $(ALL_LDFLAGS)

$(BUILD)/tests/kvm/%: tests/kvm/%.c $(LIBVMM) $(LIBKS) tests/harness.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(LIBVMM) $(LIBKS) $(LDLIBS) $(ALL_LDFLAGS)

-include $(sort $(wildcard mk/*.mk))

guests: $(GUEST_TARGETS)
tests: all $(UNIT_BINS) $(KVMT_BINS) guests

# Installs what is missing (Debian packages), once per machine.
deps:
	$(Q)scripts/deps.sh

# The whole suite: the normal build, the sanitizer build of the same tests, and a
# short pass of every fuzz target over its corpus.
check: deps
	$(Q)$(MAKE) --no-print-directory check-deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)$(MAKE) --no-print-directory SAN=1 tests
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)scripts/run-tests.sh build build-san build-fuzz

# Only the normal build, for a quick loop while developing.
check-quick:
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)scripts/run-tests.sh build

demo: deps
	$(Q)$(MAKE) --no-print-directory all guests
	$(Q)scripts/demo.sh $(BUILD)

# lib/ must stay pure: no KVM headers, no process exits, no printing to stdout.
check-deps:
	$(Q)scripts/check-deps.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(VMM_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
