# Shared helpers of the bug-zoo tests (sourced, not run, from the repository
# root with K set to the kvmscope binary). Brings in tests/cli/lib.sh and sets
# BUILD, the build directory that holds guests/zoo/*.elf (default: K's).
# shellcheck shell=bash
. tests/cli/lib.sh
BUILD=${BUILD:-$(dirname "$K")}

# zoo_get FILE KEY: the rest of the first "KEY ..." line of an expectations file.
zoo_get() {
    sed -n "s/^$2 //p" "$1" | head -n 1
}

# "14:0x9 6:-" -> "14:9 6:-" (decimal error codes, "-" for none).
zoo_norm_chain() {
    local out=() t v e
    for t in $1; do
        v=${t%%:*}
        e=${t#*:}
        if [ "$e" = - ]; then out+=("$v:-"); else out+=("$v:$((e))"); fi
    done
    echo "${out[*]}"
}
