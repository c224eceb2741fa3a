# shellcheck shell=bash
# Shared scaffolding of the CLI test scripts (sourced, not run). The caller
# has `set -u` and may set KS_PREFIX (prepended to every result name).
#   pass NAME / fail NAME WHY / skip NAME WHY   print one result line; fail
#                                               also counts into $fails
#   verdict NAME [WHY...]                       pass NAME with no WHY, else fail NAME
#                                               with the WHYs joined; returns 1 on fail
#   finish                                      exit 0 when nothing failed, else 1
#   have CMD...                                 every command is on PATH
#   have_kvm                                    /dev/kvm is usable by this user
#   has_run KVMSCOPE                            this build has `kvmscope run`
#   make_tmp VAR                                VAR = a temp directory removed at exit
fails=0

pass() { echo "PASS ${KS_PREFIX-}$1"; }
fail() {
    echo "FAIL ${KS_PREFIX-}$1: $2"
    fails=$((fails + 1))
}
skip() { echo "SKIP ${KS_PREFIX-}$1: $2"; }
verdict() {
    local name=$1
    shift
    if [ $# -eq 0 ]; then
        pass "$name"
    else
        fail "$name" "$*"
        return 1
    fi
}
finish() { exit $((fails > 0)); }

have() {
    local c
    for c; do
        command -v "$c" >/dev/null || return 1
    done
}
have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
has_run() { "$1" run --help >/dev/null 2>&1; }

make_tmp() {
    local _ks_tmp # an unusual name, so that it cannot shadow the caller's VAR
    _ks_tmp=$(mktemp -d) || exit 3
    # shellcheck disable=SC2064 # expand now: the directory is fixed
    trap "rm -rf '$_ks_tmp'" EXIT
    printf -v "$1" %s "$_ks_tmp"
}
