# Paging benchmarks (docs/paging.md): `make bench-paging`, also part of `make bench`.
BENCH_PAGING := $(BUILD)/bench/bench_paging

$(BENCH_PAGING): tests/bench/bench_paging.c $(LIBKS)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  BENCH   $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBKS) $(LDLIBS) $(ALL_LDFLAGS)

.PHONY: bench-paging
bench-paging: $(BENCH_PAGING)
	$(Q)$(BENCH_PAGING)

bench: bench-paging
