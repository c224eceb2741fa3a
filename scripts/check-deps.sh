#!/usr/bin/env bash
# Enforces the module boundaries of docs/architecture.md:
# lib/ is pure C (no KVM headers, never exits, never prints to stdout), and
# only vmm/ includes <linux/kvm.h>.
set -u
cd "$(dirname "$0")/.."
bad=0
if grep -rnE '#include[[:space:]]*<linux/kvm' lib cli include tests/unit 2>/dev/null; then
    echo "check-deps: only vmm/ may include <linux/kvm.h>" >&2
    bad=1
fi
if grep -rnE '\b(exit|_exit|abort|err|errx|die)[[:space:]]*\(' lib 2>/dev/null | grep -v '^\S*:[0-9]*:\s*//' | grep -vE '(->|\.)(exit|err)\(' ; then
    echo "check-deps: lib/ must not exit or abort" >&2
    bad=1
fi
if grep -rnE '\b(printf|puts|putchar)[[:space:]]*\(|stdout' lib 2>/dev/null; then
    echo "check-deps: lib/ must not print" >&2
    bad=1
fi
exit $bad
