"""Shared by bench/run-peer-bench and bench/iot-footprint: the test router, a key ring, the load."""

import json
import os
import subprocess
import sys
import time

from nacl.encoding import Base64Encoder
from nacl.public import PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROUTER_START_SECONDS = 20


def load():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def start_test_router(workdir):
    """The test router on free ports: (process, {'ws': url, 'rs': url})."""
    urls_path = os.path.join(workdir, 'urls')
    with open(urls_path, 'w') as urls:
        proc = subprocess.Popen([os.path.join(ROOT, 'test', 'router', 'run')], stdout=urls)
    deadline = time.monotonic() + ROUTER_START_SECONDS
    while True:
        with open(urls_path) as f:
            lines = f.read().split()
        if len(lines) >= 3:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit('{}: the test router did not start'.format(os.path.basename(sys.argv[0])))
        time.sleep(0.05)
    return proc, {url.split('://')[0]: url for url in lines}


def write_keyring(workdir, prefix='bench.'):
    """A key-ring file with one fresh key for both roles under `prefix` (mode 0600)."""
    key = PrivateKey.generate().encode(encoder=Base64Encoder).decode('ascii')
    path = os.path.join(workdir, 'ring.json')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump({prefix: {'originator_priv': key, 'responder_priv': key, 'policy': 'strict'}}, f)
    return path


