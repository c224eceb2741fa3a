# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang into build-fuzz/.
# `make fuzz SECONDS=60` runs each target for SECONDS with its corpus in
# tests/fuzz/corpus/<name>/ (seeded from real artifacts); `make check` runs a
# short pass of each through scripts/run-tests.sh.

FUZZ_BUILD := build-fuzz
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/fuzz/%)
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
SECONDS ?= 60

ifneq ($(BUILD),$(FUZZ_BUILD))

$(FUZZ_BUILD)/libks.a: $(LIB_SRCS) $(wildcard include/ks/*.h)
	$(Q)$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) SAN=0 \
		CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_BUILD)/libks.a

$(FUZZ_BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_BUILD)/libks.a
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  FUZZ    $@"
	$(Q)clang -std=c11 -D_GNU_SOURCE -Iinclude -Itests -O1 -g \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(FUZZ_BUILD)/libks.a $(LDLIBS)

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$n; \
		echo "== $$n ($(SECONDS)s)"; \
		$$f -max_total_time=$(SECONDS) -print_final_stats=1 tests/fuzz/corpus/$$n 2>&1 \
			| grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-' ; \
	done
endif
