"""End-to-end runs of every program in examples/ against a WAMP router, checking what each prints.

    with_router /usr/bin/python3 test_examples.py BUILD_DIR [unittest options]

Run by meson through test/router/with_router, which sets WAMPBOX_ROUTER_URLS (ws://, rs:// and
usually unix://). The examples take a key ring made here with `wampbox keygen --shared
com.example.`; a keyed CLI subscriber checks what the sensor publishes, and each answer must
report that it travelled end-to-end encrypted.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = None
URLS = {}
TIMEOUT = 60  # seconds: bound of every wait here (CI machines are slow and shared)


def example(name):
    return os.path.join(BUILD, 'examples', name)


def cli():
    return os.path.join(BUILD, 'cli', 'wampbox')


def wait_for_line(path, text, process):
    """Waits until the file at path contains text (or the process ends, or TIMEOUT)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with open(path, encoding='utf-8') as f:
            if text in f.read():
                return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with open(path, encoding='utf-8') as f:
        raise AssertionError(f'"{text}" never appeared in {path}:\n{f.read()}')


class Examples(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix='wampbox-examples-')
        self.ring = os.path.join(self.dir.name, 'ring.json')
        subprocess.run([cli(), 'keygen', '--shared', 'com.example.', '--out', self.ring],
                       check=True, capture_output=True, timeout=TIMEOUT)
        self.processes = []

    def tearDown(self):
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.dir.cleanup()

    def start(self, args, name):
        out = open(os.path.join(self.dir.name, name + '.out'), 'w', encoding='utf-8')
        err_path = os.path.join(self.dir.name, name + '.err')
        err = open(err_path, 'w', encoding='utf-8')
        p = subprocess.Popen(args, stdout=out, stderr=err, cwd=self.dir.name)
        out.close()
        err.close()
        self.processes.append(p)
        return p, os.path.join(self.dir.name, name + '.out'), err_path

    def run_example(self, args):
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT,
                              cwd=self.dir.name)
        self.assertEqual(done.returncode, 0, f'{args[0]} failed:\n{done.stdout}{done.stderr}')
        return done.stdout

    def test_quickstart_on_every_transport(self):
        """The README's first screen: it reads ring.json from its working directory."""
        self.assertTrue(URLS, 'no router URLs')
        for scheme, url in URLS.items():
            with self.subTest(scheme=scheme):
                out = self.run_example([example('quickstart'), url])
                self.assertIn('event [21.5,"°C"] (was end-to-end encrypted)', out)
                self.assertIn('2 + 3 = 5 (encrypted)', out)

    def test_sensor_publisher_reaches_a_keyed_subscriber(self):
        sub, sub_out, sub_err = self.start(
            [cli(), '--url', URLS['ws'], '--keyring', self.ring, '--timeout', '60', 'subscribe',
             'com.example.sensors', '--match', 'prefix', '--count', '3'],
            'subscriber')
        wait_for_line(sub_err, 'subscribed to', sub)
        out = self.run_example([example('sensor_publisher'), URLS['rs'], self.ring, '3'])
        self.assertEqual([l for l in out.splitlines() if l.startswith('sensor: published')],
                         [f'sensor: published reading {i}' for i in range(3)])
        self.assertEqual(sub.wait(timeout=TIMEOUT), 0)
        with open(sub_out, encoding='utf-8') as f:
            events = [json.loads(line) for line in f]
        self.assertEqual([e['kwargs']['seq'] for e in events], [0, 1, 2])
        for e in events:
            self.assertEqual(e['kwargs']['sensor'], 'thermo-Q7')
            self.assertEqual(e['args'][1], '°C')
            self.assertTrue(20.0 <= e['args'][0] <= 22.0, e)
            self.assertEqual(e['details'].get('topic'), 'com.example.sensors.kitchen')

    def test_backend_callee_answers_the_backend_caller(self):
        url = URLS.get('unix', URLS['rs'])
        callee, callee_out, _ = self.start([example('backend_callee'), url, self.ring], 'callee')
        wait_for_line(callee_out, 'callee: ready', callee)
        out = self.run_example([example('backend_caller'), URLS['ws'], self.ring])
        self.assertEqual(out.splitlines(), [
            'caller: alice has 120.5 EUR (answer was end-to-end encrypted)',
            'caller: bob has 7.25 EUR (answer was end-to-end encrypted)',
            'caller: mallory: error com.example.error.unknown_account',
        ])
        callee.send_signal(signal.SIGTERM)  # the callee leaves cleanly on SIGTERM
        self.assertEqual(callee.wait(timeout=TIMEOUT), 0)

    def test_examples_explain_their_usage(self):
        for name in ('sensor_publisher', 'backend_callee', 'backend_caller'):
            with self.subTest(example=name):
                done = subprocess.run([example(name)], capture_output=True, text=True,
                                      timeout=TIMEOUT)
                self.assertEqual(done.returncode, 1)
                self.assertIn('usage:', done.stderr)


def main():
    global BUILD
    if len(sys.argv) < 2:
        print('usage: test_examples.py BUILD_DIR [unittest options]', file=sys.stderr)
        return 2
    BUILD = os.path.abspath(sys.argv.pop(1))
    urls = os.environ.get('WAMPBOX_ROUTER_URLS', '').split()
    if not urls:
        print('SKIPPED: WAMPBOX_ROUTER_URLS is not set (run through test/router/with_router)')
        return 77
    for url in urls:
        URLS.setdefault(url.split(':', 1)[0], url)
    for scheme in ('ws', 'rs'):
        if scheme not in URLS:
            print(f'the router offers no {scheme}:// URL: {urls}', file=sys.stderr)
            return 1
    result = unittest.main(exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
