# Benchmarks (bench/, docs/performance.md). `make bench` builds kvmscope, the
# benchmark peers and inputs into $(BUILD)/bench/ and runs bench/bench.py,
# which prints the results table and writes it to $(BUILD)/bench/results.md.
# BENCH_ARGS passes options through (e.g. BENCH_ARGS=--quick).

BENCH_DIR := $(BUILD)/bench
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror
BENCH_GUEST_LDFLAGS := -n -z noexecstack --no-warn-rwx-segments -T bench/guests/link.ld
# Port reads per run of the exit-loop guest; the baseline guest does none.
BENCH_NREADS ?= 20000
BENCH_TOOLS := $(BENCH_DIR)/rawkvm $(BENCH_DIR)/runtime $(BENCH_DIR)/mkptimg $(BENCH_DIR)/ksprobe.so
BENCH_GUESTS := $(BENCH_DIR)/guests/pioloop-0.elf $(BENCH_DIR)/guests/pioloop-100.elf \
	$(BENCH_DIR)/guests/pioloop-$(BENCH_NREADS).elf $(BENCH_DIR)/guests/cr3halt.elf \
	$(BENCH_DIR)/guests/pioloop64-0.elf $(BENCH_DIR)/guests/pioloop64-100.elf \
	$(BENCH_DIR)/guests/pioloop64-$(BENCH_NREADS).elf

# tests/cli/test_bench.sh checks these tools, so `make tests` builds them too.
tests: $(BENCH_TOOLS) $(BENCH_GUESTS)

# The tools parse their numeric options with lib/base/parse.c (strict: no sign, space or junk).
$(BENCH_DIR)/%: bench/%.c lib/base/parse.c include/ks/parse.h
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(BENCH_CFLAGS) -Iinclude -o $@ $< lib/base/parse.c

$(BENCH_DIR)/ksprobe.so: bench/ksprobe.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(BENCH_CFLAGS) -shared -fPIC -o $@ $< -ldl

$(BENCH_DIR)/guests/pioloop-%.elf: bench/guests/pioloop.asm bench/guests/link.ld
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $@"
	$(Q)nasm -f elf32 -DNREADS=$* -o $@.o $<
	$(Q)ld -m elf_i386 $(BENCH_GUEST_LDFLAGS) -o $@ $@.o

$(BENCH_DIR)/guests/pioloop64-%.elf: bench/guests/pioloop64.asm bench/guests/link.ld
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $@"
	$(Q)nasm -f elf32 -DNREADS=$* -o $@.o $<
	$(Q)ld -m elf_i386 $(BENCH_GUEST_LDFLAGS) -o $@ $@.o

$(BENCH_DIR)/guests/cr3halt.elf: bench/guests/cr3halt.asm bench/guests/link.ld
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  GUEST   $@"
	$(Q)nasm -f elf32 -o $@.o $<
	$(Q)ld -m elf_i386 $(BENCH_GUEST_LDFLAGS) -o $@ $@.o

.PHONY: bench-build bench-profile
bench-build: all $(BENCH_TOOLS) $(BENCH_GUESTS)
	$(Q)$(MAKE) --no-print-directory guests

bench: bench-build
	$(Q)python3 bench/bench.py --build $(BUILD) --nreads $(BENCH_NREADS) $(BENCH_ARGS)

# The profile pass: callgrind instruction counts and perf software counters
# on the hot paths, written to $(BUILD)/bench/profile.md (a few minutes).
bench-profile: bench-build
	$(Q)python3 bench/profile.py --build $(BUILD) --nreads $(BENCH_NREADS)
