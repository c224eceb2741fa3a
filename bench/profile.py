#!/usr/bin/env python3
"""kvmscope profile pass: instruction counts from callgrind (exact, unlike
timings on this shared host) and software counters from perf stat, on the
hot paths: startup, the PIO exit loop, the --trace output, the crash report
and the page-table scan. Writes BUILD/bench/profile.md.

This host's PMU is not exposed to the VM (`perf stat -e instructions`
reports <not supported>), so instruction counts come from callgrind and
perf gives task-clock, page faults and context switches.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def callgrind(tmp, name, cmd, stdout=subprocess.DEVNULL):
    """Total Ir of (cmd) under callgrind, and its output file."""
    out = os.path.join(tmp, 'cg.' + name)
    p = subprocess.run(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out] + cmd,
                       stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=900)
    m = re.search(r'refs:\s+([\d,]+)', p.stderr)
    if not m:
        raise RuntimeError('%s: no callgrind total: %s' % (name, p.stderr[-300:]))
    return int(m.group(1).replace(',', '')), out


def top_functions(cgfile, n=8, inclusive=False, skip_ldso=True):
    args = ['callgrind_annotate', '--threshold=100']
    if inclusive:
        args.append('--inclusive=yes')
    p = subprocess.run(args + [cgfile], capture_output=True, text=True)
    rows = []
    for line in p.stdout.splitlines():
        m = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*)$', line)
        if not m or 'PROGRAM TOTALS' in line:
            continue
        name = m.group(2)
        if skip_ldso and ('ld-linux' in name or '/elf/' in name or 'below main' in name or
                          'libc-start' in name or 'libc_start' in name):
            continue
        name = re.sub(r' \[.*\]$', '', name).replace(os.getcwd() + '/', '')
        if any(name == r[1] for r in rows):  # inclusive listings repeat a function per object
            continue
        rows.append((int(m.group(1).replace(',', '')), name))
        if len(rows) >= n:
            break
    return rows


def ldso_ir(cgfile):
    """Ir spent in the dynamic loader (ld-linux), exclusive."""
    p = subprocess.run(['callgrind_annotate', '--threshold=100', cgfile], capture_output=True,
                       text=True)
    total = 0
    for line in p.stdout.splitlines():
        m = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*)$', line)
        if m and 'PROGRAM TOTALS' not in line and ('ld-linux' in m.group(2) or
                                                    '/elf/' in m.group(2)):
            total += int(m.group(1).replace(',', ''))
    return total


def perf_stat(cmd, reps=20):
    """perf stat -r (reps) software counters; returns {event: value}."""
    p = subprocess.run(['perf', 'stat', '-r', str(reps), '-x', ',', '-e',
                        'task-clock,page-faults,context-switches,cpu-migrations'] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    out = {}
    for line in p.stderr.splitlines():
        f = line.split(',')
        if len(f) >= 3 and f[2]:
            try:
                out[f[2]] = float(f[0])
            except ValueError:
                pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--nreads', type=int, default=20000)
    args = ap.parse_args()
    b = os.path.abspath(args.build)
    ks, raw = os.path.join(b, 'kvmscope'), os.path.join(b, 'bench', 'rawkvm')
    g = lambda n: os.path.join(b, 'bench', 'guests', 'pioloop-%d.elf' % n)
    g64 = lambda n: os.path.join(b, 'bench', 'guests', 'pioloop64-%d.elf' % n)
    seed = os.path.join(b, 'guests', 'seed.elf')
    n = args.nreads
    tmp = tempfile.mkdtemp(prefix='ksprof.')
    lines = ['# kvmscope profile (callgrind instruction counts, perf software counters)', '']
    try:
        # --- the exit loop: Ir per exit = (Ir(N) - Ir(0)) / N
        lines += ['## PIO exit loop: user-space instructions per exit', '',
                  '| peer | Ir total (N=0) | Ir total (N=%d) | Ir per exit |' % n,
                  '|---|---|---|---|']
        peers = [('rawkvm', g, lambda k: [raw, '-q', k]),
                 ('kvmscope run', g, lambda k: [ks, 'run', k]),
                 ('kvmscope run --trace', g, lambda k: [ks, 'run', '--trace',
                                                        os.path.join(tmp, 'tr.txt'), k]),
                 ('rawkvm, 64-bit paged guest', g64, lambda k: [raw, '-q', k]),
                 ('kvmscope run, 64-bit paged guest', g64, lambda k: [ks, 'run', k])]
        files = {}
        for name, gf, f in peers:
            tag = re.sub(r'[^a-z0-9]+', '_', name)
            i0, _ = callgrind(tmp, tag + '.0', f(gf(0)))
            i1, cg = callgrind(tmp, tag + '.N', f(gf(n)))
            files[name] = (cg, i0)
            lines.append('| %s | %d | %d | %.0f |' % (name, i0, i1, (i1 - i0) / n))
        for name in ('kvmscope run', 'kvmscope run --trace', 'kvmscope run, 64-bit paged guest'):
            lines += ['', 'Top functions (exclusive Ir over the N=%d run), `%s`:' % (n, name), '']
            for ir, fn in top_functions(files[name][0], 10):
                lines.append('- %.0f Ir/exit: %s' % (ir / n, fn))
        # --- startup: where a trivial run's instructions go
        lines += ['', '## Startup (pioloop-0: start, print a line, exit)', '',
                  '| peer | Ir total | of which ld.so (dynamic linking) |', '|---|---|---|']
        for name in ('rawkvm', 'kvmscope run'):
            cg = os.path.join(tmp, 'cg.' + re.sub(r'[^a-z0-9]+', '_', name) + '.0')
            lines.append('| %s | %d | %d |' % (name, files[name][1], ldso_ir(cg)))
        cg = os.path.join(tmp, 'cg.kvmscope_run.0')  # the tag of 'kvmscope run'
        lines += ['', 'Top functions (inclusive), `kvmscope run pioloop-0`:', '']
        for ir, fn in top_functions(cg, 14, inclusive=True):
            lines.append('- %d Ir: %s' % (ir, fn))
        # --- crash report
        if os.path.exists(seed):
            ir, cg = callgrind(tmp, 'seed', [ks, 'run', seed])
            lines += ['', '## Crash report (kvmscope run guests/seed: triple fault, explained)', '',
                      'Ir total %d. Top functions (inclusive):' % ir, '']
            for v, fn in top_functions(cg, 12, inclusive=True):
                lines.append('- %d Ir: %s' % (v, fn))
        # --- page-table scan, 8 GiB (4M PTEs; half of them NX)
        img = os.path.join(tmp, 'pt8.img')
        subprocess.run([os.path.join(b, 'bench', 'mkptimg'), '-g', '8', img], check=True,
                       stdout=subprocess.DEVNULL)
        ptes = 8 * 512 * 512
        lines += ['', '## Page-table scan (8 GiB of 4 KiB pages, %d PTEs, lint on)' % ptes, '',
                  '| EFER | meaning | Ir total | Ir per PTE |', '|---|---|---|---|']
        for efer, what in (('0xd00', 'NXE on: every entry valid'),
                           ('0x500', 'NXE off: the NX half has reserved bit 63')):
            ir, cg = callgrind(tmp, 'pt' + efer, [ks, 'pt', '--image', img, '--cr3', '0x1000000',
                                                  '--efer', efer, '--lint'])
            lines.append('| %s | %s | %d | %.1f |' % (efer, what, ir, ir / ptes))
            files['pt' + efer] = cg
        lines += ['', 'Top functions (exclusive), NXE off:', '']
        for v, fn in top_functions(files['pt0x500'], 6):
            lines.append('- %.1f Ir/PTE: %s' % (v / ptes, fn))
        # --- perf stat software counters
        lines += ['', '## perf stat (software events; 20 runs each)', '',
                  '| command | task-clock ms | page-faults | context-switches |',
                  '|---|---|---|---|']
        for name, cmd in (('rawkvm pioloop-0', [raw, '-q', g(0)]),
                          ('kvmscope run pioloop-0', [ks, 'run', g(0)]),
                          ('kvmscope --version', [ks, '--version']),
                          ('kvmscope run seed', [ks, 'run', seed]),
                          ('kvmscope pt 8 GiB --lint', [ks, 'pt', '--image', img, '--cr3',
                                                        '0x1000000', '--efer', '0xd00', '--lint'])):
            s = perf_stat(cmd)
            lines.append('| %s | %.3f | %.0f | %.1f |' % (name, s.get('task-clock', -1),
                                                          s.get('page-faults', -1),
                                                          s.get('context-switches', -1)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = '\n'.join(lines) + '\n'
    sys.stdout.write(text)
    os.makedirs(os.path.join(b, 'bench'), exist_ok=True)
    with open(os.path.join(b, 'bench', 'profile.md'), 'w') as f:
        f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
