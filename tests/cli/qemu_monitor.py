#!/usr/bin/env python3
"""Drive QEMU's HMP monitor over a UNIX socket for the artifact tests.

usage: qemu_monitor.py SOCKET OUTDIR [--wait-state STATE] [--timeout S]

Waits until `info status` reports STATE (default: shutdown, which is where a
triple-faulted guest sits with -no-reboot -no-shutdown), then saves what a
developer would: `info registers` (OUTDIR/regs.txt), a dump-guest-memory
core (OUTDIR/core.elf) and a pmemsave of the first 16 MiB (OUTDIR/mem.bin),
and quits QEMU. Exit status 0 on success, 1 on timeout or error.
"""
import os
import re
import socket
import sys
import time

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b[()][A-Z0-9]")


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    path, out = args[0], args[1]
    state, timeout = "shutdown", 20.0
    if "--wait-state" in args:
        state = args[args.index("--wait-state") + 1]
    if "--timeout" in args:
        timeout = float(args[args.index("--timeout") + 1])
    deadline = time.monotonic() + timeout
    sock = None
    while time.monotonic() < deadline:
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
            break
        except OSError:
            sock = None
            time.sleep(0.05)
    if sock is None:
        print("qemu_monitor: no monitor socket", file=sys.stderr)
        return 1
    sock.settimeout(max(1.0, deadline - time.monotonic()))
    buf = b""

    def until_prompt():
        nonlocal buf
        while b"(qemu)" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("monitor closed")
            buf += chunk
        text, _, buf = buf.partition(b"(qemu)")
        return ANSI.sub("", text.decode(errors="replace")).replace("\r", "")

    def cmd(c):
        sock.sendall(c.encode() + b"\n")
        return until_prompt()

    until_prompt()
    while True:
        if state in cmd("info status"):
            break
        if time.monotonic() > deadline:
            print("qemu_monitor: guest never reached state " + state, file=sys.stderr)
            return 1
        time.sleep(0.1)
    with open(os.path.join(out, "regs.txt"), "w") as f:
        f.write(cmd("info registers"))
    cmd('dump-guest-memory "%s"' % os.path.join(out, "core.elf"))
    cmd('pmemsave 0 0x1000000 "%s"' % os.path.join(out, "mem.bin"))
    sock.sendall(b"quit\n")
    # QEMU only acts on "quit" while the connection is open: wait for it to hang up.
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        print("qemu_monitor: %s" % e, file=sys.stderr)
        sys.exit(1)
