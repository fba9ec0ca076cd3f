#!/usr/bin/python3
"""usage: check_vectors.py GENERATOR.py COMMITTED.out.txt

Regenerates reference vectors with the Autobahn|Python installed here (running GENERATOR.py) and
compares them with the committed copy, so the reference bytes the C++ tests read are Autobahn's
own, today. Exit 77 (meson: skipped) when Autobahn|Python is missing; 1 when the bytes differ."""
import pathlib
import subprocess
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__)
generator, committed_file = (pathlib.Path(a).resolve() for a in sys.argv[1:])
try:
    import autobahn  # noqa: F401  (only checks that the reference implementation is installed)
except ImportError:
    print('skipped: /usr/bin/python3 has no autobahn (Debian package python3-autobahn)')
    sys.exit(77)
fresh = subprocess.run([sys.executable, str(generator)], check=True, capture_output=True).stdout
committed = committed_file.read_bytes()
if fresh != committed:
    fresh_lines, committed_lines = fresh.decode().splitlines(), committed.decode().splitlines()
    for n, (a, b) in enumerate(zip(fresh_lines, committed_lines), 1):
        if a != b:
            print(f'line {n} differs:\n  autobahn:  {a[:160]}\n  committed: {b[:160]}')
            break
    else:
        print(f'line counts differ: autobahn {len(fresh_lines)}, committed {len(committed_lines)}')
    sys.exit(1)
print(f'{committed_file.name}: {len(committed)} bytes, identical to what Autobahn|Python produces now')
