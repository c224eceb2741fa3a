#!/usr/bin/env python3
"""A raw GDB remote-protocol client for tests/cli/test_gdb.sh: hostile input
and abrupt disconnects that real GDB never sends.

usage: gdb_rsp_client.py PORT SCENARIO [SYMBOL=HEXADDR ...]
Prints one line per check ("ok ..." or "FAIL ...") and exits 1 on failure.
"""
import socket
import sys
import time

port = int(sys.argv[1])
scenario = sys.argv[2]
syms = dict(a.split("=", 1) for a in sys.argv[3:])
failed = False


def check(cond, what):
    global failed
    print(("ok " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failed = True


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % (sum(payload) % 256)


class Conn:
    def __init__(self):
        self.s = None
        for _ in range(50):
            try:
                self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
                break
            except OSError:
                time.sleep(0.1)
        if self.s is None:
            sys.exit("FAIL cannot connect to port %d" % port)
        self.buf = b""

    def send(self, raw: bytes):
        self.s.sendall(raw)

    def reply(self) -> bytes:
        """The next packet payload (acks skipped)."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    payload = self.buf[start + 1:end]
                    self.buf = self.buf[end + 3:]
                    self.s.sendall(b"+")
                    return payload
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("stub closed the connection")
            self.buf += chunk

    def cmd(self, payload: bytes) -> bytes:
        self.send(frame(payload))
        return self.reply()


def rip(c):
    return int.from_bytes(bytes.fromhex(c.cmd(b"p10").decode()), "little")


c = Conn()
if scenario == "malformed":
    # Noise, bad checksums, bad hex, truncated and overlong packets, huge lengths.
    c.send(b"garbage+++---\x00\xff")
    c.send(b"$g#00")
    check(c.cmd(b"?").startswith(b"T05"), "stub answers after noise and a bad checksum")
    check(c.cmd(b"mzz,4").startswith(b"E"), "bad hex in m -> error")
    check(len(c.cmd(b"m100000,ffffffffffffffff")) > 0, "huge m length is clamped")
    check(c.cmd(b"M100000,ffffffff:00").startswith(b"E"), "huge M length -> error")
    check(c.cmd(b"Mffffffffffff0000,1:00").startswith(b"E"), "unmapped write -> error")
    check(c.cmd(b"p999").startswith(b"E"), "unknown register -> error")
    check(c.cmd(b"G00").startswith(b"E"), "short G -> error")
    check(c.cmd(b"Z0,1").startswith(b"E"), "truncated Z0 -> error")
    check(c.cmd(b"vBogus") == b"", "unknown packet -> empty")
    c.send(frame(b"m" + b"1" * 20000))
    check(c.reply().startswith(b"E"), "overlong packet -> error")
    check(c.cmd(b"qC") == b"QC1", "still in sync afterwards")
    # Leave in the middle of a packet.
    c.send(b"$m100000,4#")
    c.s.close()
elif scenario == "disconnect-armed":
    # Arm a breakpoint and a watchpoint, then vanish: the stub must remove
    # them and let the guest finish on its own.
    check(c.cmd(b"Z1," + syms["target_function"].encode() + b",1") == b"OK",
          "Z1 target_function")
    check(c.cmd(b"Z2," + syms["watched_var"].encode() + b",8") == b"OK", "Z2 watched_var")
    c.s.shutdown(socket.SHUT_RDWR)
    c.s.close()
elif scenario == "interrupt":
    # Park the guest in a loop (jmp $ over its exit path), continue, Ctrl-C.
    spin = int(syms["exit_path"], 16)
    check(c.cmd(b"M%x,2:ebfe" % spin) == b"OK", "patch jmp $ at the exit path")
    c.send(frame(b"c"))
    time.sleep(0.5)
    c.send(b"\x03")
    stop = c.reply()
    check(stop.startswith(b"T02"), "Ctrl-C stops the guest with SIGINT: %r" % stop)
    check(rip(c) == spin, "stopped in the loop at %#x" % spin)
    # Restore the exit path (mov al, 0x10), continue and vanish while it runs.
    check(c.cmd(b"M%x,2:b010" % spin) == b"OK", "restore the exit path")
    c.send(frame(b"c"))
    c.s.close()
elif scenario == "many-breakpoints":
    # More breakpoints than DR0-3: continue must still stop at each, in order.
    base = int(syms["target_function"], 16)
    addrs = [base, base + 8, base + 12, base + 20, int(syms["exit_path"], 16)]
    for a in addrs:
        check(c.cmd(b"Z0,%x,1" % a) == b"OK", "Z0 %#x" % a)
    seen = []
    for _ in range(5):
        stop = c.cmd(b"c")
        seen.append(rip(c))
        check(stop.startswith(b"T05"), "stop %r at %#x" % (stop, seen[-1]))
    want = [base, base + 8, base + 12, base + 20, base]
    check(seen == want, "stops in order: %s" % [hex(x) for x in seen])
    check(c.cmd(b"D") == b"OK", "detach")
    c.s.close()
else:
    sys.exit("unknown scenario " + scenario)
sys.exit(1 if failed else 0)
