#!/usr/bin/env python3
"""kvmscope benchmarks: run kvmscope and its peers in the same run, print a
table of median/min/max and ratios, and write it to BUILD/bench/results.md.

Timings on these machines are shared and noisy (spec/host.md), so every
target is a ratio between peers measured in the same run, with the peers'
runs interleaved so that load spikes hit them alike. Methodology:
docs/performance.md.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- helpers

class Ctx:
    def __init__(self, args):
        self.build = os.path.abspath(args.build)
        self.bdir = os.path.join(self.build, 'bench')
        self.kvmscope = os.path.join(self.build, 'kvmscope')
        self.nreads = args.nreads
        self.runs = args.runs
        self.quick = args.quick
        self.tmp = tempfile.mkdtemp(prefix='ksbench.')
        self.rows = []      # (section, name, unit, med, lo, hi, note)
        self.targets = []   # (target, measured, verdict)
        self.notes = []

    def tool(self, name):
        return os.path.join(self.bdir, name)

    def guest(self, name):
        return os.path.join(self.bdir, 'guests', name)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(v, unit):
    if v is None:
        return 'n/a'
    if unit == 'ms':
        return '%.2f' % v
    if unit == 'us':
        return '%.2f' % v
    if unit in ('x', 'ratio'):
        return '%.2f' % v
    if unit == 'M/s':
        return '%.1f' % v
    return '%g' % v


WALL, STATUS, RSS, CPU = 0, 1, 2, 3
CLOCKS = (('wall', WALL), ('CPU', CPU))


def timed_runs(ctx, cmd, n=1, env=None, stdout='/dev/null'):
    """Run (cmd) n times under bench/runtime; returns [(wall_us, status, maxrss_kb, cpu_us)]."""
    full = [ctx.tool('runtime'), '-n', str(n), '-o', stdout, '--'] + cmd
    p = subprocess.run(full, capture_output=True, text=True, env=env, timeout=600)
    out = []
    for line in p.stdout.splitlines():
        us, st, rss, cpu = line.split()
        out.append((float(us), int(st), int(rss), float(cpu)))
    if p.returncode != 0 or len(out) != n:
        raise RuntimeError('%s: runtime failed: %s' % (' '.join(cmd), p.stderr.strip()[:300]))
    return out


def probe_run(ctx, cmd, stdout='/dev/null'):
    """One run under the LD_PRELOAD probe; returns its key=value dict (floats)."""
    out = os.path.join(ctx.tmp, 'probe.txt')
    if os.path.exists(out):
        os.unlink(out)
    env = dict(os.environ, LD_PRELOAD=ctx.tool('ksprobe.so'), KSPROBE_OUT=out)
    with open(stdout, 'w') as so:
        p = subprocess.run(cmd, stdout=so, stderr=subprocess.PIPE, env=env, timeout=300)
    with open(out) as f:
        line = f.read().strip().splitlines()[-1]
    d = {k: float(v) for k, v in (kv.split('=') for kv in line.split())}
    d['status'] = p.returncode
    return d


def interleave(ctx, peers, n):
    """peers: {name: cmd}. n rounds, each peer once per round, in rotating order."""
    res = {k: [] for k in peers}
    names = list(peers)
    for i in range(n):
        order = names[i % len(names):] + names[:i % len(names)]
        for k in order:
            res[k].extend(timed_runs(ctx, peers[k]))
    return res


def check_status(name, runs, want):
    bad = [r[STATUS] for r in runs if r[STATUS] != want]
    if bad:
        raise RuntimeError('%s: exit status %s, expected %d' % (name, bad[0], want))


def add(ctx, section, name, unit, xs, note=''):
    if xs is None:
        ctx.rows.append((section, name, unit, None, None, None, note))
        return None
    med, lo, hi = stats(xs) if isinstance(xs, list) else (xs, xs, xs)
    ctx.rows.append((section, name, unit, med, lo, hi, note))
    return med


def target(ctx, what, measured, ok):
    ctx.targets.append((what, measured, 'met' if ok else ('n/a' if ok is None else 'NOT met')))


# ---------------------------------------------------------------- kvmscope CLI

def have_kvmscope_cmd(ctx, cmd):
    if not os.access(ctx.kvmscope, os.X_OK):
        return False
    p = subprocess.run([ctx.kvmscope, 'help'], capture_output=True, text=True)
    return re.search(r'^\s+%s\s' % re.escape(cmd), p.stdout, re.M) is not None


def ks_run(ctx, kernel, extra=()):
    return [ctx.kvmscope, 'run'] + list(extra) + [kernel]


def ks_run_status(ctx, kernel):
    """kvmscope run's exit status for a guest that exits through 0xf4 with 0."""
    return subprocess.run(ks_run(ctx, kernel), capture_output=True).returncode


# ---------------------------------------------------------------- QEMU

def qemu_cmd(accel, kernel, extra=()):
    cmd = ['qemu-system-x86_64', '-machine', 'accel=' + accel, '-m', '128', '-nodefaults',
           '-display', 'none', '-serial', 'stdio', '-no-reboot',
           '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-kernel', kernel]
    if accel == 'kvm':
        cmd[3:3] = ['-cpu', 'qemu64']
    return cmd + list(extra)


class Monitor:
    """QEMU's human monitor on a unix socket."""

    def __init__(self, path, timeout=300):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        for _ in range(200):
            try:
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        self.read()

    def read(self):
        """Read up to the next prompt; returns the byte count (the text is not kept)."""
        n, tail = 0, b''
        while True:
            b = self.s.recv(1 << 20)
            if not b:
                raise RuntimeError('monitor closed')
            n += len(b)
            tail = (tail + b)[-16:]
            if tail.endswith(b'(qemu) '):
                return n

    def cmd(self, line, keep=False):
        self.s.sendall(line.encode() + b'\n')
        if not keep:
            return self.read()
        buf = bytearray()
        while not buf.endswith(b'(qemu) '):
            b = self.s.recv(1 << 20)
            if not b:
                raise RuntimeError('monitor closed')
            buf += b
        return buf.decode(errors='replace')


# ---------------------------------------------------------------- sections

def bench_start(ctx):
    """Start to exit of a trivial Multiboot kernel."""
    sec = 'start-to-exit'
    kernels = [('pioloop-0', ctx.guest('pioloop-0.elf'))]
    triv = os.path.join(ctx.build, 'guests', 'trivial.elf')
    if os.path.exists(triv):
        kernels.insert(0, ('trivial', triv))
    have_run = have_kvmscope_cmd(ctx, 'run')
    n = ctx.runs * 3
    ks_ms = {}
    for kname, kernel in kernels:
        peers = {'rawkvm': [ctx.tool('rawkvm'), '-q', kernel]}
        if have_run:
            peers['kvmscope'] = ks_run(ctx, kernel)
        log('  %s: %s, %d rounds' % (sec, kname, n))
        res = interleave(ctx, peers, n)
        check_status('rawkvm', res['rawkvm'], 1)
        if have_run:
            check_status('kvmscope run', res['kvmscope'], 1)
        for clock, i in CLOCKS:
            raw = add(ctx, sec, '%s: rawkvm (floor), %s' % (kname, clock), 'ms',
                      [r[i] / 1000 for r in res['rawkvm']])
            if not have_run:
                add(ctx, sec, '%s: kvmscope run' % kname, 'ms', None, 'kvmscope run not built')
                break
            ks = add(ctx, sec, '%s: kvmscope run, %s' % (kname, clock), 'ms',
                     [r[i] / 1000 for r in res['kvmscope']])
            ratios = [a[i] / b[i] for a, b in zip(res['kvmscope'], res['rawkvm'])]
            r = add(ctx, sec, '%s: kvmscope / rawkvm, %s, per round' % (kname, clock), 'x',
                    ratios)
            if kname == kernels[0][0]:
                ks_ms[clock] = ks
                target(ctx, 'start-to-exit <= 2x raw KVM (%s), %s' % (kname, clock),
                       '%.2fx (%.2f ms vs %.2f ms)' % (r, ks, raw), r <= 2.0)
    # QEMU peers on the first kernel only: they take seconds.
    kname, kernel = kernels[0]
    for accel, label, nq in (('tcg', 'QEMU TCG', max(3, ctx.runs)),
                             ('kvm', 'QEMU+KVM -cpu qemu64', 1 if ctx.quick else 3)):
        log('  %s: %s, %d runs' % (sec, label, nq))
        try:
            q = timed_runs(ctx, qemu_cmd(accel, kernel), nq)
            check_status(label, q, 1)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            add(ctx, sec, '%s: %s' % (kname, label), 'ms', None, str(e)[:80])
            continue
        for clock, i in CLOCKS:
            qm = add(ctx, sec, '%s: %s, %s' % (kname, label, clock), 'ms',
                     [x[i] / 1000 for x in q], 'CPU: all QEMU threads' if i == CPU else '')
            if clock not in ks_ms:
                continue
            f = qm / ks_ms[clock]
            add(ctx, sec, '%s: %s / kvmscope, %s' % (kname, label, clock), 'x', f)
            if accel == 'tcg':
                target(ctx, '>= 20x faster than QEMU TCG, %s' % clock, '%.1fx' % f, f >= 20)
            else:
                target(ctx, 'far ahead of QEMU+KVM, %s' % clock, '%.0fx' % f, f >= 20)


def bench_exits(ctx):
    bench_exit_loop(ctx, 'pioloop', 'PIO exit', True)


def bench_exits64(ctx):
    bench_exit_loop(ctx, 'pioloop64', 'PIO exit, 64-bit paged guest', False)


def bench_exit_loop(ctx, guest, sec, with_sync):
    """PIO exit round trip: (total(N) - total(0)) / N per peer, paired per round."""
    n = ctx.nreads
    k0, kn = ctx.guest('%s-0.elf' % guest), ctx.guest('%s-%d.elf' % (guest, n))
    peers = {'rawkvm': lambda k: [ctx.tool('rawkvm'), '-q', k]}
    if with_sync:
        # The floor plus what KVM_CAP_SYNC_REGS (regs + sregs, as kvmscope asks) costs.
        peers['rawkvm -s 3'] = lambda k: [ctx.tool('rawkvm'), '-q', '-s', '3', k]
    if have_kvmscope_cmd(ctx, 'run'):
        tr = os.path.join(ctx.tmp, 'trace.txt')
        peers['kvmscope'] = lambda k: ks_run(ctx, k)
        peers['kvmscope --trace'] = lambda k: ks_run(ctx, k, ['--trace', tr])
    else:
        add(ctx, sec, 'kvmscope run', 'us', None, 'kvmscope run not built')
    cmds = {}
    for p, f in peers.items():
        cmds[p + '@0'] = f(k0)
        cmds[p + '@N'] = f(kn)
    rounds = ctx.runs + 2
    log('  %s: N=%d, %d rounds' % (sec, n, rounds))
    res = interleave(ctx, cmds, rounds)
    per = {}
    for p in peers:
        check_status(p, res[p + '@N'], 1)
        check_status(p, res[p + '@0'], 1)
        for clock, i in CLOCKS:
            # Round r's loop time against the same round's baseline.
            xs = [(a[i] - b[i]) / n for a, b in zip(res[p + '@N'], res[p + '@0'])]
            per[p, clock] = xs
            add(ctx, sec, '%s: per exit, (total - baseline) / N, %s' % (p, clock), 'us', xs,
                'total %.1f ms, baseline %.2f ms' %
                (statistics.median(r[i] for r in res[p + '@N']) / 1000,
                 statistics.median(r[i] for r in res[p + '@0']) / 1000))
    inside = {}
    for p, f in peers.items():
        if p == 'rawkvm -s 3':
            continue
        # In-process view: KVM_RUN return to KVM_RUN return, no process start or exit in it.
        xs = []
        for _ in range(max(3, ctx.runs // 2)):
            d = probe_run(ctx, f(kn))
            if d['runs'] != n + 31:  # 15 chars x (LSR read + THR write) + N reads + the exit
                raise RuntimeError('%s: %d KVM_RUNs, expected %d' % (p, d['runs'], n + 31))
            xs.append((d['last_exit_us'] - d['first_exit_us']) / (d['runs'] - 1))
        inside[p] = add(ctx, sec, '%s: per exit, in-process (probe)' % p, 'us', xs,
                        '%d KVM_RUNs' % (n + 31))
    if 'kvmscope' in peers:
        for p, lim in (('kvmscope', 1.05), ('kvmscope --trace', 1.15)):
            ri = inside[p] / inside['rawkvm']
            add(ctx, sec, '%s / rawkvm, in-process medians' % p, 'x', ri)
            for clock, _ in CLOCKS:
                if p == 'kvmscope' and with_sync:
                    ratios = [a / b for a, b in zip(per['rawkvm -s 3', clock],
                                                    per['rawkvm', clock])]
                    add(ctx, sec, 'rawkvm -s 3 (sync regs+sregs) / rawkvm, %s' % clock, 'x',
                        ratios, 'the part of the gap KVM itself adds')
                ratios = [a / b for a, b in zip(per[p, clock], per['rawkvm', clock])]
                r = add(ctx, sec, '%s / rawkvm, %s, per round' % (p, clock), 'x', ratios)
                target(ctx, '%s%s <= %.2fx raw, %s' %
                       (sec, ' with --trace' if 'trace' in p else '', lim, clock),
                       '%.3fx (median of per-round ratios; %.2f vs %.2f us)' %
                       (r, statistics.median(per[p, clock]),
                        statistics.median(per['rawkvm', clock])), r <= lim)


def bench_crash(ctx):
    """Crash (the triple fault's KVM_EXIT_SHUTDOWN) to the printed explanation."""
    sec = 'crash-to-explain'
    seed = os.path.join(ctx.build, 'guests', 'seed.elf')
    if not have_kvmscope_cmd(ctx, 'run') or not os.path.exists(seed):
        add(ctx, sec, 'seed: last exit -> output written', 'ms', None,
            'needs kvmscope run and guests/seed')
        return
    log('  %s: %d runs' % (sec, ctx.runs))
    xs, total, teardown, status = [], [], [], None
    for _ in range(ctx.runs):
        d = probe_run(ctx, ks_run(ctx, seed), stdout=os.path.join(ctx.tmp, 'explain.txt'))
        if d['last_reason'] != 8:  # KVM_EXIT_SHUTDOWN
            raise RuntimeError('seed: last exit reason %d, expected SHUTDOWN' % d['last_reason'])
        # kvmscope prints its report before it tears the VM down (the probe's teardown_us).
        printed = d['teardown_us'] if d['teardown_us'] > 0 else d['end_us']
        xs.append((printed - d['last_exit_us']) / 1000)
        teardown.append((d['end_us'] - printed) / 1000)
        total.append(d['end_us'] / 1000)
        status = d['status']
    med = add(ctx, sec, 'seed: KVM_EXIT_SHUTDOWN -> explanation written', 'ms', xs,
              'exit status %d' % status)
    add(ctx, sec, 'seed: VM teardown after the report', 'ms', teardown)
    add(ctx, sec, 'seed: whole run (probe constructor -> exit)', 'ms', total)
    target(ctx, 'crash to explanation <= 20 ms', '%.2f ms' % med, med <= 20)


def bench_pt(ctx):
    """Page-table scan over 64 GiB of 4 KiB mappings."""
    sec = 'page tables'
    gib = 8 if ctx.quick else 64
    ptes = gib * 512 * 512
    img, tables = os.path.join(ctx.tmp, 'pt.img'), os.path.join(ctx.tmp, 'pt-tables.img')
    t = time.perf_counter()
    out = subprocess.run([ctx.tool('mkptimg'), '-g', str(gib), img], check=True,
                         capture_output=True, text=True).stdout
    subprocess.run([ctx.tool('mkptimg'), '-t', '-g', str(gib), tables], check=True,
                   capture_output=True)
    cr3 = re.search(r'cr3=(0x[0-9a-f]+)', out).group(1)
    log('  %s: %d GiB image (%d PTEs) in %.2f s' % (sec, gib, ptes, time.perf_counter() - t))
    if have_kvmscope_cmd(ctx, 'pt'):
        for mode, extra in (('dump', ['--efer', '0xd00']), ('lint', ['--efer', '0xd00', '--lint']),
                            ('lint, NXE off', ['--lint'])):
            cmd = [ctx.kvmscope, 'pt', '--image', img, '--cr3', cr3] + extra
            runs = timed_runs(ctx, cmd, ctx.runs)
            for clock, i in CLOCKS:
                secs = [r[i] / 1e6 for r in runs]
                add(ctx, sec, 'kvmscope pt %s: %d PTEs, %s' % (mode, ptes, clock), 'ms',
                    [x * 1000 for x in secs], 'exit status %d' % runs[0][STATUS])
                rate = add(ctx, sec, 'kvmscope pt %s: entries/s, %s' % (mode, clock), 'M/s',
                           [ptes / x / 1e6 for x in secs])
                if 'NXE off' in mode:
                    continue  # informational: 60 of 64 GiB have reserved bit 63 (the slow path)
                target(ctx, 'pt %s >= 100M entries/s, %s' % (mode, clock), '%.0f M/s' % rate,
                       rate >= 100)
    else:
        add(ctx, sec, 'kvmscope pt', 'ms', None, 'kvmscope pt not built')
    # QEMU TCG holding the same tables in RAM, CR3 loaded, halted.
    sock = os.path.join(ctx.tmp, 'mon.sock')
    ser = os.path.join(ctx.tmp, 'serial.txt')
    q = subprocess.Popen(['qemu-system-x86_64', '-machine', 'accel=tcg', '-m', '512',
                          '-nodefaults', '-display', 'none', '-serial', 'file:' + ser,
                          '-kernel', ctx.guest('cr3halt.elf'),
                          '-device', 'loader,file=%s,addr=%s' % (tables, cr3),
                          '-monitor', 'unix:%s,server=on,wait=off' % sock],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if os.path.exists(ser) and b'ready' in open(ser, 'rb').read():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError('QEMU guest never reported ready')
        mon = Monitor(sock)
        text = mon.cmd('info mem', keep=True)
        if 'PG disabled' in text:
            raise RuntimeError('QEMU: paging is off')
        for cmd, n in (('info mem', ctx.runs), ('info tlb', 1)):
            xs, nbytes = [], 0
            for _ in range(n):
                t = time.perf_counter()
                nbytes = mon.cmd(cmd)
                xs.append(time.perf_counter() - t)
            add(ctx, sec, 'QEMU TCG monitor `%s`' % cmd, 'ms', [x * 1000 for x in xs],
                '%d bytes of output' % nbytes)
            add(ctx, sec, 'QEMU `%s`: entries/s' % cmd, 'M/s', [ptes / x / 1e6 for x in xs])
        mon.s.sendall(b'quit\n')
    except (RuntimeError, OSError) as e:
        add(ctx, sec, 'QEMU TCG monitor', 'ms', None, str(e)[:80])
    finally:
        try:
            q.wait(timeout=10)
        except subprocess.TimeoutExpired:
            q.kill()
            q.wait()
    os.unlink(img)
    os.unlink(tables)


def bench_memory(ctx):
    """Resident memory of the VMM beyond the guest RAM it touched."""
    sec = 'memory'
    peers = [('rawkvm', lambda k: [ctx.tool('rawkvm'), '-q', k])]
    if have_kvmscope_cmd(ctx, 'run'):
        peers.append(('kvmscope run', lambda k: ks_run(ctx, k)))
        peers.append(('kvmscope run --trace',
                      lambda k: ks_run(ctx, k, ['--trace', os.path.join(ctx.tmp, 'tr.txt')])))
    kern = ctx.guest('pioloop-%d.elf' % ctx.nreads)
    for name, f in peers:
        d = probe_run(ctx, f(kern))
        own = (d['hwm_kb'] - d['guest_kb']) / 1024
        add(ctx, sec, '%s: VmHWM - guest RAM touched' % name, 'MiB', own,
            'VmHWM %d KiB, VmRSS %d KiB, guest %d KiB' % (d['hwm_kb'], d['rss_kb'], d['guest_kb']))
        if name == 'kvmscope run':
            target(ctx, 'VMM memory beyond guest RAM <= 5 MiB', '%.2f MiB' % own, own <= 5)


# ---------------------------------------------------------------- report

def machine():
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    pvm = os.path.exists('/sys/module/kvm_pvm')
    load = open('/proc/loadavg').read().split()[:3]
    return ('%s; %d CPUs (%s); kernel %s; /dev/kvm from %s; load %s' %
            (time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), os.cpu_count(), cpu,
             os.uname().release, 'kvm_pvm (PVM, shadow paging)' if pvm else 'kvm',
             ' '.join(load)))


def report(ctx):
    lines = ['# kvmscope benchmark results', '', machine(), '']
    lines += ['| section | measurement | unit | median | min | max | note |',
              '|---|---|---|---|---|---|---|']
    for sec, name, unit, med, lo, hi, note in ctx.rows:
        lines.append('| %s | %s | %s | %s | %s | %s | %s |' %
                     (sec, name, unit, fmt(med, unit), fmt(lo, unit), fmt(hi, unit), note))
    lines += ['', '| target | measured | verdict |', '|---|---|---|']
    for what, measured, verdict in ctx.targets:
        lines.append('| %s | %s | %s |' % (what, measured, verdict))
    for n in ctx.notes:
        lines += ['', n]
    return '\n'.join(lines) + '\n'


SECTIONS = {'start': bench_start, 'exits': bench_exits, 'exits64': bench_exits64,
            'crash': bench_crash,
            'pt': bench_pt, 'memory': bench_memory}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--nreads', type=int, default=20000)
    ap.add_argument('--runs', type=int, default=7, help='rounds per measurement')
    ap.add_argument('--quick', action='store_true', help='fewer runs, 8 GiB page tables')
    ap.add_argument('--only', default=','.join(SECTIONS), help='sections: ' + ','.join(SECTIONS))
    args = ap.parse_args()
    if args.quick:
        args.runs = min(args.runs, 3)
    ctx = Ctx(args)
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        log('bench: /dev/kvm is not usable here; nothing to measure')
        return 3
    try:
        for name in args.only.split(','):
            log('bench: %s' % name)
            try:
                SECTIONS[name](ctx)
            except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                add(ctx, name, 'error', '', None, str(e)[:120])
                log('bench: %s: %s' % (name, e))
    finally:
        shutil.rmtree(ctx.tmp, ignore_errors=True)
    text = report(ctx)
    sys.stdout.write(text)
    os.makedirs(ctx.bdir, exist_ok=True)
    with open(os.path.join(ctx.bdir, 'results.md'), 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
