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
# For the scripts that run "$K" (the kvmscope binary) with a temp dir "$T":
#   mkimg FILE SIZE [GPA=VALUE[:4]]...          a zeroed raw image with 8-byte (or :4
#                                               4-byte) entries; GPA=VALUE*N@STEP writes N
#                                               entries, VALUE += STEP each
#   run NAME WANT ARGS...                       "$K" ARGS into $T/out and $T/err; fails
#                                               NAME (returns 1) unless the status is WANT
#   has NAME TEXT                               $T/out contains TEXT, else fail NAME
#   bad NAME WANT PATTERN ARGS...               run, then exactly one stderr line
#                                               "kvmscope: CMD: ...PATTERN" (CMD = KS_PREFIX
#                                               without its '/') and no stdout
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

mkimg() {
    python3 - "$@" <<'EOF'
import struct, sys
path, size = sys.argv[1], int(sys.argv[2], 0)
img = bytearray(size)
for spec in sys.argv[3:]:
    gpa, val = spec.split('=')
    width = 8
    if val.endswith(':4'):
        val, width = val[:-2], 4
    count, step = 1, 0
    if '*' in val:
        val, rep = val.split('*')
        count, step = rep.split('@')
        count, step = int(count, 0), int(step, 0)
    for i in range(count):
        # bash arithmetic prints bit 63 as a negative number
        struct.pack_into('<Q' if width == 8 else '<I', img, int(gpa, 0) + i * width,
                         (int(val, 0) + i * step) % (1 << (8 * width)))
open(path, 'wb').write(img)
EOF
}

run() {
    local name=$1 want=$2
    shift 2
    "$K" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$name" "status $rc, want $want; stderr: $(head -c 300 "$T/err")"
        return 1
    fi
    return 0
}

has() { grep -qF -- "$2" "$T/out" || { fail "$1" "output lacks '$2'"; return 1; }; }

bad() {
    local name=$1 want=$2 pat=$3 n
    shift 3
    run "$name" "$want" "$@" || return
    n=$(wc -l <"$T/err")
    if [ "$n" -ne 1 ]; then
        fail "$name" "want one error line, got $n: $(cat "$T/err")"
    elif ! grep -qE -- "^kvmscope: ${KS_PREFIX%/}: .*$pat" "$T/err"; then
        fail "$name" "error line '$(cat "$T/err")' does not match '$pat'"
    elif [ -s "$T/out" ]; then
        fail "$name" "unexpected stdout: $(head -c 200 "$T/out")"
    else
        pass "$name"
    fi
}
