#!/usr/bin/env bash
# The main job on the bundled seed kernel: a Multiboot2 kernel that maps its
# first 32 GiB with 1 GiB pages, as in shared/seed. On a vCPU without 1 GiB
# pages KVM's walker treats PS in the PDPTE as reserved and the kernel dies
# with a triple fault; kvmscope says why and how to fix it.
set -u
build=${1:-build}
cd "$(dirname "$0")/.."
k=$build/kvmscope
echo "\$ kvmscope run build/guests/seed.elf"
"$k" run "$build/guests/seed.elf"
status=$?
echo
echo "(exit status $status: the guest triple-faulted; see docs/exit-status.md)"
echo
echo "\$ kvmscope run build/guests/seed-2m.elf    # the same kernel with 2 MiB pages"
"$k" run "$build/guests/seed-2m.elf"
echo "(exit status $?)"
# The demo succeeded if the crash was explained: status 6 is "triple fault".
[ "$status" -eq 6 ]
