#!/usr/bin/env bash
# `kvmscope cpu`: the model list, and the model / KVM / effective matrix
# against this host's real KVM_GET_SUPPORTED_CPUID. SKIPs the matrix without /dev/kvm.
# san: yes
set -u
K=$1
. "$(dirname "$0")/lib.sh"
make_tmp T

"$K" cpu --list >"$T/list" 2>&1; st=$?
if [ $st -eq 0 ] && grep -q '^qemu64 ' "$T/list" && grep -q '^Haswell ' "$T/list" && grep -q '^host ' "$T/list"; then
    pass cpu_list
else
    fail cpu_list "status $st: $(head -3 "$T/list")"
fi
"$K" cpu >/dev/null 2>&1; st=$?
[ $st -eq 2 ] && pass cpu_no_model || fail cpu_no_model "status $st"
"$K" cpu --bogus qemu64 >/dev/null 2>&1; st=$?
[ $st -eq 2 ] && pass cpu_bad_flag || fail cpu_bad_flag "status $st"
"$K" cpu NoSuchModel >/dev/null 2>"$T/e"; st=$?
[ $st -eq 2 ] && grep -q "unknown CPU model" "$T/e" && pass cpu_bad_model || fail cpu_bad_model "status $st"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    for t in matrix json gbpages; do skip "cpu_$t" "no usable /dev/kvm"; done
    exit $((fails > 0))
fi

"$K" cpu qemu64,+pdpe1gb >"$T/m" 2>&1; st=$?
if [ $st -eq 0 ] && grep -qE '^lm +yes +yes +yes' "$T/m" && grep -q "KVM's page walker for this vCPU: MAXPHYADDR 40" "$T/m"; then
    pass cpu_matrix
else
    fail cpu_matrix "status $st: $(head -5 "$T/m")"
fi

# JSON agrees with itself: effective = model AND KVM for every listed feature.
"$K" cpu --json --all Haswell >"$T/j" 2>&1; st=$?
if [ $st -eq 0 ] && jq -e '(.features | length) > 50 and all(.features[]; .effective == (.model and .kvm))' "$T/j" >/dev/null; then
    pass cpu_json
else
    fail cpu_json "status $st: $(head -c 300 "$T/j")"
fi

# 1 GiB pages: when KVM lacks them, asking for them is reported with the P|RSVD consequence.
"$K" cpu --json qemu64,+pdpe1gb >"$T/g" 2>&1
if jq -e '.features[] | select(.name == "pdpe1gb") | .kvm == false' "$T/g" >/dev/null; then
    if jq -e '(.effective.gbpages == false) and (.features[] | select(.name == "pdpe1gb") | .consequence | contains("P|RSVD"))' "$T/g" >/dev/null; then
        pass cpu_gbpages
    else
        fail cpu_gbpages "$(head -c 300 "$T/g")"
    fi
else
    jq -e '.effective.gbpages == true' "$T/g" >/dev/null && pass cpu_gbpages || fail cpu_gbpages "KVM has pdpe1gb but effective gbpages is false"
fi
[ $fails -eq 0 ]
