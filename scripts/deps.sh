#!/usr/bin/env bash
# Installs the Debian packages kvmscope needs when they are missing.
# Runs as root directly, otherwise through sudo when it is available.
set -eu
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in nasm qemu-system-x86 libzydis-dev libelf-dev libtracefs-dev libtracecmd-dev \
    libtraceevent-dev clang libclang-rt-14-dev jq gdb binutils; do
    have_pkg "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "deps: installing ${need[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${need[*]}" >&2; exit 3; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
